import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { decode } from '../../isa/decoder.js';
import { disassemble } from '../../isa/disassembler.js';
import { INSTRUCTIONS } from '../../isa/table.js';
import { encode, fieldsArb } from './helpers.js';

const hexWords = (w: Uint32Array | number[]) => Array.from(w, (x) => (x >>> 0).toString(16).padStart(8, '0'));

function roundTrip(words: Uint32Array, opts: { aliases?: boolean; numericRegisters?: boolean } = {}): Uint32Array {
  const text = disassemble(words, opts).join('\n');
  return assemble(text).text;
}

describe('assemble -> disassemble -> assemble', () => {
  for (const aliases of [true, false]) {
    it(`round-trips every table entry with random fields (aliases ${aliases ? 'on' : 'off'})`, () => {
      for (const def of INSTRUCTIONS) {
        fc.assert(
          fc.property(fc.array(fieldsArb(def), { minLength: 1, maxLength: 8 }), (fields) => {
            const words = Uint32Array.from(fields.map((f) => encode(def, f)));
            expect(hexWords(roundTrip(words, { aliases }))).toEqual(hexWords(words));
          }),
          { numRuns: 25, seed: 11 },
        );
      }
    });
  }

  it('round-trips random programs mixing every entry (numeric register names)', () => {
    const anyInstr = fc.constantFrom(...INSTRUCTIONS).chain((def) => fieldsArb(def).map((f) => encode(def, f)));
    fc.assert(
      fc.property(fc.array(anyInstr, { minLength: 1, maxLength: 60 }), fc.boolean(), (ws, numeric) => {
        const words = Uint32Array.from(ws);
        expect(hexWords(roundTrip(words, { numericRegisters: numeric }))).toEqual(hexWords(words));
      }),
      { numRuns: 200, seed: 3 },
    );
  });

  it('round-trips random 32-bit words: instructions decode, the rest print as .word', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 40 }), (ws) => {
        const words = Uint32Array.from(ws);
        expect(hexWords(roundTrip(words))).toEqual(hexWords(words));
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('round-trips a hand-written program through its disassembly', () => {
    const src = `
      .equ N, 16
      _start:
        li t0, N
        li t1, 0x12345678
        la a0, buf
      loop:
        vlds.b v1, t2, zero
        vmulfs.bs v1, v1, t1
        vsts.b v1, t2, zero
        addi t2, t2, 1
        blt t2, t0, loop
        call sub
        li a7, 93
        ecall
      sub:
        ret
      .data
      buf: .space 128
    `;
    const p = assemble(src, { elementBits: [8, 16] });
    const again = assemble(disassemble(p.text).join('\n'));
    expect(hexWords(again.text)).toEqual(hexWords(p.text));
    // The disassembly reads like the source where aliases exist.
    const lines = disassemble(p.text);
    expect(lines[0]).toBe('li t0, 16');
    expect(lines[1]).toBe('lui t1, 0x12345');
    expect(lines[2]).toBe('addi t1, t1, 1656');
    expect(lines.at(-1)).toBe('ret');
  });

  it('prints absolute targets and symbol names in comments when asked', () => {
    const p = assemble('loop:\n  nop\n  j loop\n');
    expect(disassemble(p.text, { symbols: p.symbols })[1]).toBe('j -4  # 0x0 <loop>');
    expect(decode(p.text[1])?.imm).toBe(-4);
  });
});
