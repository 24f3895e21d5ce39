/**
 * The tau adaptation protocol: the engine's implementation (emulator/tau-adapt.ts, the rule in the
 * step program) against the float64 reference (firmware-models/tau-adapt-reference.ts) on the
 * same chip instance and samples, the gap |tau_m - tau_r| closing layer by layer, and the adapted
 * values landing on the chip as tau_m trim codes within one DAC step.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadChip } from '../../chip/presets.js';
import { Rng } from '../../common/random.js';
import { compile } from '../../compiler/compile.js';
import { checkCalibration } from '../../emulator/calibration/format.js';
import { realiseModel } from '../../emulator/instance.js';
import { adaptTauOnChip } from '../../emulator/tau-adapt.js';
import { adaptationOrder, adaptTauReference, meanAbsGap } from '../../firmware-models/tau-adapt-reference.js';
import { ensureKernels } from '../kernels/kernels-build.js';

beforeAll(ensureKernels);

// A 3-5-4-2 network with two hidden layers (tanh, hardsigmoid) and a linear output, tau 10 ms.
const net = {
  format: 'lechip/network@1',
  name: 'adapt',
  populations: {
    in: { size: 3, role: 'input' },
    h1: { size: 5, neuron: { model: 'le', tau_m: 10, activation: 'tanh' }, bias: { kind: 'normal', scale: 0.1, seed: 3 } },
    h2: { size: 4, neuron: { model: 'le', tau_m: 10, activation: 'hardsigmoid' }, bias: [0.5, 0.4, 0.6, 0.5] },
    out: { size: 2, role: 'output', neuron: { model: 'le', tau_m: 10, activation: 'linear' } },
  },
  projections: [
    { from: 'in', to: 'h1', init: { kind: 'normal', scale: 0.8, seed: 1 } },
    { from: 'h1', to: 'h2', init: { kind: 'normal', scale: 0.5, seed: 2 } },
    { from: 'h2', to: 'out', init: { kind: 'normal', scale: 0.5, seed: 4 } },
  ],
  learning: { rule: 'le', beta: 0.1, eta: 0.1 },
  presentation: { t_pres: 0.1, dt: 0.01 },
};
const chip = loadChip('ideal');
const image = compile(JSON.stringify(net), { chip, seed: 1 }).image;
const config = { chipSeed: 4, seed: 1, mismatch: { tau_m: 0.3, tau_r: 0.3 }, tauDistribution: 'normal' as const };
const count = 300;
const rng = new Rng(9, 'adapt-samples');
const inputs = Float32Array.from({ length: count * 3 }, () => rng.uniform());
const opts = { eta: 20, stepsPerSample: 10, tolMs: 1e-4, maxPasses: 8 };

describe('tau adaptation protocol', () => {
  it('the engine follows the float64 reference layer by layer (adapted tau_m within 1e-4 relative)', () => {
    const model = realiseModel(image, config);
    const ref = adaptTauReference(model, inputs, count, opts);
    const chipRun = adaptTauOnChip(image, config, inputs, count, opts);
    const refPasses = ref.passes.map((p) => `${p.population}:${p.pass}`);
    expect(chipRun.passes.map((p) => `${p.population}:${p.pass}`)).toEqual(refPasses);
    chipRun.passes.forEach((p, k) => expect(Math.abs(p.mean_abs_gap_ms - ref.passes[k].mean_abs_gap_ms)).toBeLessThan(1e-4 * 10));
    expect(adaptationOrder(model).map((pi) => model.populations[pi].name)).toEqual(['h1', 'h2', 'out']);
  });

  it('closes the gap |tau_m - tau_r| by more than 10x in every layer', () => {
    const r = adaptTauOnChip(image, config, inputs, count, opts);
    for (const name of ['h1', 'h2', 'out']) {
      expect(r.before[name]).toBeGreaterThan(1); // N(1, 0.3) on 10 ms: gaps of a few ms
      expect(r.after[name] / r.before[name], name).toBeLessThan(0.1);
    }
  });

  it('the adapted tau_m reach the chip as trim codes: realised with the calibration, within one DAC step of the adapted values', () => {
    const r = adaptTauOnChip(image, config, inputs, count, opts);
    const cal = checkCalibration(JSON.parse(JSON.stringify(r.calibration)));
    const trimmed = realiseModel(image, { ...config, calibration: cal });
    const ref = adaptTauReference(realiseModel(image, config), inputs, count, opts);
    const lsb = 4 / 2 ** 23;
    const raw = realiseModel(image, config);
    let saturated = 0;
    for (const pi of adaptationOrder(trimmed)) {
      const p = trimmed.populations[pi];
      for (let i = 0; i < p.size; i++) {
        const wanted = ref.tau_m[pi][i] / raw.populations[pi].tau_m_ms[i];
        if (wanted > 5 || wanted < 0) {
          // beyond the ideal chip's trim range (+-400 %): the code sits at the end of its range
          saturated++;
          expect(p.tau_m_ms[i] / raw.populations[pi].tau_m_ms[i]).toBeCloseTo(wanted > 1 ? 5 : 0, 5);
        } else expect(Math.abs(p.tau_m_ms[i] / ref.tau_m[pi][i] - 1)).toBeLessThan(1e-4 + 2 * lsb);
      }
      // tau_r was not touched
      expect(Array.from(p.tau_r_ms)).toEqual(Array.from(raw.populations[pi].tau_r_ms));
    }
    expect(saturated).toBe(0);
  });
});
