// Spiking substrate: conductance-based leaky integrate-and-fire neurons driven by event rows.
// emulator/lif/engine.ts lays the network out in linear memory and fills a control record;
// lif_run then advances many steps without returning. emulator/lif/reference.ts is the plain
// TypeScript model of exactly this step, operation for operation in float32.
//
// One step s (from t_s = s dt to t_{s+1}):
//   1. arrivals: every row queued for step s adds its weights (uS) to gE or gI of all columns
//   2. sources: Poisson sources draw (xoshiro128**, four sources per v128; spike when the u32 is
//      below the source's threshold), then the spike-time list events of step s; each spiking
//      source queues its rows for step s + delay
//   3. neurons, four per v128 (exponential Euler: exact for conductances constant over the step):
//        gtot = gL + gE + gI;  vinf = (c0 + gE e_rev_E + gI e_rev_I) / gtot,  c0 = gL v_rest + i_offset
//        vnew = vinf + (V - vinf) exp(-dt gtot / cm)  (+ noise)
//        active = ref == 0;  spike = active & vnew >= v_thresh
//        V = active & !spike ? vnew : v_reset (held while refractory);  ref = max(ref - 1, 0) | (spike & nref)
//        gE *= exp(-dt / tau_syn_E);  gI *= exp(-dt / tau_syn_I)
//      spikes are extracted from the lane masks (bitmask + count-trailing-zeros), no per-neuron branch
//   4. each spiking neuron (time t_{s+1}) queues its rows for step s + 1 + delay
// Spikes are recorded as (time index, signal); sources are signals 0..nSrc-1, neuron i is nSrc + i.

import { rng_fill_normal } from './random';

// Control record: i32 words at ctl + 4 k (emulator/lif/engine.ts writes the same offsets).
const C_N: i32 = 0; // neurons
const C_NVEC: i32 = 1; // neuron vectors, pad4(n) / 4
const C_NSRC: i32 = 2; // sources
const C_SRCVEC: i32 = 3; // source vectors, pad4(nSrc) / 4
const C_STEP: i32 = 4; // current step
const C_RING: i32 = 5; // delay ring length D
const C_SLOTCAP: i32 = 6; // row capacity of one ring slot
const C_STRIDE: i32 = 7; // floats per weight row (pad4(n))
const C_V: i32 = 8;
const C_GE: i32 = 9;
const C_GI: i32 = 10;
const C_REF: i32 = 11;
const C_GL: i32 = 12;
const C_C0: i32 = 13; // gL v_rest + i_offset
const C_EE: i32 = 14;
const C_EI: i32 = 15;
const C_KDT: i32 = 17;
const C_VTH: i32 = 18;
const C_VRESET: i32 = 19;
const C_NREF: i32 = 20;
const C_DECE: i32 = 21;
const C_DECI: i32 = 22;
const C_NOISE: i32 = 23; // noise buffer (n floats) or 0
const C_NOISE_RNG: i32 = 24; // generator state record (kernels/random.ts)
const C_NOISE_SCALE: i32 = 26; // f64 at words 26-27: sigma sqrt(dt), mV
const C_W: i32 = 28; // rows [R][stride] f32
const C_ROW_REC: i32 = 29; // i32 per row: 0 E, 1 I
const C_ROW_DELAY: i32 = 30; // i32 per row
const C_SIG_START: i32 = 31; // i32 [nSig + 1]
const C_SIG_ROWS: i32 = 32; // i32 [R]
const C_SLOT_COUNT: i32 = 33; // i32 [D]
const C_SLOT_ROWS: i32 = 34; // i32 [D][slotCap]
const C_SRC_STATE: i32 = 35; // u32 SoA: s0[srcVec*4], s1[...], s2[...], s3[...]
const C_SRC_THR: i32 = 36; // u32 [srcVec*4]
const C_EV_STEP: i32 = 37; // i32 [nEv] sorted
const C_EV_SRC: i32 = 38; // i32 [nEv]
const C_NEV: i32 = 39;
const C_EV_POS: i32 = 40;
const C_SPK_TIME: i32 = 41; // i32 [cap]
const C_SPK_SIG: i32 = 42; // i32 [cap]
const C_SPK_COUNT: i32 = 43;
const C_SPK_CAP: i32 = 44;
const C_SIG_LIST: i32 = 45; // i32 scratch [max(nSrc, n)]
const C_FLAGS: i32 = 46; // bit 0: record source spikes

