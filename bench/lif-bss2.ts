/**
 * A BrainScaleS-2-size spiking network on the WASM lif engine: 512 conductance-based LIF neurons
 * (CONTRACT.md's IF_cond_exp defaults), 256 Poisson inputs at 100 Hz projecting all-to-all onto
 * them (inputs 0-191 excitatory, weights U(0, 2 x 0.4 nS); inputs 192-255 inhibitory, U(0, 2 x 2 nS);
 * drawn from seed 1), delay one step, dt 0.1 ms, spikes recorded. Timed: the simulation loop only
 * (the network is built once), biological seconds per wall second, median of several runs.
 * RESEARCH.md §4: Brian2 2.5's best (C++ standalone, one thread) does 10.7 on this machine.
 *
 *   node dist/bench/lif-bss2.js [--json] [--runs N] [--seconds S]
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Rng } from '../common/random.js';
import { buildLifModel, type LifNetworkSpec } from '../emulator/lif/build.js';
import { LifEngine } from '../emulator/lif/engine.js';
import { describeMachine, machineLine } from './machine.js';
import type { Benchmark } from './types.js';

export const NEURONS = 512;
export const INPUTS = 256;
export const EXCITATORY_INPUTS = 192;
export const RATE_HZ = 100;
export const DT_MS = 0.1;
/** Mean weights, uS: excitatory and inhibitory inputs (each drawn uniform on [0, 2 mean]). */
export const MEAN_W_EXC_US = 0.0004;
export const MEAN_W_INH_US = 0.002;
/** Brian2 2.5, C++ standalone, one thread, same network (RESEARCH.md §4). */
export const BRIAN2_BIO_S_PER_WALL_S = 10.7;
/** BrainScaleS-2's speedup (chip/presets/bss2.json). */
const BSS2_SPEEDUP = 1000;

/** The benchmark network (weights [post][pre], uS). */
export function bss2NetworkSpec(seed = 1): LifNetworkSpec {
  const rng = new Rng(seed, 'bench:lif-bss2:weights');
  const w = new Float64Array(NEURONS * INPUTS);
  for (let i = 0; i < NEURONS; i++) {
    for (let k = 0; k < INPUTS; k++) {
      const exc = k < EXCITATORY_INPUTS;
      w[i * INPUTS + k] = (exc ? 1 : -1) * 2 * (exc ? MEAN_W_EXC_US : MEAN_W_INH_US) * rng.uniform();
    }
  }
  return {
    dt_ms: DT_MS,
    speedup: BSS2_SPEEDUP,
    seed,
    populations: [
      { kind: 'source', name: 'poisson', size: INPUTS, poisson: { rate_hz: RATE_HZ, seed } },
      { kind: 'lif', name: 'neurons', size: NEURONS },
    ],
    projections: [{ from: 'poisson', to: 'neurons', weights_uS: w }],
  };
}

export interface LifBenchResult {
  name: string;
  bio_s_per_wall_s: number;
  values: number[];
  runs: number;
  bio_s_per_run: number;
  steps_per_s: number;
  mean_rate_hz: number;
  input_spikes_per_step: number;
  slowdown_vs_chip: number;
  ratio_vs_brian2: number;
}

/** Times `runs` runs of `seconds` biological seconds each (after a warm-up); medians. */
export function measureLifBss2(runs = 5, seconds = 5): LifBenchResult {
  const engine = new LifEngine(buildLifModel(bss2NetworkSpec()), { recordSources: false });
  const steps = Math.round((seconds * 1000) / DT_MS);
  engine.run(Math.round(200 / DT_MS)); // warm-up: JIT, caches, and the network into its steady state
  engine.takeSpikes();
  const values: number[] = [];
  let spikes = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    engine.run(steps);
    const wall = (performance.now() - t0) / 1000;
    spikes += engine.takeSpikes().signal.length;
    values.push(seconds / wall);
  }
  const med = median(values);
  // Input spikes per step, for the record: rate x dt x inputs.
  return {
    name: 'lif-bss2-512x256-poisson',
    bio_s_per_wall_s: round(med),
    values: values.map(round),
    runs,
    bio_s_per_run: seconds,
    steps_per_s: Math.round((med * 1000) / DT_MS),
    mean_rate_hz: round(spikes / (runs * seconds * NEURONS)),
    input_spikes_per_step: round((INPUTS * RATE_HZ * DT_MS) / 1000),
    slowdown_vs_chip: round(BSS2_SPEEDUP / med),
    ratio_vs_brian2: round(med / BRIAN2_BIO_S_PER_WALL_S),
  };
}

/** The benchmark for bench/suite.ts's registry. */
export function lifBss2Benchmark(): Benchmark {
  return {
    name: 'lif-bss2-512x256-poisson',
    description: '512 lif neurons, 256 Poisson inputs at 100 Hz all-to-all, dt 0.1 ms, WASM engine (steps per wall second)',
    kind: 'forward',
    implementation: 'engine',
    dt_ms: DT_MS,
    speedup: BSS2_SPEEDUP,
    async measure(ctx) {
      const r = measureLifBss2(ctx.runs, ctx.quick ? 1 : 5);
      return { unit: 'steps/s', values: r.values.map((v) => (v * 1000) / DT_MS), info: { mean_rate_hz: r.mean_rate_hz, ratio_vs_brian2: r.ratio_vs_brian2 } };
    },
  };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}

function main(argv: string[]): void {
  const json = argv.includes('--json');
  const arg = (name: string, dflt: number) => {
    const i = argv.indexOf(name);
    if (i < 0) return dflt;
    const v = Number(argv[i + 1]);
    if (!(v > 0)) {
      process.stderr.write(`${name} needs a positive number\n`);
      process.exit(2);
    }
    return v;
  };
  const runs = Math.round(arg('--runs', 5));
  const seconds = arg('--seconds', 5);
  const machine = describeMachine();
  const r = measureLifBss2(runs, seconds);
  if (json) {
    process.stdout.write(`${JSON.stringify({ machine, results: [r] })}\n`);
    return;
  }
  process.stdout.write(
    `${machineLine(machine)}\n${r.name}: ${r.bio_s_per_wall_s} biological s per wall s (median of ${runs} runs of ${seconds} s; ` +
      `runs ${r.values.join(', ')}), ${r.steps_per_s} steps/s, ${r.mean_rate_hz} Hz mean rate; ` +
      `${r.ratio_vs_brian2}x Brian2's ${BRIAN2_BIO_S_PER_WALL_S}; ${r.slowdown_vs_chip}x slower than BrainScaleS-2 at 10^3\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
