/**
 * Compiled lif images on the presets: Spikey's shared thresholds, 4-bit (Spikey) and 6-bit
 * sign-by-row (bss2) weights, per-circuit mismatch from the chip seed, the membrane ADC, noise,
 * and the mistakes a user can make, each a UserError naming the place.
 */
import { describe, expect, it } from 'vitest';
import { loadChip } from '../../chip/presets.js';
import { UserError } from '../../common/diagnostics.js';
import { compile } from '../../compiler/compile.js';
import { LifEngine } from '../../emulator/lif/engine.js';
import { RECEPTOR_E, RECEPTOR_I } from '../../emulator/lif/model.js';
import { MV_PER_UNIT, realiseLifModel } from '../../emulator/lif/realise.js';
import { recordRun } from '../../emulator/lif/record.js';

type Pops = Record<string, unknown>;
const lif = (extra: Record<string, number> = {}) => ({ model: 'lif', ...extra });

function describeNet(populations: Pops, projections: unknown[]): string {
  return JSON.stringify({ format: 'lechip/network@1', name: 't', populations, projections, learning: { rule: 'none' }, presentation: { dt: 0.1 } });
}

/** 64 Poisson inputs onto `size` lif neurons with weights uniform in [-0.02, 0.02] uS. */
function simple(size = 100, neuron: Record<string, number> = {}): string {
  return describeNet(
    { in: { size: 64, role: 'input', source: { kind: 'poisson', rate_hz: 20, seed: 1 } }, n: { size, neuron: lif(neuron) } },
    [{ from: 'in', to: 'n', init: { kind: 'uniform', scale: 0.02, seed: 2 }, plastic: false }],
  );
}