/** Bytes of the control record. */
export const LIF_CTL_BYTES: i32 = 192;

// @ts-ignore: decorator
@inline
function word(ctl: usize, k: i32): i32 {
  return load<i32>(ctl + (<usize>k << 2));
}

// @ts-ignore: decorator
@inline
function ptr(ctl: usize, k: i32): usize {
  return <usize>load<u32>(ctl + (<usize>k << 2));
}

// exp on four lanes (Cephes expf: Cody-Waite reduction, degree-5 polynomial), branch free, for
// x <= 0 (the membrane factor exp(-dt gtot / cm)); x below -87.34 is clamped so 2^n stays normal.
// n = nearest-even(x log2 e) comes from adding 1.5 * 2^23, whose float32 rounding is exactly that
// (|x log2 e| < 2^22), and the same sum's bits give n as an integer for building 2^n.
// emulator/lif/f32-math.ts (exp32) repeats it lane by lane with the same float32 operations.
// @ts-ignore: decorator
@inline
function lif_vexp(x0: v128): v128 {
  const x = f32x4.pmax(x0, f32x4.splat(-87.33654));
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(12582912.0));
  const n = f32x4.sub(t, f32x4.splat(12582912.0));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  const z = f32x4.mul(r, r);
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, z), r), f32x4.splat(1.0));
  // bits(t) = 0x4B400000 + n; 2^n has bits (n + 127) << 23.
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4b400000)), 23);
  return f32x4.mul(p, scale);
}

/** exp on n floats, four at a time (n padded to 4): the kernel's exponential, for tests. */
export function lif_exp_vec(x: usize, out: usize, nVec: i32): void {
  const bytes = <usize>nVec << 4;
  for (let j: usize = 0; j < bytes; j += 16) v128.store(out + j, lif_vexp(v128.load(x + j)));
}

/** Adds weight row r to the conductance its receptor feeds, for every column. */
// @ts-ignore: decorator
@inline
function addRow(ctl: usize, r: i32, nVec: i32): void {
  const stride = word(ctl, C_STRIDE);
  const w = ptr(ctl, C_W) + (<usize>r * <usize>stride << 2);
  const g = load<i32>(ptr(ctl, C_ROW_REC) + (<usize>r << 2)) == 0 ? ptr(ctl, C_GE) : ptr(ctl, C_GI);
  const bytes = <usize>nVec << 4;
  for (let j: usize = 0; j < bytes; j += 16) v128.store(g + j, f32x4.add(v128.load(g + j), v128.load(w + j)));
}

/** Adds rows r0 then r1 (same receptor) in one pass: per element ((g + w0) + w1), as two passes would round. */
// @ts-ignore: decorator
@inline
function addRows2(ctl: usize, r0: i32, r1: i32, nVec: i32): void {
  const stride = <usize>word(ctl, C_STRIDE);
  const w0 = ptr(ctl, C_W) + (<usize>r0 * stride << 2);
  const w1 = ptr(ctl, C_W) + (<usize>r1 * stride << 2);
  const g = load<i32>(ptr(ctl, C_ROW_REC) + (<usize>r0 << 2)) == 0 ? ptr(ctl, C_GE) : ptr(ctl, C_GI);
  const bytes = <usize>nVec << 4;
  for (let j: usize = 0; j < bytes; j += 16) {
    v128.store(g + j, f32x4.add(f32x4.add(v128.load(g + j), v128.load(w0 + j)), v128.load(w1 + j)));
  }
}

