/**
 * Synaptic filtering (RESEARCH.md §1 "Temporal noise") and the tau adaptation rule in the WASM
 * engine against the float64 reference (emulator/reference.ts) step by step, and both against
 * hand-derived values: a step through a filtered prospective neuron, the geometric target low-pass,
 * the AR(1) variance of filtered rate noise, and tau_m pulled toward tau_r.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import { Engine } from '../../emulator/engine.js';
import type { EmulatorModel, SynapticFilter } from '../../emulator/model.js';
import { ReferenceModel } from '../../emulator/reference.js';
import { populationDepths } from '../../emulator/synaptic-filter.js';
import { randomModel } from '../emulator/engine-models.js';
import { ensureKernels } from '../kernels/kernels-build.js';

beforeAll(ensureKernels);

/** Steps engine and reference side by side over random samples; worst relative state error. */
function lockstep(model: EmulatorModel, samples: number, stepsPerSample: number, learn: boolean, setup?: (E: Engine, R: ReferenceModel) => void) {
  const E = new Engine(model);
  const R = new ReferenceModel(model);
  setup?.(E, R);
  const rng = new Rng(11, 'filter-drive');
  const inp = model.populations.filter((p) => p.model === 'input');
  const out = model.populations.filter((p) => p.role === 'output' && p.model !== 'input');
  let worst = 0;
  let where = '';
  for (let n = 0; n < samples; n++) {
    for (const p of inp) {
      const x = Array.from({ length: p.size }, () => rng.uniform());
      E.setInput(p.index, x);
      R.set(p.index, x);
    }
    for (const p of out) {
      const y = n % 4 === 3 ? null : Array.from({ length: p.size }, () => rng.uniform());
      E.setTarget(p.index, y);
      R.set(p.index, y);
    }
    for (let t = 0; t < stepsPerSample; t++) {
      E.step(1, { learn });
      R.step(learn);
      model.populations.forEach((p, pi) => {
        const keys = p.model === 'input' ? (['rbar'] as const) : (['u', 'r', 'e', 'rbar'] as const);
        for (const k of keys) {
          if (k === 'rbar' && !(model.filter && model.filter.tau_s_ms > 0)) continue;
          const a = E.view(pi, k);
          const b = R.s[k][pi];
          for (let i = 0; i < p.size; i++) {
            const d = Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i]));
            if (!(d <= worst)) {
              worst = Number.isNaN(d) ? Infinity : d;
              where = `${p.name}.${k}[${i}] engine ${a[i]} reference ${b[i]}`;
            }
          }
        }
      });
    }
  }
  return { E, R, worst, where };
}

function withFilter(m: EmulatorModel, filter: SynapticFilter): EmulatorModel {
  return { ...m, filter };
}

describe('synaptic filtering: engine against the reference', () => {
  it.each([
    ['forward and target filters', { tau_s_ms: 0.05, errors: false, targets: true }],
    ['forward, error and target filters', { tau_s_ms: 0.05, errors: true, targets: true }],
    ['forward filter only', { tau_s_ms: 0.2, errors: false, targets: false }],
  ] as const)('%s: every u, r, e, rbar within 1e-5 over 300 learning steps', (_name, filter) => {
    const base = randomModel({ seed: 21, sizes: [6, 9, 7, 4], activations: ['tanh', 'hardsigmoid', 'linear'], feedback: 'transpose', mismatch: 0.1, skip: true });
    const { worst, where, E, R } = lockstep(withFilter(base, { ...filter }), 6, 50, true);
    expect(worst, where).toBeLessThan(1e-5);
    // learning happened and agrees
    base.projections.forEach((_, ji) => {
      const w = E.readHardwareWeights(ji);
      R.W[ji].forEach((v, i) => expect(Math.abs(w[i] - v)).toBeLessThan(1e-5));
    });
  });

  it('random feedback and li neurons with filtered errors', () => {
    const base = randomModel({ seed: 22, sizes: [5, 8, 3], activations: ['sigmoid', 'linear'], models: ['li', 'le'], feedback: 'random', mismatch: 0.2 });
    const { worst, where } = lockstep(withFilter(base, { tau_s_ms: 0.1, errors: true, targets: true }), 5, 40, true);
    expect(worst, where).toBeLessThan(1e-5);
  });

  it('tau_s = 0 is exactly the unfiltered engine', () => {
    const base = randomModel({ seed: 23, sizes: [4, 6, 3], activations: ['tanh', 'linear'], mismatch: 0.1 });
    const a = lockstep(base, 3, 30, true).E;
    const b = lockstep(withFilter(base, { tau_s_ms: 0, errors: true, targets: true }), 3, 30, true).E;
    for (const k of ['u', 'r', 'e'] as const) expect(Array.from(b.view('out', k))).toEqual(Array.from(a.view('out', k)));
    expect(b.readWeights(1)).toEqual(a.readWeights(1));
  });
});

