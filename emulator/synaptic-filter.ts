/**
 * Synaptic filtering shared by the WASM engine and the float64 reference: whether it is on, the
 * filter constants of a step, and the depth of a population (the target low-pass of an output
 * population has tau = depth x tau_s, since each projection on the way adds one tau_s of lag).
 */
import type { EmulatorModel } from './model.js';

/** Low-passed values below this magnitude are flushed to 0 (kernels/adapt.ts does the same): a
 * decaying filter would otherwise sink into subnormal floats, slow on x86, and keep zero inputs
 * from being skipped in the forward pass. */
export const LOWPASS_FLUSH = 1e-12;

/** One low-pass step y + k (x - y), flushed to 0 below LOWPASS_FLUSH. */
export function lowpassStep(y: number, x: number, k: number): number {
  const n = y + k * (x - y);
  return Math.abs(n) < LOWPASS_FLUSH ? 0 : n;
}

/** True when the model low-passes its synaptic signals. */
export function filterOn(m: EmulatorModel): boolean {
  return m.filter !== undefined && m.filter.tau_s_ms > 0;
}

/** Projections on the longest path from an input population to each population (0 for inputs). */
export function populationDepths(m: Pick<EmulatorModel, 'populations' | 'projections'>): number[] {
  const depth = m.populations.map(() => 0);
  // Longest path by relaxation; a recurrent loop cannot lengthen a path beyond the population count.
  for (let pass = 0; pass < m.populations.length; pass++) {
    let changed = false;
    for (const j of m.projections) {
      const d = Math.min(depth[j.pre] + 1, m.populations.length);
      if (d > depth[j.post]) {
        depth[j.post] = d;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return depth;
}

/** dt / tau for one low-pass step (1 means no filtering: the filtered value follows at once). */
export function lowpassFactor(dtMs: number, tauMs: number): number {
  return tauMs > 0 ? Math.min(1, dtMs / tauMs) : 1;
}

/** The target filter's factor for population pi (depth x tau_s). */
export function targetFactor(m: EmulatorModel, depths: number[], pi: number): number {
  return lowpassFactor(m.dt_ms, Math.max(1, depths[pi]) * (m.filter?.tau_s_ms ?? 0));
}