/** Queues the rows of signal sig for arrival at step `at` + their delay. */
// @ts-ignore: decorator
@inline
function queueRows(ctl: usize, sig: i32, at: i32): void {
  const start = ptr(ctl, C_SIG_START);
  const r0 = load<i32>(start + (<usize>sig << 2));
  const r1 = load<i32>(start + (<usize>(sig + 1) << 2));
  if (r0 == r1) return;
  const rows = ptr(ctl, C_SIG_ROWS);
  const delays = ptr(ctl, C_ROW_DELAY);
  const D = word(ctl, C_RING);
  const cap = word(ctl, C_SLOTCAP);
  const counts = ptr(ctl, C_SLOT_COUNT);
  const slots = ptr(ctl, C_SLOT_ROWS);
  for (let k = r0; k < r1; k++) {
    const r = load<i32>(rows + (<usize>k << 2));
    const slot = (at + load<i32>(delays + (<usize>r << 2))) % D;
    const cAddr = counts + (<usize>slot << 2);
    const c = load<i32>(cAddr);
    store<i32>(slots + ((<usize>slot * <usize>cap + <usize>c) << 2), r);
    store<i32>(cAddr, c + 1);
  }
}

// @ts-ignore: decorator
@inline
function rotl4(x: v128, k: i32): v128 {
  return v128.or(i32x4.shl(x, k), i32x4.shr_u(x, 32 - k));
}

/** Poisson sources of one step: writes the indices of spiking sources to the signal list; returns their count. */
// @ts-ignore: decorator
@inline
function poissonStep(ctl: usize): i32 {
  const srcVec = word(ctl, C_SRCVEC);
  const nSrc = word(ctl, C_NSRC);
  const plane = <usize>srcVec << 4;
  const st = ptr(ctl, C_SRC_STATE);
  const thr = ptr(ctl, C_SRC_THR);
  const list = ptr(ctl, C_SIG_LIST);
  let count = 0;
  for (let v = 0; v < srcVec; v++) {
    const o = <usize>v << 4;
    let s0 = v128.load(st + o);
    let s1 = v128.load(st + plane + o);
    let s2 = v128.load(st + 2 * plane + o);
    let s3 = v128.load(st + 3 * plane + o);
    // xoshiro128**: result = rotl(s1 * 5, 7) * 9, then the state transition.
    const result = i32x4.mul(rotl4(i32x4.mul(s1, i32x4.splat(5)), 7), i32x4.splat(9));
    const t = i32x4.shl(s1, 9);
    s2 = v128.xor(s2, s0);
    s3 = v128.xor(s3, s1);
    s1 = v128.xor(s1, s2);
    s0 = v128.xor(s0, s3);
    s2 = v128.xor(s2, t);
    s3 = rotl4(s3, 11);
    v128.store(st + o, s0);
    v128.store(st + plane + o, s1);
    v128.store(st + 2 * plane + o, s2);
    v128.store(st + 3 * plane + o, s3);
    let mask = i32x4.bitmask(i32x4.lt_u(result, v128.load(thr + o)));
    while (mask) {
      const k = (v << 2) + ctz(mask);
      if (k < nSrc) {
        store<i32>(list + (<usize>count << 2), k);
        count++;
      }
      mask &= mask - 1;
    }
  }
  return count;
}

/** Appends one spike (time index, signal) to the record. */
// @ts-ignore: decorator
@inline
function recordSpike(ctl: usize, time: i32, sig: i32): void {
  const cAddr = ctl + (<usize>C_SPK_COUNT << 2);
  const c = load<i32>(cAddr);
  store<i32>(ptr(ctl, C_SPK_TIME) + (<usize>c << 2), time);
  store<i32>(ptr(ctl, C_SPK_SIG) + (<usize>c << 2), sig);
  store<i32>(cAddr, c + 1);
}

