// Synapse-array products on weights in the hardware layout: W is [pre][post] row-major float32,
// one row per presynaptic signal, rows padded to `stride` floats (a multiple of 4) with zeros.
// Pointers are byte addresses; vectors of post neurons are padded to the stride as well.
//
// Rows whose presynaptic signal is zero contribute nothing, so the kernels first gather the
// active rows (four signals per test) and then stream only those, several rows at a time, so that
// every load and store of the accumulator serves several rows. Per element the additions happen in
// row order, exactly as a plain row-by-row loop would round them.

/** Writes the indices k < n with s[k] != 0 (or sl[k] != 0 when sl is not 0) to idx; returns their count. */
export function gather_active(s: usize, sl: usize, n: i32, idx: usize): i32 {
  let count = 0;
  let k = 0;
  const zero = f32x4.splat(0);
  for (; k + 4 <= n; k += 4) {
    let nz = f32x4.ne(v128.load(s + (<usize>k << 2)), zero);
    if (sl) nz = v128.or(nz, f32x4.ne(v128.load(sl + (<usize>k << 2)), zero));
    let mask = i32x4.bitmask(nz);
    while (mask) {
      const b = ctz(mask);
      store<i32>(idx + (<usize>count << 2), k + b);
      count++;
      mask &= mask - 1;
    }
  }
  for (; k < n; k++) {
    const off = <usize>k << 2;
    if (load<f32>(s + off) != 0 || (sl != 0 && load<f32>(sl + off) != 0)) {
      store<i32>(idx + (<usize>count << 2), k);
      count++;
    }
  }
  return count;
}

/** y[:] += s[k] * W[k, :] over rows k < nPre (zero s[k] skipped); idx is scratch of nPre i32. */
export function mv_forward(W: usize, stride: i32, nPre: i32, s: usize, y: usize, idx: usize): void {
  mvForward(W, stride, stride, nPre, s, y, idx);
}

/**
 * mv_forward on the `width` columns starting at W (a column slice: W and y point at its first
 * column, rows stay `stride` floats apart); per element exactly the operations of mv_forward.
 */
export function mv_forward_cols(W: usize, stride: i32, width: i32, nPre: i32, s: usize, y: usize, idx: usize): void {
  mvForward(W, stride, width, nPre, s, y, idx);
}

// @ts-ignore: decorator
@inline
function mvForward(W: usize, stride: i32, width: i32, nPre: i32, s: usize, y: usize, idx: usize): void {
  const count = gather_active(s, 0, nPre, idx);
  const rowBytes = <usize>stride << 2;
  const widthBytes = <usize>width << 2;
  // Four rows by two vectors of columns per iteration: measured fastest on x64 V8 (more live
  // vectors spill; V8 allocates 16 xmm registers).
  const pairBytes = widthBytes & ~(<usize>31);
  let g = 0;
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
    const w0 = W + <usize>k0 * rowBytes;
    const w1 = W + <usize>k1 * rowBytes;
    const w2 = W + <usize>k2 * rowBytes;
    const w3 = W + <usize>k3 * rowBytes;
    let j: usize = 0;
    for (; j < pairBytes; j += 32) {
      let a = v128.load(y + j);
      let b = v128.load(y + j, 16);
      a = f32x4.add(a, f32x4.mul(s0, v128.load(w0 + j)));
      b = f32x4.add(b, f32x4.mul(s0, v128.load(w0 + j, 16)));
      a = f32x4.add(a, f32x4.mul(s1, v128.load(w1 + j)));
      b = f32x4.add(b, f32x4.mul(s1, v128.load(w1 + j, 16)));
      a = f32x4.add(a, f32x4.mul(s2, v128.load(w2 + j)));
      b = f32x4.add(b, f32x4.mul(s2, v128.load(w2 + j, 16)));
      a = f32x4.add(a, f32x4.mul(s3, v128.load(w3 + j)));
      b = f32x4.add(b, f32x4.mul(s3, v128.load(w3 + j, 16)));
      v128.store(y + j, a);
      v128.store(y + j, b, 16);
    }
    if (j < widthBytes) {
      let a = v128.load(y + j);
      a = f32x4.add(a, f32x4.mul(s0, v128.load(w0 + j)));
      a = f32x4.add(a, f32x4.mul(s1, v128.load(w1 + j)));
      a = f32x4.add(a, f32x4.mul(s2, v128.load(w2 + j)));
      a = f32x4.add(a, f32x4.mul(s3, v128.load(w3 + j)));
      v128.store(y + j, a);
    }
  }
  for (; g < count; g++) {
    const k = load<i32>(idx + (<usize>g << 2));
    const sk = v128.load32_splat(s + (<usize>k << 2));
    const w = W + <usize>k * rowBytes;
    for (let j: usize = 0; j < widthBytes; j += 16) {
      v128.store(y + j, f32x4.add(v128.load(y + j), f32x4.mul(sk, v128.load(w + j))));
    }
  }
}

