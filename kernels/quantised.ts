// Synapse-array products on quantised weights: int8 codes [pre][post] row-major, rows `cstride`
// bytes apart (a multiple of 8, padding zero), and per row a pointer to that row's unit vector
// (float32 per post column: block scale x the column's synaptic gain; rows of the same row block
// share one). The realised weight of code c at (k, j) is fround(f32(c) x unit_k[j]), the value the
// float kernels (matrix.ts) hold for it, so both give bit-identical results: per element the same
// multiplies and adds in the same order. A code costs one byte of memory traffic against four;
// in exchange each takes a widening, a conversion and a multiply by its unit before the float
// kernels' multiply-add, so these kernels pay only where the float weights stream from memory
// (docs/engine.md, "Kernels for quantised weights").
//
//   codes  C + k * cstride + j               (i8)
//   units  load<u32>(U + 4k) + uoff + 4j     (f32, the row's unit vector; uoff: a column slice's
//                                             first column in bytes, 0 for whole arrays)
//
// `width` is the post count padded to 4 (the float layout's stride); vectors of post neurons are
// padded to it, never beyond, so columns past the last 16 are taken four at a time.
import { gather_active } from './matrix';

/** Codes j .. j+3 of eight sign-extended to 16 bits (v128.load8x8_s), as float32 lanes. */
// @ts-ignore: decorator
@inline
function low(q: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q));
}

/** Codes j+4 .. j+7 of eight as float32 lanes. */
// @ts-ignore: decorator
@inline
function high(q: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q));
}

/** Four codes at p (columns j .. j+3) as float32 lanes. */
// @ts-ignore: decorator
@inline
function lanes4(p: usize): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(p))));
}

/** The realised weights of row k, columns j .. j+3: fround(code x unit). */
// @ts-ignore: decorator
@inline
function weights4(C: usize, u: usize, j: usize): v128 {
  return f32x4.mul(lanes4(C + j), v128.load(u + (j << 2)));
}

/** y[:] += s[k] * W[k, :] over rows k < nPre with W realised from the codes; zero s[k] skipped (idx: nPre i32 of scratch). */
export function mv_forward_q8(C: usize, cstride: i32, U: usize, uoff: usize, width: i32, nPre: i32, s: usize, y: usize, idx: usize): void {
  const count = gather_active(s, 0, nPre, idx);
  const rowBytes = <usize>cstride;
  const w = <usize>width;
  const blocks = w & ~(<usize>7);
  let g = 0;
  // Four rows by eight columns per iteration, as mv_forward: each load and store of the
  // accumulator serves four rows. Eight codes come in one sign-extending load (load8x8_s), the
  // cheapest widening WebAssembly has; the conversions, not the memory, bound this kernel.
  for (; g + 4 <= count; g += 4) {
    const ip = idx + (<usize>g << 2);
    const k0 = load<i32>(ip);
    const k1 = load<i32>(ip, 4);
    const k2 = load<i32>(ip, 8);
    const k3 = load<i32>(ip, 12);
    const s0 = v128.load32_splat(s + (<usize>k0 << 2));
    const s1 = v128.load32_splat(s + (<usize>k1 << 2));
    const s2 = v128.load32_splat(s + (<usize>k2 << 2));
    const s3 = v128.load32_splat(s + (<usize>k3 << 2));
    const c0 = C + <usize>k0 * rowBytes;
    const c1 = C + <usize>k1 * rowBytes;
    const c2 = C + <usize>k2 * rowBytes;
    const c3 = C + <usize>k3 * rowBytes;
    const u0 = <usize>load<u32>(U + (<usize>k0 << 2)) + uoff;
    const u1 = <usize>load<u32>(U + (<usize>k1 << 2)) + uoff;
    const u2 = <usize>load<u32>(U + (<usize>k2 << 2)) + uoff;
    const u3 = <usize>load<u32>(U + (<usize>k3 << 2)) + uoff;
    let j: usize = 0;
    if (u0 == u1 && u1 == u2 && u2 == u3) {
      // One row block: its unit vector is loaded once for the four rows.
      for (; j < blocks; j += 8) {
        const yp = y + (j << 2);
        const up = u0 + (j << 2);
        let a = v128.load(yp);
        let b = v128.load(yp, 16);
        const ua = v128.load(up);
        const ub = v128.load(up, 16);
        let q = v128.load8x8_s(c0 + j);
        a = f32x4.add(a, f32x4.mul(s0, f32x4.mul(low(q), ua)));
        b = f32x4.add(b, f32x4.mul(s0, f32x4.mul(high(q), ub)));
        q = v128.load8x8_s(c1 + j);
        a = f32x4.add(a, f32x4.mul(s1, f32x4.mul(low(q), ua)));
        b = f32x4.add(b, f32x4.mul(s1, f32x4.mul(high(q), ub)));
        q = v128.load8x8_s(c2 + j);
        a = f32x4.add(a, f32x4.mul(s2, f32x4.mul(low(q), ua)));
        b = f32x4.add(b, f32x4.mul(s2, f32x4.mul(high(q), ub)));
        q = v128.load8x8_s(c3 + j);
        a = f32x4.add(a, f32x4.mul(s3, f32x4.mul(low(q), ua)));
        b = f32x4.add(b, f32x4.mul(s3, f32x4.mul(high(q), ub)));
        v128.store(yp, a);
        v128.store(yp, b, 16);
      }
    }
    for (; j < w; j += 4) {
      const yp = y + (j << 2);
      let a = v128.load(yp);
      a = f32x4.add(a, f32x4.mul(s0, weights4(c0, u0, j)));
      a = f32x4.add(a, f32x4.mul(s1, weights4(c1, u1, j)));
      a = f32x4.add(a, f32x4.mul(s2, weights4(c2, u2, j)));
      a = f32x4.add(a, f32x4.mul(s3, weights4(c3, u3, j)));
      v128.store(yp, a);
    }
  }
  for (; g < count; g++) {
    const k = load<i32>(idx + (<usize>g << 2));
    const sk = v128.load32_splat(s + (<usize>k << 2));
    const ck = C + <usize>k * rowBytes;
    const uk = <usize>load<u32>(U + (<usize>k << 2)) + uoff;
    let j: usize = 0;
    for (; j < blocks; j += 8) {
      const yp = y + (j << 2);
      const up = uk + (j << 2);
      const q = v128.load8x8_s(ck + j);
      v128.store(yp, f32x4.add(v128.load(yp), f32x4.mul(sk, f32x4.mul(low(q), v128.load(up)))));
      v128.store(yp, f32x4.add(v128.load(yp, 16), f32x4.mul(sk, f32x4.mul(high(q), v128.load(up, 16)))), 16);
    }
    for (; j < w; j += 4) {
      const yp = y + (j << 2);
      v128.store(yp, f32x4.add(v128.load(yp), f32x4.mul(sk, weights4(ck, uk, j))));
    }
  }
}

