import { describe, expect, it } from 'vitest';
import type { ChipSpecT } from '../../chip/spec.js';
import type { Quantised } from '../../compiler/ir.js';
import { lower } from '../../compiler/lower.js';
import { place } from '../../compiler/place.js';
import { qmaxOf, quantise } from '../../compiler/quantise.js';
import { validateNetworkObject } from '../../compiler/validate.js';
import { chipLike, desc, diagnosticsOf, le } from './helpers.js';

const fixedChip = (sign: 'per_row' | 'per_synapse', bits: number, core = { rows: 64, neurons: 64 }) =>
  chipLike('bss2', { core, weights: { kind: 'fixed', bits, sign } });

/** in(pre) → o(post) with given [post][pre] weights, no learning. */
function single(weights: number[][], chip: ChipSpecT, extra: Record<string, unknown> = {}): Quantised {
  const d = desc(
    { in: { size: weights[0].length }, o: { size: weights.length, role: 'output', neuron: le() } },
    [{ from: 'in', to: 'o', weights }],
    { learning: { rule: 'none' }, ...extra },
  );
  return quantise(place(lower(validateNetworkObject(d), chip), 'auto'));
}

// Exact binary fractions, so every ratio below is exact.
const W = [
  [0.375, -0.125],
  [0.0625, -0.75],
];

