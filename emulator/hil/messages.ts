/**
 * What each command carries, in both directions: the `Chip` interface's arguments and results
 * turned into payloads (JSON parameters + binary arrays) and back. The client encodes requests and
 * decodes replies, the server the other way round; both use these functions, so they cannot drift.
 * Names on the wire are snake_case (docs/hil-protocol.md lists every field).
 */
import { fail, UserError } from '../../common/diagnostics.js';
import type { ChipConfig, CircuitParameters, PopulationRecording, PresentOptions, Recording, RunOptions, Schedule } from '../chip-interface.js';
import { losslessFloats, ndarray, type NdArray, type Payload, type TypedArray } from './protocol.js';

/** Fields of CircuitParameters, in wire order. */
export const PARAMETER_FIELDS = ['tau_m_us', 'tau_r_us', 'gain', 'offset', 'bias'] as const;

function payload(json: Record<string, unknown> = {}, arrays: [string, NdArray][] = []): Payload {
  return { json, arrays: new Map(arrays) };
}

// ---------------------------------------------------------------------------------------------
// Reading requests: every argument is checked; a mistake is a UserError naming the command and
// the JSON pointer (or array name), which the server sends back as a bad_arguments error.

/** Checks the fields of one request's JSON and arrays, failing with the command's name. */
export class Args {
  constructor(
    readonly command: string,
    readonly p: Payload,
  ) {}

  private bad(where: string, rule: string): never {
    return fail(`${this.command}: ${rule}`, { pointer: where });
  }

