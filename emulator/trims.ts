/**
 * Trim DACs: each neuron circuit has one trim DAC per calibratable parameter (tau_m, tau_r,
 * activation gain, offset, and the gain of its synaptic input), set by a signed code of the
 * preset's `parameters.dac_bits` bits, 0 = nominal:
 *   code in [-2^(bits-1), 2^(bits-1) - 1],  trim value t = trim_range * code / 2^(bits-1)
 *   relative parameters (tau_m, tau_r, gain, synapse_gain): value = nominal x deviation x (1 + t)
 *   offset (absolute, rate units):                           value = nominal + deviation + t
 * So trims span nominal x (1 +- trim_range) (bss2: +-60 % in steps of 0.12 %) and offsets
 * +-trim_range rate units (the preset's `/parameters/trim_range` source states both).
 * Pure arithmetic on codes: no chip instance, no hidden draw.
 */
import { RELATIVE_PARAMETERS, type ChipSpecT, type MismatchParameter } from '../chip/spec.js';

/** Parameters with a trim DAC per neuron column, in calibration-file order. */
export const TRIM_PARAMETERS: readonly MismatchParameter[] = ['tau_m', 'tau_r', 'gain', 'offset', 'synapse_gain'];

type TrimChip = Pick<ChipSpecT, 'parameters'>;

/** Smallest and largest signed trim code of the chip's DACs. */
export function trimCodeRange(chip: TrimChip): { min: number; max: number } {
  const half = 2 ** (chip.parameters.dac_bits - 1);
  return { min: -half, max: half - 1 };
}

/** The trim a code sets: the relative change (relative parameters) or the addend in rate units (offset). */
export function trimValue(chip: TrimChip, code: number): number {
  return (chip.parameters.trim_range * code) / 2 ** (chip.parameters.dac_bits - 1);
}

/** Applies a trim code to a realised (untrimmed) value of parameter `param`. */
export function applyTrim(chip: TrimChip, param: MismatchParameter, value: number, code: number): number {
  const t = trimValue(chip, code);
  return RELATIVE_PARAMETERS.has(param) ? value * (1 + t) : value + t;
}

/**
 * The code whose trim best gives `wanted` (relative: the factor 1 + t wanted; offset: the addend
 * wanted), rounded to the DAC's resolution and clamped to its range.
 */
export function codeFor(chip: TrimChip, param: MismatchParameter, wanted: number): { code: number; saturated: boolean } {
  const t = RELATIVE_PARAMETERS.has(param) ? wanted - 1 : wanted;
  const exact = (t / chip.parameters.trim_range) * 2 ** (chip.parameters.dac_bits - 1);
  const { min, max } = trimCodeRange(chip);
  const code = Math.round(exact);
  if (!Number.isFinite(exact)) return { code: 0, saturated: true };
  if (code < min) return { code: min, saturated: true };
  if (code > max) return { code: max, saturated: true };
  return { code, saturated: false };
}
