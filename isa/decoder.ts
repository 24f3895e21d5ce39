/**
 * Decoding of 32-bit words into table entries and fields, derived from isa/table.ts: each entry's
 * mask and match come from its format, opcode, funct3, funct7 and fixed fields; operand ranges
 * (shift amounts, observable selectors) are checked, so only words the assembler can produce decode.
 */
import { maskMatch, unpackImm } from './encoding.js';
import { INSTRUCTIONS } from './table.js';
import type { DecodedInstruction, InstrDef } from './types.js';

interface Candidate {
  def: InstrDef;
  mask: number;
  match: number;
}

/** Entries grouped by major opcode, so decoding scans a handful of candidates. */
const byOpcode: Candidate[][] = Array.from({ length: 128 }, () => []);
for (const def of INSTRUCTIONS) {
  const { mask, match } = maskMatch(def);
  byOpcode[def.opcode].push({ def, mask, match });
}

/** Decodes a word; returns null when no table entry matches (an illegal instruction). */
export function decode(word: number): DecodedInstruction | null {
  const w = word >>> 0;
  for (const c of byOpcode[w & 0x7f]) {
    if (((w & c.mask) >>> 0) !== c.match) continue;
    const d: DecodedInstruction = {
      def: c.def,
      word: w,
      rd: (w >>> 7) & 0x1f,
      rs1: (w >>> 15) & 0x1f,
      rs2: (w >>> 20) & 0x1f,
      imm: unpackImm(c.def.format, w | 0),
    };
    if (operandsInRange(d)) return d;
  }
  return null;
}

function operandsInRange(d: DecodedInstruction): boolean {
  for (const op of d.def.operands) {
    if (op.kind === 'uimm') {
      const v = d[op.field];
      if (v < op.min || v > op.max) return false;
    }
  }
  return true;
}

/** Decodes every word of a program once (null where a word is not an instruction, e.g. data). */
export function decodeAll(words: Uint32Array): (DecodedInstruction | null)[] {
  return Array.from(words, (w) => decode(w));
}
