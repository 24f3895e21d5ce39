/**
 * The identity of a robustness sweep and its cells (shared by the command, the workers and the
 * results file); the work itself is in ./cell.ts.
 */
import type { ChipSpecT } from '../../chip/spec.js';
import type { EffectiveMismatch } from '../../emulator/mismatch.js';

export const CONDITIONS = ['raw', 'calibrated', 'tau-adapted', 'both'] as const;
export type Condition = (typeof CONDITIONS)[number];

/** Everything the cells of one sweep share (its fingerprint decides whether a sweep can resume). */
export interface SweepSettings {
  network: { file: string; name: string; sha256: string };
  /** The description's text (compiled in every cell). */
  net_text: string;
  chip: ChipSpecT;
  cores?: number | 'auto';
  /** The compile's placement; absent: 'pack'. */
  placement?: 'spread';
  dataset: string;
  samples?: number;
  test?: number;
  epochs: number;
  seed: number;
  /** Mismatch at scale 1: the preset's, with --mismatch and --tau-distribution applied. */
  base_mismatch: EffectiveMismatch;
  rate_noise?: number;
  filter_errors: boolean;
  filter_targets: boolean;
  /** Steps per sample (dt = T_pres / steps); absent: the description's dt. */
  steps_per_sample?: number;
  plasticity: 'kernel' | 'firmware';
  /** The tau adaptation: by the processors' firmware (tau-adapt.s) or by the engine's ideal float rule. */
  tau_adapt: { by: 'firmware' | 'engine'; eta: number; samples: number; steps_per_sample: number; max_passes: number; tol_ms: number };
  calibration_iterations: number;
}

export interface CellKey {
  mismatch_scale: number;
  chip_seed: number;
  condition: Condition;
  t_pres_ms: number;
  tau_s_ms: number;
}

export interface CellResult extends CellKey {
  test_accuracy: number | null;
  test_loss: number;
  train_samples: number;
  test_samples: number;
  dt_ms: number;
  /** Calibration spreads (sd/mean, offsets sd) before and after, when the condition calibrates. */
  calibration: Record<string, { before: number; after: number }> | null;
  /** Mean |tau_m - tau_r| over the adapted populations before and after (ms), when tau_m adapts. */
  tau_adaptation: { gap_before_ms: number; gap_after_ms: number; passes: number } | null;
  /** Wall time and training throughput (not deterministic: left out of the CSV). */
  wall_s: number;
  samples_per_s: number;
}

export interface CellProgress {
  phase: string;
  done: number;
  total: number;
}

/** A cell's identity as text (results are keyed and sorted by it). */
export function cellId(k: CellKey): string {
  return `s=${k.mismatch_scale}|seed=${k.chip_seed}|${k.condition}|tpres=${k.t_pres_ms}|taus=${k.tau_s_ms}`;
}

