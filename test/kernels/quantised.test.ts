/**
 * Kernels on quantised weights (kernels/quantised.ts) against plain TypeScript loops: the realised
 * weight of code c under unit u is fround(c x u), the forward product adds s[k] x w per element in
 * row order, and the transposed product sums as matrix.ts's mv_dot_rows (two accumulators over
 * alternate groups of four columns). Both must be bit-identical to the float kernels run on the
 * realised weights, which is what lets the engine switch between them. Sizes cover the 16-column
 * blocks, the four-column tail, rows of one and of several row blocks (units shared or not).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import type { KernelMemory } from '../../emulator/wasm.js';
import { pad4 } from '../../emulator/wasm.js';
import { ensureKernels, kernelMemory } from './kernels-build.js';

const f = Math.fround;
const SIZES: [number, number][] = [[7, 13], [13, 7], [301, 103], [4, 4], [1, 1], [9, 300], [64, 48], [33, 20]];

beforeAll(ensureKernels);

interface Setup {
  mem: KernelMemory;
  nPre: number;
  width: number;
  cstride: number;
  /** Kernel memory: codes, row unit pointers, float weights (realised), signals, vectors. */
  C: number;
  U: number;
  W: number;
  s: number;
  gate: number;
  y: number;
  d: number;
  idx: number;
  /** The realised weights [pre][width] in TypeScript. */
  w: Float32Array;
}

/**
 * Random codes in -63..63 (some zero), `blocks` row blocks with their own unit vectors (positive,
 * like block scale x gain), the float weights realised from them, and signals with zeros.
 */
function setup(nPre: number, nPost: number, rng: Rng, blocks: number, zeros = 0.3): Setup {
  const width = pad4(nPost);
  const cstride = (nPost + 15) & ~15;
  const mem = kernelMemory(nPre * (cstride + width * 8) + (1 << 16));
  const C = mem.alloc(nPre * cstride);
  const codes = new Int8Array(mem.memory.buffer, C, nPre * cstride);
  const unitVecs = Array.from({ length: blocks }, () => {
    const p = mem.allocF32(width);
    const u = mem.f32(p, width);
    for (let j = 0; j < nPost; j++) u[j] = 0.01 * (1 + 0.3 * rng.normal());
    return p;
  });
  const U = mem.alloc(nPre * 4);
  const rowsPerBlock = Math.ceil(nPre / blocks);
  const unitOf = (k: number) => unitVecs[Math.min(blocks - 1, Math.floor(k / rowsPerBlock))];
  mem.u32(U, nPre).set(Array.from({ length: nPre }, (_, k) => unitOf(k)));
  const W = mem.allocF32(nPre * width);
  const w = new Float32Array(nPre * width);
  for (let k = 0; k < nPre; k++) {
    const u = mem.f32(unitOf(k), width);
    for (let j = 0; j < nPost; j++) {
      const c = rng.uniform() < 0.2 ? 0 : Math.round((rng.uniform() * 2 - 1) * 63);
      codes[k * cstride + j] = c;
      w[k * width + j] = f(c * u[j]);
    }
  }
  mem.f32(W, w.length).set(w);
  const vec = (n: number, z: number) => Float32Array.from({ length: n }, () => (rng.uniform() < z ? 0 : rng.normal()));
  const s = mem.allocF32(nPre);
  mem.f32(s, nPre).set(vec(nPre, zeros));
  const gate = mem.allocF32(nPre);
  mem.f32(gate, nPre).set(vec(nPre, zeros));
  const y = mem.allocF32(width);
  mem.f32(y, nPost).set(vec(nPost, 0));
  const d = mem.allocF32(width);
  mem.f32(d, nPost).set(vec(nPost, 0));
  const idx = mem.alloc(nPre * 4);
  return { mem, nPre, width, cstride, C, U, W, s, gate, y, d, idx, w };
}

