import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProcessorTrap } from '../../emulator/processor/interpreter.js';
import { div, divu, mulh, mulhsu, mulhu, rem, remu } from '../../isa/table.js';
import { run } from './helpers.js';

/** Runs `op a0, a1, a2` with a1 = a, a2 = b and returns a0. */
function op(mn: string, a: number, b: number): number {
  return run(`li a1, ${a}\n li a2, ${b}\n ${mn} a0, a1, a2\n sw a0, 0(zero)\n lw a0, 0(zero)`).p.x[10];
}
/** Runs `op a0, a1, imm`. */
function opi(mn: string, a: number, imm: number): number {
  return run(`li a1, ${a}\n ${mn} a0, a1, ${imm}`).p.x[10];
}

const INT_MIN = -2147483648;

describe('RV32I semantics', () => {
  it('adds and subtracts modulo 2^32', () => {
    expect(op('add', 0x7fffffff, 1)).toBe(INT_MIN);
    expect(op('sub', INT_MIN, 1)).toBe(0x7fffffff);
    expect(opi('addi', -1, -2048)).toBe(-2049);
  });

  it('shifts by the low 5 bits of rs2', () => {
    expect(op('sll', 1, 33)).toBe(2);
    expect(op('srl', -16, 2)).toBe(0x3ffffffc);
    expect(op('sra', -16, 2)).toBe(-4);
    expect(op('sra', INT_MIN, 31)).toBe(-1);
    expect(opi('slli', 3, 31)).toBe(INT_MIN);
    expect(opi('srli', -1, 31)).toBe(1);
    expect(opi('srai', -1, 31)).toBe(-1);
  });

  it('compares signed and unsigned', () => {
    expect(op('slt', -1, 1)).toBe(1);
    expect(op('sltu', -1, 1)).toBe(0);
    expect(opi('slti', -5, -4)).toBe(1);
    // sltiu compares with the sign-extended immediate read unsigned: -1 is 0xffffffff.
    expect(opi('sltiu', 5, -1)).toBe(1);
    expect(opi('sltiu', -1, -1)).toBe(0);
  });

  it('does bitwise logic', () => {
    expect(op('xor', 0x0f0f, 0x00ff)).toBe(0x0ff0);
    expect(op('or', 0x0f00, 0x00f0)).toBe(0x0ff0);
    expect(op('and', 0x0ff0, 0x00ff)).toBe(0x00f0);
    expect(opi('xori', 0x1234, -1)).toBe(~0x1234);
    expect(opi('andi', -1, 0x7ff)).toBe(0x7ff);
  });

  it('loads sign- and zero-extended bytes and halfwords, little-endian', () => {
    const { p } = run(`
      la t0, d
      lb a0, 0(t0)
      lbu a1, 0(t0)
      lh a2, 2(t0)
      lhu a3, 2(t0)
      lw a4, 0(t0)
      li t1, -2
      sb t1, 4(t0)
      sh t1, 6(t0)
      lw a5, 4(t0)
      .data
      d: .byte 0x80, 0x01
         .half 0x8000
         .word 0
    `);
    expect([p.x[10], p.x[11], p.x[12], p.x[13], p.x[14] >>> 0, p.x[15] >>> 0]).toEqual([-128, 128, -32768, 32768, 0x80000180, 0xfffe00fe]);
  });

  it('links and jumps: jal, jalr (low bit cleared), auipc, lui', () => {
    const { p } = run(`
      _start:
        jal ra, f          # 0
        auipc a2, 1        # 4 -> 4 + 4096
        lui a3, 0xfffff    # 8
        la t0, g
        addi t0, t0, 1     # odd target: jalr clears bit 0
        jalr a4, 0(t0)
        j done
      f: li a1, 7
        ret
      g: li a5, 9
        jr a4
      done:
    `);
    expect(p.x[11]).toBe(7);
    expect(p.x[12]).toBe(4 + 4096);
    expect(p.x[13]).toBe(-4096);
    expect(p.x[15]).toBe(9);
    expect(p.x[1]).toBe(4);
  });

  it('takes every branch kind on the right condition', () => {
    const { p } = run(`
      li a0, 0
      li t0, -1
      li t1, 1
      beq t0, t0, 1f
      addi a0, a0, 1
    1: bne t0, t1, 1f
      addi a0, a0, 2
    1: blt t0, t1, 1f
      addi a0, a0, 4
    1: bge t1, t0, 1f
      addi a0, a0, 8
    1: bltu t1, t0, 1f
      addi a0, a0, 16
    1: bgeu t0, t1, 1f
      addi a0, a0, 32
    1: bltu t0, t1, 1f   # not taken: 0xffffffff > 1 unsigned
      addi a0, a0, 64
    1:
    `);
    expect(p.x[10]).toBe(64);
  });

  it('keeps x0 at zero', () => {
    const { p } = run('li zero, 5\n addi x0, x0, 3\n mv a0, zero');
    expect(p.x[0]).toBe(0);
    expect(p.x[10]).toBe(0);
  });
});

