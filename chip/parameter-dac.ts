/**
 * The neuron-parameter DACs as the plasticity processor sees them (`vldp`/`vstp`, docs/isa.md).
 * Trim DACs follow emulator/trims.ts: signed codes of `parameters.dac_bits` bits, trim value
 * t = trim_range · code / 2^(bits−1). The bias DAC (our assumption) has signed codes of
 * b = min(dac_bits, 16) bits, bias = BIAS_RANGE · code / 2^(b−1), so it spans ±BIAS_RANGE rate units.
 * Shared by the core bus, the link pass and the firmware reference so that all quantise alike.
 */
import type { ChipSpecT } from './spec.js';

/** Full scale of the bias DAC in rate units (our assumption; docs/isa.md). */
export const BIAS_RANGE = 2;

type DacChip = Pick<ChipSpecT, 'parameters'>;

/** Code range of the bias DAC: [−2^(b−1), 2^(b−1) − 1], b = min(dac_bits, 16). */
export function biasCodeRange(chip: DacChip): { min: number; max: number } {
  const half = 2 ** (Math.min(chip.parameters.dac_bits, 16) - 1);
  return { min: -half, max: half - 1 };
}

/** Value of one bias code step, rate units. */
export function biasLsb(chip: DacChip): number {
  return BIAS_RANGE / 2 ** (Math.min(chip.parameters.dac_bits, 16) - 1);
}

/** Value of one trim code step (relative deviation, or rate units for the offset), as emulator/trims.ts. */
export function trimLsb(chip: DacChip): number {
  return chip.parameters.trim_range / 2 ** (chip.parameters.dac_bits - 1);
}

/** Code range of a trim DAC, clamped to what a 16-bit lane holds. */
export function trimLaneRange(chip: DacChip): { min: number; max: number } {
  const half = 2 ** (chip.parameters.dac_bits - 1);
  return { min: Math.max(-half, -32768), max: Math.min(half - 1, 32767) };
}

/** The code a value maps to: round half away from zero, clamped to [min, max]. */
export function valueToCode(value: number, lsb: number, range: { min: number; max: number }): number {
  const q = value / lsb;
  if (Number.isNaN(q)) return 0;
  const c = q < 0 ? -Math.round(-q) : Math.round(q);
  return c > range.max ? range.max : c < range.min ? range.min : c;
}