/** in (1) -> h (1, le, linear, tau_r = tau_m) -> out (1, le, linear, tau_r = tau_m), weights w1, w2. */
function chain(w1: number, w2: number, tau: number, filter?: SynapticFilter): EmulatorModel {
  const pop = (index: number, name: string, role: 'input' | 'hidden' | 'output', model: 'input' | 'le') => ({
    name, index, size: 1, role, model, activation: 'linear' as const,
    tau_m_ms: Float32Array.of(model === 'input' ? 0 : tau), tau_r_ms: Float32Array.of(model === 'input' ? 0 : tau),
    gain: Float32Array.of(1), offset: Float32Array.of(0), bias: Float32Array.of(0),
  });
  return {
    populations: [pop(0, 'in', 'input', 'input'), pop(1, 'h', 'hidden', 'le'), pop(2, 'out', 'output', 'le')],
    projections: [
      { index: 0, pre: 0, post: 1, weights: Float32Array.of(w1), plastic: false, eta_scale: 1, feedback: 'none' },
      { index: 1, pre: 1, post: 2, weights: Float32Array.of(w2), plastic: false, eta_scale: 1, feedback: 'transpose' },
    ],
    beta: 0.1, eta: 0, dt_ms: 0.01, speedup: 1000, noise: { membrane: 0, rate: 0 }, seed: 1, learningRule: 'le', filter,
  };
}

describe('synaptic filtering: hand-derived responses', () => {
  it('a prospective neuron (tau_r = tau_m) answers through its filtered input at once: r_h(t) = w1 (1 - (1-k)^t)', () => {
    const tauS = 0.1;
    const k = 0.01 / tauS;
    const E = new Engine(chain(0.8, 0.5, 5, { tau_s_ms: tauS, errors: false, targets: false }));
    E.setInput('in', [1]);
    let hbar = 0;
    for (let t = 1; t <= 60; t++) {
      E.step(1);
      const xbar = 1 - (1 - k) ** t;
      // v = u + tau_m du = basal exactly, so r_h is the filtered input times w1
      expect(E.r('h')[0]).toBeCloseTo(0.8 * xbar, 5);
      expect(E.view('in', 'rbar')[0]).toBeCloseTo(xbar, 6);
      // the layer above sees rbar_h, one step later: r_out(t) = w2 rbar_h(t-1)
      expect(E.r('out')[0]).toBeCloseTo(0.5 * hbar, 5);
      hbar += k * (0.8 * xbar - hbar);
      expect(E.view('h', 'rbar')[0]).toBeCloseTo(hbar, 5);
    }
  });

  it('the target low-pass has tau = depth x tau_s (depth 2 here) and nudging uses it', () => {
    const tauS = 0.05;
    const m = chain(1, 1, 5, { tau_s_ms: tauS, errors: false, targets: true });
    expect(populationDepths(m)).toEqual([0, 1, 2]);
    const R = new ReferenceModel(m);
    const E = new Engine(m);
    R.set(2, [1]);
    E.setTarget('out', [1]);
    const ky = 0.01 / (2 * tauS);
    let rPrev = 0;
    for (let t = 1; t <= 40; t++) {
      R.step(false);
      E.step(1);
      const ybar = 1 - (1 - ky) ** t;
      expect(R.s.ybar[2][0]).toBeCloseTo(ybar, 12);
      // output error beta r'^{t-1} (ybar^t - r^{t-1}), r' = 1 (linear) after the first step
      if (t > 1) expect(E.e('out')[0]).toBeCloseTo(0.1 * (ybar - rPrev), 6);
      rPrev = E.r('out')[0];
    }
  });

  it('filtered rate noise is AR(1): variance sigma^2 k / (2 - k), lag-1 correlation 1 - k', () => {
    const n = 64;
    const sigma = 0.2;
    const tauS = 0.05;
    const k = 0.01 / tauS;
    const fill = (v: number) => new Float32Array(n).fill(v);
    const m: EmulatorModel = {
      populations: [
        { name: 'in', index: 0, size: 1, role: 'input', model: 'input', activation: 'linear', tau_m_ms: fill(0).subarray(0, 1), tau_r_ms: fill(0).subarray(0, 1), gain: fill(1).subarray(0, 1), offset: fill(0).subarray(0, 1), bias: fill(0).subarray(0, 1) },
        { name: 'h', index: 1, size: n, role: 'hidden', model: 'le', activation: 'linear', tau_m_ms: fill(5), tau_r_ms: fill(5), gain: fill(1), offset: fill(0), bias: fill(0) },
      ],
      projections: [], beta: 0.1, eta: 0, dt_ms: 0.01, speedup: 1000, noise: { membrane: 0, rate: sigma }, seed: 3, learningRule: 'none',
      filter: { tau_s_ms: tauS, errors: false, targets: false },
    };
    const E = new Engine(m);
    E.step(200);
    let s2 = 0;
    let lag = 0;
    let prev = Float32Array.from(E.view('h', 'rbar'));
    const steps = 20_000;
    for (let t = 0; t < steps; t++) {
      E.step(1);
      const rb = E.view('h', 'rbar');
      for (let i = 0; i < n; i++) {
        s2 += rb[i] * rb[i];
        lag += rb[i] * prev[i];
      }
      prev = Float32Array.from(rb);
    }
    const variance = s2 / (steps * n);
    const want = (sigma * sigma * k) / (2 - k);
    // 1.28 M correlated samples (correlation time ~ 10 steps): ~0.4 % standard error
    expect(Math.abs(variance / want - 1)).toBeLessThan(0.03);
    expect(Math.abs(lag / s2 - (1 - k))).toBeLessThan(0.01);
  });

  it('present() reads the output through its synapse (rbar) when filtering is on', () => {
    const m = chain(1, 1, 5, { tau_s_ms: 0.1, errors: false, targets: false });
    const E = new Engine(m);
    const out = E.present({ inputs: Float32Array.of(1, 0.5), count: 2, stepsPerSample: 30, readout: 'out' });
    const R = new ReferenceModel(m);
    const want: number[] = [];
    for (const x of [1, 0.5]) {
      R.set(0, [x]);
      for (let t = 0; t < 30; t++) R.step(false);
      want.push(R.s.rbar[2][0]);
    }
    expect(out[0]).toBeCloseTo(want[0], 5);
    expect(out[1]).toBeCloseTo(want[1], 5);
    expect(Math.abs(out[0] - R.s.r[2][0])).toBeGreaterThan(1e-3); // not the raw rate
  });
});