describe('RV32M semantics', () => {
  it('handles division by zero and overflow as the spec says', () => {
    expect(op('div', 7, 0)).toBe(-1);
    expect(op('divu', 7, 0)).toBe(-1);
    expect(op('rem', 7, 0)).toBe(7);
    expect(op('remu', -7, 0)).toBe(-7);
    expect(op('div', INT_MIN, -1)).toBe(INT_MIN);
    expect(op('rem', INT_MIN, -1)).toBe(0);
  });

  it('divides toward zero with the remainder taking the dividend sign', () => {
    expect(op('div', 7, -2)).toBe(-3);
    expect(op('rem', 7, -2)).toBe(1);
    expect(op('div', -7, 2)).toBe(-3);
    expect(op('rem', -7, 2)).toBe(-1);
    expect(op('divu', -1, 2)).toBe(0x7fffffff);
    expect(op('remu', -1, 10)).toBe(5); // 4294967295 % 10
  });

  it('computes the high halves of products', () => {
    expect(op('mul', 0x10000, 0x10000)).toBe(0);
    expect(op('mulh', -1, -1)).toBe(0);
    expect(op('mulh', INT_MIN, INT_MIN)).toBe(0x40000000);
    expect(op('mulhu', -1, -1)).toBe(-2); // 0xfffffffe
    expect(op('mulhsu', -1, -1)).toBe(-1); // -1 * (2^32 - 1)
    expect(op('mulhsu', INT_MIN, -1)).toBe(INT_MIN); // -2^31 * (2^32 - 1) = 0x80000000_80000000
    expect(op('mulh', 0x7fffffff, 0x7fffffff)).toBe(0x3fffffff);
  });

  it('agrees with BigInt arithmetic on random operands', () => {
    const big = (x: number, signed: boolean) => (signed ? BigInt(x | 0) : BigInt(x >>> 0));
    const hi = (p: bigint) => Number(BigInt.asIntN(32, p >> 32n));
    fc.assert(
      fc.property(fc.integer({ min: INT_MIN, max: 0x7fffffff }), fc.integer({ min: INT_MIN, max: 0x7fffffff }), (a, b) => {
        expect(mulh(a, b)).toBe(hi(big(a, true) * big(b, true)));
        expect(mulhu(a, b)).toBe(hi(big(a, false) * big(b, false)));
        expect(mulhsu(a, b)).toBe(hi(big(a, true) * big(b, false)));
        expect(Math.imul(a, b)).toBe(Number(BigInt.asIntN(32, big(a, true) * big(b, true))));
        if (b !== 0 && !(a === INT_MIN && b === -1)) {
          expect(div(a, b)).toBe(Number(BigInt.asIntN(32, big(a, true) / big(b, true))));
          expect(rem(a, b)).toBe(Number(BigInt.asIntN(32, big(a, true) % big(b, true))));
          expect(divu(a, b)).toBe(Number(BigInt.asIntN(32, big(a, false) / big(b, false))));
          expect(remu(a, b)).toBe(Number(BigInt.asIntN(32, big(a, false) % big(b, false))));
        }
      }),
      { numRuns: 2000, seed: 17 },
    );
  });
});

describe('traps and system calls', () => {
  it('traps a misaligned word load, naming pc, address and source line', () => {
    let err: unknown;
    try {
      run('nop\n li t0, 3\n lw a0, 0(t0)');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProcessorTrap);
    expect((err as ProcessorTrap).pc).toBe(8);
    expect((err as Error).message).toBe('test.s:3: processor trap at pc 0x00000008: load word at misaligned address 0x00000003 (needs 4-byte alignment)');
  });

  it('traps stores outside memory and illegal instructions', () => {
    expect(() => run('li t0, 16384\n sw a0, 0(t0)')).toThrow(/store word at address 0x00004000 outside memory \(0\.\.0x00003fff\)/);
    expect(() => run('.word 0xffffffff')).toThrow(/processor trap at pc 0x00000000: illegal instruction 0xffffffff/);
    expect(() => run('li a7, 5\n ecall')).toThrow(/unknown system call a7 = 5/);
  });

  it('prints a0 with a7 = 1 and exits with a0 with a7 = 93', () => {
    const { p } = run('li a0, 42\n li a7, 1\n ecall\n li a0, -3\n ecall\n li a0, 7', {});
    expect(p.printed).toEqual([42, -3]);
    expect(p.halted).toBe(true);
    expect(p.exitCode).toBe(7);
  });

  it('halts when the entry function returns', () => {
    const { p } = run('li a0, 5\n ret', { noExit: true });
    expect(p.halted).toBe(true);
    expect(p.exitCode).toBe(5);
  });
});
