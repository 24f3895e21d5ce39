/**
 * The parallel engine (emulator/threads/) against the single-thread Engine: after every sample,
 * every state vector, weight, bias and circuit parameter must be bit-identical (compared as
 * uint32 bit patterns), with learning on (fused and unfused update), on the golden 4-6-5-3
 * network (also checked against its golden trace), on random networks with odd sizes, random
 * feedback, li neurons, mismatch, noise, synaptic filtering and tau adaptation, and on the
 * 784-300-100-10 MLP for a few hundred steps; with 2 and 3 threads and slices down to 4 neurons.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denseSamples, mlpModel } from '../../bench/mlp.js';
import { projectRoot } from '../../common/paths.js';
import { Rng } from '../../common/random.js';
import { Engine } from '../../emulator/engine.js';
import type { EmulatorModel } from '../../emulator/model.js';
import { ParallelEngine, type ParallelEngineOptions } from '../../emulator/threads/parallel-engine.js';
import { leSmallModel, loadFixture, randomModel } from '../emulator/engine-models.js';
import { ensureSharedKernels } from './shared-build.js';

beforeAll(ensureSharedKernels, 180_000);

const open: ParallelEngine[] = [];
afterAll(async () => {
  await Promise.all(open.map((e) => e.close()));
});

/** A parallel engine closed after the tests; short barrier spins, since 3 threads on this 2-core machine take turns. */
async function parallel(model: EmulatorModel, options: ParallelEngineOptions): Promise<ParallelEngine> {
  const e = await ParallelEngine.create(model, { spin: 5000, ...options });
  open.push(e);
  return e;
}

/** The bit patterns of float32 values. */
function bits(v: Float32Array): number[] {
  return Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
}

/** The first difference between two engines' complete observable state, or null. */
function difference(a: Engine, b: Engine): string | null {
  const m = a.model;
  const filtered = m.filter !== undefined && m.filter.tau_s_ms > 0;
  const same = (x: Float32Array, y: Float32Array, what: string) => {
    const bx = bits(x);
    const by = bits(y);
    const i = bx.findIndex((v, k) => v !== by[k]);
    return i < 0 && bx.length === by.length ? null : `${what}[${i}]: ${x[i]} vs ${y[i]}`;
  };
  for (const p of m.populations) {
    const names = p.model === 'input' ? (['r'] as const) : (['u', 'r', 'rp', 'e'] as const);
    for (const k of [...names, ...(filtered ? (['rbar'] as const) : [])]) {
      const d = same(a.view(p.index, k), b.view(p.index, k), `${p.name}.${k}`);
      if (d) return d;
    }
    for (const k of p.model === 'input' ? (['drive'] as const) : (['drive', 'diff', 'basal'] as const)) {
      const d = same(a.signalView(p.index, k), b.signalView(p.index, k), `${p.name}.${k}`);
      if (d) return d;
    }
    if (p.model === 'input') continue;
    const pa = a.readParameters(p.index);
    const pb = b.readParameters(p.index);
    for (const k of Object.keys(pa) as (keyof typeof pa)[]) {
      const d = same(pa[k], pb[k], `${p.name}.${k}`);
      if (d) return d;
    }
  }
  for (let j = 0; j < m.projections.length; j++) {
    const d = same(a.readHardwareWeights(j), b.readHardwareWeights(j), `W${j}`);
    if (d) return d;
  }
  return a.steps === b.steps ? null : `steps ${a.steps} vs ${b.steps}`;
}

interface Sample {
  x: Float32Array[];
  y: (Float32Array | null)[];
}

/** Random inputs (30 % exact zeros, so rows are skipped) and targets, every third sample without one. */
function samples(model: EmulatorModel, seed: number, count: number): Sample[] {
  const rng = new Rng(seed, 'threads-test-drive');
  const inputs = model.populations.filter((p) => p.model === 'input');
  const outputs = model.populations.filter((p) => p.role === 'output' && p.model !== 'input');
  return Array.from({ length: count }, (_, n) => ({
    x: inputs.map((p) => Float32Array.from({ length: p.size }, () => (rng.uniform() < 0.3 ? 0 : rng.uniform()))),
    y: outputs.map((p) => (n % 3 === 2 ? null : Float32Array.from({ length: p.size }, () => rng.uniform()))),
  }));
}

