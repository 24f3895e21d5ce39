import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { decode } from '../../isa/decoder.js';
import { maskMatch } from '../../isa/encoding.js';
import { INSTRUCTIONS, OPCODES } from '../../isa/table.js';
import { CYCLE_CLASSES } from '../../isa/types.js';
import { encode, fieldsArb } from './helpers.js';

// Reference encodings produced by LLVM 14 (clang --target=riscv32 -march=rv32im -c, then
// llvm-objcopy -O binary) for the source lines below, one word per line.
const LLVM_SOURCE = `addi a0, zero, 5
lui a0, 0x12345
auipc t0, 0xfffff
jal ra, 16
jalr t1, -12(a5)
beq a0, a1, 8
bne s0, s1, -2048
blt t0, t1, 4094
bge a2, a3, -4096
bltu a4, a5, 100
bgeu s10, s11, -100
lb a0, -1(sp)
lh a1, 2047(gp)
lw a2, -2048(tp)
lbu a3, 0(t0)
lhu a4, 12(t1)
sb a5, -7(t2)
sh a6, 100(s0)
sw a7, 8(sp)
slti s2, s3, -5
sltiu s4, s5, 7
xori s6, s7, -1
ori s8, s9, 0x7ff
andi s10, s11, 0xf0
slli t3, t4, 31
srli t5, t6, 1
srai a0, a0, 3
add a0, a1, a2
sub a0, a1, a2
sll x1, x2, x3
slt x4, x5, x6
sltu x7, x8, x9
xor x10, x11, x12
srl x13, x14, x15
sra x16, x17, x18
or x19, x20, x21
and x22, x23, x24
fence
fence rw, w
fence i, o
ecall
ebreak
mul a0, a1, a2
mulh a3, a4, a5
mulhsu a6, a7, s2
mulhu s3, s4, s5
div s6, s7, s8
divu s9, s10, s11
rem t3, t4, t5
remu t6, ra, sp
jal x0, -1048576
jal x5, 1048574`;
const LLVM_WORDS = `00500513,12345537,fffff297,010000ef,ff478367,00b50463,809410e3,7e62cfe3,80d65063,06f76263,f9bd7ee3,fff10503,7ff19583,80022603,0002c683,00c35703,fef38ca3,07041223,01112423,ffb9a913,007aba13,fffbcb13,7ffcec13,0f0dfd13,01fe9e13,001fdf13,40355513,00c58533,40c58533,003110b3,0062a233,009433b3,00c5c533,00f756b3,4128d833,015a69b3,018bfb33,0ff0000f,0310000f,0840000f,00000073,00100073,02c58533,02f716b3,0328a833,035a39b3,038bcb33,03bd5cb3,03eeee33,0220ffb3,8000006f,7ffff2ef`
  .split(',')
  .map((h) => parseInt(h, 16));

describe('instruction table', () => {
  it('has unique mnemonics', () => {
    const names = INSTRUCTIONS.map((d) => d.mnemonic);
    expect(new Set(names).size).toBe(names.length);
  });

  it('has no two entries that match the same word', () => {
    const mm = INSTRUCTIONS.map((d) => ({ d, ...maskMatch(d) }));
    const clashes: string[] = [];
    for (let i = 0; i < mm.length; i++) {
      for (let j = i + 1; j < mm.length; j++) {
        const a = mm[i], b = mm[j];
        if ((((a.match ^ b.match) & a.mask & b.mask) >>> 0) === 0) clashes.push(`${a.d.mnemonic} / ${b.d.mnemonic}`);
      }
    }
    expect(clashes).toEqual([]);
  });

  it('covers all of RV32I and RV32M', () => {
    const rv32i = ['lui', 'auipc', 'jal', 'jalr', 'beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu', 'lb', 'lh', 'lw', 'lbu', 'lhu', 'sb', 'sh', 'sw',
      'addi', 'slti', 'sltiu', 'xori', 'ori', 'andi', 'slli', 'srli', 'srai', 'add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and',
      'fence', 'ecall', 'ebreak'];
    const rv32m = ['mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu'];
    expect(INSTRUCTIONS.filter((d) => d.group === 'RV32I').map((d) => d.mnemonic).sort()).toEqual([...rv32i].sort());
    expect(INSTRUCTIONS.filter((d) => d.group === 'RV32M').map((d) => d.mnemonic).sort()).toEqual([...rv32m].sort());
  });

  it('puts every vector instruction in a custom opcode', () => {
    const custom: number[] = [OPCODES.CUSTOM_0, OPCODES.CUSTOM_1, OPCODES.CUSTOM_2, OPCODES.CUSTOM_3];
    for (const d of INSTRUCTIONS.filter((x) => !x.group.startsWith('RV32'))) expect(custom, d.mnemonic).toContain(d.opcode);
  });

  it('gives every entry a cycle class that every preset prices', () => {
    for (const name of ['ideal', 'spikey', 'bss1', 'bss2']) {
      const chip = JSON.parse(readFileSync(join(__dirname, '../../chip/presets', `${name}.json`), 'utf8'));
      for (const cls of CYCLE_CLASSES) expect(Number.isInteger(chip.processor.cycles[cls]), `${name}: ${cls}`).toBe(true);
    }
    for (const d of INSTRUCTIONS) expect(CYCLE_CLASSES).toContain(d.cycles);
  });

  it('encodes RV32IM exactly as LLVM does', () => {
    const p = assemble(LLVM_SOURCE);
    expect(Array.from(p.text).map((w) => w.toString(16).padStart(8, '0'))).toEqual(LLVM_WORDS.map((w) => w.toString(16).padStart(8, '0')));
  });

  it('decodes LLVM-encoded words back to their mnemonics', () => {
    const lines = LLVM_SOURCE.split('\n');
    LLVM_WORDS.forEach((w, i) => {
      const d = decode(w);
      expect(d?.def.mnemonic, lines[i]).toBe(lines[i].split(' ')[0]);
    });
  });

  it('decodes every entry encoded with random valid fields to the same entry and fields', () => {
    for (const def of INSTRUCTIONS) {
      fc.assert(
        fc.property(fieldsArb(def), (f) => {
          const d = decode(encode(def, f));
          expect(d?.def.mnemonic).toBe(def.mnemonic);
          for (const o of def.operands) {
            if (o.kind === 'xreg' || o.kind === 'vreg' || o.kind === 'uimm') expect(d![o.field]).toBe(f[o.field]);
          }
          if (def.format !== 'R') expect(d!.imm).toBe(f.imm);
        }),
        { numRuns: 40, seed: 7 },
      );
    }
  });

  it('rejects words outside the table (illegal instructions)', () => {
    expect(decode(0)).toBeNull(); // all zeros is defined illegal in RISC-V
    expect(decode(0xffffffff)).toBeNull();
    expect(decode(0x0000100f)).toBeNull(); // fence.i (Zifencei) is not implemented
    // vslli.b with shamt 9 (> 7) is not a valid encoding
    expect(decode(0x1490008b | 0)).toBeNull();
  });
});
