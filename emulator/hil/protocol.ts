/**
 * The hardware-in-the-loop wire protocol, versions 1 and 2 (same frames; version 2 adds CONFIGURE
 * fields, docs/hil-protocol.md "Versions"): binary frames over TCP. docs/hil-protocol.md
 * is the reference a client in another language is written from; this file is its one
 * implementation in TypeScript (framing, payload codec, frame types, error codes).
 *
 * Frame = 20-byte header + payload, all integers little-endian:
 *   0   magic "LEHL"                4 bytes
 *   4   protocol version            u16 (1 or 2)
 *   6   frame type                  u16 (requests 0x0001.., replies 0x8000 | request, 0x8080 progress, 0x80FF error)
 *   8   request id                  u32 (chosen by the client, echoed in the reply; 0 = not tied to a request)
 *   12  payload length in bytes     u32
 *   16  CRC32 (zlib)                u32 over header bytes [0, 16) followed by the payload
 * Payload:
 *   u32 J, J bytes of UTF-8 JSON (an object; J = 0 means {}), u32 N, then N arrays, each
 *   u8 dtype, u8 ndim, u16 name length L, L bytes UTF-8 name, ndim x u32 dims, then the elements
 *   (product of dims, little-endian) with no padding. The payload ends exactly after the last array.
 */
import * as zlib from 'node:zlib';
import { crc32 as crc32Js } from '../../chip/crc32.js';

export const MAGIC = new Uint8Array([0x4c, 0x45, 0x48, 0x4c]); // "LEHL"
/** The newest protocol version this implementation speaks. */
export const PROTOCOL_VERSION = 2;
/** Protocol versions this implementation speaks, oldest first. */
export const SUPPORTED_VERSIONS: readonly number[] = [1, 2];
export const HEADER_BYTES = 20;
/** Largest number of dimensions of one array. */
export const MAX_NDIM = 4;

/** Request frame types (client → server). */
export const Command = {
  HELLO: 0x0001,
  LOAD_IMAGE: 0x0002,
  CONFIGURE: 0x0003,
  WRITE_INPUTS: 0x0004,
  RUN: 0x0005,
  PRESENT: 0x0006,
  READ_WEIGHTS: 0x0007,
  WRITE_WEIGHTS: 0x0008,
  READ_PARAMETERS: 0x0009,
  WRITE_PARAMETERS: 0x000a,
  RESET: 0x000b,
  TIME: 0x000c,
  BYE: 0x000d,
} as const;
export type CommandName = keyof typeof Command;
export type CommandCode = (typeof Command)[CommandName];

/** A reply to request type t has type REPLY_BIT | t. */
export const REPLY_BIT = 0x8000;
/** Progress of a long request (PRESENT), sent before its reply with the same request id. */
export const FRAME_PROGRESS = 0x8080;
/** An error, in place of the reply (or with request id 0 when not tied to a request). */
export const FRAME_ERROR = 0x80ff;

const COMMAND_BY_CODE = new Map<number, CommandName>(Object.entries(Command).map(([k, v]) => [v, k as CommandName]));

/** Name of a request type, or undefined for an unknown one. */
export function commandName(type: number): CommandName | undefined {
  return COMMAND_BY_CODE.get(type);
}

/** Error codes carried by error frames (the table in docs/hil-protocol.md). */
export const ErrorCode = {
  MALFORMED_FRAME: 1,
  UNSUPPORTED_VERSION: 2,
  UNKNOWN_COMMAND: 3,
  PAYLOAD_TOO_LARGE: 4,
  BAD_ARGUMENTS: 5,
  NOT_LOADED: 6,
  TIMEOUT: 7,
  SHUTTING_DOWN: 8,
  UNAUTHORISED: 9,
  INTERNAL: 10,
  LIMIT_EXCEEDED: 11,
  HELLO_REQUIRED: 12,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];
const ERROR_NAME_BY_CODE = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v, k.toLowerCase()]));

/** Lower-case name of an error code (`bad_arguments`), or `error_<n>` for an unknown one. */
export function errorName(code: number): string {
  return ERROR_NAME_BY_CODE.get(code) ?? `error_${code}`;
}

/** Element types of arrays, as stored in the array header (u8). */
export const DType = { f32: 1, i8: 2, u8: 3, u32: 4, f64: 5 } as const;
export type DTypeName = keyof typeof DType;
const DTYPE_BY_CODE = new Map<number, DTypeName>(Object.entries(DType).map(([k, v]) => [v, k as DTypeName]));
/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<DTypeName, number> = { f32: 4, i8: 1, u8: 1, u32: 4, f64: 8 };

export type TypedArray = Float32Array | Int8Array | Uint8Array | Uint32Array | Float64Array;