/** Drives both engines through the samples (stepping in uneven calls) and checks them after each. */
function lockstep(a: Engine, b: Engine, drive: Sample[], stepsPerSample: number, learn: boolean, onSample?: (n: number) => void): void {
  const m = a.model;
  const inputs = m.populations.filter((p) => p.model === 'input');
  const outputs = m.populations.filter((p) => p.role === 'output' && p.model !== 'input');
  drive.forEach((s, n) => {
    for (const e of [a, b]) {
      inputs.forEach((p, k) => e.setInput(p.index, s.x[k]));
      outputs.forEach((p, k) => e.setTarget(p.index, s.y[k]));
    }
    onSample?.(n);
    // Uneven calls: n steps in one call must equal the same steps in several.
    const first = 1 + (n % 3);
    for (const e of [a, b]) {
      e.step(first, { learn });
      e.step(stepsPerSample - first, { learn });
    }
    expect(difference(a, b), `after sample ${n}`).toBeNull();
  });
}

describe('ParallelEngine on the golden 4-6-5-3 network', () => {
  it.each([2, 3])('%i threads: bit-identical to one thread after every sample, learning on, and the golden trace within 1e-4', async (threads) => {
    const f = loadFixture('le-small');
    const model = leSmallModel(f);
    const a = new Engine(model);
    const b = await parallel(model, { threads, quantum: 4 });
    const stepsPerSample = Math.round(f.t_pres / f.dt);
    const inputs = model.populations.filter((p) => p.model === 'input');
    const outputs = model.populations.filter((p) => p.role === 'output');
    let step = 0;
    let goldenWorst = 0;
    let checked = 0;
    for (const s of f.samples) {
      for (const e of [a, b]) {
        e.setInput(inputs[0].index, s.x);
        e.setTarget(outputs[0].index, s.y);
      }
      for (let t = 0; t < stepsPerSample; t++) {
        a.step(1, { learn: true });
        b.step(1, { learn: true });
        step++;
        const g = f.trace.find((x) => x.step === step);
        if (!g) continue;
        checked++;
        for (const k of ['u', 'r', 'e'] as const) {
          g[k].forEach((vals, l) => vals.forEach((v, i) => (goldenWorst = Math.max(goldenWorst, Math.abs(b.view(l + 1, k)[i] - v)))));
        }
      }
      expect(difference(a, b)).toBeNull();
    }
    expect(checked).toBeGreaterThan(0);
    expect(goldenWorst).toBeLessThanOrEqual(1e-4);
    // The small network really is split: with slices of 4 neurons every thread holds some neurons.
    const st = b.stats();
    expect(st.unsplit).toEqual([]);
    expect(st.slices[1].filter(([lo, hi]) => hi > lo).length).toBeGreaterThan(1);
  });
});