describe('tau adaptation rule', () => {
  it('engine and reference agree step by step with the rule on in two layers', () => {
    const base = randomModel({ seed: 24, sizes: [6, 8, 5, 3], activations: ['tanh', 'hardsigmoid', 'linear'], mismatch: 0.3 });
    const { worst, where, E, R } = lockstep(base, 6, 40, false, (E, R) => {
      for (const pi of [1, 2]) {
        E.setTauAdaptation(pi, 2, 0.5, 100);
        R.setTauAdaptation(pi, 2, 0.5, 100);
      }
    });
    expect(worst, where).toBeLessThan(1e-5);
    for (const pi of [1, 2, 3]) {
      const got = E.readParameters(pi).tau_m_ms;
      R.tau_m[pi].forEach((v, i) => expect(Math.abs(got[i] - v) / v).toBeLessThan(1e-5));
    }
    // the rule did move tau_m (by more than 1 % somewhere in each adapted layer)
    for (const pi of [1, 2]) {
      const moved = Math.max(...Array.from(R.tau_m[pi], (v, i) => Math.abs(v / base.populations[pi].tau_m_ms[i] - 1)));
      expect(moved).toBeGreaterThan(0.01);
    }
    // layer 3 was not adapted: its tau_m is untouched
    expect(Array.from(E.readParameters(3).tau_m_ms)).toEqual(Array.from(base.populations[3].tau_m_ms));
  });

  it('without errors it is eta (tau_r - tau_m) du^2 per step: tau_m moves monotonically to tau_r', () => {
    // one linear le neuron driven by a changing input; tau_m = 8, tau_r = 5
    const m = chain(1, 1, 5);
    m.populations[1].tau_m_ms[0] = 8;
    const R = new ReferenceModel(m);
    R.setTauAdaptation(1, 5, 0.1, 1000);
    let prevTau = 8;
    let prevGap = 3;
    for (let n = 0; n < 400; n++) {
      R.set(0, [n % 2]);
      for (let t = 0; t < 10; t++) {
        // predict the step's change from the state before it
        const u = R.s.u[1][0];
        const basal = R.W[0][0] * (n % 2);
        const du = (basal - u) / R.tau_m[1][0];
        const expected = R.tau_m[1][0] + 5 * (5 - R.tau_m[1][0]) * du * du;
        R.step(false);
        expect(R.tau_m[1][0]).toBeCloseTo(expected, 12);
      }
      const gap = R.tau_m[1][0] - 5;
      expect(gap).toBeLessThanOrEqual(prevGap + 1e-15);
      expect(gap).toBeGreaterThanOrEqual(0); // never overshoots at this rate
      prevGap = gap;
      prevTau = R.tau_m[1][0];
    }
    expect(prevTau - 5).toBeLessThan(0.01);
  });
});
