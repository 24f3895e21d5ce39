/**
 * The `.lechip` image file: a versioned little-endian binary holding a JSON manifest and typed
 * sections, every byte of it checked on reading. docs/image-format.md gives the layout byte by byte.
 *
 *   0   magic "LECHIPIM"            8 bytes
 *   8   format version              u32 (1)
 *   12  file length in bytes        u32
 *   16  manifest length in bytes    u32
 *   20  manifest CRC32              u32
 *   24  section count n             u32
 *   28  reserved                    u32 (0)
 *   32  section table               n x 16 bytes: kind u16, dtype u16, offset u32, byte length u32, CRC32 u32
 *   32+16n  header CRC32            u32 over bytes [0, 32+16n)
 *   36+16n  manifest                UTF-8 JSON
 *   then per section: zero padding to a multiple of 8, then the payload
 */
import { UserError } from '../common/diagnostics.js';
import { crc32, hex32 } from './crc32.js';
import type { ChipImage, ImageManifest, SectionData, SectionInfo } from './image-model.js';

export const IMAGE_MAGIC = 'LECHIPIM';
export const IMAGE_VERSION = 1;
/** Bytes before the section table. */
export const FIXED_HEADER_BYTES = 32;
/** Bytes per section-table entry. */
export const TABLE_ENTRY_BYTES = 16;
/** Payloads start at multiples of this. */
export const SECTION_ALIGN = 8;

/** Section kinds as stored in the table (u16). */
export const SECTION_KIND_CODES: Record<SectionInfo['kind'], number> = {
  synapse_block: 1,
  bias: 2,
  neuron_params: 3,
  firmware_text: 4,
  firmware_data: 5,
  symbols: 6,
};
/** Element types as stored in the table (u16). */
export const DTYPE_CODES: Record<SectionInfo['dtype'], number> = { f32: 1, i8: 2, u8: 3, u32: 4 };
/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<SectionInfo['dtype'], number> = { f32: 4, i8: 1, u8: 1, u32: 4 };

const KIND_BY_CODE = new Map(Object.entries(SECTION_KIND_CODES).map(([k, v]) => [v, k as SectionInfo['kind']]));
const DTYPE_BY_CODE = new Map(Object.entries(DTYPE_CODES).map(([k, v]) => [v, k as SectionInfo['dtype']]));

const MAX_U32 = 0xffffffff;

function align(n: number): number {
  return Math.ceil(n / SECTION_ALIGN) * SECTION_ALIGN;
}

function dtypeOf(data: SectionData): SectionInfo['dtype'] {
  if (data instanceof Float32Array) return 'f32';
  if (data instanceof Int8Array) return 'i8';
  if (data instanceof Uint8Array) return 'u8';
  if (data instanceof Uint32Array) return 'u32';
  throw new Error('section data of an unsupported array type');
}

/** Little-endian bytes of a section's payload (independent of the host's byte order). */
function payloadBytes(data: SectionData): Uint8Array {
  if (data instanceof Int8Array || data instanceof Uint8Array) return new Uint8Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  else for (let i = 0; i < data.length; i++) view.setUint32(i * 4, data[i], true);
  return out;
}

/** Layout of an image with this manifest length and these payload lengths: where every part starts. */
function layout(manifestBytes: number, payloadLengths: number[]): { tableEnd: number; manifestAt: number; offsets: number[]; end: number } {
  const tableEnd = FIXED_HEADER_BYTES + TABLE_ENTRY_BYTES * payloadLengths.length;
  const manifestAt = tableEnd + 4;
  let pos = manifestAt + manifestBytes;
  const offsets: number[] = [];
  for (const len of payloadLengths) {
    pos = align(pos);
    offsets.push(pos);
    pos += len;
  }
  return { tableEnd, manifestAt, offsets, end: pos };
}

