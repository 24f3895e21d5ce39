/**
 * The neuron-parameter DACs as the plasticity processor sees them (`vldp`/`vstp`, docs/isa.md):
 * signed codes of b = min(dac_bits, 16) bits, ±(2^(b−1) − 1). The bias DAC spans ±BIAS_RANGE rate
 * units; a trim DAC spans ±trim_range of relative deviation (tau_m, tau_r, gain: untrimmed × (1 + x))
 * or of absolute offset (offset: untrimmed + x). Shared by the core bus, the link pass and the
 * firmware references so that all three quantise alike.
 */
import type { ChipSpecT } from './spec.js';

/** Full scale of the bias DAC in rate units (our assumption; docs/isa.md). */
export const BIAS_RANGE = 2;

/** Largest code magnitude of a parameter DAC: 2^(b−1) − 1 with b = min(dac_bits, 16). */
export function dacCodeMax(chip: Pick<ChipSpecT, 'parameters'>): number {
  const b = Math.min(chip.parameters.dac_bits, 16);
  return 2 ** (b - 1) - 1;
}

/** Value of one bias code step, rate units. */
export function biasLsb(chip: Pick<ChipSpecT, 'parameters'>): number {
  return BIAS_RANGE / dacCodeMax(chip);
}

/** Value of one trim code step (relative deviation, or rate units for the offset). */
export function trimLsb(chip: Pick<ChipSpecT, 'parameters'>): number {
  return chip.parameters.trim_range / dacCodeMax(chip);
}

/** The code a value maps to: round half away from zero, clamped to ±codeMax. */
export function valueToCode(value: number, lsb: number, codeMax: number): number {
  const q = value / lsb;
  const c = q < 0 ? -Math.round(-q) : Math.round(q);
  return c > codeMax ? codeMax : c < -codeMax ? -codeMax : Number.isNaN(c) ? 0 : c;
}
