/**
 * Bit layouts of RISC-V's six instruction formats: packing fields into a 32-bit word and reading
 * them back. Immediates follow the RISC-V unprivileged spec (v20191213, chapter 2.3).
 */
import type { Format, InstrDef, RegField } from './types.js';

/** Bit position of each register field. */
export const FIELD_SHIFT: Record<RegField, number> = { rd: 7, rs1: 15, rs2: 20 };

/** Field values of one instruction before packing. */
export interface Fields {
  rd: number;
  rs1: number;
  rs2: number;
  /** Signed immediate (I, S, B, J) or the upper immediate's value already shifted left by 12 (U). */
  imm: number;
}

/** Range of the immediate each format holds (B and J must also be even). */
export const IMM_RANGE: Record<Format, { min: number; max: number; even: boolean } | null> = {
  R: null,
  I: { min: -2048, max: 2047, even: false },
  S: { min: -2048, max: 2047, even: false },
  B: { min: -4096, max: 4094, even: true },
  U: null,
  J: { min: -1048576, max: 1048574, even: true },
};

/** Sign-extends the low `bits` of x. */
export function signExtend(x: number, bits: number): number {
  const s = 32 - bits;
  return (x << s) >> s;
}

/** Packs the immediate of a format into its word bits (registers and opcode not included). */
export function packImm(format: Format, imm: number): number {
  switch (format) {
    case 'R':
      return 0;
    case 'I':
      return (imm & 0xfff) << 20;
    case 'S':
      return (((imm >> 5) & 0x7f) << 25) | ((imm & 0x1f) << 7);
    case 'B':
      return (
        (((imm >> 12) & 1) << 31) |
        (((imm >> 5) & 0x3f) << 25) |
        (((imm >> 1) & 0xf) << 8) |
        (((imm >> 11) & 1) << 7)
      );
    case 'U':
      return imm & 0xfffff000;
    case 'J':
      return (
        (((imm >> 20) & 1) << 31) |
        (((imm >> 1) & 0x3ff) << 21) |
        (((imm >> 11) & 1) << 20) |
        (((imm >> 12) & 0xff) << 12)
      );
  }
}

/** Reads the (sign-extended) immediate of a format from a word. */
export function unpackImm(format: Format, w: number): number {
  switch (format) {
    case 'R':
      return 0;
    case 'I':
      return w >> 20;
    case 'S':
      return ((w >> 25) << 5) | ((w >>> 7) & 0x1f);
    case 'B':
      return ((w >> 31) << 12) | (((w >>> 7) & 1) << 11) | (((w >>> 25) & 0x3f) << 5) | (((w >>> 8) & 0xf) << 1);
    case 'U':
      return w & 0xfffff000;
    case 'J':
      return ((w >> 31) << 20) | (((w >>> 12) & 0xff) << 12) | (((w >>> 20) & 1) << 11) | (((w >>> 21) & 0x3ff) << 1);
  }
}

/** Which register fields a format carries. */
export const FORMAT_FIELDS: Record<Format, RegField[]> = {
  R: ['rd', 'rs1', 'rs2'],
  I: ['rd', 'rs1'],
  S: ['rs1', 'rs2'],
  B: ['rs1', 'rs2'],
  U: ['rd'],
  J: ['rd'],
};

/** Mask and match of an entry: a word is this instruction when (word & mask) === match (as u32). */
export function maskMatch(def: InstrDef): { mask: number; match: number } {
  let mask = 0x7f;
  let match = def.opcode & 0x7f;
  if (def.funct3 !== undefined) {
    mask |= 0x7 << 12;
    match |= def.funct3 << 12;
  }
  if (def.funct7 !== undefined) {
    mask |= 0x7f << 25;
    match |= def.funct7 << 25;
  }
  for (const [field, value] of Object.entries(def.fixed ?? {}) as [RegField, number][]) {
    mask |= 0x1f << FIELD_SHIFT[field];
    match |= value << FIELD_SHIFT[field];
  }
  if (def.extra) {
    mask |= def.extra.mask;
    match |= def.extra.match;
  }
  return { mask: mask >>> 0, match: match >>> 0 };
}

/** Encodes an entry with field values into its 32-bit word (unsigned). Fields must be in range. */
export function encodeFields(def: InstrDef, f: Fields): number {
  const { match } = maskMatch(def);
  let w = match | packImm(def.format, f.imm);
  for (const field of FORMAT_FIELDS[def.format]) {
    if (def.fixed?.[field] !== undefined) continue;
    w |= (f[field] & 0x1f) << FIELD_SHIFT[field];
  }
  // R-format entries may carry a small immediate in rs2 (shift amounts): already a register field.
  return w >>> 0;
}
