import { describe, expect, it } from 'vitest';
import { UserError, type Diagnostic } from '../../common/diagnostics.js';
import { assemble } from '../../isa/assembler.js';
import { decode } from '../../isa/decoder.js';

function errors(src: string, opts: Parameters<typeof assemble>[1] = {}): Diagnostic[] {
  try {
    assemble(src, { file: 'prog.s', ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).diagnostics;
  }
  throw new Error('expected a UserError');
}

const words = (src: string) => Array.from(assemble(src).text);
const asm1 = (line: string) => words(line)[0];

describe('assembler: pseudo-instructions', () => {
  it('expands li to addi, lui or lui+addi as GNU as and LLVM do', () => {
    expect(words('li a0, 5')).toEqual([0x00500513]);
    expect(words('li a0, -2048')).toEqual([0x80000513]);
    expect(words('li a0, 0x12345000')).toEqual([0x12345537]);
    // 0x12345678 = lui 0x12345 + addi 0x678; 0x800 needs the %hi carry: lui 1, addi -2048.
    expect(words('li a0, 0x12345678')).toEqual([0x12345537, 0x67850513]);
    expect(words('li a0, 0x800')).toEqual([0x00001537, 0x80050513]);
    expect(words('li a0, 0xffffffff')).toEqual([0xfff00513]); // -1
    expect(words('li a0, -2147483648')).toEqual([0x80000537]);
  });

  it('expands li with a later constant to the two-word form with the right value', () => {
    const p = assemble('li a0, K\n.equ K, 5');
    expect(Array.from(p.text)).toEqual([0x00000537, 0x00550513]);
  });

  it('expands the other pseudo-instructions to their standard words', () => {
    expect(asm1('nop')).toBe(0x00000013);
    expect(asm1('mv a0, a1')).toBe(0x00058513);
    expect(asm1('not a0, a1')).toBe(0xfff5c513);
    expect(asm1('neg a0, a1')).toBe(0x40b00533);
    expect(asm1('seqz a0, a1')).toBe(0x0015b513);
    expect(asm1('snez a0, a1')).toBe(0x00b03533);
    expect(asm1('ret')).toBe(0x00008067);
    expect(asm1('jr t0')).toBe(0x00028067);
    expect(asm1('jalr t0')).toBe(0x000280e7);
    expect(asm1('j 8')).toBe(0x0080006f);
    expect(asm1('jal 8')).toBe(0x008000ef);
    expect(asm1('beqz a0, 8')).toBe(0x00050463);
    expect(asm1('bnez a0, 8')).toBe(0x00051463);
    expect(asm1('blez a0, 8')).toBe(0x00a05463); // bge zero, a0
    expect(asm1('bgez a0, 8')).toBe(0x00055463);
    expect(asm1('bltz a0, 8')).toBe(0x00054463);
    expect(asm1('bgtz a0, 8')).toBe(0x00a04463); // blt zero, a0
    expect(asm1('bgt a0, a1, 8')).toBe(asm1('blt a1, a0, 8'));
    expect(asm1('ble a0, a1, 8')).toBe(asm1('bge a1, a0, 8'));
    expect(asm1('bgtu a0, a1, 8')).toBe(asm1('bltu a1, a0, 8'));
    expect(asm1('bleu a0, a1, 8')).toBe(asm1('bgeu a1, a0, 8'));
    expect(asm1('vmv v1, v2')).toBe(asm1('vor v1, v2, v2'));
    expect(asm1('jalr ra, t0, 4')).toBe(asm1('jalr ra, 4(t0)'));
  });

  it('computes la, call and tail pc-relative', () => {
    const p = assemble('nop\nla a0, target\ncall target\ntail target\n.data\n.space 0x1000\ntarget: .word 1');
    const t = p.symbols.target;
    expect(t).toBe(32 + 0x1000); // 7 words of text, .data at 32
    const [, auipc, addi, auipc2, jalr, auipc3, jalr3] = Array.from(p.text);
    const d1 = decode(auipc)!, d2 = decode(addi)!;
    expect(d1.def.mnemonic).toBe('auipc');
    expect(4 + d1.imm + d2.imm).toBe(t);
    expect(decode(auipc2)!.rd).toBe(1);
    expect(12 + decode(auipc2)!.imm + decode(jalr)!.imm).toBe(t);
    expect(decode(jalr)!.rd).toBe(1);
    expect(decode(auipc3)!.rd).toBe(6);
    expect(decode(jalr3)!.rd).toBe(0);
    expect(20 + decode(auipc3)!.imm + decode(jalr3)!.imm).toBe(t);
  });
});

describe('assembler: labels, expressions and directives', () => {
  it('resolves forward and backward labels, local labels and %hi/%lo', () => {
    const p = assemble(`
      _start: j end
      1: addi a0, a0, 1
         bnez a0, 1b
         beqz a0, 1f
      1: nop
      end: lui a1, %hi(val)
         addi a1, a1, %lo(val)
      .data
      val: .word 0x12345678
    `);
    const t = Array.from(p.text);
    expect(decode(t[0])!.imm).toBe(p.symbols.end);
    expect(decode(t[2])!.imm).toBe(-4);
    expect(decode(t[3])!.imm).toBe(4);
    expect((decode(t[5])!.imm + decode(t[6])!.imm) >>> 0).toBe(p.symbols.val);
    expect(p.entry).toBe(0);
    expect(p.dataBase).toBe(32); // 7 words = 28 bytes, rounded up to 16
    expect(Array.from(p.data)).toEqual([0x78, 0x56, 0x34, 0x12]);
  });

  it('lays out data directives little-endian with alignment', () => {
    const p = assemble(`
      .data
      a: .byte 1, -1, 'A'
      .align 2
      b: .half 0x1234, -2
      c: .word b, -1
      d: .float 1.5, -2e-3
      e: .space 3, 7
      f: .asciz "hi\\n"
      .balign 8
      g: .zero 2
      .equ SIZE, g - a
    `);
    const base = p.dataBase;
    expect(p.symbols.a).toBe(base);
    expect(p.symbols.b).toBe(base + 4);
    expect(p.symbols.SIZE).toBe(32);
    const d = p.data;
    expect(Array.from(d.slice(0, 3))).toEqual([1, 255, 65]);
    expect(Array.from(d.slice(4, 8))).toEqual([0x34, 0x12, 0xfe, 0xff]);
    const dv = new DataView(d.buffer);
    expect(dv.getUint32(8, true)).toBe(base + 4);
    expect(dv.getInt32(12, true)).toBe(-1);
    expect(dv.getFloat32(16, true)).toBe(1.5);
    expect(dv.getFloat32(20, true)).toBe(Math.fround(-2e-3));
    expect(Array.from(d.slice(24, 27))).toEqual([7, 7, 7]);
    expect(Array.from(d.slice(27, 31))).toEqual([104, 105, 10, 0]);
    expect(p.symbols.g).toBe(base + 32);
    expect(d.length).toBe(34);
  });

  it('takes _start as the entry, comments, semicolons and case-insensitive mnemonics', () => {
    const p = assemble('nop # one\nnop // two\n_start: ADDI a0, zero, 1; addi a1, zero, 2\n');
    expect(p.entry).toBe(8);
    expect(p.text.length).toBe(4);
    expect(Array.from(p.lines)).toEqual([1, 2, 3, 3]);
  });

  it('takes constants from the caller (defines), as a linker passes rates and addresses', () => {
    const p = assemble('li a0, ETA\n li a1, BLOCK + 4', { defines: { ETA: 100, BLOCK: 0x2000 } });
    expect(Array.from(p.text)).toEqual([0x06400513, 0x000025b7, 0x00458593]);
    expect(p.symbols.ETA).toBe(100);
    expect(errors('.equ ETA, 1', { defines: { ETA: 2 } })[0].message).toBe("symbol 'ETA' is already defined by the assembler options (defines)");
  });

  it('pads .align in .text with nops', () => {
    const p = assemble('nop\n.align 4\nx: nop');
    expect(p.symbols.x).toBe(16);
    expect(Array.from(p.text.slice(1, 4))).toEqual([0x13, 0x13, 0x13]);
  });
});

describe('assembler: diagnostics', () => {
  it('reports an unknown mnemonic with file, line and column', () => {
    expect(errors('  nop\n  addd a0, a1, a2\n')).toEqual([
      { file: 'prog.s', line: 2, column: 3, message: "unknown mnemonic 'addd'", severity: 'error' },
    ]);
  });

  it('reports an immediate out of range with its range', () => {
    const [d] = errors('addi a0, a0, 5000');
    expect(d).toMatchObject({ line: 1, column: 14 });
    expect(d.message).toBe('immediate 5000 out of range for addi: must be in -2048..2047');
    expect(errors('slli a0, a0, 32')[0].message).toBe('shamt 32 out of range for slli: must be in 0..31');
    expect(errors('vslli.b v1, v1, 8')[0].message).toBe('shamt 8 out of range for vslli.b: must be in 0..7');
    expect(errors('lui a0, 0x100000')[0].message).toMatch(/out of range for lui: must be in 0\.\.1048575/);
    expect(errors('vadc.b v1, 7, a0')[0].message).toBe('obs 7 out of range for vadc.b: must be in 0..6');
    expect(errors('li a0, 0x100000000')[0]).toMatchObject({ column: 8, message: expect.stringMatching(/does not fit in 32 bits/) });
  });

  it('reports branch targets out of range', () => {
    const [d] = errors('beq a0, a1, far\n.space 8192\nfar: nop');
    expect(d).toMatchObject({ line: 1, column: 13 });
    expect(d.message).toMatch(/out of range for beq: offset 8196 bytes must be within -4096\.\.4094/);
  });

  it('reports undefined labels at the use', () => {
    const [d] = errors('nop\n  j loopp\n');
    expect(d).toMatchObject({ line: 2, column: 5, message: "undefined label or symbol 'loopp'" });
    expect(errors('bnez a0, 1b')[0].message).toMatch(/undefined local label 1b/);
  });

  it('reports wrong operand counts and kinds', () => {
    expect(errors('addi a0, a1')[0].message).toBe('addi takes 3 operands (rd, rs1, imm), got 2');
    expect(errors('vadd.b v1, a0, v2')[0]).toMatchObject({ column: 12, message: "operand 2 of vadd.b must be a vector register (v0..v31), got 'a0'" });
    expect(errors('add a0, v1, a2')[0].message).toMatch(/operand 2 of add must be a scalar register/);
    expect(errors('lw a0, a1')[0].message).toMatch(/must be a memory operand offset\(register\)/);
    expect(errors('addi a0, a1, a2')[0].message).toBe("register 'a2' where a number or label is expected");
    expect(errors('ret a0')[0].message).toBe('ret takes 0 operands, got 1');
  });

  it('reports all errors of a file at once, in line order', () => {
    const ds = errors('addd a0\nnop\naddi a0, a0, 9999\nj nowhere\nx: nop\nx: nop\n.bogus 1\n.data\nadd a0, a0, a0\n');
    expect(ds.map((d) => [d.line, d.column])).toEqual([[1, 1], [3, 14], [4, 3], [6, 1], [7, 1], [9, 1]]);
    expect(ds[3].message).toBe("symbol 'x' is already defined at line 5");
    expect(ds[4].message).toBe("unknown directive '.bogus'");
    expect(ds[5].message).toMatch(/instructions belong in \.text/);
  });

  it('reports lexical errors and malformed numbers', () => {
    expect(errors('addi a0, a0, 12z')[0].message).toBe("malformed number '12z'");
    expect(errors('.asciz "abc')[0].message).toBe('unterminated string');
    expect(errors('addi a0, a0, @')[0]).toMatchObject({ column: 14, message: "unexpected character '@'" });
  });

  it('checks vector lane widths against the chip and the memory size', () => {
    expect(errors('vadd.b v1, v2, v3', { elementBits: [32] })[0].message).toBe(
      'vadd.b needs 8-bit vector lanes; the target chip has element_bits [32]',
    );
    expect(() => assemble('vadd.f v1, v2, v3', { elementBits: [32] })).not.toThrow();
    expect(errors('.data\n.space 20000', { memoryBytes: 16384 })[0].message).toMatch(/needs 20000 bytes .* 16384 bytes of memory/);
  });

  it('formats diagnostics as file:line:col: message', () => {
    try {
      assemble('nop\n  foo', { file: 'fw.s' });
    } catch (e) {
      expect((e as Error).message).toBe("fw.s:2:3: unknown mnemonic 'foo'");
    }
  });
});