/** An n-dimensional array of a payload: row-major elements with their shape. */
export interface NdArray {
  dtype: DTypeName;
  shape: number[];
  data: TypedArray;
}

/** The two parts of a payload: JSON parameters and named binary arrays. */
export interface Payload {
  json: Record<string, unknown>;
  arrays: Map<string, NdArray>;
}

export interface Frame {
  version: number;
  type: number;
  requestId: number;
  payload: Payload;
}

/** Result of decoding bytes that may hold a frame. */
export type DecodeResult =
  | { kind: 'frame'; frame: Frame; size: number }
  /** Not enough bytes yet; `size` is how many are needed in total (known once the header is in). */
  | { kind: 'need'; size: number }
  /** `fatal`: framing is lost and the connection must close; otherwise `size` bytes are skipped. */
  | { kind: 'error'; code: ErrorCodeValue; message: string; fatal: boolean; requestId: number; size: number };

/**
 * CRC-32 (zlib's) continuing from `crc`: node:zlib's native crc32 where the runtime has it (Node
 * 20.15+, about 4x faster on a megabyte of weights), else chip/crc32.ts; both give the same value.
 */
const crc32: (bytes: Uint8Array, crc?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (bytes, crc = 0) => (zlib as unknown as { crc32(b: Uint8Array, c: number): number }).crc32(bytes, crc) >>> 0
    : crc32Js;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** An empty payload. */
export function emptyPayload(): Payload {
  return { json: {}, arrays: new Map() };
}

/** Builds an NdArray from a typed array and a shape (checked against its length). */
export function ndarray(data: TypedArray, shape: number[] = [data.length]): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`ndarray: shape [${shape}] holds ${n} elements, data has ${data.length}`);
  return { dtype: dtypeOf(data), shape, data };
}

/** The dtype name of a typed array. */
export function dtypeOf(data: TypedArray): DTypeName {
  if (data instanceof Float32Array) return 'f32';
  if (data instanceof Float64Array) return 'f64';
  if (data instanceof Int8Array) return 'i8';
  if (data instanceof Uint8Array) return 'u8';
  if (data instanceof Uint32Array) return 'u32';
  throw new Error('unsupported typed array');
}

/**
 * Numbers as the narrowest float array that holds every value exactly: float32 when each value
 * survives a round trip through float32 (weights, rates and schedules usually do), else float64.
 * That keeps a remote run bit-identical to an in-process one.
 */
export function losslessFloats(values: ArrayLike<number>): Float32Array | Float64Array {
  if (values instanceof Float32Array) return values;
  const f32 = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    f32[i] = v;
    // Object.is keeps -0 apart from 0 and takes NaN as NaN (JS numbers carry no NaN payload to lose).
    if (!Object.is(f32[i], v)) return Float64Array.from(values as ArrayLike<number>);
  }
  return f32;
}

function payloadSize(json: Uint8Array, arrays: [Uint8Array, NdArray][]): number {
  let n = 4 + json.length + 4;
  for (const [name, a] of arrays) n += 4 + name.length + 4 * a.shape.length + a.data.byteLength;
  return n;
}

function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function writeElements(out: Uint8Array, view: DataView, pos: number, a: NdArray): void {
  const d = a.data;
  if (LITTLE_ENDIAN_HOST || a.dtype === 'i8' || a.dtype === 'u8') {
    out.set(bytesOf(d), pos);
    return;
  }
  // Big-endian host: swap element by element.
  for (let i = 0; i < d.length; i++) {
    if (a.dtype === 'f32') view.setFloat32(pos + 4 * i, d[i], true);
    else if (a.dtype === 'u32') view.setUint32(pos + 4 * i, d[i], true);
    else view.setFloat64(pos + 8 * i, d[i], true);
  }
}

/**
 * Encodes one frame (header, JSON, arrays) into bytes ready to send. `version` defaults to the
 * oldest (1), which every server reads: HELLO goes out in it; after HELLO, client and server pass
 * the connection's chosen version.
 */
