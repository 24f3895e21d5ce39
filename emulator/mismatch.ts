/**
 * The mismatch in force for a run: the preset's distribution and sigma per circuit parameter, with
 * --mismatch-scale, --mismatch and --tau-distribution applied (CONTRACT.md "Chips"). Settings only;
 * the draw itself lives in emulator/instance.ts.
 */
import type { ChipSpecT, MismatchParameter } from '../chip/spec.js';
import type { ChipConfig } from './chip-interface.js';

/** The mismatch actually in force: distribution and sigma per parameter. */
export type EffectiveMismatch = Record<MismatchParameter, { distribution: 'lognormal' | 'normal'; sigma: number }>;

/** Applies --mismatch-scale, --mismatch and the time-constant distribution override to a preset. */
export function effectiveMismatch(chip: ChipSpecT, config: ChipConfig): EffectiveMismatch {
  const scale = config.mismatchScale ?? 1;
  const out = {} as EffectiveMismatch;
  for (const key of Object.keys(chip.mismatch) as MismatchParameter[]) {
    const preset = chip.mismatch[key];
    const override = config.mismatch?.[key];
    const sigma = override !== undefined ? override : preset.sigma * scale;
    const isTau = key === 'tau_m' || key === 'tau_r';
    out[key] = { distribution: isTau && config.tauDistribution ? config.tauDistribution : preset.distribution, sigma };
  }
  return out;
}
