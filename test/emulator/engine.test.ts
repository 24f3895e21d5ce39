/**
 * The WASM Engine against the float64 ReferenceModel (emulator/reference.ts) and the golden
 * fixtures: every u, r, e of every population after every step within 1e-5 (1 + |reference|),
 * with learning on and off, on the 4-6-5-3 golden network and on random networks with random
 * feedback, li neurons, per-neuron mismatch and several projections into one population.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import { Engine } from '../../emulator/engine.js';
import type { EmulatorModel } from '../../emulator/model.js';
import { fromHardwareLayout } from '../../emulator/model.js';
import { ReferenceModel } from '../../emulator/reference.js';
import { ensureKernels } from '../kernels/kernels-build.js';
import { leSmallModel, loadFixture, randomModel } from './engine-models.js';

beforeAll(ensureKernels);

const TOL = 1e-5;

/** Largest |engine - reference| / (1 + |reference|) over u, r, e of all non-input populations. */
function worstState(E: Engine, R: ReferenceModel): { err: number; where: string } {
  let err = 0;
  let where = '';
  R.m.populations.forEach((p, pi) => {
    if (p.model === 'input') return;
    for (const k of ['u', 'r', 'e'] as const) {
      const a = E.view(pi, k);
      const b = R.s[k][pi];
      for (let i = 0; i < p.size; i++) {
        const d = Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i]));
        if (d > err || Number.isNaN(d)) {
          err = Number.isNaN(d) ? Infinity : d;
          where = `${p.name}.${k}[${i}]: engine ${a[i]} reference ${b[i]}`;
        }
      }
    }
  });
  return { err, where };
}

/** Largest weight and bias difference (relative as above) between engine and reference. */
function worstParams(E: Engine, R: ReferenceModel): number {
  let err = 0;
  R.m.projections.forEach((j, ji) => {
    const w = E.readHardwareWeights(ji);
    R.W[ji].forEach((v, i) => (err = Math.max(err, Math.abs(w[i] - v) / (1 + Math.abs(v)))));
  });
  R.m.populations.forEach((p, pi) => {
    if (p.model === 'input') return;
    const b = E.readBias(pi);
    R.b[pi].forEach((v, i) => (err = Math.max(err, Math.abs(b[i] - v) / (1 + Math.abs(v)))));
  });
  return err;
}

interface Drive {
  /** Input of each input population and target of each output, per sample. */
  samples: { x: number[][]; y: (number[] | null)[] }[];
  stepsPerSample: number;
  learn: boolean;
  nudge?: boolean;
}

/** Steps engine and reference side by side; returns the worst state error seen at any step. */
function lockstep(model: EmulatorModel, drive: Drive, onStep?: (E: Engine, step: number) => void) {
  const E = new Engine(model);
  const R = new ReferenceModel(model);
  const inputs = model.populations.filter((p) => p.model === 'input');
  const outputs = model.populations.filter((p) => p.role === 'output' && p.model !== 'input');
  let worst = { err: 0, where: '', step: 0 };
  let step = 0;
  for (const s of drive.samples) {
    inputs.forEach((p, n) => {
      E.setInput(p.index, s.x[n]);
      R.set(p.index, s.x[n]);
    });
    outputs.forEach((p, n) => {
      E.setTarget(p.index, s.y[n]);
      R.set(p.index, s.y[n]);
    });
    for (let t = 0; t < drive.stepsPerSample; t++) {
      E.step(1, { learn: drive.learn, nudge: drive.nudge ?? true });
      R.step(drive.learn, drive.nudge ?? true);
      step++;
      const w = worstState(E, R);
      if (w.err > worst.err) worst = { ...w, step };
      onStep?.(E, step);
    }
  }
  return { E, R, worst };
}

function randomDrive(model: EmulatorModel, seed: number, samples: number, stepsPerSample: number, learn: boolean): Drive {
  const rng = new Rng(seed, 'engine-test-drive');
  const inputs = model.populations.filter((p) => p.model === 'input');
  const outputs = model.populations.filter((p) => p.role === 'output' && p.model !== 'input');
  return {
    samples: Array.from({ length: samples }, (_, n) => ({
      x: inputs.map((p) => Array.from({ length: p.size }, () => (rng.uniform() < 0.3 ? 0 : rng.uniform()))),
      // every third sample without a target: no nudging then
      y: outputs.map((p) => (n % 3 === 2 ? null : Array.from({ length: p.size }, () => rng.uniform()))),
    })),
    stepsPerSample,
    learn,
  };
}

