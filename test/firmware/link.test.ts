/**
 * The link pass (compiler/link.ts) on a placement small enough to check by hand: a bss2-like chip
 * with 16-row, 8-column cores (2 rows per signed signal), network in(3) → h(4) → out(2).
 * Placement (first fit): core 0 holds h's chunk: in→h forward rows 0-5, the out→h transpose
 * feedback rows 6-9, columns 0-3; out's chunk (8 rows) no longer fits core 0's 6 free rows, so core 1
 * holds h→out rows 0-7, columns 0-1.
 */
import { describe, expect, it } from 'vitest';
import { loadChip } from '../../chip/presets.js';
import type { ChipSpecT } from '../../chip/spec.js';
import { UserError } from '../../common/diagnostics.js';
import { compile } from '../../compiler/compile.js';
import { decodeTable, fixedPoint, NMAX, updateCap } from '../../compiler/link.js';
import { floatToBits } from '../../isa/lanes.js';

const tiny: ChipSpecT = { ...loadChip('bss2'), name: 'tiny', core: { rows: 16, neurons: 8 } };
const net = (feedback: 'transpose' | 'random' = 'transpose') => ({
  format: 'lechip/network@1',
  name: 'tiny',
  populations: {
    in: { size: 3, role: 'input' },
    h: { size: 4, neuron: { model: 'le', tau_m: 10, activation: 'tanh' } },
    out: { size: 2, role: 'output', neuron: { model: 'le', tau_m: 10, activation: 'linear' } },
  },
  projections: [
    { from: 'in', to: 'h', weights: [[0.5, -0.25, 0.1], [0, 0.3, -0.6], [0.2, 0.2, 0.2], [-0.1, 0.05, 0.4]], plastic: true },
    { from: 'h', to: 'out', weights: [[0.7, -0.7, 0.35, 0], [0.1, 0.2, -0.3, 0.4]], plastic: true, eta_scale: 0.5 },
  ],
  learning: { rule: 'le', beta: 0.1, eta: 0.5, feedback },
  presentation: { t_pres: 1, dt: 0.01 },
});