/**
 * out[k] += gate[k] * sum_j W[k, j] * d[j] for rows with gate[k] != 0 (the transposed product),
 * W realised from the codes. The sum runs as matrix.ts's mv_dot_rows: two accumulators taking
 * alternate groups of four columns, so the results are bit-identical.
 */
export function mv_dot_rows_q8(C: usize, cstride: i32, U: usize, uoff: usize, width: i32, nPre: i32, d: usize, gate: usize, out: usize): void {
  const rowBytes = <usize>cstride;
  const w = <usize>width;
  const pairs = w & ~(<usize>7);
  let k = 0;
  while (k < nPre) {
    const gk = load<f32>(gate + (<usize>k << 2));
    if (gk == 0) {
      k++;
      continue;
    }
    const ck = C + <usize>k * rowBytes;
    const uk = <usize>load<u32>(U + (<usize>k << 2)) + uoff;
    // The next row too when it is gated and of the same row block: the loads of d and of the unit
    // vector then serve both rows (each row keeps its own accumulators, summed in the same order).
    const k2 = k + 1;
    if (k2 < nPre && load<f32>(gate + (<usize>k2 << 2)) != 0 && <usize>load<u32>(U + (<usize>k2 << 2)) + uoff == uk) {
      const c2 = ck + rowBytes;
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let b0 = f32x4.splat(0);
      let b1 = f32x4.splat(0);
      let j: usize = 0;
      for (; j < pairs; j += 8) {
        const up = uk + (j << 2);
        const dp = d + (j << 2);
        const u0 = v128.load(up);
        const u1 = v128.load(up, 16);
        const d0 = v128.load(dp);
        const d1 = v128.load(dp, 16);
        const q = v128.load8x8_s(ck + j);
        const r = v128.load8x8_s(c2 + j);
        a0 = f32x4.add(a0, f32x4.mul(f32x4.mul(low(q), u0), d0));
        a1 = f32x4.add(a1, f32x4.mul(f32x4.mul(high(q), u1), d1));
        b0 = f32x4.add(b0, f32x4.mul(f32x4.mul(low(r), u0), d0));
        b1 = f32x4.add(b1, f32x4.mul(f32x4.mul(high(r), u1), d1));
      }
      if (j < w) {
        const dj = v128.load(d + (j << 2));
        a0 = f32x4.add(a0, f32x4.mul(weights4(ck, uk, j), dj));
        b0 = f32x4.add(b0, f32x4.mul(weights4(c2, uk, j), dj));
      }
      addRowSum(out, k, gk, f32x4.add(a0, a1));
      addRowSum(out, k2, load<f32>(gate + (<usize>k2 << 2)), f32x4.add(b0, b1));
      k += 2;
      continue;
    }
    let acc0 = f32x4.splat(0);
    let acc1 = f32x4.splat(0);
    let j: usize = 0;
    for (; j < pairs; j += 8) {
      const q = v128.load8x8_s(ck + j);
      const up = uk + (j << 2);
      const dp = d + (j << 2);
      acc0 = f32x4.add(acc0, f32x4.mul(f32x4.mul(low(q), v128.load(up)), v128.load(dp)));
      acc1 = f32x4.add(acc1, f32x4.mul(f32x4.mul(high(q), v128.load(up, 16)), v128.load(dp, 16)));
    }
    if (j < w) acc0 = f32x4.add(acc0, f32x4.mul(weights4(ck, uk, j), v128.load(d + (j << 2))));
    addRowSum(out, k, gk, f32x4.add(acc0, acc1));
    k++;
  }
}

/** out[k] += gate x the sum of the four lanes, added as mv_dot_rows adds them. */
// @ts-ignore: decorator
@inline
function addRowSum(out: usize, k: i32, gk: f32, acc: v128): void {
  const sum =
    f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  const o = out + (<usize>k << 2);
  store<f32>(o, load<f32>(o) + gk * sum);
}