describe('Engine on the golden 4-6-5-3 network', () => {
  it.each([['le-small', true], ['le-small-no-learning', false]] as const)(
    '%s: every u, r, e after every step within 1e-5 of the reference, and the golden trace within 1e-4',
    (name, learn) => {
      const f = loadFixture(name);
      const model = leSmallModel(f);
      const stepsPerSample = Math.round(f.t_pres / f.dt);
      let goldenWorst = 0;
      const { E, R, worst } = lockstep(
        model,
        { samples: f.samples.map((s) => ({ x: [s.x], y: [s.y] })), stepsPerSample, learn },
        (E, step) => {
          const g = f.trace.find((t) => t.step === step);
          if (!g) return;
          for (const k of ['u', 'r', 'e'] as const) {
            g[k].forEach((vals, l) => vals.forEach((v, i) => (goldenWorst = Math.max(goldenWorst, Math.abs(E.view(l + 1, k)[i] - v)))));
          }
        },
      );
      expect(worst.err, `${worst.where} at step ${worst.step}`).toBeLessThanOrEqual(TOL);
      expect(goldenWorst).toBeLessThanOrEqual(1e-4);
      expect(worstParams(E, R)).toBeLessThanOrEqual(TOL);
      // final weights and biases against the golden file ([post][pre] per layer)
      f.final.W.forEach((W, l) => {
        const w = E.readWeights(l);
        W.flat().forEach((v, i) => expect(Math.abs(w[i] - v)).toBeLessThanOrEqual(1e-4));
      });
      f.final.b.forEach((b, l) => {
        const got = E.readBias(l + 1);
        b.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThanOrEqual(1e-4));
      });
      if (learn) expect(worstParams(E, new ReferenceModel(model))).toBeGreaterThan(1e-4); // it did learn
    },
  );
});

describe('Engine on random networks', () => {
  it('random feedback, li and le layers, mismatched tau/gain/offset, learning on', () => {
    const model = randomModel({
      seed: 3, sizes: [7, 13, 9, 5], activations: ['tanh', 'sigmoid', 'linear'], models: ['le', 'li', 'le'],
      feedback: 'random', mismatch: 0.2,
    });
    const { E, R, worst } = lockstep(model, randomDrive(model, 3, 6, 50, true));
    expect(worst.err, `${worst.where} at step ${worst.step}`).toBeLessThanOrEqual(TOL);
    expect(worstParams(E, R)).toBeLessThanOrEqual(TOL);
  });

  it('transpose feedback, piecewise activations, skip projections into the output, odd sizes', () => {
    const model = randomModel({
      seed: 4, sizes: [11, 17, 6, 3], activations: ['hardsigmoid', 'relu', 'tanh'], models: ['le', 'le', 'li'],
      feedback: 'transpose', mismatch: 0.1, skip: true,
    });
    expect(model.projections).toHaveLength(5);
    const { E, R, worst } = lockstep(model, randomDrive(model, 4, 6, 50, true));
    expect(worst.err, `${worst.where} at step ${worst.step}`).toBeLessThanOrEqual(TOL);
    expect(worstParams(E, R)).toBeLessThanOrEqual(TOL);
  });

  it('learning off leaves weights and biases bit-identical; nudging off keeps output errors at zero', () => {
    const model = randomModel({ seed: 5, sizes: [5, 8, 4], activations: ['tanh', 'linear'], mismatch: 0.1 });
    const drive = { ...randomDrive(model, 5, 4, 30, false), nudge: false };
    const { E, worst } = lockstep(model, drive);
    expect(worst.err).toBeLessThanOrEqual(TOL);
    model.projections.forEach((j, ji) => expect(E.readHardwareWeights(ji)).toEqual(j.weights));
    expect(Array.from(E.e('out'))).toEqual([0, 0, 0, 0]);
  });
});