/** Updates the four neurons at byte offset j of the arrays; returns the lane mask of those that spiked. */
// @ts-ignore: decorator
@inline
function updateVec(
  j: usize, pV: usize, pGE: usize, pGI: usize, pREF: usize, pGL: usize, pC0: usize, pEE: usize, pEI: usize,
  pKDT: usize, pVTH: usize, pVRESET: usize, pNREF: usize, pDECE: usize, pDECI: usize, pNOISE: usize,
): i32 {
  const gE = v128.load(pGE + j);
  const gI = v128.load(pGI + j);
  const v = v128.load(pV + j);
  const ref = v128.load(pREF + j);
  const gtot = f32x4.add(f32x4.add(v128.load(pGL + j), gE), gI);
  const num = f32x4.add(f32x4.add(v128.load(pC0 + j), f32x4.mul(gE, v128.load(pEE + j))), f32x4.mul(gI, v128.load(pEI + j)));
  const vinf = f32x4.div(num, gtot);
  const decay = lif_vexp(f32x4.mul(v128.load(pKDT + j), gtot));
  let vnew = f32x4.add(vinf, f32x4.mul(f32x4.sub(v, vinf), decay));
  if (pNOISE) vnew = f32x4.add(vnew, v128.load(pNOISE + j));
  const izero = i32x4.splat(0);
  const active = i32x4.eq(ref, izero);
  const above = f32x4.ge(vnew, v128.load(pVTH + j));
  const spike = v128.and(active, above);
  // A refractory neuron sits at v_reset, so V keeps vnew only where active and not spiking.
  v128.store(pV + j, v128.bitselect(vnew, v128.load(pVRESET + j), v128.andnot(active, above)));
  // A spiking neuron was active (ref = 0, so max(ref - 1, 0) = 0): or-ing in nref sets it.
  v128.store(pREF + j, v128.or(i32x4.max_s(i32x4.sub(ref, i32x4.splat(1)), izero), v128.and(spike, v128.load(pNREF + j))));
  v128.store(pGE + j, f32x4.mul(gE, v128.load(pDECE + j)));
  v128.store(pGI + j, f32x4.mul(gI, v128.load(pDECI + j)));
  return i32x4.bitmask(spike);
}

/** Appends the neurons of a lane mask (first lane k0) below n to the signal list; returns the new count. */
// @ts-ignore: decorator
@inline
function extract(mask: i32, k0: i32, n: i32, list: usize, count: i32): i32 {
  while (mask) {
    const k = k0 + ctz(mask);
    if (k < n) {
      store<i32>(list + (<usize>count << 2), k);
      count++;
    }
    mask &= mask - 1;
  }
  return count;
}

/** The neuron update of one step; writes spiking neuron indices to the signal list, returns their count. */
// @ts-ignore: decorator
@inline
function neuronStep(ctl: usize): i32 {
  const nVec = word(ctl, C_NVEC);
  const n = word(ctl, C_N);
  const pV = ptr(ctl, C_V), pGE = ptr(ctl, C_GE), pGI = ptr(ctl, C_GI), pREF = ptr(ctl, C_REF);
  const pGL = ptr(ctl, C_GL), pC0 = ptr(ctl, C_C0), pEE = ptr(ctl, C_EE), pEI = ptr(ctl, C_EI);
  const pKDT = ptr(ctl, C_KDT), pVTH = ptr(ctl, C_VTH), pVRESET = ptr(ctl, C_VRESET);
  const pNREF = ptr(ctl, C_NREF), pDECE = ptr(ctl, C_DECE), pDECI = ptr(ctl, C_DECI);
  const pNOISE = ptr(ctl, C_NOISE);
  const list = ptr(ctl, C_SIG_LIST);
  let count = 0;
  let vi = 0;
  // Four vectors per iteration: their long, independent dependency chains overlap in the CPU.
  for (; vi + 4 <= nVec; vi += 4) {
    const j = <usize>vi << 4;
    const m0 = updateVec(j, pV, pGE, pGI, pREF, pGL, pC0, pEE, pEI, pKDT, pVTH, pVRESET, pNREF, pDECE, pDECI, pNOISE);
    const m1 = updateVec(j + 16, pV, pGE, pGI, pREF, pGL, pC0, pEE, pEI, pKDT, pVTH, pVRESET, pNREF, pDECE, pDECI, pNOISE);
    const m2 = updateVec(j + 32, pV, pGE, pGI, pREF, pGL, pC0, pEE, pEI, pKDT, pVTH, pVRESET, pNREF, pDECE, pDECI, pNOISE);
    const m3 = updateVec(j + 48, pV, pGE, pGI, pREF, pGL, pC0, pEE, pEI, pKDT, pVTH, pVRESET, pNREF, pDECE, pDECI, pNOISE);
    if (m0 | m1 | m2 | m3) {
      count = extract(m0, vi << 2, n, list, count);
      count = extract(m1, (vi + 1) << 2, n, list, count);
      count = extract(m2, (vi + 2) << 2, n, list, count);
      count = extract(m3, (vi + 3) << 2, n, list, count);
    }
  }
  for (; vi < nVec; vi++) count = extract(updateVec(<usize>vi << 4, pV, pGE, pGI, pREF, pGL, pC0, pEE, pEI, pKDT, pVTH, pVRESET, pNREF, pDECE, pDECI, pNOISE), vi << 2, n, list, count);
  return count;
}

