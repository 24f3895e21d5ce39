/**
 * `lechip/calibration@1`: what `lechip calibrate` writes and `--calibration` reads. It names the
 * chip instance it belongs to (preset name, sha256 of the chip description, chip seed, and the
 * mismatch settings in force, which shape the instance as much as its seed), holds one signed trim
 * code per neuron column per parameter for every calibrated core, and reports the spreads it
 * measured before and after trimming. A calibration for another chip instance is a user error.
 */
import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { ValidateFunction } from 'ajv';
import { UserError, type Diagnostic } from '../../common/diagnostics.js';
import { checkAgainstSchema, makeAjv } from '../../common/schema-check.js';
import type { ChipSpecT, MismatchParameter } from '../../chip/spec.js';
import { TRIM_PARAMETERS, trimCodeRange } from '../trims.js';

export const CALIBRATION_FORMAT = 'lechip/calibration@1';

const Codes = Type.Array(Type.Integer());
const Dist = Type.Union([Type.Literal('lognormal'), Type.Literal('normal')]);
const Mm = Type.Object({ distribution: Dist, sigma: Type.Number({ minimum: 0 }) }, { additionalProperties: false });

/** Spread of one parameter across circuits (CONTRACT.md: sd/mean for relative, sd in the unit otherwise). */
export const ParameterReport = Type.Object(
  {
    unit: Type.String(),
    relative: Type.Boolean(),
    /** The value every circuit is trimmed toward (nominal; relative parameters as a factor of 1). */
    target: Type.Number(),
    spread_before: Type.Number({ minimum: 0 }),
    spread_after: Type.Number({ minimum: 0 }),
    /** Circuits whose trim hit the end of the DAC range. */
    saturated: Type.Integer({ minimum: 0 }),
    circuits: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export const CoreTrimsSchema = Type.Object(
  { core: Type.Integer({ minimum: 0 }), tau_m: Codes, tau_r: Codes, gain: Codes, offset: Codes, synapse_gain: Codes },
  { additionalProperties: false },
);

export const CalibrationSchema = Type.Object(
  {
    format: Type.Literal(CALIBRATION_FORMAT),
    tool_version: Type.String(),
    chip: Type.String({ minLength: 1 }),
    chip_sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    chip_seed: Type.Integer({ minimum: 0 }),
    mismatch: Type.Object(
      { tau_m: Mm, tau_r: Mm, gain: Mm, offset: Mm, synapse_gain: Mm },
      { additionalProperties: false },
    ),
    dac_bits: Type.Integer({ minimum: 1 }),
    trim_range: Type.Number({ exclusiveMinimum: 0 }),
    trims: Type.Array(CoreTrimsSchema, { minItems: 1 }),
    parameters: Type.Record(Type.String(), ParameterReport),
    iterations: Type.Integer({ minimum: 0 }),
    /** Seed of the measurement's own draws (noise streams). */
    seed: Type.Integer({ minimum: 0 }),
    wall_s: Type.Optional(Type.Number({ minimum: 0 })),
    /** Present when tau_m trims were then set by the on-chip tau adaptation (emulator/tau-adapt.ts). */
    tau_adaptation: Type.Optional(
      Type.Object(
        {
          network: Type.String(),
          eta: Type.Number(),
          steps_per_sample: Type.Integer({ minimum: 1 }),
          samples: Type.Integer({ minimum: 0 }),
          passes: Type.Array(Type.Object({ population: Type.String(), pass: Type.Integer(), mean_abs_gap_ms: Type.Number() }, { additionalProperties: false })),
          mean_abs_gap_ms_before: Type.Record(Type.String(), Type.Number()),
          mean_abs_gap_ms_after: Type.Record(Type.String(), Type.Number()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type Calibration = Static<typeof CalibrationSchema>;
export type CoreTrims = Static<typeof CoreTrimsSchema>;
export type ParameterReportT = Static<typeof ParameterReport>;
export type MismatchSettings = Calibration['mismatch'];

let validator: ValidateFunction | undefined;

/** JSON with object keys sorted, so equal descriptions hash equally whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha256 of a chip description (its `description` and `sources` texts left out: they change no circuit). */
export function chipSha256(chip: ChipSpecT): string {
  const { description: _d, sources: _s, ...rest } = chip;
  return createHash('sha256').update(canonical(rest)).digest('hex');
}

/** Checks a parsed calibration file's shape and code ranges; every mistake at once. */
export function checkCalibration(value: unknown, file?: string): Calibration {
  validator ??= makeAjv().compile(CalibrationSchema);
  if (typeof value === 'object' && value !== null && (value as { format?: unknown }).format !== CALIBRATION_FORMAT) {
    throw new UserError({ file, pointer: '/format', message: `not a lechip calibration (expected "format": "${CALIBRATION_FORMAT}", made by lechip calibrate)` });
  }
  const diags = checkAgainstSchema(validator, value, file);
  if (diags.length) throw new UserError(diags);
  const cal = value as Calibration;
  const more: Diagnostic[] = [];
  const { min, max } = trimCodeRange({ parameters: { dac_bits: cal.dac_bits } } as ChipSpecT);
  cal.trims.forEach((t, n) => {
    if (cal.trims.findIndex((u) => u.core === t.core) !== n) more.push({ file, pointer: `/trims/${n}/core`, message: `core ${t.core} is listed twice` });
    for (const p of TRIM_PARAMETERS) {
      const codes = t[p];
      if (codes.length !== t.tau_m.length) {
        more.push({ file, pointer: `/trims/${n}/${p}`, message: `${codes.length} codes, but tau_m has ${t.tau_m.length} (one per neuron column)` });
      }
      const bad = codes.findIndex((c) => c < min || c > max);
      if (bad >= 0) more.push({ file, pointer: `/trims/${n}/${p}/${bad}`, message: `trim code ${codes[bad]} is outside the ${cal.dac_bits}-bit DAC range ${min}..${max}` });
    }
  });
  if (more.length) throw new UserError(more);
  return cal;
}

/**
 * Checks that a calibration belongs to this chip instance: same chip (name and description hash),
 * same chip seed, same mismatch settings, same trim DACs. `file` names the calibration in messages.
 */
export function checkCalibrationFor(cal: Calibration, chip: ChipSpecT, chipSeed: number, mismatch: MismatchSettings, file?: string): void {
  const at = (pointer: string, message: string): never => {
    throw new UserError({ file, pointer, message });
  };
  if (cal.chip !== chip.name) at('/chip', `this calibration is for chip ${cal.chip} (chip seed ${cal.chip_seed}), but the run uses chip ${chip.name} (chip seed ${chipSeed})`);
  if (cal.chip_seed !== chipSeed) {
    at('/chip_seed', `this calibration is for chip ${cal.chip} with chip seed ${cal.chip_seed}, but the run uses chip ${chip.name} with chip seed ${chipSeed}; calibrate that instance (lechip calibrate --chip ${chip.name} --chip-seed ${chipSeed})`);
  }
  if (cal.chip_sha256 !== chipSha256(chip)) at('/chip_sha256', `this calibration was made for another description of chip ${cal.chip} (sha256 ${cal.chip_sha256.slice(0, 12)}..., the run's is ${chipSha256(chip).slice(0, 12)}...)`);
  for (const p of TRIM_PARAMETERS) {
    const a = cal.mismatch[p];
    const b = mismatch[p as MismatchParameter];
    if (a.distribution !== b.distribution || Math.abs(a.sigma - b.sigma) > 1e-12 * Math.max(1, b.sigma)) {
      at(`/mismatch/${p}`, `this calibration was measured with ${p} mismatch ${a.distribution} sigma ${a.sigma}, but the run has ${b.distribution} sigma ${b.sigma} (--mismatch, --mismatch-scale and --tau-distribution must match the calibration's)`);
    }
  }
  if (cal.dac_bits !== chip.parameters.dac_bits || cal.trim_range !== chip.parameters.trim_range) {
    at('/dac_bits', `trim DACs differ: the calibration has ${cal.dac_bits} bits over +-${cal.trim_range}, chip ${chip.name} ${chip.parameters.dac_bits} bits over +-${chip.parameters.trim_range}`);
  }
}