describe('Engine mechanics', () => {
  const model = () =>
    randomModel({ seed: 8, sizes: [9, 12, 7, 4], activations: ['sigmoid', 'hardsigmoid', 'linear'], feedback: 'transpose', mismatch: 0.1, skip: true });

  function snapshot(E: Engine): Float32Array[] {
    const out: Float32Array[] = [];
    E.model.populations.forEach((p, pi) => {
      if (p.model === 'input') return;
      for (const k of ['u', 'r', 'rp', 'e'] as const) out.push(Float32Array.from(E.view(pi, k)));
      out.push(E.readBias(pi));
    });
    E.model.projections.forEach((_, ji) => out.push(E.readWeights(ji)));
    return out;
  }

  it('the fused weight update gives the same bytes as the update applied in its own step', () => {
    const drive = randomDrive(model(), 8, 5, 40, true);
    const run = (fused: boolean) => {
      const E = new Engine(model(), { fused });
      for (const s of drive.samples) {
        E.setInput(0, s.x[0]);
        E.setTarget('out', s.y[0]);
        E.step(drive.stepsPerSample, { learn: true });
      }
      return snapshot(E);
    };
    expect(run(true)).toEqual(run(false));
  });

  it('n steps in one call equal n calls of one step', () => {
    const A = new Engine(model());
    const B = new Engine(model());
    const x = Array.from({ length: 9 }, (_, i) => i / 9);
    for (const E of [A, B]) {
      E.setInput('in', x);
      E.setTarget('out', [1, 0, 0.5, 0.2]);
    }
    A.step(57, { learn: true });
    for (let t = 0; t < 57; t++) B.step(1, { learn: true });
    expect(snapshot(A)).toEqual(snapshot(B));
    expect(A.t_ms).toBeCloseTo(0.57, 12);
  });

  it('present() equals setting inputs and targets and stepping, sample by sample', () => {
    const drive = randomDrive(model(), 9, 7, 25, true);
    const inputs = Float32Array.from(drive.samples.flatMap((s) => s.x[0]));
    const targets = Float32Array.from(drive.samples.flatMap((s) => s.y[0] ?? [0, 0, 0, 0]));
    const A = new Engine(model());
    const out = A.present({ inputs, targets, count: 7, stepsPerSample: 25, learn: true, readout: 'out' });
    const B = new Engine(model());
    const expected: number[] = [];
    drive.samples.forEach((s, n) => {
      B.setInput('in', s.x[0]);
      B.setTarget('out', targets.subarray(n * 4, n * 4 + 4));
      B.step(25, { learn: true });
      expected.push(...B.r('out'));
    });
    expect(out).toEqual(Float32Array.from(expected));
    expect(snapshot(A)).toEqual(snapshot(B));
    expect(A.steps).toBe(175);
  });

  it('present() without targets does not nudge and can read out a hidden population', () => {
    const m = model();
    const inputs = Float32Array.from({ length: 3 * 9 }, (_, i) => (i % 5) / 5);
    const A = new Engine(m);
    const out = A.present({ inputs, count: 3, stepsPerSample: 10, readout: 'h1' });
    const R = new ReferenceModel(m);
    const expected: number[] = [];
    for (let n = 0; n < 3; n++) {
      R.set(0, inputs.subarray(n * 9, n * 9 + 9));
      for (let t = 0; t < 10; t++) R.step(false, false);
      expected.push(...R.s.r[1]);
    }
    expected.forEach((v, i) => expect(Math.abs(out[i] - v)).toBeLessThanOrEqual(TOL * (1 + Math.abs(v))));
  });

  it('reads and writes weights [post][pre] and parameters; reset zeroes the state and keeps weights', () => {
    const m = model();
    const E = new Engine(m);
    const w = E.readWeights(0);
    expect(w).toEqual(fromHardwareLayout(m.projections[0].weights, 12, 9));
    const w2 = w.map((v, i) => v + i * 1e-3);
    E.writeWeights(0, w2);
    expect(E.readWeights(0)).toEqual(w2);
    const p = E.readParameters('h1');
    expect(p.tau_m_ms).toEqual(m.populations[1].tau_m_ms);
    E.writeParameters('h1', { tau_m_ms: p.tau_m_ms.map((t) => 2 * t), offset: new Float32Array(12).fill(0.1) });
    expect(E.readParameters('h1').tau_m_ms).toEqual(p.tau_m_ms.map((t) => 2 * t));

    // the changed engine still follows a reference with the same changes
    const m2 = structuredClone(m);
    m2.projections[0].weights = Float32Array.from(E.readHardwareWeights(0));
    m2.populations[1].tau_m_ms = p.tau_m_ms.map((t) => 2 * t);
    m2.populations[1].offset = new Float32Array(12).fill(0.1);
    const R = new ReferenceModel(m2);
    const x = Array.from({ length: 9 }, (_, i) => (i % 3) / 3);
    E.setInput('in', x);
    R.set(0, x);
    E.step(40, { learn: false });
    for (let t = 0; t < 40; t++) R.step(false);
    expect(worstState(E, R).err).toBeLessThanOrEqual(TOL);

    const first = snapshot(E);
    E.reset();
    expect(E.t_ms).toBe(0);
    for (const pop of ['h1', 'h2', 'out']) for (const k of ['u', 'r', 'rp', 'e'] as const) expect(E.view(pop, k).every((v) => v === 0)).toBe(true);
    E.step(40, { learn: false });
    expect(snapshot(E)).toEqual(first);
  });
});