/**
 * The rank-1 update of the previous step fused into this step's forward pass: per row k,
 * first W[k, :] += (rate * sl[k]) * e[:], then y[:] += s[k] * W[k, :] with the updated row.
 * Rows where both s[k] and sl[k] are zero are untouched.
 */
export function mv_forward_update(
  W: usize, stride: i32, nPre: i32, s: usize, y: usize, sl: usize, e: usize, rate: f32, idx: usize,
): void {
  mvForwardUpdate(W, stride, stride, nPre, s, y, sl, e, rate, idx);
}

/** mv_forward_update on the `width` columns starting at W (W, y and e point at the slice's first column). */
export function mv_forward_update_cols(
  W: usize, stride: i32, width: i32, nPre: i32, s: usize, y: usize, sl: usize, e: usize, rate: f32, idx: usize,
): void {
  mvForwardUpdate(W, stride, width, nPre, s, y, sl, e, rate, idx);
}

// @ts-ignore: decorator
@inline
function mvForwardUpdate(
  W: usize, stride: i32, width: i32, nPre: i32, s: usize, y: usize, sl: usize, e: usize, rate: f32, idx: usize,
): void {
  const count = gather_active(s, sl, nPre, idx);
  const rowBytes = <usize>stride << 2;
  const widthBytes = <usize>width << 2;
  // Two rows by two vectors of columns, each row updated, stored and accumulated at once: the
  // fastest arrangement measured (the loop is bound by the weight stores).
  const pairBytes = widthBytes & ~(<usize>31);
  let g = 0;
  for (; g + 2 <= count; g += 2) {
    const k0 = load<i32>(idx + (<usize>g << 2));
    const k1 = load<i32>(idx + (<usize>g << 2), 4);
    const s0 = v128.load32_splat(s + (<usize>k0 << 2));
    const s1 = v128.load32_splat(s + (<usize>k1 << 2));
    const c0 = f32x4.splat(rate * load<f32>(sl + (<usize>k0 << 2)));
    const c1 = f32x4.splat(rate * load<f32>(sl + (<usize>k1 << 2)));
    const w0 = W + <usize>k0 * rowBytes;
    const w1 = W + <usize>k1 * rowBytes;
    let j: usize = 0;
    for (; j < pairBytes; j += 32) {
      const ea = v128.load(e + j);
      const eb = v128.load(e + j, 16);
      let ya = v128.load(y + j);
      let yb = v128.load(y + j, 16);
      let a = f32x4.add(v128.load(w0 + j), f32x4.mul(c0, ea));
      v128.store(w0 + j, a);
      ya = f32x4.add(ya, f32x4.mul(s0, a));
      let b = f32x4.add(v128.load(w0 + j, 16), f32x4.mul(c0, eb));
      v128.store(w0 + j, b, 16);
      yb = f32x4.add(yb, f32x4.mul(s0, b));
      a = f32x4.add(v128.load(w1 + j), f32x4.mul(c1, ea));
      v128.store(w1 + j, a);
      ya = f32x4.add(ya, f32x4.mul(s1, a));
      b = f32x4.add(v128.load(w1 + j, 16), f32x4.mul(c1, eb));
      v128.store(w1 + j, b, 16);
      yb = f32x4.add(yb, f32x4.mul(s1, b));
      v128.store(y + j, ya);
      v128.store(y + j, yb, 16);
    }
    if (j < widthBytes) {
      const ea = v128.load(e + j);
      let ya = v128.load(y + j);
      let a = f32x4.add(v128.load(w0 + j), f32x4.mul(c0, ea));
      v128.store(w0 + j, a);
      ya = f32x4.add(ya, f32x4.mul(s0, a));
      a = f32x4.add(v128.load(w1 + j), f32x4.mul(c1, ea));
      v128.store(w1 + j, a);
      ya = f32x4.add(ya, f32x4.mul(s1, a));
      v128.store(y + j, ya);
    }
  }
  if (g < count) {
    const k = load<i32>(idx + (<usize>g << 2));
    const sk = v128.load32_splat(s + (<usize>k << 2));
    const ck = f32x4.splat(rate * load<f32>(sl + (<usize>k << 2)));
    const w = W + <usize>k * rowBytes;
    for (let j: usize = 0; j < widthBytes; j += 16) {
      const a = f32x4.add(v128.load(w + j), f32x4.mul(ck, v128.load(e + j)));
      v128.store(w + j, a);
      v128.store(y + j, f32x4.add(v128.load(y + j), f32x4.mul(sk, a)));
    }
  }
}

