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