export function encodeFrame(type: number, requestId: number, payload: Partial<Payload> = {}, version = SUPPORTED_VERSIONS[0]): Uint8Array {
  const json = payload.json && Object.keys(payload.json).length > 0 ? utf8.encode(JSON.stringify(payload.json)) : new Uint8Array(0);
  const arrays: [Uint8Array, NdArray][] = [...(payload.arrays ?? new Map()).entries()].map(([k, v]) => [utf8.encode(k), v]);
  const size = payloadSize(json, arrays);
  if (size > 0xffffffff) throw new Error('frame payload over 4 GiB');
  const out = new Uint8Array(HEADER_BYTES + size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint16(4, version, true);
  view.setUint16(6, type, true);
  view.setUint32(8, requestId >>> 0, true);
  view.setUint32(12, size, true);
  let pos = HEADER_BYTES;
  view.setUint32(pos, json.length, true);
  out.set(json, pos + 4);
  pos += 4 + json.length;
  view.setUint32(pos, arrays.length, true);
  pos += 4;
  for (const [name, a] of arrays) {
    if (name.length === 0 || name.length > 0xffff) throw new Error(`array name of ${name.length} bytes`);
    if (a.shape.length > MAX_NDIM) throw new Error(`array of ${a.shape.length} dimensions`);
    out[pos] = DType[a.dtype];
    out[pos + 1] = a.shape.length;
    view.setUint16(pos + 2, name.length, true);
    out.set(name, pos + 4);
    pos += 4 + name.length;
    for (const d of a.shape) {
      view.setUint32(pos, d, true);
      pos += 4;
    }
    writeElements(out, view, pos, a);
    pos += a.data.byteLength;
  }
  const crc = crc32(out.subarray(HEADER_BYTES), crc32(out.subarray(0, 16)));
  view.setUint32(16, crc, true);
  return out;
}

/** Thrown inside payload parsing only; decodeFrame turns it into an error result. */
class PayloadError extends Error {}

function readElements(bytes: Uint8Array, pos: number, count: number, dtype: DTypeName): TypedArray {
  const n = count * DTYPE_BYTES[dtype];
  // A copy into a fresh, aligned buffer, so the frame's buffer can be freed. (Not bytes.slice():
  // on a Node Buffer that is a view into the shared pool, not a copy.)
  const own = new Uint8Array(n);
  own.set(bytes.subarray(pos, pos + n));
  if (dtype === 'i8') return new Int8Array(own.buffer);
  if (dtype === 'u8') return own;
  if (LITTLE_ENDIAN_HOST) {
    if (dtype === 'f32') return new Float32Array(own.buffer);
    if (dtype === 'u32') return new Uint32Array(own.buffer);
    return new Float64Array(own.buffer);
  }
  const view = new DataView(own.buffer);
  if (dtype === 'f32') return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
  if (dtype === 'u32') return Uint32Array.from({ length: count }, (_, i) => view.getUint32(4 * i, true));
  return Float64Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, true));
}

