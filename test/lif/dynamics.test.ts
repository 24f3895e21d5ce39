/**
 * The lif model against analytic values: the exponential, the membrane under constant current
 * (below threshold: V(t) = V_inf + (v_rest - V_inf) e^{-t/tau_m}; above: the interspike interval
 * tau_refrac + tau_m ln((V_inf - v_reset)/(V_inf - v_thresh)) rounded up to the grid), refractory
 * clamping, the exact decay of a conductance after one spike and the delay of its arrival, and
 * the statistics of the Poisson sources. Run on the reference and the engine alike.
 */
import { describe, expect, it } from 'vitest';
import { buildLifModel, type LifNetworkSpec } from '../../emulator/lif/build.js';
import { LifEngine } from '../../emulator/lif/engine.js';
import { exp32 } from '../../emulator/lif/f32-math.js';
import { poissonThreshold } from '../../emulator/lif/model.js';
import { recordRun, type LifSimulator } from '../../emulator/lif/record.js';
import { LifReference } from '../../emulator/lif/reference.js';
import { KernelMemory } from '../../emulator/wasm.js';

const both = (spec: LifNetworkSpec): [string, LifSimulator][] => [
  ['reference', new LifReference(buildLifModel(spec))],
  ['engine', new LifEngine(buildLifModel(spec))],
];

function single(params: Record<string, number>, extra: Partial<LifNetworkSpec> = {}): LifNetworkSpec {
  return { dt_ms: 0.1, populations: [{ kind: 'lif', name: 'n', size: 1, params }], projections: [], ...extra };
}

describe('exponential', () => {
  it('exp32 is within 2 float32 ulp of exp on [-87, 0] and equals the kernel lane for lane', () => {
    const xs = new Float32Array(4096);
    for (let i = 0; i < xs.length; i++) xs[i] = -90 * (i / (xs.length - 1)) ** 3;
    xs[1] = -1e-30;
    xs[2] = -87.33654;
    xs[3] = -0.5;
    let worst = 0;
    for (const x of xs) {
      if (x < -87) continue;
      const e = Math.exp(x);
      worst = Math.max(worst, Math.abs(exp32(x) - e) / e);
    }
    expect(worst).toBeLessThan(2 * 2 ** -23);
    const mem = new KernelMemory(xs.length * 8);
    const k = mem.k as unknown as { lif_exp_vec(x: number, out: number, nVec: number): void };
    const px = mem.alloc(xs.length * 4);
    const po = mem.alloc(xs.length * 4);
    mem.f32(px, xs.length).set(xs);
    k.lif_exp_vec(px, po, xs.length / 4);
    const out = mem.f32(po, xs.length);
    for (let i = 0; i < xs.length; i++) expect(out[i]).toBe(exp32(xs[i]));
  });
});

describe('membrane under constant current', () => {
  // cm 0.2 nF, tau_m 20 ms: gL = 0.01 uS, V_inf = v_rest + i_offset / gL.
  // Float32 membranes stall where one step's move, |V - V_inf| dt / tau_m, drops below half an ulp
  // of V: here within ulp(55 mV) / (2 x 0.005) = 0.4 uV of V_inf. Hence 1e-3 mV, not 1e-4.
  it('below threshold follows V_inf + (v_rest - V_inf) e^{-t/tau_m} within 1e-3 mV', () => {
    for (const [name, sim] of both(single({ i_offset: 0.1 }))) {
      for (const t of [0.1, 1, 7.3, 20, 100, 500]) {
        sim.reset();
        sim.run(Math.round(t / 0.1));
        const exact = -55 - 10 * Math.exp(-t / 20);
        expect(Math.abs(sim.membranes()[0] - exact), `${name} at ${t} ms`).toBeLessThan(1e-3);
      }
      expect(sim.takeSpikes().signal.length).toBe(0);
    }
  });

  it('above threshold fires at tau_refrac + tau_m ln((V_inf - v_reset)/(V_inf - v_thresh)) on the grid, V held at v_reset while refractory', () => {
    // V_inf = -45 mV, reset -65, threshold -50: 27.726 ms to threshold = 278 steps (first grid point past it).
    const free = Math.ceil((20 * Math.log(20 / 5)) / 0.1);
    expect(free).toBe(278);
    const nref = 20;
    for (const [name, sim] of both(single({ i_offset: 0.2, tau_refrac: 2 }))) {
      const rec = recordRun(sim, 1000, { membranes: ['n'] });
      const spikes = rec.record.n.spikes[0];
      const expected: number[] = [];
      for (let k = free; k <= 10000; k += free + nref) expected.push(k);
      expect(spikes.map((t) => Math.round(t / 0.1)), name).toEqual(expected);
      // Sample q is the membrane at time index q + 1. A spike at index k resets V there, and V is held
      // through the nref steps that follow (to index k + nref = k + tau_refrac / dt); the next step moves it.
      const v = rec.record.n.v!.map((row) => row[0]);
      for (const k of expected.slice(0, -1)) {
        for (let q = 0; q <= nref; q++) expect(v[k - 1 + q]).toBe(-65);
        expect(v[k + nref]).toBeGreaterThan(-65);
      }
    }
  });
});