function userError(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('presets', () => {
  it('spikey: two populations on one block must share v_thresh; on different blocks they may differ', () => {
    const chip = loadChip('spikey');
    const two = (a: number, b: number, sizeB: number) =>
      describeNet(
        {
          in: { size: 4, role: 'input', source: { kind: 'poisson', rate_hz: 10 } },
          a: { size: 100, neuron: lif({ v_thresh: a }) },
          b: { size: sizeB, neuron: lif({ v_thresh: b }) },
        },
        [
          { from: 'in', to: 'a', weights: Array.from({ length: 100 }, () => [0.01, 0.01, 0.01, 0.01]) },
          { from: 'in', to: 'b', weights: Array.from({ length: sizeB }, () => [0.01, 0.01, 0.01, 0.01]) },
        ],
      );
    const err = userError(() => realiseLifModel(compile(two(-50, -55, 50), { chip }).image));
    expect(err.diagnostics[0].pointer).toBe('/populations/b/neuron/v_thresh');
    expect(err.message).toMatch(/shares one threshold per block.*-55 mV.*-50 mV/);
    expect(() => realiseLifModel(compile(two(-50, -50, 50), { chip }).image)).not.toThrow();
    // 100 + 150 columns exceed a block of 192: b goes to the second block, where its own threshold is fine.
    const m = realiseLifModel(compile(two(-50, -55, 150), { chip }).image, { mismatchScale: 0 });
    expect(m.params.v_thresh_mV[0]).toBe(-50);
    expect(m.params.v_thresh_mV[100]).toBe(-55);
  });

  it('spikey: the threshold mismatch is one draw per block, shared by its neurons', () => {
    const m = realiseLifModel(compile(simple(100), { chip: loadChip('spikey') }).image, { chipSeed: 3 });
    const th = new Set(m.params.v_thresh_mV);
    expect(th.size).toBe(1);
    expect([...th][0]).not.toBe(-50);
    const bss2 = realiseLifModel(compile(simple(100), { chip: loadChip('bss2') }).image, { chipSeed: 3 });
    expect(new Set(bss2.params.v_thresh_mV).size).toBe(100);
  });

  it('spikey 4-bit and bss2 6-bit weights: at most 15 and 63 magnitudes per block, sign by row into gE or gI', () => {
    for (const [name, levels] of [['spikey', 15], ['bss2', 63]] as const) {
      const { image } = compile(simple(100), { chip: loadChip(name) });
      const m = realiseLifModel(image, { mismatchScale: 0 });
      const block = image.manifest.blocks.find((b) => b.kind === 'forward')!;
      const mags = new Set<number>();
      for (const w of m.rows.weights) if (w !== 0) mags.add(Math.round(w / block.scale));
      expect(mags.size).toBeLessThanOrEqual(levels);
      expect(mags.size).toBeGreaterThan(levels - 3);
      for (const w of m.rows.weights) expect(Math.abs(w / block.scale - Math.round(w / block.scale))).toBeLessThan(1e-4);
      // The largest described weight magnitude survives exactly (scale = max |w| / qmax).
      expect(Math.max(...m.rows.weights)).toBeCloseTo(block.scale * levels, 6);
      expect(m.rows.receptor.includes(RECEPTOR_E) && m.rows.receptor.includes(RECEPTOR_I)).toBe(true);
      // With mismatch, each block's weights carry that block's gain.
      const mm = realiseLifModel(image, { chipSeed: 9 });
      const ratio = mm.rows.weights.find((w, i) => m.rows.weights[i] > 0)! / m.rows.weights.find((w) => w > 0)!;
      expect(ratio).not.toBe(1);
    }
  });

  it('mismatch: the same chip seed gives the same circuits, another seed others, with the preset spread; ideal has none', () => {
    const { image } = compile(simple(256), { chip: loadChip('bss2') });
    const a = realiseLifModel(image, { chipSeed: 1 });
    const b = realiseLifModel(image, { chipSeed: 1 });
    const c = realiseLifModel(image, { chipSeed: 2 });
    expect(Array.from(a.params.tau_m_ms)).toEqual(Array.from(b.params.tau_m_ms));
    expect(Array.from(a.params.tau_m_ms)).not.toEqual(Array.from(c.params.tau_m_ms));
    const sd = (x: ArrayLike<number>, f: (v: number) => number) => {
      const v = Array.from(x, f);
      const mean = v.reduce((s, y) => s + y, 0) / v.length;
      return Math.sqrt(v.reduce((s, y) => s + (y - mean) ** 2, 0) / (v.length - 1));
    };
    // bss2: tau 15 % log-normal; offsets 0.05 rate units = 1 mV.
    expect(sd(a.params.tau_m_ms, Math.log)).toBeGreaterThan(0.12);
    expect(sd(a.params.tau_m_ms, Math.log)).toBeLessThan(0.18);
    expect(sd(a.params.tau_syn_E_ms, Math.log)).toBeGreaterThan(0.12);
    expect(sd(a.params.v_rest_mV, (x) => x)).toBeGreaterThan(0.8 * 0.05 * MV_PER_UNIT);
    expect(sd(a.params.v_rest_mV, (x) => x)).toBeLessThan(1.2 * 0.05 * MV_PER_UNIT);
    expect(sd(a.params.v_thresh_mV, (x) => x)).toBeGreaterThan(0.8);
    const ideal = realiseLifModel(compile(simple(256), { chip: loadChip('ideal') }).image, { chipSeed: 1 });
    expect(new Set(ideal.params.tau_m_ms)).toEqual(new Set([20]));
    expect(ideal.noise_mV_per_sqrt_ms).toBe(0);
    expect(ideal.membrane_adc).toBeNull();
  });

  it('membranes are read through the 10-bit ADC on bss2 and exactly on ideal; times also in hardware us', () => {
    const text = simple(16);
    const bss2 = realiseLifModel(compile(text, { chip: loadChip('bss2') }).image, { chipSeed: 1 });
    const adc = bss2.membrane_adc!;
    expect(adc.bits).toBe(10);
    const lsb = (adc.hi_mV - adc.lo_mV) / 1023;
    const rec = recordRun(new LifEngine(bss2), 50, { membranes: ['n'], sampleEveryMs: 1 });
    const codes = rec.record.n.v!.flat().map((v) => (v - adc.lo_mV) / lsb);
    for (const c of codes) expect(Math.abs(c - Math.round(c))).toBeLessThan(1e-6);
    expect(new Set(codes.map(Math.round)).size).toBeGreaterThan(20);
    expect(rec.t_hw_us[9]).toBeCloseTo((rec.t_bio_ms[9] * 1000) / 1000, 9);
    const ideal = realiseLifModel(compile(text, { chip: loadChip('ideal') }).image);
    const eng = new LifEngine(ideal);
    const r2 = recordRun(eng, 10, { membranes: ['n'], sampleEveryMs: 10 });
    expect(r2.record.n.v![0]).toEqual(Array.from(eng.membranes()));
    expect(r2.t_hw_us[0]).toBeCloseTo(10 * 1000 / 10000, 12);
  });

  it("a lif population's bias shifts its leak potential (mV) per neuron", () => {
    const text = describeNet(
      { in: { size: 2, role: 'input', source: { kind: 'spike_times', times: [[1], [2]] } }, n: { size: 3, neuron: lif(), bias: [0, 2.5, -4] } },
      [{ from: 'in', to: 'n', weights: [[0.01, 0], [0, 0.01], [0.01, 0.01]] }],
    );
    const m = realiseLifModel(compile(text, { chip: loadChip('ideal') }).image);
    expect(Array.from(m.params.v_rest_mV)).toEqual([-65, -62.5, -69]);
  });
});

describe('mistakes', () => {
  it('an input population without a source, a rate population among lif ones, tau_syn beyond bss2', () => {
    const noSource = describeNet({ in: { size: 2, role: 'input' }, n: { size: 2, neuron: lif() } }, [{ from: 'in', to: 'n', weights: [[0.01, 0], [0, 0.01]] }]);
    const e1 = userError(() => realiseLifModel(compile(noSource, { chip: loadChip('ideal') }).image));
    expect(e1.diagnostics[0].pointer).toBe('/populations/in');
    expect(e1.message).toMatch(/needs a "source"/);
    const mixed = describeNet(
      { in: { size: 2, role: 'input', source: { kind: 'poisson', rate_hz: 5 } }, n: { size: 2, neuron: lif() }, r: { size: 2, neuron: { model: 'li', tau_m: 10 } } },
      [{ from: 'in', to: 'n', weights: [[0.01, 0], [0, 0.01]] }, { from: 'in', to: 'r', weights: [[1, 0], [0, 1]] }],
    );
    const e2 = userError(() => realiseLifModel(compile(mixed, { chip: loadChip('ideal') }).image));
    expect(e2.diagnostics[0].pointer).toBe('/populations/r/neuron/model');
    const slow = simple(4, { tau_syn_E: 200 });
    const e3 = userError(() => realiseLifModel(compile(slow, { chip: loadChip('bss2') }).image));
    expect(e3.diagnostics[0].pointer).toBe('/populations/n/neuron/tau_syn_E');
    expect(e3.message).toMatch(/200 ms \(200 us on bss2.*0\.1-100 us/);
    const times = describeNet(
      { in: { size: 2, role: 'input', source: { kind: 'spike_times', times: [[1]] } }, n: { size: 2, neuron: lif() } },
      [{ from: 'in', to: 'n', weights: [[0.01, 0], [0, 0.01]] }],
    );
    expect(userError(() => realiseLifModel(compile(times, { chip: loadChip('ideal') }).image)).diagnostics[0].pointer).toBe('/populations/in/source/times');
  });
});