describe('quantise', () => {
  it('qmax: 2^bits - 1 magnitude with sign per row, 2^(bits-1) - 1 with sign per synapse', () => {
    expect(qmaxOf(fixedChip('per_row', 6))).toBe(63);
    expect(qmaxOf(fixedChip('per_row', 4))).toBe(15);
    expect(qmaxOf(fixedChip('per_synapse', 4))).toBe(7);
    expect(qmaxOf(fixedChip('per_synapse', 8))).toBe(127);
  });

  it('hand example, 2 magnitude bits with sign per row: scale 0.75/3, codes [signals][cols], half away from zero', () => {
    const q = single(W, fixedChip('per_row', 2));
    expect(q.blocks).toHaveLength(1);
    const b = q.blocks[0];
    expect(b.scale).toBe(0.25);
    // [s][c] is from in[s] to o[c]: w[c][s]/0.25 = 1.5 → 2, 0.25 → 0; -0.5 → -1, -3 → -3.
    expect(b.codes).toBeInstanceOf(Int8Array);
    expect(Array.from(b.codes!)).toEqual([2, 0, -1, -3]);
    // Stored weights 0.5, 0, -0.25, -0.75 against 0.375, 0.0625, -0.125, -0.75:
    // errors -0.125, 0.0625, 0.125, 0 → rms sqrt(0.03515625/4) = 0.09375.
    const r = q.reports[0];
    expect(r.rms_error).toBeCloseTo(0.09375, 15);
    expect(r.relative_rms_error).toBeCloseTo(0.09375 / Math.sqrt((0.375 ** 2 + 0.125 ** 2 + 0.0625 ** 2 + 0.75 ** 2) / 4), 15);
    expect(r.max_abs_error).toBe(0.125);
    expect(r.zeroed_fraction).toBe(0.25);
    expect([r.scale_min, r.scale_max]).toEqual([0.25, 0.25]);
    expect(q.warnings).toEqual([]);
  });

  it('the same weights with 2 bits including the sign per synapse: qmax 1, scale 0.75', () => {
    const q = single(W, fixedChip('per_synapse', 2));
    expect(q.blocks[0].scale).toBe(0.75);
    // 0.5 → 1 (half away from zero), 0.0833 → 0, -0.1667 → 0, -1 → -1.
    expect(Array.from(q.blocks[0].codes!)).toEqual([1, 0, 0, -1]);
    expect(q.reports[0].zeroed_fraction).toBe(0.5);
    expect(q.warnings).toEqual([]); // exactly half is not more than half
  });

  it('float chips keep float32 weights in the array layout, scale 1', () => {
    const w = [
      [0.1, 0.2, 0.3],
      [-0.4, 0.5, 1e-50],
    ];
    const q = single(w, chipLike('ideal', {}));
    const b = q.blocks[0];
    expect(b.scale).toBe(1);
    expect(b.codes).toBeInstanceOf(Float32Array);
    expect(Array.from(b.codes!)).toEqual([0.1, -0.4, 0.2, 0.5, 0.3, 1e-50].map(Math.fround));
    const r = q.reports[0];
    expect(r.max_abs_error).toBe(Math.max(...w.flat().map((x) => Math.abs(x - Math.fround(x)))));
    expect(r.max_abs_error).toBeLessThanOrEqual(0.5 * 2 ** -24); // half an ulp of float32 below 1
    expect(r.zeroed_fraction).toBeCloseTo(1 / 6, 15); // 1e-50 underflows float32
  });

  it('one scale per block: a fan-in split over two blocks gets two scales', () => {
    // Cores of 2 rows: in(4) → o(1) splits into signals [0,1] and [2,3].
    const q = single([[0.3, 0.6, 0.1, 0.2]], fixedChip('per_synapse', 3, { rows: 2, neurons: 4 }));
    expect(q.blocks.map((b) => [b.sig0, b.signals])).toEqual([
      [0, 2],
      [2, 2],
    ]);
    expect(q.blocks[0].scale).toBeCloseTo(0.2, 15);
    expect(q.blocks[1].scale).toBeCloseTo(0.2 / 3, 15);
    expect(Array.from(q.blocks[0].codes!)).toEqual([2, 3]); // 1.5 → 2, 3
    expect(Array.from(q.blocks[1].codes!)).toEqual([2, 3]); // 0.1/(0.2/3) = 1.5 → 2, 3
    expect(q.reports[0].scale_min).toBeCloseTo(0.2 / 3, 15);
    expect(q.reports[0].scale_max).toBeCloseTo(0.2, 15);
  });

  it('an all-zero block has scale 1 and zero codes; nothing counts as zeroed', () => {
    const q = single([[0, 0]], fixedChip('per_row', 4));
    expect(q.blocks[0].scale).toBe(1);
    expect(Array.from(q.blocks[0].codes!)).toEqual([0, 0]);
    expect(q.reports[0]).toEqual({ rms_error: 0, relative_rms_error: 0, max_abs_error: 0, zeroed_fraction: 0, scale_min: 1, scale_max: 1 });
  });

  it('warns when quantisation zeroes most of a projection', () => {
    // 4 magnitude bits: scale 1/15; only 1 → 15 and 0.5 → 7.5 → 8 survive, 6 of 8 weights become 0.
    const q = single(
      [
        [1, 0.01, 0.02, -0.03],
        [0.01, -0.02, 0.03, 0.5],
      ],
      fixedChip('per_row', 4),
    );
    expect(q.reports[0].zeroed_fraction).toBe(0.75);
    expect(q.warnings).toEqual([
      "quantisation to 4 bits zeroes 75 % of projection in→o's weights; consider a wider weight init or a chip with more bits",
    ]);
  });

  it('transpose feedback gets no codes; random feedback is quantised like forward weights', () => {
    const d = (feedback: string) =>
      desc({ in: { size: 2 }, h: { size: 3, neuron: le() }, o: { size: 2, role: 'output', neuron: le() } }, [
        { from: 'in', to: 'h' },
        { from: 'h', to: 'o' },
      ], { learning: { rule: 'le', feedback } });
    const chip = fixedChip('per_row', 6);
    const t = quantise(place(lower(validateNetworkObject(d('transpose')), chip), 'auto'));
    const tb = t.blocks.find((b) => b.kind === 'feedback')!;
    expect(tb.codes).toBeUndefined();
    const r = quantise(place(lower(validateNetworkObject(d('random')), chip), 'auto'));
    const rb = r.blocks.find((b) => b.kind === 'feedback')!;
    const B = r.placed.lowered.matrices[rb.matrix].weights!; // [pre=h][post=o]
    const maxAbs = Math.max(...Array.from(B, Math.abs));
    expect(rb.scale).toBeCloseTo(maxAbs / 63, 15);
    // Element [s][c]: from o's error s to h's neuron c = B[c][s].
    for (let s = 0; s < 2; s++) {
      for (let c = 0; c < 3; c++) expect(rb.codes![s * 3 + c]).toBe(Math.round(B[c * 2 + s] / rb.scale));
    }
    // Reports are per forward projection only.
    expect(r.reports).toHaveLength(2);
  });

  it('refuses weights wider than an int8 code', () => {
    const d = diagnosticsOf(() => single(W, fixedChip('per_row', 8)));
    expect(d[0].pointer).toBe('/weights/bits');
    expect(d[0].message).toContain('int8');
  });

  it('stored weights reconstruct the matrix within half a step (random 6-bit check)', () => {
    const w = Array.from({ length: 7 }, (_, i) => Array.from({ length: 9 }, (_, j) => Math.sin(i * 9 + j + 1) * 0.2));
    const q = single(w, fixedChip('per_row', 6, { rows: 8, neurons: 3 }));
    let covered = 0;
    for (const b of q.blocks) {
      for (let s = 0; s < b.signals; s++) {
        for (let c = 0; c < b.cols; c++) {
          const orig = w[b.neuron0 + c][b.sig0 + s];
          expect(Math.abs(b.codes![s * b.cols + c] * b.scale - orig)).toBeLessThanOrEqual(b.scale / 2 + 1e-15);
          covered++;
        }
      }
    }
    expect(covered).toBe(63);
  });
});
