/**
 * Option values: parsers that commander calls (a value of the wrong form is a malformed command
 * line, exit 2) and range checks the commands apply (a well-formed value out of range is a user
 * error, exit 1). Also the chip options shared by run and train.
 */
import { InvalidArgumentError, Option } from 'commander';
import { fail } from '../common/diagnostics.js';
import { MISMATCH_PARAMETERS, type ChipSpecT } from '../chip/spec.js';
import { PLACEMENTS } from '../compiler/place.js';
import { checkCalibration, checkCalibrationFor, type Calibration } from '../emulator/calibration/format.js';
import type { ChipConfig, MismatchOverrides } from '../emulator/chip-interface.js';
import { effectiveMismatch } from '../emulator/mismatch.js';
import { readJson } from './files.js';

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

/** `--placement pack|spread`: how the compile puts blocks on cores (commands that compile and take --cores). */
export function placementOption(): Option {
  return new Option(
    '--placement <P>',
    'how blocks go on cores: pack (first fit, fewest cores) or spread (synapses per core balanced over the --cores N, so the plasticity processors share the work)',
  )
    .choices(PLACEMENTS)
    .default('pack');
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
  plasticity?: 'firmware' | 'kernel';
  processor?: 'interpret' | 'translate' | 'auto';
  weightKernels?: 'auto' | 'float' | 'int8';
  dt?: number;
  tauDistribution?: 'lognormal' | 'normal';
  /** A calibration file of `lechip calibrate`. */
  calibration?: string;
  /** Threads the emulator steps the chip on. */
  threads?: number;
  /** Temporal noise and synaptic filtering (RESEARCH.md §1 "Temporal noise"). */
  rateNoise?: number;
  tauS?: number;
  filterErrors?: boolean;
  filterTargets?: boolean;
}

/** The mismatch options alone (--mismatch-scale, --mismatch, --tau-distribution). */
export function mismatchOptions(): Option[] {
  return [
    new Option('--mismatch-scale <X>', 'multiplies every mismatch sigma').argParser(numberArg),
    new Option('--mismatch <k=v,...>', 'sets individual mismatch sigmas, e.g. tau_m=0.3,tau_r=0.3').argParser(mismatchArg),
    new Option('--tau-distribution <D>', "distribution of time-constant mismatch: lognormal, or normal = N(1, s) as the LE paper (default: the preset's)").choices(['lognormal', 'normal']),
  ];
}

/** The temporal noise options (--rate-noise, --tau-s, --filter-errors, --no-filter-targets). */
export function noiseOptions(): Option[] {
  return [
    new Option('--rate-noise <SIGMA>', "rate noise per step, r += N(0, SIGMA) (default: the preset's)").argParser(numberArg),
    new Option('--tau-s <MS>', 'synaptic low-pass of every projection\'s rates, biological ms (default 0: off)').argParser(numberArg),
    new Option('--filter-errors', 'low-pass the errors with tau_s too'),
    new Option('--no-filter-targets', 'do not low-pass targets (default with --tau-s: tau = depth x tau_s)'),
  ];
}

/** Adds --chip-seed, --seed, the mismatch and noise options, --calibration, --processor-timing and --dt to a command. */
export function chipInstanceOptions(): Option[] {
  return [
    ...mismatchOptions(),
    ...noiseOptions(),
    new Option('--calibration <CALIB.json>', 'trim codes of this chip instance, made by lechip calibrate'),
    new Option('--chip-seed <N>', 'chip instance: seeds its fixed-pattern deviations').argParser(intArg).default(0),
    new Option('--seed <S>', "seed of the run's own draws (noise, data order)").argParser(intArg).default(1),
    new Option('--processor-timing <mode>', 'cycle (faithful) or ideal (firmware costs no time)').choices(['cycle', 'ideal']),
    new Option('--plasticity <mode>', "who applies the LE plasticity: firmware (the image's, on the plasticity processors; default) or kernel (the engine's update kernel, the speed baseline)").choices(['firmware', 'kernel']),
    new Option('--processor <mode>', 'how the plasticity processors run firmware: auto (translated to WebAssembly under ideal timing, interpreted under cycle timing; default), translate or interpret (identical results)').choices(['auto', 'translate', 'interpret']),
    new Option('--weight-kernels <mode>', 'synapse-array products on fixed-point chips: auto (int8 codes for arrays beyond the caches; default), int8 or float (identical results)').choices(['auto', 'float', 'int8']),
    new Option('--dt <MS>', 'Euler step, biological ms (default: the image\'s)').argParser(numberArg),
    new Option('--threads <N>', 'threads the emulator steps the chip on, 1 to 16 (results identical; default 1)').argParser(intArg),
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
  if (o.plasticity !== undefined) cfg.plasticity = o.plasticity;
  if (o.processor !== undefined) cfg.processor = o.processor;
  if (o.weightKernels !== undefined) cfg.weightKernels = o.weightKernels;
  if (o.dt !== undefined) cfg.dtMs = o.dt;
  if (o.threads !== undefined) {
    if (!(o.threads >= 1 && o.threads <= 16)) fail(`--threads must be an integer from 1 to 16 (got ${o.threads})`);
    cfg.threads = o.threads;
  }
  if (o.tauDistribution !== undefined) cfg.tauDistribution = o.tauDistribution;
  checkNonNegative('--rate-noise', o.rateNoise);
  checkNonNegative('--tau-s', o.tauS);
  if (o.filterErrors && o.tauS === undefined) fail('--filter-errors needs --tau-s (the synaptic time constant of the filter)');
  if (o.rateNoise !== undefined || o.tauS !== undefined) {
    cfg.noise = {};
    if (o.rateNoise !== undefined) cfg.noise.rate = o.rateNoise;
    if (o.tauS !== undefined) {
      cfg.noise.tau_s_ms = o.tauS;
      cfg.noise.filter_errors = o.filterErrors ?? false;
      cfg.noise.filter_targets = o.filterTargets ?? true;
    }
  }
  if (o.calibration !== undefined) cfg.calibration = readCalibration(o.calibration);
  return cfg;
}

/** Reads and checks a calibration file (its shape; whether it fits the chip is checked by checkCalibrationFits). */
export function readCalibration(file: string): Calibration {
  return checkCalibration(readJson(file, 'calibration'), file);
}

/** Checks that the configured calibration belongs to this chip instance (chip, chip seed, mismatch), naming the file. */
export function checkCalibrationFits(config: ChipConfig, chip: ChipSpecT, file: string | undefined): void {
  if (config.calibration === undefined) return;
  checkCalibrationFor(config.calibration as Calibration, chip, config.chipSeed ?? 0, effectiveMismatch(chip, config), file);
}