/** Serialises an image. The manifest's `sections` must list the image's sections, in order, with matching dtype and length. */
export function encodeImage(img: ChipImage): Uint8Array {
  const infos = img.manifest.sections;
  if (infos.length !== img.sections.size) {
    throw new Error(`image manifest lists ${infos.length} sections but ${img.sections.size} are given`);
  }
  const names = [...img.sections.keys()];
  const payloads: Uint8Array[] = [];
  infos.forEach((info, i) => {
    if (names[i] !== info.name) throw new Error(`image section ${i} is '${names[i]}' but the manifest lists '${info.name}'`);
    const data = img.sections.get(info.name)!;
    const dt = dtypeOf(data);
    if (dt !== info.dtype) throw new Error(`image section '${info.name}' holds ${dt} but the manifest says ${info.dtype}`);
    if (data.length !== info.length) throw new Error(`image section '${info.name}' has ${data.length} elements but the manifest says ${info.length}`);
    if (!(info.kind in SECTION_KIND_CODES)) throw new Error(`image section '${info.name}' has unknown kind '${info.kind}'`);
    payloads.push(payloadBytes(data));
  });
  const manifest = new TextEncoder().encode(JSON.stringify(img.manifest));
  const lay = layout(manifest.length, payloads.map((p) => p.length));
  if (lay.end > MAX_U32) throw new Error(`image of ${lay.end} bytes exceeds the format's 4 GiB limit`);

  const out = new Uint8Array(lay.end);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = IMAGE_MAGIC.charCodeAt(i);
  view.setUint32(8, IMAGE_VERSION, true);
  view.setUint32(12, lay.end, true);
  view.setUint32(16, manifest.length, true);
  view.setUint32(20, crc32(manifest), true);
  view.setUint32(24, infos.length, true);
  view.setUint32(28, 0, true);
  infos.forEach((info, i) => {
    const e = FIXED_HEADER_BYTES + TABLE_ENTRY_BYTES * i;
    view.setUint16(e, SECTION_KIND_CODES[info.kind], true);
    view.setUint16(e + 2, DTYPE_CODES[info.dtype], true);
    view.setUint32(e + 4, lay.offsets[i], true);
    view.setUint32(e + 8, payloads[i].length, true);
    view.setUint32(e + 12, crc32(payloads[i]), true);
    out.set(payloads[i], lay.offsets[i]);
  });
  view.setUint32(lay.tableEnd, crc32(out.subarray(0, lay.tableEnd)), true);
  out.set(manifest, lay.manifestAt);
  return out;
}

