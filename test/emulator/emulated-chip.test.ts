/**
 * The emulated chip (emulator/emulated-chip.ts) on images compiled by the compiler: training the
 * golden 4-6-5-3 network through present() reproduces the golden weights; run() with schedules
 * equals the reference stepped by hand with the same inputs; recordings carry biological and
 * hardware times; weights written to a fixed-weight chip come back quantised; user mistakes are
 * UserErrors naming the rule.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeImage } from '../../chip/image.js';
import { loadChip } from '../../chip/presets.js';
import { UserError } from '../../common/diagnostics.js';
import { compile } from '../../compiler/compile.js';
import type { Chip, ChipConfig } from '../../emulator/chip-interface.js';
import { createEmulatedChip, stepsIn } from '../../emulator/emulated-chip.js';
import { realiseModel } from '../../emulator/instance.js';
import { ReferenceModel } from '../../emulator/reference.js';
import { ensureKernels } from '../kernels/kernels-build.js';
import { loadFixture, type LeSmallFixture } from './engine-models.js';

beforeAll(ensureKernels);

/** The golden network as a description (explicit weights and biases). */
function goldenDescription(f: LeSmallFixture): Record<string, unknown> {
  const names = ['in', 'h1', 'h2', 'out'];
  const populations: Record<string, unknown> = { in: { size: f.sizes[0], role: 'input' } };
  for (let l = 1; l < f.sizes.length; l++) {
    populations[names[l]] = {
      size: f.sizes[l],
      ...(l === f.sizes.length - 1 ? { role: 'output' } : {}),
      neuron: { model: 'le', tau_m: f.tau_m[l - 1], tau_r: f.tau_r[l - 1], activation: f.activation[l - 1] },
      bias: f.initial.b[l - 1],
    };
  }
  return {
    format: 'lechip/network@1',
    name: 'le-small',
    populations,
    projections: f.initial.W.map((W, l) => ({ from: names[l], to: names[l + 1], weights: W, plastic: true, eta_scale: f.eta_scale[l] })),
    learning: { rule: 'le', beta: f.beta, eta: f.eta, feedback: 'transpose' },
    presentation: { t_pres: f.t_pres, dt: f.dt },
  };
}

function imageBytes(description: Record<string, unknown>, chip = 'ideal'): Uint8Array {
  return encodeImage(compile(JSON.stringify(description), { chip: loadChip(chip), seed: 1 }).image);
}

async function chipWith(bytes: Uint8Array, config: ChipConfig = {}): Promise<Chip> {
  const chip = await createEmulatedChip();
  await chip.load(bytes);
  await chip.configure(config);
  return chip;
}

async function userError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).message;
  }
  throw new Error('expected a UserError');
}

/** A small network with a hidden layer, for schedule and error tests. */
function smallDescription(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: 'lechip/network@1',
    name: 'small',
    populations: {
      in: { size: 3, role: 'input' },
      h: { size: 5, neuron: { model: 'le', tau_m: 5, activation: 'tanh' }, bias: { kind: 'normal', scale: 0.1, seed: 4 } },
      out: { size: 2, role: 'output', neuron: { model: 'li', tau_m: 3, activation: 'sigmoid' } },
    },
    projections: [
      { from: 'in', to: 'h', init: { kind: 'normal', scale: 0.8, seed: 1 } },
      { from: 'h', to: 'out', init: { kind: 'normal', scale: 0.8, seed: 2 } },
    ],
    learning: { rule: 'le', beta: 0.1, eta: 0.5, feedback: 'transpose' },
    ...extra,
  };
}

