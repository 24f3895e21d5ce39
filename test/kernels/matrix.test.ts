/**
 * Synapse-array kernels against plain TypeScript loops in float32 (Math.fround after every
 * operation, rows in order). The kernels add per element in the same row order, and float64
 * followed by fround rounds + and * exactly as float32, so forward and update results must be
 * bit-identical; the transposed product sums in another order and is checked to a tolerance.
 * Odd sizes exercise the padding of rows to multiples of 4.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import type { KernelMemory } from '../../emulator/wasm.js';
import { pad4 } from '../../emulator/wasm.js';
import { ensureKernels, kernelMemory } from './kernels-build.js';

const f = Math.fround;
const SIZES: [number, number][] = [[7, 13], [13, 7], [301, 103], [4, 4], [1, 1], [9, 300]];

beforeAll(ensureKernels);

/** Random float32 values with a fraction of exact zeros. */
function values(rng: Rng, n: number, zeros = 0, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.uniform() < zeros ? 0 : scale * rng.normal()));
}

interface Setup {
  mem: KernelMemory;
  nPre: number;
  nPost: number;
  stride: number;
  W: number;
  s: number;
  sl: number;
  y: number;
  e: number;
  idx: number;
  w: Float32Array;
}

/** Weights [pre][stride] (padding zero), signals and vectors, all written into a fresh instance. */
function setup(nPre: number, nPost: number, rng: Rng, zeros: number): Setup {
  const mem = kernelMemory(nPre * pad4(nPost) * 4 + (1 << 16));
  const stride = pad4(nPost);
  const W = mem.alloc(nPre * stride * 4);
  const w = new Float32Array(nPre * stride);
  for (let k = 0; k < nPre; k++) w.set(values(rng, nPost), k * stride);
  mem.f32(W, w.length).set(w);
  const s = mem.allocF32(nPre);
  const sl = mem.allocF32(nPre);
  mem.f32(s, nPre).set(values(rng, nPre, zeros));
  mem.f32(sl, nPre).set(values(rng, nPre, zeros));
  const y = mem.allocF32(nPost);
  const e = mem.allocF32(nPost);
  mem.f32(y, nPost).set(values(rng, nPost));
  mem.f32(e, nPost).set(values(rng, nPost, 0, 0.1));
  const idx = mem.alloc(nPre * 4);
  return { mem, nPre, nPost, stride, W, s, sl, y, e, idx, w };
}

describe('gather_active', () => {
  it('lists the rows with a non-zero signal, in order', () => {
    const rng = new Rng(1, 'gather');
    for (const n of [1, 3, 4, 7, 13, 301]) {
      const S = setup(n, 4, rng, 0.5);
      const s = S.mem.f32(S.s, n);
      const sl = S.mem.f32(S.sl, n);
      const count = S.mem.k.gather_active(S.s, 0, n, S.idx);
      const expected = [...s.keys()].filter((k) => s[k] !== 0);
      expect(Array.from(S.mem.i32(S.idx, count))).toEqual(expected);
      const both = S.mem.k.gather_active(S.s, S.sl, n, S.idx);
      expect(Array.from(S.mem.i32(S.idx, both))).toEqual([...s.keys()].filter((k) => s[k] !== 0 || sl[k] !== 0));
    }
  });

  it('ignores values beyond n in the padding', () => {
    const rng = new Rng(2, 'gather');
    const S = setup(5, 4, rng, 0);
    S.mem.f32(S.s, 8).set([1, 0, 2, 0, 3, 9, 9, 9]);
    expect(Array.from(S.mem.i32(S.idx, S.mem.k.gather_active(S.s, 0, 5, S.idx)))).toEqual([0, 2, 4]);
  });
});

describe('mv_forward', () => {
  it.each(SIZES)('y += sum_k s[k] W[k,:] bit-identical to the float32 row loop (%i x %i)', (nPre, nPost) => {
    const rng = new Rng(nPre * 1000 + nPost, 'forward');
    for (const zeros of [0, 0.4, 1]) {
      const S = setup(nPre, nPost, rng, zeros);
      const s = Float32Array.from(S.mem.f32(S.s, nPre));
      const y = Float32Array.from(S.mem.f32(S.y, S.stride));
      for (let k = 0; k < nPre; k++) {
        if (s[k] === 0) continue;
        for (let i = 0; i < nPost; i++) y[i] = f(y[i] + f(s[k] * S.w[k * S.stride + i]));
      }
      S.mem.k.mv_forward(S.W, S.stride, nPre, S.s, S.y, S.idx);
      expect(S.mem.f32(S.y, S.stride)).toEqual(y);
      // padding columns stay zero
      for (let i = nPost; i < S.stride; i++) expect(S.mem.f32(S.y, S.stride)[i]).toBe(0);
    }
  });
});

