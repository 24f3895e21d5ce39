// Synaptic low-pass filters and the tau adaptation rule (RESEARCH.md §1, "Temporal noise" and
// "Spatial noise"), four neurons per v128 on vectors padded to nVec * 4 floats.
//   low-pass:      ybar += (x - ybar) * k          k = dt / tau_s (|ybar| < 1e-12 flushed to 0)
//   tau adaptation (computed before the neuron update, from the step's old u and tau_m):
//     du = (basal - u + e_prev) / tau_m;  delta = eta * (u + tau_r du - basal) * du
//   the delta is added to tau_m after the neuron update (vec_add_clamped), clamped to [lo, hi].

/** Filtered values below this magnitude are flushed to 0 (emulator/synaptic-filter.ts LOWPASS_FLUSH). */
// A decaying low-pass never reaches 0 on its own: it would sink into subnormal floats, which are
// slow on every x86 core, and keep zero inputs from being skipped in the forward pass.
const FLUSH: f32 = 1e-12;

/** ybar += (x - ybar) * k on nVec * 4 values; results below FLUSH in magnitude become 0. */
export function vec_lowpass(ybar: usize, x: usize, k: f32, nVec: i32): void {
  const bytes = <usize>nVec << 4;
  const kv = f32x4.splat(k);
  const tiny = f32x4.splat(FLUSH);
  for (let j: usize = 0; j < bytes; j += 16) {
    const y = v128.load(ybar + j);
    const n = f32x4.add(y, f32x4.mul(kv, f32x4.sub(v128.load(x + j), y)));
    v128.store(ybar + j, v128.and(n, f32x4.ge(f32x4.abs(n), tiny)));
  }
}

/** Like vec_lowpass, but only while the i32 flag word at `flag` is non-zero (a target is set). */
export function vec_lowpass_flagged(ybar: usize, x: usize, k: f32, nVec: i32, flag: usize): void {
  if (flag != 0 && load<i32>(flag) == 0) return;
  vec_lowpass(ybar, x, k, nVec);
}

/** delta = eta * (u + tau_r du - basal) * du with du = (basal - u + e_prev) / tau_m (padding lanes give 0). */
export function tau_adapt_delta(
  nVec: i32, eta: f32, u: usize, basal: usize, ePrev: usize, tauM: usize, tauR: usize, delta: usize,
): void {
  const bytes = <usize>nVec << 4;
  const ev = f32x4.splat(eta);
  for (let j: usize = 0; j < bytes; j += 16) {
    const uo = v128.load(u + j);
    const b = v128.load(basal + j);
    const du = f32x4.div(f32x4.add(f32x4.sub(b, uo), v128.load(ePrev + j)), v128.load(tauM + j));
    const lead = f32x4.sub(f32x4.add(uo, f32x4.mul(v128.load(tauR + j), du)), b);
    v128.store(delta + j, f32x4.mul(ev, f32x4.mul(lead, du)));
  }
}

/** out = clamp(out + a, lo, hi) on nVec * 4 values. */
export function vec_add_clamped(out: usize, a: usize, lo: f32, hi: f32, nVec: i32): void {
  const bytes = <usize>nVec << 4;
  const lov = f32x4.splat(lo);
  const hiv = f32x4.splat(hi);
  for (let j: usize = 0; j < bytes; j += 16) {
    v128.store(out + j, f32x4.min(f32x4.max(f32x4.add(v128.load(out + j), v128.load(a + j)), lov), hiv));
  }
}