describe('emulated chip on the golden network (ideal chip)', () => {
  it('present() with learning reproduces the golden readouts and final weights', async () => {
    const f = loadFixture('le-small');
    const chip = await chipWith(imageBytes(goldenDescription(f)));
    const out = await chip.present({
      inputs: Float32Array.from(f.samples.flatMap((s) => s.x)),
      inputSize: 4,
      targets: Float32Array.from(f.samples.flatMap((s) => s.y)),
      count: 3,
      tPresMs: 1,
      learn: true,
      readout: 'out',
    });
    [100, 200, 300].forEach((step, n) => {
      const g = f.trace.find((t) => t.step === step)!;
      g.r[2].forEach((v, i) => expect(Math.abs(out[n * 3 + i] - v)).toBeLessThanOrEqual(1e-4));
    });
    for (let l = 0; l < 3; l++) {
      const w = await chip.readWeights(l);
      f.final.W[l].flat().forEach((v, i) => expect(Math.abs(w[i] - v)).toBeLessThanOrEqual(1e-4));
    }
    const p = await chip.readParameters('out');
    f.final.b[2].forEach((v, i) => expect(Math.abs(p.bias[i] - v)).toBeLessThanOrEqual(1e-4));
    expect(chip.time().t_bio_ms).toBeCloseTo(3, 9);
  });
});

describe('run()', () => {
  it('follows the schedules and records r and u at the end of each interval, as the reference stepped by hand', async () => {
    const bytes = imageBytes(smallDescription());
    const chip = await chipWith(bytes, { chipSeed: 3 });
    const x0 = [0.2, 0.9, 0];
    const x1 = [1, 0, 0.5];
    const y = [0.8, 0.1];
    await chip.writeInputs({ in: [{ t: 0, value: x0 }, { t: 0.35, value: x1 }] }, { out: [{ t: 0.2, value: y }] });
    const rec = await chip.run({ durationMs: 0.6, record: ['out', 'h', 'in'], sampleEveryMs: 0.1, learn: true });

    const { decodeImage } = await import('../../chip/image.js');
    const model = realiseModel(decodeImage(bytes), { chipSeed: 3 });
    const R = new ReferenceModel(model);
    const want: { t: number; out: Float64Array; h: Float64Array; u: Float64Array }[] = [];
    for (let step = 1; step <= 60; step++) {
      const t = (step - 1) * 0.01;
      R.set(0, t < 0.35 - 1e-9 ? x0 : x1);
      R.set(2, t < 0.2 - 1e-9 ? null : y);
      R.step(true);
      if (step % 10 === 0) want.push({ t: step * 0.01, out: Float64Array.from(R.s.r[2]), h: Float64Array.from(R.s.r[1]), u: Float64Array.from(R.s.u[2]) });
    }
    expect(rec.steps).toBe(60);
    expect(rec.t_bio_ms).toHaveLength(6);
    rec.t_bio_ms.forEach((t, n) => {
      expect(t).toBeCloseTo(want[n].t, 9);
      expect(rec.t_hw_us[n]).toBeCloseTo((want[n].t * 1000) / model.speedup, 9);
      want[n].out.forEach((v, i) => expect(Math.abs(rec.record.out.r[n][i] - v)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(v))));
      want[n].u.forEach((v, i) => expect(Math.abs(rec.record.out.u[n][i] - v)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(v))));
      want[n].h.forEach((v, i) => expect(Math.abs(rec.record.h.r[n][i] - v)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(v))));
    });
    // input populations record their input
    expect(rec.record.in.r[2]).toEqual(x0.map(Math.fround));
    expect(rec.record.in.r[3]).toEqual(x1.map(Math.fround));
    expect(rec.hw_us).toBeCloseTo((0.6 * 1000) / model.speedup, 9);
    // learning changed the weights as the reference's did
    const w = await chip.readWeights(1);
    const wRef = R.W[1];
    for (let k = 0; k < 5; k++) for (let i = 0; i < 2; i++) expect(Math.abs(w[i * 5 + k] - wRef[k * 2 + i])).toBeLessThanOrEqual(1e-5);
  });

  it('continues in time across runs; reset() restarts time, state and schedules', async () => {
    const chip = await chipWith(imageBytes(smallDescription()));
    await chip.writeInputs({ in: [{ t: 0, value: [1, 0.5, 0] }, { t: 0.5, value: [0, 0, 1] }] });
    const a = await chip.run({ durationMs: 0.3, record: ['out'] });
    const b = await chip.run({ durationMs: 0.7, record: ['out'], sampleEveryMs: 0.05 });
    expect(a.t_bio_ms).toHaveLength(30);
    expect(b.t_bio_ms[0]).toBeCloseTo(0.35, 9);
    expect(b.t_bio_ms[b.t_bio_ms.length - 1]).toBeCloseTo(1.0, 9);
    expect(chip.time().t_bio_ms).toBeCloseTo(1.0, 9);
    await chip.reset();
    expect(chip.time()).toEqual({ t_bio_ms: 0, t_hw_us: 0 });
    const c = await chip.run({ durationMs: 1.0, record: ['out'], sampleEveryMs: 0.05 });
    // the same schedule from t = 0 on an ideal chip (no noise) gives the same samples
    expect(c.record.out.r.slice(6)).toEqual(b.record.out.r);
    // a schedule written now counts from now: at t = 1 ms, the entry at 0.2 ms starts with the step at 1.2 ms
    await chip.writeInputs({ in: [{ t: 0, value: [0, 0, 0.25] }, { t: 0.2, value: [0.75, 0, 0] }] });
    const d = await chip.run({ durationMs: 0.3, record: ['in'] });
    d.t_bio_ms.forEach((t, n) => expect(d.record.in.r[n]).toEqual(t < 1.2 + 1e-9 ? [0, 0, 0.25] : [0.75, 0, 0]));
  });

  it('the dt override changes the number of steps; sampling must be whole steps', async () => {
    const chip = await chipWith(imageBytes(smallDescription()), { dtMs: 0.02 });
    await chip.writeInputs({ in: [{ t: 0, value: [1, 1, 1] }] });
    const rec = await chip.run({ durationMs: 1, record: ['out'], sampleEveryMs: 0.1 });
    expect(rec.steps).toBe(50);
    expect(rec.t_bio_ms).toHaveLength(10);
    expect(await userError(chip.run({ durationMs: 1, sampleEveryMs: 0.03 }))).toMatch(/whole number of steps/);
    expect(stepsIn(0.3, 0.1)).toBe(3);
    expect(stepsIn(1, 0.01)).toBe(100);
  });

  it('a seeded noisy chip repeats with the same seeds and differs with another', async () => {
    const bytes = imageBytes(smallDescription(), 'bss2');
    const once = async (config: ChipConfig) => {
      const chip = await chipWith(bytes, config);
      await chip.writeInputs({ in: [{ t: 0, value: [0.5, 0.5, 0.5] }] });
      return (await chip.run({ durationMs: 0.5, record: ['h'] })).record.h.u;
    };
    const a = await once({ chipSeed: 1, seed: 1 });
    expect(await once({ chipSeed: 1, seed: 1 })).toEqual(a);
    expect(await once({ chipSeed: 1, seed: 2 })).not.toEqual(a);
    expect(await once({ chipSeed: 2, seed: 1 })).not.toEqual(a);
  });
});