describe('ParallelEngine on random networks', () => {
  const cases: [string, () => EmulatorModel][] = [
    ['odd sizes, random feedback, li and le layers, mismatch', () =>
      randomModel({ seed: 11, sizes: [37, 23, 11, 7], activations: ['tanh', 'sigmoid', 'linear'], models: ['le', 'li', 'le'], feedback: 'random', mismatch: 0.2 })],
    ['transpose feedback, relu and hard sigmoid, skip projections into the output', () =>
      randomModel({ seed: 12, sizes: [29, 41, 19, 9], activations: ['relu', 'hardsigmoid', 'tanh'], skip: true, mismatch: 0.1 })],
    ['membrane and rate noise (one stream per population, drawn on one thread)', () =>
      randomModel({ seed: 13, sizes: [21, 33, 17, 5], activations: ['tanh', 'tanh', 'linear'], noise: { membrane: 0.02, rate: 0.01 }, mismatch: 0.1 })],
    ['synaptic filtering of rates, errors and targets', () => ({
      ...randomModel({ seed: 14, sizes: [19, 26, 13, 6], activations: ['sigmoid', 'tanh', 'linear'], feedback: 'random', mismatch: 0.1 }),
      filter: { tau_s_ms: 0.05, errors: true, targets: true },
    })],
  ];
  for (const [name, make] of cases) {
    for (const fused of [true, false]) {
      it.each([2, 3])(`${name}, ${fused ? 'fused' : 'unfused'} update, %i threads`, async (threads) => {
        const model = make();
        const a = new Engine(model, { fused });
        const b = await parallel(model, { threads, quantum: 4, fused });
        lockstep(a, b, samples(model, threads, 8), 37, true);
        expect(b.stats().unsplit).toEqual([]);
      });
    }
  }

  it('tau adaptation switched on mid-run re-derives the thread programs', async () => {
    const model = randomModel({ seed: 15, sizes: [17, 25, 9, 4], activations: ['tanh', 'sigmoid', 'linear'], mismatch: 0.2 });
    const a = new Engine(model);
    const b = await parallel(model, { threads: 2, quantum: 4 });
    lockstep(a, b, samples(model, 5, 6), 25, true, (n) => {
      if (n !== 2) return;
      for (const e of [a, b]) {
        e.setTauAdaptation(1, 0.01, 0.5, 50);
        e.setTauAdaptation(2, 0.02);
      }
    });
    // it did adapt: tau_m moved away from the model's values
    const tau = b.readParameters(1).tau_m_ms;
    expect(Array.from(tau).some((v, i) => v !== model.populations[1].tau_m_ms[i])).toBe(true);
  });

  it('reset, written weights, parameters and biases carry over exactly', async () => {
    const model = randomModel({ seed: 16, sizes: [23, 31, 12, 5], activations: ['tanh', 'relu', 'linear'] });
    const a = new Engine(model);
    const b = await parallel(model, { threads: 2, quantum: 4 });
    const drive = samples(model, 9, 3);
    lockstep(a, b, drive, 30, true);
    const rng = new Rng(3, 'threads-test-writes');
    const w = Float32Array.from({ length: 31 * 23 }, () => rng.normal());
    const tau = Float32Array.from({ length: 31 }, () => 5 + rng.uniform());
    for (const e of [a, b]) {
      e.reset();
      e.writeWeights(0, w);
      e.writeParameters(1, { tau_m_ms: tau });
      e.writeBias(2, new Float32Array(12).fill(0.25));
    }
    expect(difference(a, b)).toBeNull();
    lockstep(a, b, drive, 30, true);
  });
});

describe('ParallelEngine on the 784-300-100-10 MLP', () => {
  it('present(): readouts and the whole state bit-identical after 400 training steps and 300 inference steps', async () => {
    const model = mlpModel(1);
    const a = new Engine(model);
    const b = await parallel(model, { threads: 2 });
    const data = denseSamples(7, 784, 10);
    const train = (e: Engine) =>
      e.present({ inputs: data.x, targets: data.y, count: 4, stepsPerSample: 100, learn: true, readout: 'out' });
    const test = (e: Engine) =>
      e.present({ inputs: data.x.subarray(4 * 784), count: 3, stepsPerSample: 100, learn: false, readout: 'h2' });
    expect(bits(train(b))).toEqual(bits(train(a)));
    expect(difference(a, b)).toBeNull();
    expect(bits(test(b))).toEqual(bits(test(a)));
    expect(difference(a, b)).toBeNull();
    // The weights did change (learning happened), so the comparison covered the fused update.
    expect(bits(b.readHardwareWeights(0))).not.toEqual(bits(model.projections[0].weights));
    const st = b.stats();
    expect(st.barriersPerStep).toBe(2);
    expect(st.unsplit).toEqual([]);
    // slices of whole cache lines
    for (const s of st.slices) for (const [lo, hi] of s) expect([lo % 16, hi % 16]).toEqual([0, 0]);
  });
});

/**
 * A child process (dist/ build) steps a network with one and with three threads, the barrier
 * spinning not at all so that every wait sleeps, and prints whether the final states are equal.
 */
const TIER_SCRIPT = `
import { Engine } from './dist/emulator/engine.js';
import { ParallelEngine } from './dist/emulator/threads/parallel-engine.js';
import { mlpModel, denseSamples } from './dist/bench/mlp.js';
const model = mlpModel(3, [37, 23, 11, 7]);
const data = denseSamples(6, 37, 7);
const a = new Engine(model);
const b = await ParallelEngine.create(model, { threads: 3, quantum: 4, spin: 0 });
const go = (e) => e.present({ inputs: data.x, targets: data.y, count: 6, stepsPerSample: 40, learn: true, readout: 'out' });
const ra = go(a), rb = go(b);
const u32 = (f) => Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));
let same = JSON.stringify(u32(ra)) === JSON.stringify(u32(rb));
for (let j = 0; j < 3; j++) same &&= JSON.stringify(u32(a.readHardwareWeights(j))) === JSON.stringify(u32(b.readHardwareWeights(j)));
for (let p = 1; p < 4; p++) for (const k of ['u', 'r', 'e']) same &&= JSON.stringify(u32(a.view(p, k))) === JSON.stringify(u32(b.view(p, k)));
console.log(JSON.stringify({ same, sleeps: b.stats().sleeps }));
await b.close();
`;