/**
 * Runs up to nSteps steps. Stops early, before a step, when the spike record has room for fewer
 * than one spike per signal; returns the number of steps done (the host drains and calls again).
 */
export function lif_run(ctl: usize, nSteps: i32): i32 {
  const n = word(ctl, C_N);
  const nVec = word(ctl, C_NVEC);
  const nSrc = word(ctl, C_NSRC);
  const D = word(ctl, C_RING);
  const cap = word(ctl, C_SLOTCAP);
  const counts = ptr(ctl, C_SLOT_COUNT);
  const slots = ptr(ctl, C_SLOT_ROWS);
  const list = ptr(ctl, C_SIG_LIST);
  const recordSources = (word(ctl, C_FLAGS) & 1) != 0;
  const noise = ptr(ctl, C_NOISE);
  const spkCap = word(ctl, C_SPK_CAP);
  for (let done = 0; done < nSteps; done++) {
    if (spkCap - word(ctl, C_SPK_COUNT) < n + nSrc) return done;
    const s = word(ctl, C_STEP);
    // 1. arrivals, in the order they were queued
    const slot = s % D;
    const cAddr = counts + (<usize>slot << 2);
    const nArr = load<i32>(cAddr);
    const base = slots + ((<usize>slot * <usize>cap) << 2);
    const rec = ptr(ctl, C_ROW_REC);
    let a = 0;
    while (a + 1 < nArr) {
      const r0 = load<i32>(base + (<usize>a << 2));
      const r1 = load<i32>(base + (<usize>(a + 1) << 2));
      if (load<i32>(rec + (<usize>r0 << 2)) == load<i32>(rec + (<usize>r1 << 2))) {
        addRows2(ctl, r0, r1, nVec);
        a += 2;
      } else {
        addRow(ctl, r0, nVec);
        a++;
      }
    }
    if (a < nArr) addRow(ctl, load<i32>(base + (<usize>a << 2)), nVec);
    store<i32>(cAddr, 0);
    // 2. sources: Poisson (in source order), then the list events of this step
    if (nSrc > 0) {
      const np = poissonStep(ctl);
      for (let q = 0; q < np; q++) {
        const k = load<i32>(list + (<usize>q << 2));
        if (recordSources) recordSpike(ctl, s, k);
        queueRows(ctl, k, s);
      }
      const nEv = word(ctl, C_NEV);
      let pos = word(ctl, C_EV_POS);
      const evStep = ptr(ctl, C_EV_STEP);
      const evSrc = ptr(ctl, C_EV_SRC);
      while (pos < nEv && load<i32>(evStep + (<usize>pos << 2)) <= s) {
        if (load<i32>(evStep + (<usize>pos << 2)) == s) {
          const k = load<i32>(evSrc + (<usize>pos << 2));
          if (recordSources) recordSpike(ctl, s, k);
          queueRows(ctl, k, s);
        }
        pos++;
      }
      store<i32>(ctl + (<usize>C_EV_POS << 2), pos);
    }
    // 3. neurons
    if (noise) rng_fill_normal(ptr(ctl, C_NOISE_RNG), noise, n, load<f64>(ctl + (<usize>C_NOISE_SCALE << 2)));
    const ns = neuronStep(ctl);
    // 4. neuron spikes at t_{s+1}
    for (let q = 0; q < ns; q++) {
      const i = load<i32>(list + (<usize>q << 2));
      recordSpike(ctl, s + 1, nSrc + i);
      queueRows(ctl, nSrc + i, s + 1);
    }
    store<i32>(ctl + (<usize>C_STEP << 2), s + 1);
  }
  return nSteps;
}