/** Parses and checks an image; any deviation from the format is a UserError naming `file`, the part and the rule. */
export function decodeImage(bytes: Uint8Array, file?: string): ChipImage {
  const bad = (part: string, rule: string): never => {
    throw new UserError({ file, message: `${part}: ${rule}` });
  };
  const corrupted = '; the image is corrupted';
  const n = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // 1. Magic and version first: they say whether the rest can be read at all.
  const magicLen = Math.min(8, n);
  let magic = '';
  for (let i = 0; i < magicLen; i++) magic += String.fromCharCode(bytes[i]);
  if (magic !== IMAGE_MAGIC.slice(0, magicLen)) {
    bad('header (bytes 0..8)', `bad magic ${JSON.stringify(magic)}, expected "${IMAGE_MAGIC}"; not a lechip image`);
  }
  if (n < FIXED_HEADER_BYTES + 4) {
    bad('header', `truncated: the file has ${n} bytes, fewer than the ${FIXED_HEADER_BYTES + 4}-byte minimum of an image`);
  }
  const version = view.getUint32(8, true);
  if (version !== IMAGE_VERSION) {
    bad('header (bytes 8..12)', `unknown format version ${version}; this lechip reads version ${IMAGE_VERSION}`);
  }

  // 2. The header and section table, under one CRC.
  const count = view.getUint32(24, true);
  const tableEnd = FIXED_HEADER_BYTES + TABLE_ENTRY_BYTES * count;
  if (tableEnd + 4 > n) {
    bad(
      'header (bytes 24..28)',
      `the section count ${count} needs a table ending at byte ${tableEnd + 4}, beyond the end of the file (${n} bytes); truncated or corrupted`,
    );
  }
  const storedHeaderCrc = view.getUint32(tableEnd, true);
  const headerCrc = crc32(bytes.subarray(0, tableEnd));
  if (storedHeaderCrc !== headerCrc) {
    bad(`header and section table (bytes 0..${tableEnd})`, `CRC32 mismatch (stored ${hex32(storedHeaderCrc)}, computed ${hex32(headerCrc)})${corrupted}`);
  }
  const fileLength = view.getUint32(12, true);
  if (n < fileLength) bad('file', `truncated: ${n} bytes, the header says ${fileLength}`);
  if (n > fileLength) bad('file', `${n - fileLength} trailing bytes after the ${fileLength} bytes the header declares`);
  const reserved = view.getUint32(28, true);
  if (reserved !== 0) bad('header (bytes 28..32)', `reserved field is ${reserved}, must be 0`);

  // 3. The manifest, under its own CRC.
  const manifestAt = tableEnd + 4;
  const manifestLength = view.getUint32(16, true);
  const manifestEnd = manifestAt + manifestLength;
  if (manifestEnd > n) bad(`manifest (bytes ${manifestAt}..${manifestEnd})`, `extends beyond the end of the file (${n} bytes)`);
  const manifestBytes = bytes.subarray(manifestAt, manifestEnd);
  const storedManifestCrc = view.getUint32(20, true);
  const manifestCrc = crc32(manifestBytes);
  if (storedManifestCrc !== manifestCrc) {
    bad(`manifest (bytes ${manifestAt}..${manifestEnd})`, `CRC32 mismatch (stored ${hex32(storedManifestCrc)}, computed ${hex32(manifestCrc)})${corrupted}`);
  }
  let manifest: ImageManifest;
  try {
    manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes));
  } catch (err) {
    return bad(`manifest (bytes ${manifestAt}..${manifestEnd})`, `not valid UTF-8 JSON (${(err as Error).message})`);
  }
  checkManifestShape(manifest, bad);
  if (manifest.sections.length !== count) {
    bad('manifest', `lists ${manifest.sections.length} sections but the section table has ${count}`);
  }

  // 4. Sections: table and manifest agree entry by entry; offsets are canonical; padding is zero; payload CRCs match.
  const sections = new Map<string, SectionData>();
  let pos = manifestEnd;
  for (let i = 0; i < count; i++) {
    const info = manifest.sections[i];
    const e = FIXED_HEADER_BYTES + TABLE_ENTRY_BYTES * i;
    const where = `section '${info.name}'`;
    const kind = KIND_BY_CODE.get(view.getUint16(e, true));
    const dtype = DTYPE_BY_CODE.get(view.getUint16(e + 2, true));
    const offset = view.getUint32(e + 4, true);
    const byteLength = view.getUint32(e + 8, true);
    if (kind === undefined) bad(where, `unknown section kind code ${view.getUint16(e, true)} in the section table`);
    if (dtype === undefined) bad(where, `unknown dtype code ${view.getUint16(e + 2, true)} in the section table`);
    if (kind !== info.kind) bad(where, `the section table says kind '${kind}' but the manifest says '${info.kind}'`);
    if (dtype !== info.dtype) bad(where, `the section table says dtype '${dtype}' but the manifest says '${info.dtype}'`);
    if (byteLength !== info.length * DTYPE_BYTES[info.dtype]) {
      bad(where, `the section table says ${byteLength} bytes but the manifest says ${info.length} x ${info.dtype} = ${info.length * DTYPE_BYTES[info.dtype]} bytes`);
    }
    const expectedOffset = align(pos);
    if (offset !== expectedOffset) bad(where, `starts at byte ${offset}, the format places it at byte ${expectedOffset} (next multiple of ${SECTION_ALIGN})`);
    const end = offset + byteLength;
    if (end > n) bad(`${where} (bytes ${offset}..${end})`, `extends beyond the end of the file (${n} bytes)`);
    for (let p = pos; p < offset; p++) {
      if (bytes[p] !== 0) bad(`padding before ${where} (byte ${p})`, `is 0x${bytes[p].toString(16).padStart(2, '0')}, must be zero${corrupted}`);
    }
    const payload = bytes.subarray(offset, end);
    const stored = view.getUint32(e + 12, true);
    const computed = crc32(payload);
    if (stored !== computed) bad(`${where} (bytes ${offset}..${end})`, `CRC32 mismatch (stored ${hex32(stored)}, computed ${hex32(computed)})${corrupted}`);
    sections.set(info.name, readPayload(payload, info.dtype));
    pos = end;
  }
  if (pos !== n) bad(`bytes ${pos}..${n}`, `not part of any section; the last section ends at byte ${pos}`);

  checkReferences(manifest, bad);
  return { manifest, sections };
}

