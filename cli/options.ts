/**
 * Option values: parsers that commander calls (a value of the wrong form is a malformed command
 * line, exit 2) and range checks the commands apply (a well-formed value out of range is a user
 * error, exit 1). Also the chip options shared by run and train.
 */
import { InvalidArgumentError, Option } from 'commander';
import { fail } from '../common/diagnostics.js';
import { MISMATCH_PARAMETERS } from '../chip/spec.js';
import type { ChipConfig, MismatchOverrides } from '../emulator/chip-interface.js';

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses an integer written in decimal digits (exit 2 for anything else). */
export function intArg(value: string): number {
  if (!INTEGER.test(value.trim())) throw new InvalidArgumentError('expected an integer.');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('integer too large.');
  return n;
}

/** Parses a decimal number such as 0.5, 1e-3 or 20 (exit 2 for anything else). */
export function numberArg(value: string): number {
  if (!DECIMAL.test(value.trim())) throw new InvalidArgumentError('expected a number.');
  return Number(value);
}

/** Parses `--cores`: a whole number or `auto`. */
export function coresArg(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  if (!INTEGER.test(value.trim())) throw new InvalidArgumentError("expected a whole number of cores or 'auto'.");
  return Number(value);
}

/** Parses a comma-separated list of names (`out,h1`). */
export function listArg(value: string): string[] {
  const names = value.split(',').map((s) => s.trim());
  if (names.some((s) => s === '')) throw new InvalidArgumentError('expected names separated by commas, e.g. out,h1.');
  return names;
}

/** Parses `--mismatch tau_m=0.3,tau_r=0.3`: sigmas per circuit parameter. */
export function mismatchArg(value: string): MismatchOverrides {
  const out: MismatchOverrides = {};
  for (const part of value.split(',')) {
    const m = /^\s*([A-Za-z_]+)\s*=\s*(\S+)\s*$/.exec(part);
    if (!m) throw new InvalidArgumentError(`expected key=value pairs separated by commas, e.g. tau_m=0.3,tau_r=0.3 (got '${part}').`);
    const key = m[1] as (typeof MISMATCH_PARAMETERS)[number];
    if (!MISMATCH_PARAMETERS.includes(key)) throw new InvalidArgumentError(`unknown parameter '${m[1]}'; one of ${MISMATCH_PARAMETERS.join(', ')}.`);
    if (!DECIMAL.test(m[2])) throw new InvalidArgumentError(`'${m[2]}' for ${key} is not a number.`);
    out[key] = Number(m[2]);
  }
  return out;
}

/** A number option must be > 0 (exit 1 otherwise). */
export function checkPositive(flag: string, v: number | undefined, unit = ''): void {
  if (v !== undefined && !(v > 0 && Number.isFinite(v))) fail(`${flag} must be greater than 0${unit ? ` ${unit}` : ''} (got ${v})`);
}

/** A number option must be >= 0 (exit 1 otherwise). */
export function checkNonNegative(flag: string, v: number | undefined): void {
  if (v !== undefined && !(v >= 0 && Number.isFinite(v))) fail(`${flag} must be 0 or more (got ${v})`);
}

/** An integer option must be >= 1 (exit 1 otherwise). */
export function checkPositiveInt(flag: string, v: number | undefined): void {
  if (v !== undefined && !(v >= 1)) fail(`${flag} must be a positive integer (got ${v})`);
}

/** A seed must be a non-negative integer below 2^53 (exit 1 otherwise). */
export function checkSeed(flag: string, v: number | undefined): void {
  if (v !== undefined && !(v >= 0)) fail(`${flag} must be a non-negative integer (got ${v})`);
}

/** The chip-instance options of run and train, as commander reads them. */
export interface ChipOptionValues {
  chipSeed: number;
  seed: number;
  mismatchScale?: number;
  mismatch?: MismatchOverrides;
  processorTiming?: 'cycle' | 'ideal';
  dt?: number;
}

/** Adds --chip-seed, --seed, --mismatch-scale, --mismatch, --processor-timing and --dt to a command. */
export function chipInstanceOptions(): Option[] {
  return [
    new Option('--chip-seed <N>', 'chip instance: seeds its fixed-pattern deviations').argParser(intArg).default(0),
    new Option('--seed <S>', "seed of the run's own draws (noise, data order)").argParser(intArg).default(1),
    new Option('--mismatch-scale <X>', 'multiplies every mismatch sigma').argParser(numberArg),
    new Option('--mismatch <k=v,...>', 'sets individual mismatch sigmas, e.g. tau_m=0.3,tau_r=0.3').argParser(mismatchArg),
    new Option('--processor-timing <mode>', 'cycle (faithful) or ideal (firmware costs no time)').choices(['cycle', 'ideal']),
    new Option('--dt <MS>', 'Euler step, biological ms (default: the image\'s)').argParser(numberArg),
  ];
}

/** Checks the chip-instance options' ranges and builds the emulator's configuration. */
export function chipConfig(o: ChipOptionValues): ChipConfig {
  checkSeed('--chip-seed', o.chipSeed);
  checkSeed('--seed', o.seed);
  checkNonNegative('--mismatch-scale', o.mismatchScale);
  for (const [k, v] of Object.entries(o.mismatch ?? {})) checkNonNegative(`--mismatch ${k}`, v);
  checkPositive('--dt', o.dt, 'ms');
  const cfg: ChipConfig = { chipSeed: o.chipSeed, seed: o.seed };
  if (o.mismatchScale !== undefined) cfg.mismatchScale = o.mismatchScale;
  if (o.mismatch !== undefined) cfg.mismatch = o.mismatch;
  if (o.processorTiming !== undefined) cfg.processorTiming = o.processorTiming;
  if (o.dt !== undefined) cfg.dtMs = o.dt;
  return cfg;
}
