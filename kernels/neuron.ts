// Neuron update of one population (step B of emulator/reference.ts), four neurons per v128:
//   du = (basal - u + e_prev) / tau_m
//   v  = u + tau_r du (le: prospective, from the old u)  |  u + dt du (li)
//   diff = u + tau_m du - basal;  u += dt du (+ membrane noise)
//   r = phi(gain v + offset) (+ rate noise);  r' = gain phi'(gain v + offset)
// All vectors are padded to nVec * 4 floats; padding lanes must hold tau_m = 1 and zeros elsewhere,
// which keeps them finite (and r', diff zero) so they never leak into the products.
import { vexp, vsigmoid, vtanh, lastDerivative } from './vmath';

/** Activation codes (ACTIVATION_CODE in emulator/model.ts). */
export const ACT_LINEAR: i32 = 0;
export const ACT_TANH: i32 = 1;
export const ACT_SIGMOID: i32 = 2;
export const ACT_RELU: i32 = 3;
export const ACT_HARDSIGMOID: i32 = 4;

/** Neuron model codes. */
export const MODEL_LE: i32 = 0;
export const MODEL_LI: i32 = 1;

/** The neuron update of one population; noiseU / noiseR are buffers of draws to add, or 0 for none. */
export function neuron_update(
  nVec: i32, model: i32, act: i32, dt: f32,
  u: usize, basal: usize, ePrev: usize,
  tauM: usize, tauR: usize, gain: usize, offset: usize,
  r: usize, rp: usize, diff: usize,
  noiseU: usize, noiseR: usize,
): void {
  const bytes = <usize>nVec << 4;
  const dtv = f32x4.splat(dt);
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  const le = model == MODEL_LE;
  for (let j: usize = 0; j < bytes; j += 16) {
    const uo = v128.load(u + j);
    const b = v128.load(basal + j);
    const tm = v128.load(tauM + j);
    const du = f32x4.div(f32x4.add(f32x4.sub(b, uo), v128.load(ePrev + j)), tm);
    const lead = le ? v128.load(tauR + j) : dtv;
    const v = f32x4.add(uo, f32x4.mul(lead, du));
    v128.store(diff + j, f32x4.sub(f32x4.add(uo, f32x4.mul(tm, du)), b));
    let un = f32x4.add(uo, f32x4.mul(dtv, du));
    if (noiseU) un = f32x4.add(un, v128.load(noiseU + j));
    v128.store(u + j, un);
    const g = v128.load(gain + j);
    const a = f32x4.add(f32x4.mul(g, v), v128.load(offset + j));
    let phi: v128;
    let dphi: v128;
    switch (act) {
      case ACT_TANH: {
        phi = vtanh(a);
        dphi = lastDerivative();
        break;
      }
      case ACT_SIGMOID: {
        phi = vsigmoid(a);
        dphi = lastDerivative();
        break;
      }
      case ACT_RELU: {
        const pos = f32x4.gt(a, zero);
        phi = v128.and(a, pos);
        dphi = v128.and(one, pos);
        break;
      }
      case ACT_HARDSIGMOID: {
        phi = f32x4.min(f32x4.max(a, zero), one);
        dphi = v128.and(one, v128.and(f32x4.ge(a, zero), f32x4.le(a, one)));
        break;
      }
      default: {
        phi = a;
        dphi = one;
      }
    }
    if (noiseR) phi = f32x4.add(phi, v128.load(noiseR + j));
    v128.store(r + j, phi);
    v128.store(rp + j, f32x4.mul(g, dphi));
  }
}

/** Applies activation `act` to n4 * 4 values at a, writing phi and phi' (tests and tools). */
export function activate_vec(act: i32, a: usize, phi: usize, dphi: usize, nVec: i32): void {
  const bytes = <usize>nVec << 4;
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  for (let j: usize = 0; j < bytes; j += 16) {
    const x = v128.load(a + j);
    let p: v128;
    let d: v128;
    switch (act) {
      case ACT_TANH: {
        p = vtanh(x);
        d = lastDerivative();
        break;
      }
      case ACT_SIGMOID: {
        p = vsigmoid(x);
        d = lastDerivative();
        break;
      }
      case ACT_RELU: {
        const pos = f32x4.gt(x, zero);
        p = v128.and(x, pos);
        d = v128.and(one, pos);
        break;
      }
      case ACT_HARDSIGMOID: {
        p = f32x4.min(f32x4.max(x, zero), one);
        d = v128.and(one, v128.and(f32x4.ge(x, zero), f32x4.le(x, one)));
        break;
      }
      default: {
        p = x;
        d = one;
      }
    }
    v128.store(phi + j, p);
    v128.store(dphi + j, d);
  }
}

/** e^x on n4 * 4 values (tests of the vector exp). */
export function exp_vec(x: usize, out: usize, nVec: i32): void {
  const bytes = <usize>nVec << 4;
  for (let j: usize = 0; j < bytes; j += 16) v128.store(out + j, vexp(v128.load(x + j)));
}