describe('weights and parameters', () => {
  it('on the ideal chip weights are written and read back as float32', async () => {
    const chip = await chipWith(imageBytes(smallDescription()));
    const w = Float32Array.from({ length: 15 }, (_, i) => Math.sin(i) * 0.7);
    await chip.writeWeights(0, w);
    expect(await chip.readWeights(0)).toEqual(w);
  });

  it('on a fixed-weight chip writes are quantised with the block scales; reads give the stored codes x scale, gains hidden', async () => {
    const bytes = imageBytes(smallDescription(), 'bss2');
    const { decodeImage } = await import('../../chip/image.js');
    const m = decodeImage(bytes).manifest;
    const block = m.blocks.find((b) => b.projection === 0 && b.kind === 'forward')!;
    const qmax = 2 ** m.chip.weights.bits - 1;
    const w = Float32Array.from({ length: 15 }, (_, i) => (i - 7) * 0.013);
    // without mismatch the stored weight is code x scale, code = round(w / scale) clamped
    const ideal = await chipWith(bytes, { mismatchScale: 0 });
    await ideal.writeWeights(0, w);
    const got = await ideal.readWeights(0);
    w.forEach((v, i) => {
      const code = Math.max(-qmax, Math.min(qmax, Math.sign(v) * Math.round(Math.abs(v) / block.scale)));
      expect(got[i]).toBeCloseTo(code * block.scale, 6);
    });
    await ideal.writeWeights(0, got);
    expect(await ideal.readWeights(0)).toEqual(got);
    // with mismatch the array stores the same codes (as hardware would read them back); the block
    // gain acts on the currents only
    const real = await chipWith(bytes, { chipSeed: 5 });
    await real.writeWeights(0, w);
    const g = await real.readWeights(0);
    g.forEach((v, i) => expect(v).toBeCloseTo(got[i], 6));
  });

  it('reads and writes circuit parameters in hardware us', async () => {
    const bytes = imageBytes(smallDescription(), 'bss2');
    const chip = await chipWith(bytes, { mismatchScale: 0 });
    const p = await chip.readParameters('h');
    // tau_m 5 ms at speedup 1000 is 5 us of hardware time
    p.tau_m_us.forEach((v) => expect(v).toBeCloseTo(5, 4));
    await chip.writeParameters('h', { tau_m_us: new Float32Array(5).fill(2), gain: new Float32Array(5).fill(1.5) });
    const q = await chip.readParameters('h');
    q.tau_m_us.forEach((v) => expect(v).toBeCloseTo(2, 5));
    expect(Array.from(q.gain)).toEqual([1.5, 1.5, 1.5, 1.5, 1.5]);
    expect(await userError(chip.writeParameters('h', { tau_r_us: Float32Array.from([1, 1, -1, 1, 1]) }))).toMatch(/tau_r_us\[2\].*greater than 0/);
    expect(await userError(chip.readParameters('in'))).toMatch(/input population/);
  });
});