/** Parses a payload's bytes (already CRC-checked); throws PayloadError on any inconsistency. */
function parsePayload(bytes: Uint8Array): Payload {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  let pos = 0;
  const need = (n: number, what: string) => {
    if (pos + n > end) throw new PayloadError(`payload ends inside ${what} (needs ${n} bytes at offset ${pos}, payload has ${end})`);
  };
  need(4, 'the JSON length');
  const jsonLength = view.getUint32(0, true);
  pos = 4;
  need(jsonLength, 'the JSON part');
  let json: Record<string, unknown> = {};
  if (jsonLength > 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8Strict.decode(bytes.subarray(pos, pos + jsonLength)));
    } catch (err) {
      throw new PayloadError(`JSON part is not valid UTF-8 JSON: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new PayloadError('JSON part must be an object');
    json = parsed as Record<string, unknown>;
  }
  pos += jsonLength;
  need(4, 'the array count');
  const count = view.getUint32(pos, true);
  pos += 4;
  const arrays = new Map<string, NdArray>();
  for (let k = 0; k < count; k++) {
    need(4, `the header of array ${k}`);
    const dtype = DTYPE_BY_CODE.get(bytes[pos]);
    const ndim = bytes[pos + 1];
    const nameLength = view.getUint16(pos + 2, true);
    if (!dtype) throw new PayloadError(`array ${k}: unknown dtype code ${bytes[pos]}`);
    if (ndim > MAX_NDIM) throw new PayloadError(`array ${k}: ${ndim} dimensions, at most ${MAX_NDIM}`);
    if (nameLength === 0) throw new PayloadError(`array ${k}: empty name`);
    pos += 4;
    need(nameLength, `the name of array ${k}`);
    let name: string;
    try {
      name = utf8Strict.decode(bytes.subarray(pos, pos + nameLength));
    } catch {
      throw new PayloadError(`array ${k}: name is not valid UTF-8`);
    }
    if (arrays.has(name)) throw new PayloadError(`array "${name}" appears twice`);
    pos += nameLength;
    need(4 * ndim, `the shape of array "${name}"`);
    const shape: number[] = [];
    let elements = 1;
    for (let d = 0; d < ndim; d++) {
      shape.push(view.getUint32(pos, true));
      elements *= shape[d];
      pos += 4;
    }
    // Compared as floating point, so a product of huge dims cannot wrap around.
    if (elements * DTYPE_BYTES[dtype] > end - pos) {
      throw new PayloadError(`array "${name}" of shape [${shape}] (${dtype}) needs ${elements * DTYPE_BYTES[dtype]} bytes, payload has ${end - pos} left`);
    }
    arrays.set(name, { dtype, shape, data: readElements(bytes, pos, elements, dtype) });
    pos += elements * DTYPE_BYTES[dtype];
  }
  if (pos !== end) throw new PayloadError(`${end - pos} bytes after the last array`);
  return { json, arrays };
}

/** Limits a decoder enforces before buffering a payload. */
export interface DecodeLimits {
  /** Largest accepted payload, bytes. */
  maxPayloadBytes: number;
}

/**
 * Decodes the frame at the start of `bytes`. Never throws on any input: the result is a frame,
 * a request for more bytes, or an error saying whether the connection's framing is lost.
 */
export function decodeFrame(bytes: Uint8Array, limits: DecodeLimits = { maxPayloadBytes: 0xffffffff }): DecodeResult {
  const err = (code: ErrorCodeValue, message: string, fatal: boolean, requestId = 0, size = 0): DecodeResult => ({ kind: 'error', code, message, fatal, requestId, size });
  // Reject a wrong magic as soon as its first byte arrives: a stray HTTP request or TLS hello
  // gets its answer at once instead of waiting for a header.
  for (let i = 0; i < Math.min(4, bytes.length); i++) {
    if (bytes[i] !== MAGIC[i]) return err(ErrorCode.MALFORMED_FRAME, 'bad magic: not a lechip HIL frame (expected "LEHL")', true);
  }
  if (bytes.length < HEADER_BYTES) return { kind: 'need', size: HEADER_BYTES };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  const type = view.getUint16(6, true);
  const requestId = view.getUint32(8, true);
  const length = view.getUint32(12, true);
  if (!SUPPORTED_VERSIONS.includes(version)) {
    return err(ErrorCode.UNSUPPORTED_VERSION, `protocol version ${version} is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`, true, requestId);
  }
  if (length > limits.maxPayloadBytes) {
    return err(ErrorCode.PAYLOAD_TOO_LARGE, `payload of ${length} bytes exceeds the limit of ${limits.maxPayloadBytes} bytes`, true, requestId);
  }
  const size = HEADER_BYTES + length;
  if (bytes.length < size) return { kind: 'need', size };
  const stored = view.getUint32(16, true);
  const computed = crc32(bytes.subarray(HEADER_BYTES, size), crc32(bytes.subarray(0, 16)));
  if (stored !== computed) {
    return err(ErrorCode.MALFORMED_FRAME, `CRC32 mismatch: header says 0x${stored.toString(16).padStart(8, '0')}, frame gives 0x${computed.toString(16).padStart(8, '0')}`, true, requestId);
  }
  try {
    const payload = parsePayload(bytes.subarray(HEADER_BYTES, size));
    return { kind: 'frame', frame: { version, type, requestId, payload }, size };
  } catch (e) {
    if (e instanceof PayloadError) return err(ErrorCode.MALFORMED_FRAME, `malformed payload: ${e.message}`, false, requestId, size);
    // Anything else (out of memory on a huge array) is still the frame's fault, never the server's.
    return err(ErrorCode.MALFORMED_FRAME, `malformed payload: ${(e as Error)?.message ?? String(e)}`, false, requestId, size);
  }
}

/**
 * Turns a byte stream into frames: keeps chunks until a whole frame is in, so a large frame is
 * copied once. After a fatal error it yields nothing more.
 */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private failed = false;

  constructor(private readonly limits: DecodeLimits) {}

  /** Bytes received but not yet part of a decoded frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Adds received bytes; returns the frames and errors now complete, in order. */
  push(chunk: Uint8Array): DecodeResult[] {
    if (this.failed) return [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: DecodeResult[] = [];
    for (;;) {
      if (this.buffered === 0) break;
      const head = this.peek(Math.min(this.buffered, HEADER_BYTES));
      let r = decodeFrame(head, this.limits);
      if (r.kind === 'need' && r.size > HEADER_BYTES) {
        if (this.buffered < r.size) break;
        r = decodeFrame(this.peek(r.size), this.limits);
      }
      if (r.kind === 'need') break;
      out.push(r);
      if (r.kind === 'error' && r.fatal) {
        this.failed = true;
        this.chunks = [];
        this.buffered = 0;
        break;
      }
      this.consume(r.size);
    }
    return out;
  }

  /** The first n buffered bytes as one array (copies only when they span chunks). */
  private peek(n: number): Uint8Array {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const out = new Uint8Array(n);
    let pos = 0;
    for (const c of this.chunks) {
      const take = Math.min(c.length, n - pos);
      out.set(c.subarray(0, take), pos);
      pos += take;
      if (pos === n) break;
    }
    return out;
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0];
      if (c.length <= n) {
        n -= c.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = c.subarray(n);
        n = 0;
      }
    }
  }
}
