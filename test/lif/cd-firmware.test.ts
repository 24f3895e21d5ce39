import { describe, expect, it } from 'vitest';
import { loadChip } from '../../chip/presets.js';
import { Rng } from '../../common/random.js';
import { referenceCodes, referenceUpdate, type CdParams, type CdRule } from '../../firmware-models/cd-reference.js';
import { MockBus } from '../../emulator/processor/bus.js';
import { Processor } from '../../emulator/processor/interpreter.js';
import { boltzmannDistribution, moments, normalise, randomBoltzmann } from '../../emulator/lif/boltzmann.js';
import {
  assembleCd, cdIterationsDone, encodeCdData, readCdCounts, readCdParams, trainCdFirmware, zThresholdWord,
} from '../../emulator/lif/cd-firmware.js';
import { measureActivation, meanBackground, POISSON_BACKGROUND, SpikingSampler } from '../../emulator/lif/sampling.js';

const chip = loadChip('bss2');

/** cd.s on a MockBus whose z observables the test sets at every sample; returns what it needs to compare. */
function runOnMock(networks: number, iterations: number, samples: number, seed: number) {
  const n = 5;
  const N = n * networks;
  const rng = new Rng(seed, 'cd-test');
  const target = randomBoltzmann(n, seed);
  const tm = moments(boltzmannDistribution(target), n);
  const rule: CdRule = { n, networks, samples, eta: 1.7, decay: 3, mE: 9.37, mI: 13.1, mB: 70.4, bMin: -512, bMax: 511, wMax: 63 };
  // Starting parameters differ per network (large enough that some codes clamp).
  const initial: CdParams = { W: [], b: [] };
  for (let k = 0; k < networks; k++) {
    const W = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) W[i * n + j] = W[j * n + i] = 3 * rng.normal();
    }
    initial.W.push(W);
    initial.b.push(Float64Array.from({ length: n }, () => 4 * rng.normal()));
  }
  const prog = assembleCd();
  const data = encodeCdData(prog, { rule, waitSteps: 7, iterations, zThreshold: zThresholdWord(chip), data: tm, initial });
  const bus = new MockBus(2 * N, N, 'fixed');
  // Noise synapses in other networks' columns must survive the firmware's row writes.
  for (let r = 0; r < 2 * N; r++) {
    for (let c = 0; c < N; c++) if (Math.floor(c / n) !== Math.floor(r / 2 / n)) bus.synapses[r * N + c] = Math.floor(rng.uniform() * 64);
  }
  const before = bus.synapses.slice();
  const p = new Processor({ chip, bus });
  p.load({ segments: [{ addr: 0, bytes: new Uint8Array(prog.text.buffer) }, { addr: prog.dataBase, bytes: data }], entry: prog.entry, symbols: prog.symbols, lines: prog.lines });
  // Per iteration, the counts the firmware should have made.
  let params = initial;
  const history: CdParams[] = [];
  const counts = { mean: [] as Float64Array[], pair: [] as Float64Array[] };
  let waits = 0;
  let r = p.run(1e8);
  // Codes written at start = the reference's codes of the initial parameters.
  const codesAtStart = bus.synapses.slice();
  const biasAtStart = bus.parameters.slice(0, N);
  while (r.reason === 'wait') {
    expect(r.waitSteps).toBe(7);
    if (waits % samples === 0) {
      counts.mean = Array.from({ length: networks }, () => new Float64Array(n));
      counts.pair = Array.from({ length: networks }, () => new Float64Array(n * n));
    }
    // A random state per sample, with per-neuron probabilities so that the moments differ.
    for (let g = 0; g < N; g++) bus.observables[6 * N + g] = rng.uniform() < 0.2 + 0.6 * ((g * 7) % 11) / 10 ? 1 : 0;
    for (let k = 0; k < networks; k++) {
      for (let i = 0; i < n; i++) {
        const zi = bus.observables[6 * N + k * n + i];
        counts.mean[k][i] += zi;
        for (let j = i + 1; j < n; j++) counts.pair[k][i * n + j] += zi * bus.observables[6 * N + k * n + j];
      }
    }
    waits++;
    r = p.run(1e8);
    if (waits % samples === 0) {
      params = referenceUpdate(params, counts, tm, waits / samples - 1, rule);
      history.push(params);
    }
  }
  expect(r.reason).toBe('halt');
  return { p, prog, bus, rule, initial, history, counts, before, codesAtStart, biasAtStart, n, N };
}