describe('mv_forward_q8', () => {
  for (const [nPre, nPost] of SIZES) {
    for (const blocks of [1, 3]) {
      it(`adds s[k] x fround(code x unit) in row order (${nPre} x ${nPost}, ${blocks} row blocks)`, () => {
        const S = setup(nPre, nPost, new Rng(nPre * 1000 + nPost, `q8 forward ${blocks}`), blocks);
        const s = S.mem.f32(S.s, nPre).slice();
        const y = S.mem.f32(S.y, S.width).slice();
        for (let k = 0; k < nPre; k++) {
          if (s[k] === 0) continue;
          for (let j = 0; j < S.width; j++) y[j] = f(y[j] + f(s[k] * S.w[k * S.width + j]));
        }
        // The float kernel on the realised weights, on a copy of the accumulator.
        const yFloat = S.mem.allocF32(S.width);
        S.mem.f32(yFloat, S.width).set(S.mem.f32(S.y, S.width));
        S.mem.k.mv_forward(S.W, S.width, nPre, S.s, yFloat, S.idx);
        S.mem.k.mv_forward_q8(S.C, S.cstride, S.U, 0, S.width, nPre, S.s, S.y, S.idx);
        expect(S.mem.f32(S.y, S.width)).toEqual(y);
        expect(S.mem.f32(S.y, S.width)).toEqual(S.mem.f32(yFloat, S.width));
      });
    }
  }

  it('on column slices (codes and unit vectors offset to the first column) adds the same as on the whole array', () => {
    for (const c0 of [4, 8, 20]) {
      const S = setup(33, 41, new Rng(c0, 'q8 slices'), 3);
      const yWhole = S.mem.allocF32(S.width);
      S.mem.f32(yWhole, S.width).set(S.mem.f32(S.y, S.width));
      S.mem.k.mv_forward_q8(S.C, S.cstride, S.U, 0, S.width, 33, S.s, yWhole, S.idx);
      S.mem.k.mv_forward_q8(S.C, S.cstride, S.U, 0, c0, 33, S.s, S.y, S.idx);
      S.mem.k.mv_forward_q8(S.C + c0, S.cstride, S.U, 4 * c0, S.width - c0, 33, S.s, S.y + 4 * c0, S.idx);
      expect(S.mem.f32(S.y, S.width)).toEqual(S.mem.f32(yWhole, S.width));
    }
  });

  it('writes nothing beyond the padded width and skips rows with a zero signal', () => {
    const S = setup(8, 5, new Rng(5, 'q8 bounds'), 1, 0);
    // The accumulator's neighbour in memory: a kernel writing a 16-column block past width 8 would hit it.
    S.mem.f32(S.y + S.width * 4, 4).fill(7);
    S.mem.f32(S.s, 8).set([0, 1, 0, 0, 0, 0, 0, 0]);
    const y0 = S.mem.f32(S.y, S.width).slice();
    S.mem.k.mv_forward_q8(S.C, S.cstride, S.U, 0, S.width, 8, S.s, S.y, S.idx);
    const expected = y0.map((v, j) => f(v + f(1 * S.w[1 * S.width + j])));
    expect(S.mem.f32(S.y, S.width)).toEqual(expected);
    expect(Array.from(S.mem.f32(S.y + S.width * 4, 4))).toEqual([7, 7, 7, 7]);
  });
});

describe('mv_dot_rows_q8', () => {
  for (const [nPre, nPost] of SIZES) {
    for (const blocks of [1, 3]) {
      it(`sums fround(code x unit) x d[j] per gated row as mv_dot_rows (${nPre} x ${nPost}, ${blocks} row blocks)`, () => {
        const S = setup(nPre, nPost, new Rng(nPre * 7 + nPost, `q8 dot ${blocks}`), blocks);
        const gate = S.mem.f32(S.gate, nPre).slice();
        const d = S.mem.f32(S.d, S.width).slice();
        // Independent reference: the same two-accumulator order written out in TypeScript.
        const out = Float32Array.from({ length: nPre }, (_, k) => k * 0.25);
        const expected = out.slice();
        for (let k = 0; k < nPre; k++) {
          if (gate[k] === 0) continue;
          const acc = [new Float32Array(4), new Float32Array(4)];
          for (let g = 0; g * 4 < S.width; g++) {
            const a = acc[g & 1];
            for (let l = 0; l < 4; l++) a[l] = f(a[l] + f(S.w[k * S.width + g * 4 + l] * d[g * 4 + l]));
          }
          const v = acc[0].map((x, l) => f(x + acc[1][l]));
          const sum = f(f(v[0] + v[1]) + f(v[2] + v[3]));
          expected[k] = f(expected[k] + f(gate[k] * sum));
        }
        const o1 = S.mem.allocF32(nPre);
        const o2 = S.mem.allocF32(nPre);
        S.mem.f32(o1, nPre).set(out);
        S.mem.f32(o2, nPre).set(out);
        S.mem.k.mv_dot_rows_q8(S.C, S.cstride, S.U, 0, S.width, nPre, S.d, S.gate, o1);
        S.mem.k.mv_dot_rows(S.W, S.width, nPre, S.d, S.gate, o2);
        expect(S.mem.f32(o1, nPre)).toEqual(expected);
        expect(S.mem.f32(o1, nPre)).toEqual(S.mem.f32(o2, nPre));
      });
    }
  }
});
