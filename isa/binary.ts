/**
 * The flat firmware binary `lechip asm` writes (little-endian):
 *   0 'LEFW' magic, 4 u32 format version (1), 8 u32 entry, 12 u32 text bytes, 16 u32 data bytes,
 *   20 u32 data base address, 24 text words, then data bytes.
 * Text loads at address 0, data at its base address.
 */
import { fail } from '../common/diagnostics.js';

/** First four bytes of a firmware binary. */
export const FIRMWARE_MAGIC = 'LEFW';
/** Format version this lechip writes and reads. */
export const FIRMWARE_VERSION = 1;
const HEADER_BYTES = 24;

/** What a firmware binary holds. */
export interface FirmwareBinary {
  entry: number;
  text: Uint32Array;
  data: Uint8Array;
  dataBase: number;
}

/** Serialises a program into the LEFW format. */
export function encodeFirmware(p: FirmwareBinary): Uint8Array {
  const textBytes = p.text.length * 4;
  const out = new Uint8Array(HEADER_BYTES + textBytes + p.data.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = FIRMWARE_MAGIC.charCodeAt(i);
  dv.setUint32(4, FIRMWARE_VERSION, true);
  dv.setUint32(8, p.entry, true);
  dv.setUint32(12, textBytes, true);
  dv.setUint32(16, p.data.length, true);
  dv.setUint32(20, p.dataBase, true);
  p.text.forEach((w, i) => dv.setUint32(HEADER_BYTES + 4 * i, w, true));
  out.set(p.data, HEADER_BYTES + textBytes);
  return out;
}

/** True when the bytes start with the LEFW magic. */
export function isFirmwareBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) === FIRMWARE_MAGIC;
}

/** Parses an LEFW binary; a malformed one is a UserError. */
export function decodeFirmware(bytes: Uint8Array, file?: string): FirmwareBinary {
  if (!isFirmwareBinary(bytes)) fail(`not a lechip firmware binary (magic '${FIRMWARE_MAGIC}' missing)`, { file });
  if (bytes.length < HEADER_BYTES) fail(`truncated firmware binary: ${bytes.length} bytes, shorter than its ${HEADER_BYTES}-byte header`, { file });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== FIRMWARE_VERSION) fail(`firmware binary format version ${version} is not supported (this lechip reads version ${FIRMWARE_VERSION})`, { file });
  const entry = dv.getUint32(8, true), textBytes = dv.getUint32(12, true), dataBytes = dv.getUint32(16, true), dataBase = dv.getUint32(20, true);
  if (textBytes % 4 !== 0) fail(`firmware binary text length ${textBytes} is not a multiple of 4 bytes`, { file });
  if (HEADER_BYTES + textBytes + dataBytes !== bytes.length) {
    fail(`firmware binary is ${bytes.length} bytes but its header announces ${HEADER_BYTES} + ${textBytes} + ${dataBytes}`, { file });
  }
  const text = new Uint32Array(textBytes / 4);
  for (let i = 0; i < text.length; i++) text[i] = dv.getUint32(HEADER_BYTES + 4 * i, true);
  return { entry, text, data: bytes.slice(HEADER_BYTES + textBytes), dataBase };
}
