/**
 * `lechip/chip@1`: what a chip is. Presets in chip/presets/*.json and users' custom chips share
 * this schema. Every value of a preset names its source (or says it is our assumption) in
 * `sources`, keyed by JSON pointer. chip/ imports nothing from compiler/ or emulator/.
 */
import { Type, type Static } from '@sinclair/typebox';

const Dist = Type.Union([Type.Literal('lognormal'), Type.Literal('normal')]);

/** Fixed-pattern deviation of one kind of circuit parameter. Relative parameters: factor with
 * mean 1 (lognormal: exp(N(0, sigma)) / normal: N(1, sigma)); absolute ones: additive N(0, sigma). */
export const MismatchEntry = Type.Object(
  { distribution: Dist, sigma: Type.Number({ minimum: 0 }) },
  { additionalProperties: false },
);

export const TimeConstantRange = Type.Object(
  { min_us: Type.Number({ exclusiveMinimum: 0, unit: 'us' }), max_us: Type.Number({ exclusiveMinimum: 0, unit: 'us' }) },
  { additionalProperties: false },
);

export const ChipSpec = Type.Object(
  {
    format: Type.Literal('lechip/chip@1'),
    name: Type.String({ minLength: 1 }),
    description: Type.String(),
    /** t_hw = t_bio / speedup. */
    speedup: Type.Number({ exclusiveMinimum: 0 }),
    /** One core: a synapse array of rows x neurons, its row drivers, neuron columns and one processor. */
    core: Type.Object(
      { neurons: Type.Integer({ minimum: 1 }), rows: Type.Integer({ minimum: 1 }) },
      { additionalProperties: false },
    ),
    cores_per_chip: Type.Integer({ minimum: 1 }),
    /** Cores a system has unless --cores says otherwise: a number, or 'auto' (as many as needed). */
    default_cores: Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('auto')]),
    weights: Type.Object(
      {
        kind: Type.Union([Type.Literal('float32'), Type.Literal('fixed')]),
        /** Magnitude bits for per_row sign (codes 0..2^bits-1 on an excitatory or an inhibitory row);
         * total bits including sign for per_synapse (codes -(2^(bits-1)-1)..2^(bits-1)-1). */
        bits: Type.Integer({ minimum: 1, maximum: 32 }),
        sign: Type.Union([Type.Literal('per_synapse'), Type.Literal('per_row'), Type.Literal('float')]),
      },
      { additionalProperties: false },
    ),
    /** Analog parameters set through DACs: hardware ranges and trim resolution. */
    parameters: Type.Object(
      {
        tau_m: TimeConstantRange,
        tau_r: TimeConstantRange,
        dac_bits: Type.Integer({ minimum: 1, maximum: 24 }),
        /** Trim DACs cover nominal x (1 +- trim_range) for relative parameters. */
        trim_range: Type.Number({ exclusiveMinimum: 0 }),
      },
      { additionalProperties: false },
    ),
    /** Column ADC through which the processor reads observables. */
    adc: Type.Object(
      { bits: Type.Integer({ minimum: 1, maximum: 24 }), min: Type.Number(), max: Type.Number() },
      { additionalProperties: false },
    ),
    mismatch: Type.Object(
      {
        tau_m: MismatchEntry,
        tau_r: MismatchEntry,
        gain: MismatchEntry,
        offset: MismatchEntry,
        synapse_gain: MismatchEntry,
      },
      { additionalProperties: false },
    ),
    noise: Type.Object(
      {
        /** White membrane noise: u += membrane * sqrt(dt_ms) * N(0,1) each step (units of u per sqrt(ms) bio). */
        membrane: Type.Number({ minimum: 0 }),
        /** Rate noise per step: r += N(0, rate) (the LE paper's temporal noise). */
        rate: Type.Number({ minimum: 0 }),
        /** ADC read noise in LSB (standard deviation). */
        adc_lsb: Type.Number({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    processor: Type.Object(
      {
        clock_mhz: Type.Number({ exclusiveMinimum: 0 }),
        memory_kib: Type.Integer({ minimum: 1 }),
        vector_bytes: Type.Integer({ minimum: 4 }),
        element_bits: Type.Array(Type.Union([Type.Literal(8), Type.Literal(16), Type.Literal(32)]), { minItems: 1 }),
        timing: Type.Union([Type.Literal('cycle'), Type.Literal('ideal')]),
        /** Cycle costs by instruction class (the isa table refers to these classes). */
        cycles: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
      },
      { additionalProperties: false },
    ),
    sources: Type.Record(Type.String(), Type.String()),
  },
  { additionalProperties: false },
);

export type ChipSpecT = Static<typeof ChipSpec>;
export type MismatchEntryT = Static<typeof MismatchEntry>;
export type MismatchParameter = keyof ChipSpecT['mismatch'];
export const MISMATCH_PARAMETERS: MismatchParameter[] = ['tau_m', 'tau_r', 'gain', 'offset', 'synapse_gain'];
/** Parameters whose mismatch is a multiplicative factor (the rest are additive offsets). */
export const RELATIVE_PARAMETERS: ReadonlySet<MismatchParameter> = new Set(['tau_m', 'tau_r', 'gain', 'synapse_gain']);
export const PRESET_NAMES = ['ideal', 'spikey', 'bss1', 'bss2'] as const;