describe('ParallelEngine under each WASM compiler tier', () => {
  // V8's baseline tier once deadlocked the barrier (memory.atomic.wait32, see kernels/parallel.ts):
  // run where every barrier wait sleeps, under the baseline tier alone and the optimising tier alone.
  it.each([['--liftoff', '--no-wasm-tier-up'], ['--no-liftoff']])('node %s: 3 threads bit-identical to one, every wait asleep', (...flags) => {
    const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', TIER_SCRIPT], { cwd: projectRoot(), encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.same).toBe(true);
    expect(out.sleeps).toBeGreaterThan(100);
  });
});

describe('ParallelEngine divisions', () => {
  it('re-dividing the largest population between calls (learned weights move between panels) changes no bit', async () => {
    const model = mlpModel(2, [200, 96, 40, 10]);
    const a = new Engine(model);
    const b = await parallel(model, { threads: 2, autoBalance: false });
    const d = b.division()!;
    expect(d.population).toBe(1); // the 96 hidden neurons carry the 200 x 96 forward array
    expect(d.shares.reduce((x, y) => x + y, 0)).toBe(6);
    const data = denseSamples(9, 200, 10, 5);
    const train = (e: Engine, k: number) =>
      e.present({ inputs: data.x.subarray(3 * k * 200), targets: data.y.subarray(3 * k * 10), count: 3, stepsPerSample: 50, learn: true, readout: 'out' });
    for (const [k, shares] of [[1, 5], [5, 1], [3, 3]].entries()) {
      expect(bits(train(b, k))).toEqual(bits(train(a, k)));
      expect(difference(a, b)).toBeNull();
      expect(b.setDivision(shares)).toBe(true);
      expect(b.division()!.shares).toEqual(shares);
      expect(difference(a, b)).toBeNull();
    }
    expect(() => b.setDivision([2, 2])).toThrow(/do not divide/);
  });

  it('auto-balancing on long calls keeps the results bit-identical', async () => {
    const model = mlpModel(3, [200, 96, 40, 10]);
    const a = new Engine(model);
    const b = await parallel(model, { threads: 2 });
    const data = denseSamples(12, 200, 10, 6);
    for (let k = 0; k < 4; k++) {
      const go = (e: Engine) =>
        e.present({ inputs: data.x.subarray(3 * k * 200), targets: data.y.subarray(3 * k * 10), count: 3, stepsPerSample: 400, learn: true, readout: 'out' });
      expect(bits(go(b))).toEqual(bits(go(a)));
      expect(difference(a, b)).toBeNull();
    }
  });
});

describe('ParallelEngine checkpoints', () => {
  it('saveMemory after learning, restored into a new parallel engine, continues bit for bit', async () => {
    const model = mlpModel(4, [200, 96, 40, 10]);
    const a = new Engine(model);
    const b = await parallel(model, { threads: 2, autoBalance: false });
    const data = denseSamples(6, 200, 10, 7);
    const go = (e: Engine, k: number) =>
      e.present({ inputs: data.x.subarray(3 * k * 200), targets: data.y.subarray(3 * k * 10), count: 3, stepsPerSample: 60, learn: true, readout: 'out' });
    go(a, 0);
    go(b, 0);
    const saved = b.saveMemory();
    const c = await parallel(model, { threads: 2, autoBalance: false });
    c.restoreMemory(saved);
    expect(difference(b, c)).toBeNull();
    expect(bits(go(c, 1))).toEqual(bits(go(a, 1)));
    expect(difference(a, c)).toBeNull();
  });
});

describe('ParallelEngine mechanics', () => {
  it('refuses thread counts outside 2..16 and steps no more after close()', async () => {
    const model = randomModel({ seed: 17, sizes: [5, 7, 3], activations: ['tanh', 'linear'] });
    expect(() => new ParallelEngine(model, { threads: 1 })).toThrow(/threads must be an integer from 2/);
    expect(() => new ParallelEngine(model, { threads: 17 })).toThrow(/threads must be an integer from 2/);
    const e = await ParallelEngine.create(model, { threads: 2, quantum: 4 });
    e.step(10);
    await e.close();
    expect(() => e.step(1)).toThrow(/closed/);
  });
});