  /** A finite number (optional when `dflt` is given or `optional`). */
  number(key: string, opts: { min?: number; positive?: boolean; integer?: boolean; optional?: boolean } = {}): number | undefined {
    const v = this.p.json[key];
    if (v === undefined || v === null) {
      if (opts.optional) return undefined;
      return this.bad(`/${key}`, 'missing, expected a number');
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.bad(`/${key}`, `expected a finite number, got ${JSON.stringify(v)}`);
    if (opts.integer && !Number.isSafeInteger(v)) return this.bad(`/${key}`, `expected an integer, got ${v}`);
    if (opts.min !== undefined && v < opts.min) return this.bad(`/${key}`, `must be ${opts.min} or more, got ${v}`);
    if (opts.positive && !(v > 0)) return this.bad(`/${key}`, `must be greater than 0, got ${v}`);
    return v;
  }

  /** A number that must be present. */
  requiredNumber(key: string, opts: { min?: number; positive?: boolean; integer?: boolean } = {}): number {
    return this.number(key, opts) as number;
  }

  boolean(key: string): boolean | undefined {
    const v = this.p.json[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') return this.bad(`/${key}`, `expected true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  string(key: string): string {
    const v = this.p.json[key];
    if (typeof v !== 'string' || v === '') return this.bad(`/${key}`, `expected a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }

  optionalString(key: string): string | undefined {
    const v = this.p.json[key];
    if (v === undefined || v === null) return undefined;
    return this.string(key);
  }

  stringList(key: string): string[] | undefined {
    const v = this.p.json[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return this.bad(`/${key}`, 'expected a list of population names');
    return v as string[];
  }

  /** An array by name, optional. */
  optionalArray(name: string): NdArray | undefined {
    return this.p.arrays.get(name);
  }

  /** An array by name that must be present. */
  array(name: string): NdArray {
    const a = this.p.arrays.get(name);
    if (!a) return this.bad(`array "${name}"`, `missing array "${name}"`);
    return a;
  }

  /** A float array (float32 or float64) by name. */
  floats(name: string): Float32Array | Float64Array {
    const a = this.array(name);
    if (a.dtype !== 'f32' && a.dtype !== 'f64') return this.bad(`array "${name}"`, `array "${name}" must be float32 or float64, got ${a.dtype}`);
    return a.data as Float32Array | Float64Array;
  }
}

// ---------------------------------------------------------------------------------------------
// HELLO

export interface HelloRequest {
  /** Protocol versions the client speaks. */
  versions: number[];
  client: string;
  token?: string;
}

export function encodeHello(h: HelloRequest): Payload {
  const json: Record<string, unknown> = { versions: h.versions, client: h.client };
  if (h.token !== undefined) json.token = h.token;
  return payload(json);
}

export function decodeHello(p: Payload): HelloRequest {
  const v = p.json.versions;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isInteger(x))) fail('HELLO: expected a non-empty list of protocol versions', { pointer: '/versions' });
  const client = typeof p.json.client === 'string' ? p.json.client.slice(0, 200) : 'unknown';
  const token = p.json.token;
  if (token !== undefined && typeof token !== 'string') fail('HELLO: the access token must be a string', { pointer: '/token' });
  return { versions: v as number[], client, token: token as string | undefined };
}

/** What a server says about itself in reply to HELLO. */
export interface ServerDescription {
  /** The protocol version chosen for this connection: the highest both sides speak. */
  protocol: number;
  /** Every version the server speaks (version 2 on). */
  protocols?: number[];
  server: string;
  tool_version: string;
  /** The chip behind the connection. */
  chip: { emulated: boolean; backend: string; presets: string[] };
  limits: {
    max_frame_bytes: number;
    max_connection_bytes: number;
    max_run_ms: number;
    idle_timeout_s: number;
    read_timeout_s: number;
    /** Largest `threads` a CONFIGURE may ask for (version 2 on). */
    max_threads?: number;
  };
  /** CONFIGURE's fields at the chosen version (version 2 on). */
  configure_fields?: string[];
  /** Identifies this connection in the server's log. */
  connection: number;
}

// ---------------------------------------------------------------------------------------------
// LOAD_IMAGE

export function encodeLoadImage(image: Uint8Array): Payload {
  return payload({}, [['image', ndarray(image)]]);
}

export function decodeLoadImage(p: Payload): Uint8Array {
  const a = new Args('LOAD_IMAGE', p).array('image');
  if (a.dtype !== 'u8') fail(`LOAD_IMAGE: array "image" must be uint8 bytes of a .lechip file, got ${a.dtype}`);
  return a.data as Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// CONFIGURE: ChipConfig <-> snake_case JSON

/**
 * Every ChipConfig field, its wire name, and the protocol version that introduced it. A field of a
 * later version than the connection's is refused (bad_arguments naming the version), so a version 1
 * connection means exactly what version 1 meant. The `satisfies` check below fails to compile when
 * ChipConfig gains a field that is not listed here.
 */
export const CONFIG_WIRE = [
  ['chipSeed', 'chip_seed', 1],
  ['seed', 'seed', 1],
  ['mismatchScale', 'mismatch_scale', 1],
  ['mismatch', 'mismatch', 1],
  ['tauDistribution', 'tau_distribution', 1],
  ['calibration', 'calibration', 1],
  ['processorTiming', 'processor_timing', 1],
  ['plasticity', 'plasticity', 2],
  ['processor', 'processor', 2],
  ['dtMs', 'dt_ms', 1],
  ['threads', 'threads', 2],
  ['noise', 'noise', 1],
] as const satisfies readonly (readonly [keyof ChipConfig, string, number])[];

/**
 * Compile-time check that CONFIG_WIRE names every field of ChipConfig, except weightKernels: a
 * choice of the emulating machine's kernels with identical results, which the server makes itself
 * ('auto').
 */
type MissingOnWire = Exclude<keyof ChipConfig, (typeof CONFIG_WIRE)[number][0] | 'weightKernels'>;
const everyFieldOnWire: [MissingOnWire] extends [never] ? true : { missing: MissingOnWire } = true;
void everyFieldOnWire;

/** Keys of CONFIGURE's `noise` object: numbers, then booleans, each with the version that added it. */
const NOISE_NUMBERS: readonly (readonly [string, number])[] = [['membrane', 1], ['rate', 1], ['adc_lsb', 1], ['tau_s_ms', 2]];
const NOISE_FLAGS: readonly (readonly [string, number])[] = [['filter_errors', 2], ['filter_targets', 2]];

/** CONFIGURE's wire field names a connection of protocol `version` may send (the HELLO reply lists them). */
export function configureFields(version: number): string[] {
  return CONFIG_WIRE.filter(([, , v]) => v <= version).map(([, w]) => w);
}

export function encodeConfigure(c: ChipConfig): Payload {
  const json: Record<string, unknown> = {};
  for (const [k, w] of CONFIG_WIRE) if (c[k] !== undefined) json[w] = c[k];
  return payload(json);
}

function numberRecord(a: Args, key: string, allowed: readonly string[]): Record<string, number> | undefined {
  const v = a.p.json[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) fail(`${a.command}: expected an object of numbers`, { pointer: `/${key}` });
  for (const [k, x] of Object.entries(v as object)) {
    if (!allowed.includes(k)) fail(`${a.command}: unknown key "${k}"; one of ${allowed.join(', ')}`, { pointer: `/${key}/${k}` });
    if (typeof x !== 'number' || !Number.isFinite(x)) fail(`${a.command}: expected a finite number`, { pointer: `/${key}/${k}` });
  }
  return v as Record<string, number>;
}

/** CONFIGURE's `noise`: numbers and flags, each key allowed from its version on (the chip checks the ranges, as in process). */
function noiseRecord(a: Args, version: number): ChipConfig['noise'] {
  const v = a.p.json.noise;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) fail('CONFIGURE: expected an object', { pointer: '/noise' });
  const numbers = NOISE_NUMBERS.filter(([, since]) => since <= version).map(([k]) => k);
  const flags = NOISE_FLAGS.filter(([, since]) => since <= version).map(([k]) => k);
  const out: Record<string, number | boolean> = {};
  for (const [k, x] of Object.entries(v as object)) {
    const where = { pointer: `/noise/${k}` };
    if (numbers.includes(k)) {
      if (typeof x !== 'number' || !Number.isFinite(x)) fail('CONFIGURE: expected a finite number', where);
    } else if (flags.includes(k)) {
      if (typeof x !== 'boolean') fail(`CONFIGURE: expected true or false, got ${JSON.stringify(x)}`, where);
    } else {
      const later = [...NOISE_NUMBERS, ...NOISE_FLAGS].find(([name]) => name === k);
      if (later) fail(`CONFIGURE: noise key "${k}" needs protocol version ${later[1]}; this connection speaks ${version}`, where);
      fail(`CONFIGURE: unknown key "${k}"; one of ${[...numbers, ...flags].join(', ')}`, where);
    }
    out[k] = x as number | boolean;
  }
  return out as ChipConfig['noise'];
}

/** A string field that must be one of `choices`. */
function choice<T extends string>(a: Args, key: string, choices: readonly T[]): T | undefined {
  const v = a.optionalString(key);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) fail(`CONFIGURE: expected ${choices.map((c) => JSON.stringify(c)).join(' or ')}, got ${JSON.stringify(v)}`, { pointer: `/${key}` });
  return v as T;
}

/** Reads CONFIGURE's JSON as the connection's protocol `version` defines it (default: the newest). */
export function decodeConfigure(p: Payload, version: number = CONFIG_WIRE.reduce((m, [, , v]) => Math.max(m, v), 1)): ChipConfig {
  const a = new Args('CONFIGURE', p);
  const known = configureFields(version);
  for (const k of Object.keys(p.json)) {
    if (known.includes(k)) continue;
    const later = CONFIG_WIRE.find(([, w]) => w === k);
    if (later) fail(`CONFIGURE: field "${k}" needs protocol version ${later[2]}; this connection speaks ${version}`, { pointer: `/${k}` });
    fail(`CONFIGURE: unknown field "${k}"; known: ${known.join(', ')}`, { pointer: `/${k}` });
  }
  const c: ChipConfig = {};
  const chipSeed = a.number('chip_seed', { optional: true, integer: true, min: 0 });
  if (chipSeed !== undefined) c.chipSeed = chipSeed;
  const seed = a.number('seed', { optional: true, integer: true, min: 0 });
  if (seed !== undefined) c.seed = seed;
  const scale = a.number('mismatch_scale', { optional: true, min: 0 });
  if (scale !== undefined) c.mismatchScale = scale;
  const mismatch = numberRecord(a, 'mismatch', ['tau_m', 'tau_r', 'gain', 'offset', 'synapse_gain']);
  if (mismatch) c.mismatch = mismatch;
  const dist = choice(a, 'tau_distribution', ['lognormal', 'normal'] as const);
  if (dist !== undefined) c.tauDistribution = dist;
  if (p.json.calibration !== undefined && p.json.calibration !== null) c.calibration = p.json.calibration;
  const timing = choice(a, 'processor_timing', ['cycle', 'ideal'] as const);
  if (timing !== undefined) c.processorTiming = timing;
  const plasticity = choice(a, 'plasticity', ['firmware', 'kernel'] as const);
  if (plasticity !== undefined) c.plasticity = plasticity;
  const processor = choice(a, 'processor', ['interpret', 'translate', 'auto'] as const);
  if (processor !== undefined) c.processor = processor;
  const dt = a.number('dt_ms', { optional: true, positive: true });
  if (dt !== undefined) c.dtMs = dt;
  const threads = a.number('threads', { optional: true, integer: true, min: 1 });
  if (threads !== undefined) c.threads = threads;
  const noise = noiseRecord(a, version);
  if (noise) c.noise = noise;
  return c;
}

// ---------------------------------------------------------------------------------------------
// WRITE_INPUTS: per population arrays `<group>/<pop>/t` [n] and `<group>/<pop>/value`, either
// [n][size] or, when the entries differ in length, flat with `<group>/<pop>/len` [n] (uint32).

function packSchedules(group: string, schedules: Record<string, Schedule>, arrays: [string, NdArray][]): string[] {
  const names = Object.keys(schedules);
  for (const pop of names) {
    const s = schedules[pop];
    arrays.push([`${group}/${pop}/t`, ndarray(losslessFloats(s.map((e) => e.t)))]);
    const lengths = s.map((e) => e.value.length);
    const total = lengths.reduce((x, y) => x + y, 0);
    const flat = new Float64Array(total);
    let pos = 0;
    for (const e of s) {
      for (let i = 0; i < e.value.length; i++) flat[pos + i] = e.value[i];
      pos += e.value.length;
    }
    const values = losslessFloats(flat);
    const rectangular = lengths.every((n) => n === lengths[0]);
    if (rectangular && s.length > 0) arrays.push([`${group}/${pop}/value`, ndarray(values, [s.length, lengths[0]])]);
    else {
      arrays.push([`${group}/${pop}/value`, ndarray(values)]);
      arrays.push([`${group}/${pop}/len`, ndarray(Uint32Array.from(lengths))]);
    }
  }
  return names;
}

export function encodeWriteInputs(inputs: Record<string, Schedule>, targets?: Record<string, Schedule>): Payload {
  const arrays: [string, NdArray][] = [];
  const json: Record<string, unknown> = { inputs: packSchedules('inputs', inputs, arrays) };
  if (targets !== undefined) json.targets = packSchedules('targets', targets, arrays);
  return payload(json, arrays);
}

function unpackSchedules(a: Args, group: string): Record<string, Schedule> | undefined {
  const pops = a.stringList(group);
  if (pops === undefined) return undefined;
  const out: Record<string, Schedule> = {};
  for (const pop of pops) {
    const t = a.floats(`${group}/${pop}/t`);
    const v = a.array(`${group}/${pop}/value`);
    if (v.dtype !== 'f32' && v.dtype !== 'f64') fail(`WRITE_INPUTS: array "${group}/${pop}/value" must be float32 or float64, got ${v.dtype}`);
    const lenArray = a.optionalArray(`${group}/${pop}/len`);
    let lengths: number[];
    if (lenArray) {
      if (lenArray.dtype !== 'u32' || lenArray.data.length !== t.length) fail(`WRITE_INPUTS: array "${group}/${pop}/len" must be uint32 with one length per time (${t.length})`);
      lengths = Array.from(lenArray.data);
    } else {
      if (v.shape.length !== 2 || v.shape[0] !== t.length) {
        fail(`WRITE_INPUTS: array "${group}/${pop}/value" must have shape [${t.length}][size] (one row per time), got [${v.shape}]`);
      }
      lengths = new Array(t.length).fill(v.shape[1]);
    }
    if (lengths.reduce((x, y) => x + y, 0) !== v.data.length) fail(`WRITE_INPUTS: lengths of "${group}/${pop}" do not add up to its ${v.data.length} values`);
    const s: Schedule = [];
    let pos = 0;
    for (let k = 0; k < t.length; k++) {
      s.push({ t: t[k], value: v.data.subarray(pos, pos + lengths[k]) });
      pos += lengths[k];
    }
    out[pop] = s;
  }
  return out;
}

export function decodeWriteInputs(p: Payload): { inputs: Record<string, Schedule>; targets?: Record<string, Schedule> } {
  const a = new Args('WRITE_INPUTS', p);
  const inputs = unpackSchedules(a, 'inputs') ?? {};
  const targets = unpackSchedules(a, 'targets');
  return targets === undefined ? { inputs } : { inputs, targets };
}

// ---------------------------------------------------------------------------------------------
// RUN

export function encodeRun(o: RunOptions): Payload {
  const json: Record<string, unknown> = { duration_ms: o.durationMs };
  if (o.record !== undefined) json.record = o.record;
  if (o.sampleEveryMs !== undefined) json.sample_every_ms = o.sampleEveryMs;
  if (o.learn !== undefined) json.learn = o.learn;
  if (o.nudge !== undefined) json.nudge = o.nudge;
  return payload(json);
}

export function decodeRun(p: Payload): RunOptions {
  const a = new Args('RUN', p);
  const o: RunOptions = { durationMs: a.requiredNumber('duration_ms', { min: 0 }) };
  const record = a.stringList('record');
  if (record !== undefined) o.record = record;
  const every = a.number('sample_every_ms', { optional: true, positive: true });
  if (every !== undefined) o.sampleEveryMs = every;
  const learn = a.boolean('learn');
  if (learn !== undefined) o.learn = learn;
  const nudge = a.boolean('nudge');
  if (nudge !== undefined) o.nudge = nudge;
  return o;
}

/** A list of numbers or of rows, as an array: matrix when rectangular, flat + lengths when ragged. */
function packSeries(name: string, value: unknown, arrays: [string, NdArray][]): string | undefined {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    arrays.push([name, ndarray(losslessFloats(value as unknown as ArrayLike<number>))]);
    return 'vector';
  }
  if (!Array.isArray(value)) return undefined;
  if (value.every((x) => typeof x === 'number')) {
    arrays.push([name, ndarray(losslessFloats(value))]);
    return 'vector';
  }
  const isRow = (x: unknown) => (Array.isArray(x) && x.every((y) => typeof y === 'number')) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
  if (!value.every(isRow)) return undefined;
  const rows = value as ArrayLike<number>[];
  const lengths = rows.map((r) => r.length);
  const flat = new Float64Array(lengths.reduce((x, y) => x + y, 0));
  let pos = 0;
  for (const r of rows) {
    for (let i = 0; i < r.length; i++) flat[pos + i] = r[i];
    pos += r.length;
  }
  const values = losslessFloats(flat);
  if (rows.length > 0 && lengths.every((n) => n === lengths[0])) {
    arrays.push([name, ndarray(values, [rows.length, lengths[0]])]);
    return 'matrix';
  }
  arrays.push([`${name}/value`, ndarray(values)]);
  arrays.push([`${name}/len`, ndarray(Uint32Array.from(lengths))]);
  return 'ragged';
}

function unpackSeries(name: string, kind: unknown, arrays: Map<string, NdArray>): unknown {
  const get = (n: string) => {
    const a = arrays.get(n);
    if (!a) throw new UserError({ message: `reply lacks array "${n}"` });
    return a;
  };
  if (kind === 'vector') return Array.from(get(name).data);
  if (kind === 'matrix') {
    const a = get(name);
    const [n, k] = a.shape;
    const out: number[][] = [];
    for (let i = 0; i < n; i++) out.push(Array.from(a.data.subarray(i * k, (i + 1) * k)));
    return out;
  }
  if (kind === 'ragged') {
    const v = get(`${name}/value`).data;
    const len = get(`${name}/len`).data;
    const out: number[][] = [];
    let pos = 0;
    for (const n of len) {
      out.push(Array.from(v.subarray(pos, pos + n)));
      pos += n;
    }
    return out;
  }
  throw new UserError({ message: `reply names an unknown series kind ${JSON.stringify(kind)} for "${name}"` });
}

/**
 * A Recording as a reply: every series (t_bio_ms, t_hw_us, each population's r, u and whatever
 * else the chip records) becomes an array, every scalar stays in JSON. JSON `series` names the
 * kind of each array so the client rebuilds the exact object.
 */
export function encodeRecording(rec: Recording): Payload {
  const arrays: [string, NdArray][] = [];
  const json: Record<string, unknown> = {};
  const series: Record<string, string> = {};
  for (const [key, value] of Object.entries(rec)) {
    if (key === 'record') continue;
    const kind = packSeries(key, value, arrays);
    if (kind) series[key] = kind;
    else json[key] = value;
  }
  const record: Record<string, Record<string, unknown>> = {};
  for (const [pop, fields] of Object.entries(rec.record)) {
    record[pop] = {};
    for (const [field, value] of Object.entries(fields)) {
      const name = `record/${pop}/${field}`;
      const kind = packSeries(name, value, arrays);
      record[pop][field] = kind ? { series: kind } : { value };
    }
  }
  json.series = series;
  json.record = record;
  return payload(json, arrays);
}

export function decodeRecording(p: Payload): Recording {
  const { series, record, ...rest } = p.json as { series?: Record<string, string>; record?: Record<string, Record<string, { series?: string; value?: unknown }>> };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) if (key !== 'time') out[key] = value;
  for (const [key, kind] of Object.entries(series ?? {})) out[key] = unpackSeries(key, kind, p.arrays);
  const rec: Record<string, PopulationRecording> = {};
  for (const [pop, fields] of Object.entries(record ?? {})) {
    const f: Record<string, unknown> = {};
    for (const [field, desc] of Object.entries(fields)) f[field] = desc.series !== undefined ? unpackSeries(`record/${pop}/${field}`, desc.series, p.arrays) : desc.value;
    rec[pop] = f as unknown as PopulationRecording;
  }
  out.record = rec;
  return out as unknown as Recording;
}

// ---------------------------------------------------------------------------------------------
// PRESENT

export function encodePresent(o: PresentOptions): Payload {
  const json: Record<string, unknown> = { input_size: o.inputSize, count: o.count, t_pres_ms: o.tPresMs, learn: o.learn, readout: o.readout };
  if (o.onProgress && o.progressEvery !== undefined) json.progress_every = o.progressEvery;
  const arrays: [string, NdArray][] = [['inputs', ndarray(losslessFloats(o.inputs))]];
  if (o.targets !== undefined) arrays.push(['targets', ndarray(losslessFloats(o.targets))]);
  return payload(json, arrays);
}

/** PRESENT's options without the callback (the server adds one that sends progress frames). */
export function decodePresent(p: Payload): Omit<PresentOptions, 'onProgress'> {
  const a = new Args('PRESENT', p);
  const o: Omit<PresentOptions, 'onProgress'> = {
    inputSize: a.requiredNumber('input_size', { integer: true, min: 1 }),
    count: a.requiredNumber('count', { integer: true, min: 0 }),
    tPresMs: a.requiredNumber('t_pres_ms', { positive: true }),
    learn: a.boolean('learn') ?? false,
    readout: a.string('readout'),
    inputs: toFloat32(a, 'inputs'),
  };
  if (p.arrays.has('targets')) o.targets = toFloat32(a, 'targets');
  const every = a.number('progress_every', { optional: true, integer: true, min: 1 });
  if (every !== undefined) o.progressEvery = every;
  return o;
}

/** PresentOptions holds Float32Array; a float64 array on the wire is accepted and rounded once. */
function toFloat32(a: Args, name: string): Float32Array {
  const f = a.floats(name);
  return f instanceof Float32Array ? f : Float32Array.from(f);
}

/** PRESENT's readout [count][size]. */
export function encodeReadout(readout: Float32Array, count: number): Payload {
  const size = count > 0 && readout.length % count === 0 ? readout.length / count : readout.length;
  const shape = count > 0 && readout.length % count === 0 ? [count, size] : [readout.length];
  return payload({}, [['readout', ndarray(readout, shape)]]);
}

export function decodeReadout(p: Payload): Float32Array {
  const a = p.arrays.get('readout');
  if (!a || a.dtype !== 'f32') throw new UserError({ message: 'PRESENT reply lacks a float32 array "readout"' });
  return a.data as Float32Array;
}

// ---------------------------------------------------------------------------------------------
// Weights

export function encodeReadWeights(projection: number): Payload {
  return payload({ projection });
}

export function decodeProjection(command: string, p: Payload): number {
  return new Args(command, p).requiredNumber('projection', { integer: true, min: 0 });
}

/** Weights [post][pre]; `shape` when the server knows the projection's sizes. */
export function encodeWeights(weights: TypedArray, shape?: number[]): Payload {
  const s = shape && shape.reduce((x, y) => x * y, 1) === weights.length ? shape : [weights.length];
  return payload({}, [['weights', ndarray(weights, s)]]);
}

export function decodeWeights(p: Payload): Float32Array {
  const a = p.arrays.get('weights');
  if (!a || a.dtype !== 'f32') throw new UserError({ message: 'READ_WEIGHTS reply lacks a float32 array "weights"' });
  return a.data as Float32Array;
}

export function encodeWriteWeights(projection: number, weights: ArrayLike<number>): Payload {
  return payload({ projection }, [['weights', ndarray(losslessFloats(weights))]]);
}

export function decodeWriteWeights(p: Payload): { projection: number; weights: Float32Array | Float64Array } {
  const a = new Args('WRITE_WEIGHTS', p);
  return { projection: decodeProjection('WRITE_WEIGHTS', p), weights: a.floats('weights') };
}

// ---------------------------------------------------------------------------------------------
// Parameters

export function encodePopulation(population: string): Payload {
  return payload({ population });
}

export function decodePopulation(command: string, p: Payload): string {
  return new Args(command, p).string('population');
}

export function encodeParameters(params: Partial<CircuitParameters>, population?: string): Payload {
  const arrays: [string, NdArray][] = [];
  for (const f of PARAMETER_FIELDS) {
    const v = params[f];
    if (v !== undefined) arrays.push([f, ndarray(losslessFloats(v))]);
  }
  return payload(population !== undefined ? { population } : {}, arrays);
}

/** The parameters present in a payload; CircuitParameters holds Float32Array. */
export function decodeParameters(command: string, p: Payload): Partial<CircuitParameters> {
  const a = new Args(command, p);
  const out: Partial<CircuitParameters> = {};
  for (const name of p.arrays.keys()) {
    if (!(PARAMETER_FIELDS as readonly string[]).includes(name)) fail(`${command}: unknown parameter array "${name}"; known: ${PARAMETER_FIELDS.join(', ')}`);
  }
  for (const f of PARAMETER_FIELDS) if (p.arrays.has(f)) out[f] = toFloat32(a, f);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The JSON of an error frame. */
export interface ErrorBody {
  code: number;
  name: string;
  message: string;
  /** For bad_arguments: the diagnostics, each naming the place and the rule. */
  diagnostics?: { message: string; pointer?: string; file?: string; line?: number; column?: number }[];
  /** True when the server closes the connection after this frame. */
  fatal?: boolean;
}
