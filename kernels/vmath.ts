// Float32 vector math for the neuron kernels: exp, tanh and logistic on four lanes at once,
// accurate to a few float32 ulp (Cephes' expf and tanhf polynomials with Cody-Waite range
// reduction), branch-free so that whole populations go through v128 lanes.

// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// ln 2 split in two so that n * LN2_HI is exact for |n| < 2^9 (Cody-Waite).
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;
// exp is evaluated on [EXP_MIN, EXP_MAX]: the result stays a normal float32 (2^-126 .. 2^127).
// @ts-ignore: decorator
@inline const EXP_MIN: f32 = -87.33654;
// @ts-ignore: decorator
@inline const EXP_MAX: f32 = 88.0;
// Below this |x| tanh uses its odd polynomial, where 1 - 2/(e^2x + 1) would cancel.
// @ts-ignore: decorator
@inline const TANH_SMALL: f32 = 0.625;
// Keeps e^2x within vexp's range; tanh rounds to 1 long before, and 1 - tanh^2 = q (2 - q) stays
// accurate down to q = 2 e^-88.
// @ts-ignore: decorator
@inline const TANH_CLAMP: f32 = 44.0;

/** e^x on four lanes; x is clamped to [-87.34, 88] so the result is always a normal float32. */
// @ts-ignore: decorator
@inline
export function vexp(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(EXP_MIN)), f32x4.splat(EXP_MAX));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  // r = x - n ln2 in two steps keeps r accurate to float32 precision.
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  const z = f32x4.mul(r, r);
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, z), r), f32x4.splat(1.0));
  // 2^n built directly in the exponent field (n is in [-126, 127] after the clamp).
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

// Second results of the activation helpers (wasm functions return one value; these are inlined,
// so the globals stay in registers after optimisation).
let dphiOut: v128 = f32x4.splat(0);

/** tanh on four lanes; its derivative 1 - tanh^2 (computed without cancellation) goes to dphiOut. */
// @ts-ignore: decorator
@inline
export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const signBits = v128.and(x, i32x4.splat(0x80000000));
  // Small |x|: Cephes tanhf polynomial in x^2.
  const s = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(-3.33332819422e-1));
  const tSmall = f32x4.add(f32x4.mul(f32x4.mul(p, s), x), x);
  const dSmall = f32x4.sub(f32x4.splat(1.0), f32x4.mul(tSmall, tSmall));
  // Large |x|: tanh|x| = 1 - q with q = 2 / (e^{2|x|} + 1); 1 - tanh^2 = q (2 - q).
  const e2 = vexp(f32x4.mul(f32x4.min(ax, f32x4.splat(TANH_CLAMP)), f32x4.splat(2.0)));
  const q = f32x4.div(f32x4.splat(2.0), f32x4.add(e2, f32x4.splat(1.0)));
  const tLarge = v128.or(f32x4.sub(f32x4.splat(1.0), q), signBits);
  const dLarge = f32x4.mul(q, f32x4.sub(f32x4.splat(2.0), q));
  const small = f32x4.lt(ax, f32x4.splat(TANH_SMALL));
  dphiOut = v128.bitselect(dSmall, dLarge, small);
  return v128.bitselect(tSmall, tLarge, small);
}

/** Logistic 1 / (1 + e^-x) on four lanes; its derivative s (1 - s) = s e^-x s goes to dphiOut. */
// @ts-ignore: decorator
@inline
export function vsigmoid(x: v128): v128 {
  const em = vexp(f32x4.neg(x));
  const sg = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), em));
  // 1 - s = e^-x s: no cancellation when s is close to 1; (e^-x s) first so that s^2 cannot
  // underflow when s is tiny.
  dphiOut = f32x4.mul(sg, f32x4.mul(em, sg));
  return sg;
}

/** The derivative left by the last vtanh / vsigmoid call. */
// @ts-ignore: decorator
@inline
export function lastDerivative(): v128 {
  return dphiOut;
}