/** Rank-1 plasticity update W[k, :] += (rate * sl[k]) * e[:] over rows k < nPre with sl[k] != 0. */
export function mv_update(W: usize, stride: i32, nPre: i32, sl: usize, e: usize, rate: f32): void {
  mvUpdate(W, stride, stride, nPre, sl, e, rate);
}

/** mv_update on the `width` columns starting at W (W and e point at the slice's first column). */
export function mv_update_cols(W: usize, stride: i32, width: i32, nPre: i32, sl: usize, e: usize, rate: f32): void {
  mvUpdate(W, stride, width, nPre, sl, e, rate);
}

// @ts-ignore: decorator
@inline
function mvUpdate(W: usize, stride: i32, width: i32, nPre: i32, sl: usize, e: usize, rate: f32): void {
  const rowBytes = <usize>stride << 2;
  const widthBytes = <usize>width << 2;
  for (let k = 0; k < nPre; k++) {
    const sk = load<f32>(sl + (<usize>k << 2));
    if (sk == 0) continue;
    const ck = f32x4.splat(rate * sk);
    const w = W + <usize>k * rowBytes;
    for (let j: usize = 0; j < widthBytes; j += 16) {
      v128.store(w + j, f32x4.add(v128.load(w + j), f32x4.mul(ck, v128.load(e + j))));
    }
  }
}

/**
 * The transposed product for errors: out[k] += gate[k] * dot(W[k, :], d) over rows k < nPre;
 * rows with gate[k] == 0 (a neuron whose r' is zero) are skipped, since they add nothing.
 */
export function mv_dot_rows(W: usize, stride: i32, nPre: i32, d: usize, gate: usize, out: usize): void {
  const rowBytes = <usize>stride << 2;
  const pairBytes = rowBytes & ~(<usize>31);
  for (let k = 0; k < nPre; k++) {
    const gk = load<f32>(gate + (<usize>k << 2));
    if (gk == 0) continue;
    const w = W + <usize>k * rowBytes;
    let acc0 = f32x4.splat(0);
    let acc1 = f32x4.splat(0);
    let j: usize = 0;
    for (; j < pairBytes; j += 32) {
      acc0 = f32x4.add(acc0, f32x4.mul(v128.load(w + j), v128.load(d + j)));
      acc1 = f32x4.add(acc1, f32x4.mul(v128.load(w + j, 16), v128.load(d + j, 16)));
    }
    if (j < rowBytes) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(w + j), v128.load(d + j)));
    const acc = f32x4.add(acc0, acc1);
    const sum =
      f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    const o = out + (<usize>k << 2);
    store<f32>(o, load<f32>(o) + gk * sum);
  }
}

/** out[i] += a[i] * b[i] over nVec vectors of four. */
export function vec_mul_acc(out: usize, a: usize, b: usize, nVec: i32): void {
  const bytes = <usize>nVec << 4;
  for (let j: usize = 0; j < bytes; j += 16) {
    v128.store(out + j, f32x4.add(v128.load(out + j), f32x4.mul(v128.load(a + j), v128.load(b + j))));
  }
}

/** out[i] += c * a[i] over nVec vectors of four. */
export function vec_axpy(out: usize, c: f32, a: usize, nVec: i32): void {
  const bytes = <usize>nVec << 4;
  const cv = f32x4.splat(c);
  for (let j: usize = 0; j < bytes; j += 16) {
    v128.store(out + j, f32x4.add(v128.load(out + j), f32x4.mul(cv, v128.load(a + j))));
  }
}