function readPayload(payload: Uint8Array, dtype: SectionInfo['dtype']): SectionData {
  // Copies, so the image owns its arrays whatever the caller does with the file's buffer.
  if (dtype === 'u8') return new Uint8Array(payload);
  if (dtype === 'i8') return new Int8Array(payload.slice().buffer);
  const len = payload.length / 4;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (dtype === 'f32') {
    const out = new Float32Array(len);
    for (let i = 0; i < len; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  const out = new Uint32Array(len);
  for (let i = 0; i < len; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

type Bad = (part: string, rule: string) => never;

/** The manifest fields the reader itself relies on, checked so a hand-edited manifest cannot crash it. */
function checkManifestShape(m: ImageManifest, bad: Bad): void {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObj(m)) bad('manifest', 'must be a JSON object');
  if (m.format !== 'lechip/image@1') bad('manifest: /format', `is ${JSON.stringify(m.format)}, expected "lechip/image@1"`);
  if (!Array.isArray(m.sections)) bad('manifest: /sections', 'must be an array');
  const seen = new Set<string>();
  m.sections.forEach((s, i) => {
    const p = `manifest: /sections/${i}`;
    if (!isObj(s)) bad(p, 'must be an object');
    if (typeof s.name !== 'string' || s.name === '') bad(`${p}/name`, 'must be a non-empty string');
    if (seen.has(s.name)) bad(`${p}/name`, `section name '${s.name}' appears twice`);
    seen.add(s.name);
    if (!(s.kind in SECTION_KIND_CODES)) bad(`${p}/kind`, `unknown section kind ${JSON.stringify(s.kind)}`);
    if (!(s.dtype in DTYPE_BYTES)) bad(`${p}/dtype`, `unknown dtype ${JSON.stringify(s.dtype)}`);
    if (!Number.isInteger(s.length) || s.length < 0) bad(`${p}/length`, 'must be a non-negative integer');
  });
  for (const key of ['network', 'chip', 'system', 'timing', 'learning'] as const) {
    if (!isObj(m[key])) bad(`manifest: /${key}`, 'must be an object');
  }
  for (const key of ['populations', 'projections', 'blocks', 'warnings'] as const) {
    if (!Array.isArray(m[key])) bad(`manifest: /${key}`, 'must be an array');
  }
}

/** Every section the manifest refers to exists. */
function checkReferences(m: ImageManifest, bad: Bad): void {
  const names = new Set(m.sections.map((s) => s.name));
  const ref = (name: string | undefined, pointer: string) => {
    if (name === undefined) return;
    if (!names.has(name)) bad(`manifest: ${pointer}`, `refers to section '${name}', which the image does not hold`);
  };
  m.populations.forEach((p, i) => ref(p.bias_section, `/populations/${i}/bias_section`));
  m.blocks.forEach((b, i) => ref(b.section, `/blocks/${i}/section`));
  if (m.firmware) {
    ref(m.firmware.text_section, '/firmware/text_section');
    ref(m.firmware.data_section, '/firmware/data_section');
    ref(m.firmware.symbols_section, '/firmware/symbols_section');
  }
}