describe('link pass tables', () => {
  it('list the hand-placed blocks, biases and rates, and the image carries them byte for byte', () => {
    const { stages, image } = compile(JSON.stringify(net()), { chip: tiny, seed: 1, cores: 2 });
    const fw = stages.linked.firmware!;
    expect(fw.cores.map((c) => c.core)).toEqual([0, 1]);
    const [c0, c1] = fw.cores;
    const rate1 = 0.5 * 1 * 0.01;
    const rate2 = 0.5 * 0.5 * 0.01;
    expect(c0.mode).toBe(2); // fixed, sign per row
    expect(c0.adc_zero).toBe(85); // round((0 - (-1)) / 3 * 255)
    expect(c0.adc_lsb).toBeCloseTo(3 / 255, 15);
    expect(c0.blocks.map(({ role, row0, signals, rows_per_signal, col0, cols, input_rows, obs }) => ({ role, row0, signals, rows_per_signal, col0, cols, input_rows, obs }))).toEqual([
      { role: 'forward', row0: 0, signals: 3, rows_per_signal: 2, col0: 0, cols: 4, input_rows: true, obs: 3 },
      { role: 'mirror', row0: 6, signals: 2, rows_per_signal: 2, col0: 0, cols: 4, input_rows: false, obs: 0 },
    ]);
    expect(c1.blocks.map(({ role, row0, signals, col0, cols, input_rows }) => ({ role, row0, signals, col0, cols, input_rows }))).toEqual([
      { role: 'forward', row0: 0, signals: 4, col0: 0, cols: 2, input_rows: false },
    ]);
    expect(c0.blocks[0].rate).toBeCloseTo(rate1, 15);
    expect(c0.blocks[1].rate).toBeCloseTo(rate2, 15); // the mirror follows W of h→out
    expect(c1.blocks[0].rate).toBeCloseTo(rate2, 15);
    expect(c0.biases).toMatchObject([{ population: 'h', col0: 0, cols: 4, neuron0: 0 }]);
    expect(c1.biases).toMatchObject([{ population: 'out', col0: 0, cols: 2, neuron0: 0 }]);
    expect(c0.biases[0].rate).toBeCloseTo(rate1, 15);
    expect(c1.biases[0].rate).toBeCloseTo(rate2, 15);

    // Fixed point: codes per ADC-code product = rate x lsb^2 / block scale, K/2^(S+15) equal to it within K's rounding.
    const blocks = image.manifest.blocks;
    const scaleIn = blocks.find((b) => b.projection === 0 && b.kind === 'forward')!.scale;
    const scaleOut = blocks.find((b) => b.projection === 1 && b.kind === 'forward')!.scale;
    expect(scaleIn).toBeCloseTo(0.6 / 63, 15); // the largest |w| of the block is code 63
    expect(scaleOut).toBeCloseTo(0.7 / 63, 15);
    const lsb = 3 / 255;
    for (const [b, scale] of [[c0.blocks[0], scaleIn], [c0.blocks[1], scaleOut], [c1.blocks[0], scaleOut]] as const) {
      const c = (b.rate * lsb * lsb) / scale;
      expect(b.codes_per_product).toBeCloseTo(c, 15);
      expect(b.k!).toBeLessThanOrEqual(32767);
      expect(b.k!).toBeGreaterThan(16383); // the finest shift whose K fits 15 bits
      expect(Math.abs(b.k! / 2 ** (b.shift! + 15) - c) / c).toBeLessThan(1 / b.k!);
    }
    // Bias: DAC codes (±2 rate units over 2^9 steps) per ADC code difference, with a pre-shift that keeps 170 << p in 16 bits.
    const cb = (rate1 * lsb) / (2 / 512);
    expect(c0.biases[0].codes_per_unit).toBeCloseTo(cb, 15);
    expect(c0.biases[0].preshift).toBe(7); // 170 * 2^7 = 21760 <= 32767 < 170 * 2^8
    const b0 = c0.biases[0];
    expect(Math.abs(b0.k! / 2 ** (b0.shift! + 15 - b0.preshift!) - cb) / cb).toBeLessThan(1 / b0.k!);

    // The image holds the same tables in the firmware data of cores 0 and 1.
    const mf = image.manifest.firmware!;
    expect(mf.name).toBe('le');
    expect(mf.dt_ms).toBe(0.01);
    expect(mf.cores).toEqual([{ core: 0, data_section: 'firmware_data:0' }, { core: 1, data_section: 'firmware_data:1' }]);
    const symbols = JSON.parse(new TextDecoder().decode(image.sections.get('symbols') as Uint8Array));
    const d0 = decodeTable(image.sections.get('firmware_data:0') as Uint8Array, symbols.le_table, mf.data_base);
    expect(d0).toMatchObject({ version: 1, mode: 2, adc_zero: 85, scratch: c0.scratch_address });
    expect(d0.blocks).toEqual([
      { row0: 0, signals: 3, rps: 2, col0: 0, cols: 4, rate: c0.blocks[0].k, shift: c0.blocks[0].shift, obs: 3, flags: 1, last: 0, nmax: 100 },
      { row0: 6, signals: 2, rps: 2, col0: 0, cols: 4, rate: c0.blocks[1].k, shift: c0.blocks[1].shift, obs: 0, flags: 2, last: 0, nmax: 100 },
    ]);
    expect(d0.biases).toEqual([{ col0: 0, cols: 4, rate: b0.k, shift: b0.shift, last: 0, preshift: 7, nmax: 100 }]);
    expect(Array.from(image.sections.get('firmware_text') as Uint32Array)).toEqual(Array.from(fw.text));
  });

  it('cap each update at one presentation: n_max = T_pres / dt steps, for the T_pres and dt of the run, or as set', () => {
    expect(updateCap(1, 0.01)).toBe(100);
    expect(updateCap(0.2, 0.01)).toBe(20);
    expect(updateCap(0.005, 0.01)).toBe(1);
    expect(updateCap(1e6, 0.01)).toBe(NMAX);
    const caps = (opts: { tPresMs?: number; dtMs?: number; maxStepsPerUpdate?: number }) => {
      const fw = compile(JSON.stringify(net()), { chip: tiny, seed: 1, cores: 2, ...opts }).stages.linked.firmware!;
      return fw.cores.flatMap((c) => [...c.blocks, ...c.biases].map((r) => r.max_steps));
    };
    expect(new Set(caps({}))).toEqual(new Set([100]));
    expect(new Set(caps({ tPresMs: 3 }))).toEqual(new Set([300]));
    expect(new Set(caps({ dtMs: 0.05 }))).toEqual(new Set([20]));
    expect(new Set(caps({ maxStepsPerUpdate: 7 }))).toEqual(new Set([7]));
    expect(() => caps({ maxStepsPerUpdate: 0 })).toThrow(/maxSteps/);
  });

  it('on ideal: float32 bits of the rates, one row per signal, and random feedback gets no mirror', () => {
    const { stages } = compile(JSON.stringify(net('random')), { chip: loadChip('ideal'), seed: 1 });
    const fw = stages.linked.firmware!;
    expect(fw.cores).toHaveLength(1);
    const t = fw.cores[0];
    expect(t.mode).toBe(0);
    expect(t.blocks.map((b) => [b.role, b.rows_per_signal, b.rate_bits])).toEqual([
      ['forward', 1, floatToBits(0.5 * 1 * 0.01)],
      ['forward', 1, floatToBits(0.5 * 0.5 * 0.01)],
    ]);
    expect(t.biases.map((b) => [b.population, b.rate_bits])).toEqual([['h', floatToBits(0.005)], ['out', floatToBits(0.0025)]]);
  });

  it('nothing learns without plastic projections: no firmware in the image', () => {
    const n = net();
    for (const p of n.projections) p.plastic = false;
    const { image } = compile(JSON.stringify(n), { chip: tiny, seed: 1, cores: 2 });
    expect(image.manifest.firmware).toBeUndefined();
    expect([...image.sections.keys()].some((k) => k.startsWith('firmware'))).toBe(false);
  });

  it('a table that does not fit the processor memory is a user error naming the core and the sizes', () => {
    const small: ChipSpecT = { ...tiny, processor: { ...tiny.processor, memory_kib: 1 } };
    expect(() => compile(JSON.stringify(net()), { chip: small, seed: 1, cores: 2 })).toThrow(UserError);
    expect(() => compile(JSON.stringify(net()), { chip: small, seed: 1, cores: 2 })).toThrow(/core 0: the plasticity firmware needs \d+ bytes of processor memory .* the processor has 1024/);
  });

  it('fixedPoint picks the finest shift whose multiplier fits, and flags saturation and vanishing rates', () => {
    // 0.25 * 2^(1 + 15) = 16384 fits 15 bits; S = 2 would need K = 32768.
    expect(fixedPoint(0.25)).toEqual({ k: 16384, shift: 1, saturated: false, vanishing: false });
    expect(fixedPoint(2)).toMatchObject({ k: 32767, shift: 0, saturated: true });
    expect(fixedPoint(1e-12)).toMatchObject({ k: 0, shift: 15, vanishing: true });
    const f = fixedPoint(3.7e-5);
    expect(f.k / 2 ** (f.shift + 15)).toBeCloseTo(3.7e-5, 9);
  });
});