describe('user mistakes', () => {
  it('are UserErrors naming the place and the rule', async () => {
    const chip = await chipWith(imageBytes(smallDescription()));
    expect(await userError(chip.writeInputs({ nope: [{ t: 0, value: [1] }] }))).toMatch(/\/inputs\/nope.*unknown population 'nope'/);
    expect(await userError(chip.writeInputs({ in: [{ t: 0, value: [1, 2] }] }))).toMatch(/\/inputs\/in\/0\/value.*3 neurons/);
    expect(await userError(chip.writeInputs({ in: [{ t: 1, value: [1, 2, 3] }, { t: 1, value: [1, 2, 3] }] }))).toMatch(/\/inputs\/in\/1\/t.*increase/);
    expect(await userError(chip.writeInputs({ h: [{ t: 0, value: [1, 2, 3, 4, 5] }] }))).toMatch(/not an input population/);
    expect(await userError(chip.writeInputs({}, { h: [{ t: 0, value: [1, 2, 3, 4, 5] }] }))).toMatch(/not an output population/);
    expect(await userError(chip.run({ durationMs: 0 }))).toMatch(/duration/);
    expect(await userError(chip.run({ durationMs: 1, record: ['x'] }))).toMatch(/unknown population 'x'/);
    expect(await userError(chip.readWeights(7))).toMatch(/no projection 7/);
    expect(await userError(chip.writeWeights(0, [1, 2]))).toMatch(/5 x 3 weights/);
    expect(
      await userError(chip.present({ inputs: new Float32Array(8), inputSize: 4, count: 2, tPresMs: 1, learn: false, readout: 'out' })),
    ).toMatch(/take 3/);
    expect(await userError(chip.configure({ dtMs: -1 }))).toMatch(/dt/);
  });

  it('a network with lif neurons is refused at configure', async () => {
    const d = smallDescription();
    (d.populations as Record<string, unknown>).h = { size: 5, neuron: { model: 'lif' } };
    const chip = await createEmulatedChip();
    await chip.load(imageBytes(d));
    expect(await userError(chip.configure({}))).toMatch(/spiking neurons are not supported by the rate emulator yet/);
  });

  it('nothing runs before an image is loaded', async () => {
    const chip = await createEmulatedChip();
    expect(await userError(chip.run({ durationMs: 1 }))).toMatch(/no image loaded/);
  });
});
