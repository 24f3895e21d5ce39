/**
 * Float32 arithmetic in plain TypeScript, operation for operation as the WASM kernel computes it
 * (kernels/lif.ts). Each +, -, *, / is done in float64 and rounded once with Math.fround, which
 * equals the correctly rounded float32 result, so the reference matches the kernel bit for bit.
 */

const f = Math.fround;

// Constants of kernels/lif.ts lif_vexp, rounded to float32 as the AssemblyScript compiler does.
const EXP_MIN = f(-87.33654);
const LOG2E = f(1.44269504088896341);
const MAGIC = 12582912; // 1.5 * 2^23
const LN2_HI = f(0.693359375);
const LN2_LO = f(-2.1219444e-4);
const P0 = f(1.98756915e-4);
const P1 = f(1.3981999507e-3);
const P2 = f(8.3334519073e-3);
const P3 = f(4.1665795894e-2);
const P4 = f(1.6666665459e-1);
const P5 = f(5.0000001201e-1);

/** exp(x) for float32 x <= 0 exactly as one lane of the kernel's lif_vexp. */
export function exp32(x0: number): number {
  // f32x4.pmax(x, EXP_MIN): x unless x < EXP_MIN.
  const x = f(x0) < EXP_MIN ? EXP_MIN : f(x0);
  const t = f(f(x * LOG2E) + MAGIC);
  const n = f(t - MAGIC);
  let r = f(x - f(n * LN2_HI));
  r = f(r - f(n * LN2_LO));
  const z = f(r * r);
  let p = P0;
  p = f(f(p * r) + P1);
  p = f(f(p * r) + P2);
  p = f(f(p * r) + P3);
  p = f(f(p * r) + P4);
  p = f(f(p * r) + P5);
  p = f(f(f(p * z) + r) + 1);
  // 2^n is exact in float64 for n in [-126, 127]; one rounding of the product, as f32x4.mul.
  return f(p * 2 ** n);
}