describe('synaptic events', () => {
  it('a spike at 5.04 ms (grid 5.0) with a 3-step delay arrives at 5.3 ms and its conductance decays exactly', () => {
    const w = 0.01;
    const spec: LifNetworkSpec = {
      dt_ms: 0.1,
      populations: [
        { kind: 'source', name: 's', size: 1, spike_times: [[5.04]] },
        { kind: 'lif', name: 'n', size: 1, params: { tau_syn_E: 5 } },
      ],
      projections: [{ from: 's', to: 'n', weights_uS: [w], delay_steps: 3 }],
    };
    for (const [name, sim] of both(spec)) {
      sim.run(53);
      expect(sim.conductances().gE[0], name).toBe(0);
      expect(sim.membranes()[0]).toBe(-65);
      sim.run(1);
      // Arrival at the start of step 53, then one step of decay.
      expect(Math.abs(sim.conductances().gE[0] - w * Math.exp(-0.1 / 5)) / w).toBeLessThan(1e-6);
      expect(sim.membranes()[0]).toBeGreaterThan(-65);
      sim.run(100);
      expect(Math.abs(sim.conductances().gE[0] - w * Math.exp(-10.1 / 5)) / w).toBeLessThan(1e-5);
      expect(sim.conductances().gI[0]).toBe(0);
    }
  });

  it('an inhibitory weight feeds gI; at V = e_rev_I it does not move the membrane (conductance, not current)', () => {
    const spec: LifNetworkSpec = {
      dt_ms: 0.1,
      populations: [
        { kind: 'source', name: 's', size: 1, spike_times: [[1]] },
        { kind: 'lif', name: 'n', size: 2, params: { v_rest: [-80, -65], e_rev_I: -80 } },
      ],
      projections: [{ from: 's', to: 'n', weights_uS: [-0.05, -0.05] }],
    };
    for (const [, sim] of both(spec)) {
      sim.run(30);
      // Arrived at step 11 (1 ms + one step of delay), decayed over 19 steps of tau_syn_I = 5 ms.
      expect(Math.abs(sim.conductances().gI[0] - 0.05 * Math.exp(-1.9 / 5))).toBeLessThan(1e-7);
      expect(sim.conductances().gE[0]).toBe(0);
      const v = sim.membranes();
      expect(Math.abs(v[0] + 80)).toBeLessThan(1e-4);
      expect(v[1]).toBeLessThan(-66);
    }
  });
});

describe('Poisson sources', () => {
  const rate = 50;
  const spec = (seed: number): LifNetworkSpec => ({
    dt_ms: 0.1,
    populations: [
      { kind: 'source', name: 'p', size: 100, poisson: { rate_hz: rate, seed } },
      { kind: 'lif', name: 'n', size: 1 },
    ],
    projections: [],
  });
  const run = (seed: number) => {
    const sim = new LifEngine(buildLifModel(spec(seed)), { recordSources: true });
    return recordRun(sim, 20_000).record.p.spikes;
  };

  it('fire at rate_hz (Bernoulli per step), with exponential-like intervals and independent sources', () => {
    expect(poissonThreshold(rate, 0.1)).toBe(Math.round(0.005 * 2 ** 32));
    const trains = run(4);
    const total = trains.reduce((a, t) => a + t.length, 0);
    const p = (rate * 0.1) / 1000;
    const n = 100 * 200_000;
    // Within 4 standard deviations of the binomial count.
    expect(Math.abs(total - n * p)).toBeLessThan(4 * Math.sqrt(n * p * (1 - p)));
    const isi = trains.flatMap((t) => t.slice(1).map((x, i) => x - t[i]));
    const mean = isi.reduce((a, b) => a + b, 0) / isi.length;
    const sd = Math.sqrt(isi.reduce((a, b) => a + (b - mean) ** 2, 0) / isi.length);
    expect(Math.abs(mean - 1000 / rate) / (1000 / rate)).toBeLessThan(0.02);
    expect(Math.abs(sd / mean - Math.sqrt(1 - p))).toBeLessThan(0.03);
    // Counts in 20 ms bins: pairwise correlations of independent sources scatter around 0 with sd 1/sqrt(bins).
    const bins = 1000;
    const counts = trains.map((t) => {
      const c = new Float64Array(bins);
      for (const x of t) c[Math.min(bins - 1, Math.floor(x / 20))]++;
      return c;
    });
    const corr = (a: Float64Array, b: Float64Array) => {
      const ma = a.reduce((s, x) => s + x, 0) / bins;
      const mb = b.reduce((s, x) => s + x, 0) / bins;
      let sab = 0, saa = 0, sbb = 0;
      for (let i = 0; i < bins; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) ** 2;
        sbb += (b[i] - mb) ** 2;
      }
      return sab / Math.sqrt(saa * sbb);
    };
    let sum = 0;
    let count = 0;
    for (let i = 0; i < 20; i++) for (let j = i + 1; j < 20; j++, count++) sum += corr(counts[i], counts[j]);
    expect(Math.abs(sum / count)).toBeLessThan(4 / Math.sqrt(bins * count));
  });

  it('are reproduced by their seed and differ between seeds', () => {
    const a = run(4);
    expect(run(4)).toEqual(a);
    expect(run(5)[0]).not.toEqual(a[0]);
  });
});
