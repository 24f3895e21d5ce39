/** Test helpers: random valid fields for a table entry, and encoding them. */
import fc from 'fast-check';
import { encodeFields, FORMAT_FIELDS, IMM_RANGE, type Fields } from '../../isa/encoding.js';
import type { InstrDef } from '../../isa/types.js';

/** An arbitrary of valid field values for one entry (fixed fields kept at their value). */
export function fieldsArb(def: InstrDef): fc.Arbitrary<Fields> {
  const reg = fc.integer({ min: 0, max: 31 });
  const range = IMM_RANGE[def.format];
  let imm: fc.Arbitrary<number> = fc.constant(0);
  if (def.format === 'U') imm = fc.integer({ min: 0, max: 0xfffff }).map((v) => v << 12);
  else if (range) imm = fc.integer({ min: range.min, max: range.max }).map((v) => (range.even ? v & ~1 : v));
  if (def.mnemonic === 'fence') imm = fc.integer({ min: 0, max: 0xff });
  if (def.mnemonic === 'ecall' || def.mnemonic === 'ebreak') imm = fc.constant(def.mnemonic === 'ebreak' ? 1 : 0);
  const field = (name: 'rd' | 'rs1' | 'rs2') => {
    if (def.fixed?.[name] !== undefined) return fc.constant(def.fixed[name]!);
    if (!FORMAT_FIELDS[def.format].includes(name)) return fc.constant(0);
    const u = def.operands.find((o) => o.kind === 'uimm' && o.field === name);
    if (u && u.kind === 'uimm') return fc.integer({ min: u.min, max: u.max });
    return reg;
  };
  return fc.record({ rd: field('rd'), rs1: field('rs1'), rs2: field('rs2'), imm });
}

/** Encodes an entry with fields. */
export function encode(def: InstrDef, f: Fields): number {
  return encodeFields(def, f);
}
