/**
 * A small binary container for saved chip state (Chip.saveState): a JSON header in which every
 * typed array is replaced by a reference into the binary payload that follows, so megabytes of
 * engine memory and processor memories travel without base64 or float-to-text loss.
 *
 *   0  magic "LECS"   4  version u32 (1)   8  header length u32   12  header (UTF-8 JSON)   then payload
 */
import { UserError } from '../common/diagnostics.js';

const MAGIC = 'LECS';
const VERSION = 1;

type Typed = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;
const CTORS: Record<string, new (b: ArrayBuffer, o: number, n: number) => Typed> = {
  Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array,
};

/** Packs a JSON-like value whose leaves may be typed arrays. */
export function packState(value: unknown): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const header = JSON.stringify(value, (_k, v) => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const t = v as Typed;
      const ref = { $typed: t.constructor.name, offset, length: t.length };
      const bytes = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
      // Keep every array 8-byte aligned in the payload so that it can be viewed in place.
      const padded = Math.ceil(bytes.length / 8) * 8;
      const copy = new Uint8Array(padded);
      copy.set(bytes);
      parts.push(copy);
      offset += padded;
      return ref;
    }
    return v;
  });
  const head = new TextEncoder().encode(header);
  const headPadded = Math.ceil((12 + head.length) / 8) * 8;
  const out = new Uint8Array(headPadded + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, head.length, true);
  out.set(head, 12);
  let at = headPadded;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Unpacks packState's bytes (typed arrays are fresh copies). */
export function unpackState(bytes: Uint8Array): unknown {
  const bad = (why: string): never => {
    throw new UserError({ message: `saved chip state is not readable: ${why}` });
  };
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) bad('it does not start with "LECS"');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(4, true) !== VERSION) bad(`version ${dv.getUint32(4, true)}, expected ${VERSION}`);
  const n = dv.getUint32(8, true);
  if (12 + n > bytes.length) bad('truncated header');
  const payload = Math.ceil((12 + n) / 8) * 8;
  return JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + n)), (_k, v) => {
    if (v && typeof v === 'object' && typeof v.$typed === 'string') {
      const C = CTORS[v.$typed] ?? bad(`unknown array type ${v.$typed}`);
      const per = (C as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      const start = payload + v.offset;
      if (start + v.length * per > bytes.length) bad('truncated payload');
      const copy = bytes.slice(start, start + v.length * per);
      return new C(copy.buffer, 0, v.length);
    }
    return v;
  });
}