describe('mv_forward_update', () => {
  it.each(SIZES)('updates each row, then accumulates it, bit-identical to the float32 loop (%i x %i)', (nPre, nPost) => {
    const rng = new Rng(nPre * 1000 + nPost, 'fused');
    const rate = f(0.37);
    for (const zeros of [0, 0.5]) {
      const S = setup(nPre, nPost, rng, zeros);
      const s = Float32Array.from(S.mem.f32(S.s, nPre));
      const sl = Float32Array.from(S.mem.f32(S.sl, nPre));
      const e = Float32Array.from(S.mem.f32(S.e, S.stride));
      const y = Float32Array.from(S.mem.f32(S.y, S.stride));
      const w = Float32Array.from(S.w);
      for (let k = 0; k < nPre; k++) {
        const c = f(rate * sl[k]);
        for (let i = 0; i < S.stride; i++) {
          if (sl[k] !== 0) w[k * S.stride + i] = f(w[k * S.stride + i] + f(c * e[i]));
          if (s[k] !== 0 || sl[k] !== 0) y[i] = f(y[i] + f(s[k] * w[k * S.stride + i]));
        }
      }
      S.mem.k.mv_forward_update(S.W, S.stride, nPre, S.s, S.y, S.sl, S.e, rate, S.idx);
      expect(S.mem.f32(S.W, nPre * S.stride)).toEqual(w);
      expect(S.mem.f32(S.y, S.stride)).toEqual(y);
    }
  });

  it('equals mv_update followed by mv_forward', () => {
    const rng = new Rng(5, 'fused-vs-split');
    const A = setup(301, 103, rng, 0.3);
    const B = setup(301, 103, new Rng(5, 'fused-vs-split'), 0.3);
    A.mem.k.mv_forward_update(A.W, A.stride, 301, A.s, A.y, A.sl, A.e, 0.01, A.idx);
    B.mem.k.mv_update(B.W, B.stride, 301, B.sl, B.e, 0.01);
    B.mem.k.mv_forward(B.W, B.stride, 301, B.s, B.y, B.idx);
    expect(A.mem.f32(A.W, 301 * A.stride)).toEqual(B.mem.f32(B.W, 301 * B.stride));
    expect(A.mem.f32(A.y, A.stride)).toEqual(B.mem.f32(B.y, B.stride));
  });
});

describe('mv_update', () => {
  it.each(SIZES)('W[k,:] += (rate sl[k]) e[:] bit-identical (%i x %i)', (nPre, nPost) => {
    const rng = new Rng(nPre * 1000 + nPost, 'update');
    const S = setup(nPre, nPost, rng, 0.3);
    const rate = f(-0.05);
    const sl = S.mem.f32(S.sl, nPre);
    const e = S.mem.f32(S.e, S.stride);
    const w = Float32Array.from(S.w);
    for (let k = 0; k < nPre; k++) {
      const c = f(rate * sl[k]);
      if (sl[k] !== 0) for (let i = 0; i < S.stride; i++) w[k * S.stride + i] = f(w[k * S.stride + i] + f(c * e[i]));
    }
    S.mem.k.mv_update(S.W, S.stride, nPre, S.sl, S.e, rate);
    expect(S.mem.f32(S.W, nPre * S.stride)).toEqual(w);
  });
});

describe('mv_dot_rows', () => {
  it.each(SIZES)('out[k] += gate[k] dot(W[k,:], d) within float32 rounding (%i x %i)', (nPre, nPost) => {
    const rng = new Rng(nPre * 1000 + nPost, 'dot');
    const S = setup(nPre, nPost, rng, 0.3);
    // gate = sl (with zeros), d = e, out = s
    const gate = Float32Array.from(S.mem.f32(S.sl, nPre));
    const d = Float32Array.from(S.mem.f32(S.e, S.stride));
    const out0 = Float32Array.from(S.mem.f32(S.s, nPre));
    S.mem.k.mv_dot_rows(S.W, S.stride, nPre, S.e, S.sl, S.s);
    const out = S.mem.f32(S.s, nPre);
    for (let k = 0; k < nPre; k++) {
      let acc = 0;
      let mag = 0;
      for (let i = 0; i < nPost; i++) {
        acc += S.w[k * S.stride + i] * d[i];
        mag += Math.abs(S.w[k * S.stride + i] * d[i]);
      }
      if (gate[k] === 0) {
        expect(out[k]).toBe(out0[k]);
        continue;
      }
      const ref = out0[k] + gate[k] * acc;
      const tol = 4e-7 * (Math.abs(out0[k]) + Math.abs(gate[k]) * mag) + 1e-30;
      expect(Math.abs(out[k] - ref)).toBeLessThanOrEqual(tol);
    }
  });
});

describe('vector helpers', () => {
  it('vec_mul_acc and vec_axpy match the float32 loops', () => {
    const rng = new Rng(9, 'vec');
    const S = setup(13, 13, rng, 0);
    const n = pad4(13);
    const out = Float32Array.from(S.mem.f32(S.y, n));
    const a = S.mem.f32(S.e, n);
    const b = S.mem.f32(S.s, n);
    const expected = out.map((o, i) => f(o + f(a[i] * b[i])));
    S.mem.k.vec_mul_acc(S.y, S.e, S.s, n / 4);
    expect(S.mem.f32(S.y, n)).toEqual(expected);
    const c = f(0.3);
    const expected2 = expected.map((o, i) => f(o + f(c * a[i])));
    S.mem.k.vec_axpy(S.y, c, S.e, n / 4);
    expect(S.mem.f32(S.y, n)).toEqual(expected2);
  });
});