function expectCodes(bus: MockBus, synapses: Int32Array | Float32Array, bias: Int32Array | Float32Array, params: CdParams, rule: CdRule, N: number) {
  const ref = referenceCodes(params, rule);
  const n = rule.n;
  let maxDiff = 0;
  let exact = 0;
  let total = 0;
  for (let k = 0; k < rule.networks; k++) {
    for (let post = 0; post < n; post++) {
      for (let pre = 0; pre < n; pre++) {
        if (pre === post) continue;
        const g = k * n + pre;
        const e = synapses[2 * g * N + k * n + post];
        const h = synapses[(2 * g + 1) * N + k * n + post];
        for (const [got, want] of [[e, ref.exc[k][post * n + pre]], [h, ref.inh[k][post * n + pre]]]) {
          maxDiff = Math.max(maxDiff, Math.abs(got - want));
          exact += got === want ? 1 : 0;
          total++;
        }
      }
      const b = bias[k * n + post];
      maxDiff = Math.max(maxDiff, Math.abs(b - ref.bias[k][post]));
      exact += b === ref.bias[k][post] ? 1 : 0;
      total++;
    }
  }
  // Within one code (the quantisation step), and nearly always equal.
  expect(maxDiff).toBeLessThanOrEqual(1);
  expect(exact / total).toBeGreaterThan(0.97);
}

describe('cd.s (contrastive divergence on the plasticity processor)', () => {
  it('one update equals the float reference within the fixed-point error, and its codes within one code', () => {
    // 14 networks: 70 columns, two 64-lane chunks, network 12 straddles them.
    const { p, prog, bus, rule, initial, history, counts, codesAtStart, biasAtStart, n, N } = runOnMock(14, 2, 50, 3);
    expectCodes(bus, codesAtStart, biasAtStart, initial, rule, N);
    expect(cdIterationsDone(p.mem, prog)).toBe(2);
    const fw = readCdParams(p.mem, prog, n, rule.networks);
    const last = history[history.length - 1];
    let err = 0;
    for (let k = 0; k < rule.networks; k++) {
      for (let i = 0; i < n * n; i++) err = Math.max(err, Math.abs(fw.W[k][i] - last.W[k][i]));
      for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(fw.b[k][i] - last.b[k][i]));
    }
    // Q16: floor of eta_t, of each moment and of each product: a few 2^-16 per update.
    expect(err).toBeLessThan(8 / 65536);
    expect(err).toBeGreaterThan(0); // the comparison is not vacuous: fixed point differs from float
    // The firmware's counters hold the last iteration's counts.
    const c = readCdCounts(p.mem, prog, n, rule.networks);
    for (let k = 0; k < rule.networks; k++) {
      for (let i = 0; i < n; i++) {
        expect(c.mean[k][i]).toBe(counts.mean[k][i]);
        for (let j = i + 1; j < n; j++) expect(c.pair[k][i * n + j]).toBe(counts.pair[k][i * n + j]);
      }
    }
    expectCodes(bus, bus.synapses, bus.parameters.slice(0, N), last, rule, N);
  });

  it('leaves the synapses of other networks (the ensemble noise) as they were', () => {
    const { bus, before, n, N } = runOnMock(3, 1, 20, 5);
    for (let r = 0; r < 2 * N; r++) {
      for (let c = 0; c < N; c++) if (Math.floor(c / n) !== Math.floor(r / 2 / n)) expect(bus.synapses[r * N + c]).toBe(before[r * N + c]);
    }
  });

  it('trains a Poisson-driven sampler: z counts agree with the host, weights and leak potentials are the codes', () => {
    const target = randomBoltzmann(5, 1);
    const step = 0.001;
    const sampler = new SpikingSampler({ n: 5, networks: 1, background: POISSON_BACKGROUND, seed: 3, weightStep_uS: step });
    const probe = new SpikingSampler({ n: 5, networks: 5, background: POISSON_BACKGROUND, seed: 2 });
    const a = measureActivation(probe, -62, -48, 5000);
    const meanP = a.p_on.reduce((x, y) => x + y, 0) / a.p_on.length;
    const g = meanBackground(sampler.opts, (meanP / 10.1) * 1000);
    const res = trainCdFirmware(sampler, target, a.fit, g, { iterations: 3, sampleMs: 2000, eta: 1, etaDecay: 30 });
    expect(res.curve.length).toBe(3);
    expect(res.curve[2][0]).toBeLessThan(0.5);
    // The firmware's z, sampled every millisecond through the ADC, gives the host's moments of every grid sample.
    const fwm = res.lastMoments.firmware[0];
    const host = res.lastMoments.host[0];
    for (let i = 0; i < 25; i++) expect(Math.abs(fwm.pair[i] - host.pair[i])).toBeLessThan(0.02);
    for (let i = 0; i < 5; i++) expect(Math.abs(fwm.mean[i] - host.mean[i])).toBeLessThan(0.02);
    // Weights in the engine are whole codes of the step; leak potentials u0 + code x lsb.
    const w = sampler.model.rows.weights;
    const r0 = sampler.recurrentRow0;
    for (let r = 0; r < 10; r++) {
      for (let c = 0; c < 5; c++) {
        const x = w[(r0 + r) * 5 + c] / step;
        expect(Math.abs(x - Math.round(x))).toBeLessThan(1e-3);
      }
    }
    const lsb = (2 / 512) * 20;
    for (const v of sampler.model.params.v_rest_mV) {
      const q = (v - a.fit.u0_mV) / lsb;
      expect(Math.abs(q - Math.round(q))).toBeLessThan(1e-6);
    }
    // Another 2 s: the firmware's parameters are in place; sampling goes on.
    const q = normalise(sampler.sample(2000)[0]);
    expect(q.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
  });
});
