/**
 * Float reference of the tau adaptation of RESEARCH.md §1 ("Spatial noise"): once per Euler step,
 * with du the step's du/dt,
 *     tau_m += eta_tau * (ubr - basal) * du        (no dt factor; ubr = u + tau_r du)
 * which, with no error in the membrane, is eta_tau (tau_r - tau_m) du^2 and pulls tau_m toward tau_r.
 * Protocol: before training, without nudging or weight learning, samples presented for a few steps
 * each (10 in the reference), layer by layer from the input up, passes over the samples repeated
 * until the layer's mean |tau_m - tau_r| changes by less than `tolMs` between passes.
 * This is the float64 model (emulator/reference.ts stepping) that the engine's adaptation and the
 * processor firmware firmware-models/tau-adapt.s are checked against.
 */
import { fracMul, saturate, wrap } from '../isa/lanes.js';
import type { EmulatorModel } from '../emulator/model.js';
import { ReferenceModel } from '../emulator/reference.js';
import { populationDepths } from '../emulator/synaptic-filter.js';

export interface TauAdaptOptions {
  /** eta_tau per step (1/ms units: tau_m in ms changes by eta (ubr - basal) du). */
  eta: number;
  /** Steps per sample (the reference: 10). */
  stepsPerSample: number;
  /** Stop a layer when its mean |tau_m - tau_r| changes by less than this between passes (ms). */
  tolMs: number;
  /** At most this many passes per layer. */
  maxPasses: number;
  /** Bounds of tau_m (biological ms), e.g. the chip's range. */
  loMs?: number;
  hiMs?: number;
}

/** One pass over the samples for one layer: the layer's mean |tau_m - tau_r| after it. */
export interface TauAdaptPass {
  population: string;
  pass: number;
  mean_abs_gap_ms: number;
}

/** Non-input populations from the input up (depth order, then index): the order layers adapt in. */
export function adaptationOrder(m: Pick<EmulatorModel, 'populations' | 'projections'>): number[] {
  const depth = populationDepths(m);
  return m.populations
    .filter((p) => p.model !== 'input')
    .map((p) => p.index)
    .sort((a, b) => depth[a] - depth[b] || a - b);
}

/** Mean |tau_m - tau_r| of a population, ms. */
export function meanAbsGap(tauM: ArrayLike<number>, tauR: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < tauM.length; i++) s += Math.abs(tauM[i] - tauR[i]);
  return s / tauM.length;
}

/**
 * Runs the protocol on a float64 reference of the model; inputs are [count][input size] (the input
 * populations' values concatenated). Returns the adapted tau_m per population and the passes.
 */
export function adaptTauReference(
  model: EmulatorModel,
  inputs: Float32Array,
  count: number,
  o: TauAdaptOptions,
): { tau_m: Float64Array[]; passes: TauAdaptPass[]; model: ReferenceModel } {
  const R = new ReferenceModel(model);
  const inputPops = model.populations.filter((p) => p.model === 'input');
  const inputSize = inputPops.reduce((a, p) => a + p.size, 0);
  const passes: TauAdaptPass[] = [];
  for (const pi of adaptationOrder(model)) {
    const p = model.populations[pi];
    R.setTauAdaptation(pi, o.eta, o.loMs, o.hiMs);
    let before = meanAbsGap(R.tau_m[pi], p.tau_r_ms);
    for (let pass = 1; pass <= o.maxPasses; pass++) {
      for (let n = 0; n < count; n++) {
        let off = n * inputSize;
        for (const q of inputPops) {
          R.set(q.index, inputs.subarray(off, off + q.size));
          off += q.size;
        }
        for (let t = 0; t < o.stepsPerSample; t++) R.step(false, false);
      }
      const gap = meanAbsGap(R.tau_m[pi], p.tau_r_ms);
      passes.push({ population: p.name, pass, mean_abs_gap_ms: gap });
      const change = Math.abs(gap - before);
      before = gap;
      if (change < o.tolMs) break;
    }
    R.setTauAdaptation(pi, 0);
  }
  return { tau_m: R.tau_m, passes, model: R };
}

// ---------------------------------------------------------------- the firmware's own arithmetic
// What firmware-models/tau-adapt.s computes per update, in plain TypeScript, lane by lane with the
// vector unit's rounding (isa/lanes.ts), so the program can be checked bit for bit.

/** The fixed-point constants of one record: K n in Q0.15 and the shift S' (as tau-adapt.s halves K n). */
export function fixedKn(k: number, s: number, n: number): { kn: number; shift: number } {
  let kn = k * n;
  let shift = s;
  while (kn > 32767) {
    if (shift === 0) return { kn: 32767, shift: 0 };
    kn = (kn + 1) >> 1;
    shift--;
  }
  return { kn, shift };
}

/**
 * One fixed-point update of `cols` columns (16-bit lanes, 64 per chunk): ADC codes r, basal, u, r'
 * and tau_m trim codes per column; `random(lane)` is the lane generators' next 32-bit draw (drawn
 * for all 64 lanes of every chunk, as vnarrowsr does). Returns the new trim codes (not yet clamped
 * by the DAC).
 */
export function fixedUpdate(
  obs: { r: ArrayLike<number>; basal: ArrayLike<number>; u: ArrayLike<number>; rp: ArrayLike<number> },
  codes: ArrayLike<number>,
  cols: number,
  k: number,
  s: number,
  n: number,
  threshold: number,
  random: (lane: number) => number,
): number[] {
  const { kn, shift } = fixedKn(k, s, n);
  const out = Array.from(codes);
  const mask = (1 << shift) - 1;
  for (let c0 = 0; c0 < cols; c0 += 64) {
    for (let i = 0; i < 64; i++) {
      const c = c0 + i;
      const inside = c < cols;
      const dr = wrap((inside ? obs.r[c] : 0) - (inside ? obs.basal[c] : 0), 16);
      const db = wrap((inside ? obs.basal[c] : 0) - (inside ? obs.u[c] : 0), 16);
      const p = saturate(fracMul(saturate(dr << 7, 16), saturate(db << 7, 16), 16), 16);
      const q = saturate(fracMul(p, kn, 16), 16);
      const d = saturate((q + (random(i) & mask)) >> shift, 8);
      if (!inside || !(threshold < (obs.rp[c] ?? 0))) continue;
      out[c] = saturate(out[c] + d, 16);
    }
  }
  return out;
}

/** One float32 update (ideal chip): t += fround(fround(fround(r - basal) * fround(basal - u)) * fround(K n)) where r' > threshold. */
export function floatUpdate(
  obs: { r: ArrayLike<number>; basal: ArrayLike<number>; u: ArrayLike<number>; rp: ArrayLike<number> },
  trims: ArrayLike<number>,
  k: number,
  n: number,
  threshold: number,
  trimRange: number,
): number[] {
  const f = Math.fround;
  const kn = f(f(n) * f(k));
  return Array.from(trims, (t, c) => {
    const fr = f(obs.r[c]), fb = f(obs.basal[c]), fu = f(obs.u[c]);
    const d = f(obs.rp[c]) > f(threshold) ? f(f(f(fr - fb) * f(fb - fu)) * kn) : 0;
    return Math.max(-trimRange, Math.min(trimRange, f(f(t) + d)));
  });
}
