/**
 * The plasticity processor's instruction set as one table: RV32IM exactly as the RISC-V
 * unprivileged spec (v20191213) defines it, and a vector unit in RISC-V's custom opcode space
 * modelled on BrainScaleS-2's (RESEARCH.md §2). Assembler, disassembler, decoder, interpreter and
 * docs/isa.md all derive from `INSTRUCTIONS`.
 *
 * Vector unit: 32 registers v0..v31 of `vector_bytes` bytes, read as 8-bit, 16-bit or 32-bit
 * lanes (lanes = vector_bytes * 8 / width). Lane forms are a mnemonic suffix and funct3:
 * .b (8-bit, modulo) 0, .bs (8-bit, saturating) 1, .h (16-bit, modulo) 2, .hs (16-bit,
 * saturating) 3, .f (float32) 4, .w (32-bit integer) 5, .bu (8-bit unsigned) 6, .hu (16-bit
 * unsigned) 7. Fractional arithmetic reads a w-bit lane as a Q0.(w-1) number in [-1, 1).
 * No instruction touches more than one synapse row or one register's worth of lanes.
 */
import {
  bitsToFloat, floatToInt32, fmax, fmin, fracMul, laneMax, laneMin, saturate, wrap,
} from './lanes.js';
import type { CycleClass, DecodedInstruction, Format, InstrDef, Machine, Operand, RegField, Semantics } from './types.js';

/** Major opcodes (bits 6:0). */
export const OPCODES = {
  LOAD: 0x03, MISC_MEM: 0x0f, OP_IMM: 0x13, AUIPC: 0x17, STORE: 0x23, OP: 0x33, LUI: 0x37,
  BRANCH: 0x63, JALR: 0x67, JAL: 0x6f, SYSTEM: 0x73,
  /** Vector lane arithmetic (R format). */
  CUSTOM_0: 0x0b,
  /** Vector loads and stores from/to processor memory (I and S formats). */
  CUSTOM_1: 0x2b,
  /** Synapse rows, ADC, row drivers and neuron parameters (R format). */
  CUSTOM_2: 0x5b,
  /** Wait on hardware time, read the analog step counter (R format). */
  CUSTOM_3: 0x7b,
} as const;

/** System calls selected by a7 at `ecall`. */
export const SYSCALLS = { PRINT: 1, EXIT: 93 } as const;

/**
 * Observables `vadc` reads (its selector operand). `z` is a lif neuron's refractory state as neural
 * sampling reads it (1 from its spike to the end of its refractory period, 0 otherwise; rate neurons read 0).
 */
export const OBSERVABLES = ['r', 'u', 'rp', 'e', 'diff', 'basal', 'z'] as const;

/** Neuron parameters `vldp`/`vstp` read and write (their selector operand). */
export const PARAMETERS = ['bias', 'tau_m_trim', 'tau_r_trim', 'gain_trim', 'offset_trim'] as const;

// ---------------------------------------------------------------- operand shorthands
const X = (name: string, field: RegField): Operand => ({ kind: 'xreg', name, field });
const V = (name: string, field: RegField): Operand => ({ kind: 'vreg', name, field });
const IMM: Operand = { kind: 'imm', name: 'imm' };
const MEM: Operand = { kind: 'mem', name: 'offset(rs1)' };
const TARGET: Operand = { kind: 'target', name: 'target' };
const UPPER: Operand = { kind: 'upper', name: 'imm20' };
const U = (name: string, field: RegField, min: number, max: number): Operand => ({ kind: 'uimm', name, field, min, max });

const u32 = (x: number) => x >>> 0;

// ---------------------------------------------------------------- scalar helpers
function load(size: 1 | 2 | 4, signed: boolean): Semantics {
  return (m, d) => {
    const addr = u32(m.x[d.rs1] + d.imm);
    m.checkAccess(addr, size, size, size === 4 ? 'load word' : size === 2 ? 'load halfword' : 'load byte');
    const b = m.mem;
    let v = size === 1 ? b[addr] : size === 2 ? b[addr] | (b[addr + 1] << 8) : b[addr] | (b[addr + 1] << 8) | (b[addr + 2] << 16) | (b[addr + 3] << 24);
    if (signed && size < 4) v = (v << (32 - 8 * size)) >> (32 - 8 * size);
    m.x[d.rd] = v;
  };
}

function store(size: 1 | 2 | 4): Semantics {
  return (m, d) => {
    const addr = u32(m.x[d.rs1] + d.imm);
    m.checkAccess(addr, size, size, size === 4 ? 'store word' : size === 2 ? 'store halfword' : 'store byte');
    const v = m.x[d.rs2];
    for (let i = 0; i < size; i++) m.mem[addr + i] = v >>> (8 * i);
    m.wrote(addr, size);
  };
}

function branch(cond: (a: number, b: number) => boolean): Semantics {
  return (m, d) => {
    if (cond(m.x[d.rs1], m.x[d.rs2])) m.nextPc = u32(m.pc + d.imm);
  };
}

/** High 32 bits of the unsigned 64-bit product (exact, without BigInt). */
export function mulhu(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}
/** High 32 bits of signed x signed. */
export function mulh(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
}
/** High 32 bits of signed rs1 x unsigned rs2. */
export function mulhsu(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0)) | 0;
}
/** RV32M division: x/0 = -1, INT_MIN/-1 = INT_MIN (no trap). */
export function div(a: number, b: number): number {
  if (b === 0) return -1;
  if (a === -2147483648 && b === -1) return a;
  return Math.trunc(a / b) | 0;
}
/** RV32M unsigned division: x/0 = 2^32 - 1. */
export function divu(a: number, b: number): number {
  return b === 0 ? -1 : (Math.floor(u32(a) / u32(b)) | 0);
}
/** RV32M signed remainder: x%0 = x, INT_MIN%-1 = 0. */
export function rem(a: number, b: number): number {
  if (b === 0) return a;
  if (a === -2147483648 && b === -1) return 0;
  return a % b | 0;
}
/** RV32M unsigned remainder: x%0 = x. */
export function remu(a: number, b: number): number {
  return b === 0 ? a : (u32(a) % u32(b)) | 0;
}

// ---------------------------------------------------------------- entry builders
interface Common {
  group: string;
  cycles: CycleClass;
  summary: string;
  exec: Semantics;
  elements?: (8 | 16 | 32)[];
}

function R(mnemonic: string, opcode: number, funct3: number, funct7: number, operands: Operand[], c: Common, fixed?: Partial<Record<RegField, number>>): InstrDef {
  return { mnemonic, format: 'R', opcode, funct3, funct7, operands, fixed, ...c };
}
function I(mnemonic: string, opcode: number, funct3: number, operands: Operand[], c: Common, fixed?: Partial<Record<RegField, number>>, extra?: { mask: number; match: number }): InstrDef {
  return { mnemonic, format: 'I', opcode, funct3, operands, fixed, extra, ...c };
}
function other(mnemonic: string, format: Format, opcode: number, funct3: number | undefined, operands: Operand[], c: Common): InstrDef {
  return { mnemonic, format, opcode, funct3, operands, ...c };
}

const alu = (summary: string, exec: Semantics): Common => ({ group: 'RV32I', cycles: 'alu', summary, exec });
const mext = (cycles: CycleClass, summary: string, exec: Semantics): Common => ({ group: 'RV32M', cycles, summary, exec });

// ---------------------------------------------------------------- RV32I
const RV32I: InstrDef[] = [
  other('lui', 'U', OPCODES.LUI, undefined, [X('rd', 'rd'), UPPER], alu('rd = imm20 << 12', (m, d) => { m.x[d.rd] = d.imm; })),
  other('auipc', 'U', OPCODES.AUIPC, undefined, [X('rd', 'rd'), UPPER], alu('rd = pc + (imm20 << 12)', (m, d) => { m.x[d.rd] = m.pc + d.imm; })),
  other('jal', 'J', OPCODES.JAL, undefined, [X('rd', 'rd'), TARGET], {
    group: 'RV32I', cycles: 'jump', summary: 'rd = pc + 4; pc = target (pc-relative, +-1 MiB)',
    exec: (m, d) => { m.x[d.rd] = m.pc + 4; m.nextPc = u32(m.pc + d.imm); },
  }),
  I('jalr', OPCODES.JALR, 0, [X('rd', 'rd'), MEM], {
    group: 'RV32I', cycles: 'jump', summary: 'rd = pc + 4; pc = (rs1 + imm) & ~1',
    exec: (m, d) => { const t = u32(m.x[d.rs1] + d.imm) & ~1; m.x[d.rd] = m.pc + 4; m.nextPc = u32(t); },
  }),
  ...([
    ['beq', 0, 'rs1 == rs2', (a: number, b: number) => a === b],
    ['bne', 1, 'rs1 != rs2', (a: number, b: number) => a !== b],
    ['blt', 4, 'rs1 < rs2 (signed)', (a: number, b: number) => a < b],
    ['bge', 5, 'rs1 >= rs2 (signed)', (a: number, b: number) => a >= b],
    ['bltu', 6, 'rs1 < rs2 (unsigned)', (a: number, b: number) => u32(a) < u32(b)],
    ['bgeu', 7, 'rs1 >= rs2 (unsigned)', (a: number, b: number) => u32(a) >= u32(b)],
  ] as const).map(([mn, f3, text, cond]) =>
    other(mn, 'B', OPCODES.BRANCH, f3, [X('rs1', 'rs1'), X('rs2', 'rs2'), TARGET], {
      group: 'RV32I', cycles: 'branch', summary: `if ${text}: pc = target (pc-relative, +-4 KiB)`, exec: branch(cond),
    })),
  I('lb', OPCODES.LOAD, 0, [X('rd', 'rd'), MEM], { group: 'RV32I', cycles: 'load', summary: 'rd = sign-extended byte at rs1 + imm', exec: load(1, true) }),
  I('lh', OPCODES.LOAD, 1, [X('rd', 'rd'), MEM], { group: 'RV32I', cycles: 'load', summary: 'rd = sign-extended halfword at rs1 + imm (2-byte aligned)', exec: load(2, true) }),
  I('lw', OPCODES.LOAD, 2, [X('rd', 'rd'), MEM], { group: 'RV32I', cycles: 'load', summary: 'rd = word at rs1 + imm (4-byte aligned)', exec: load(4, true) }),
  I('lbu', OPCODES.LOAD, 4, [X('rd', 'rd'), MEM], { group: 'RV32I', cycles: 'load', summary: 'rd = zero-extended byte at rs1 + imm', exec: load(1, false) }),
  I('lhu', OPCODES.LOAD, 5, [X('rd', 'rd'), MEM], { group: 'RV32I', cycles: 'load', summary: 'rd = zero-extended halfword at rs1 + imm (2-byte aligned)', exec: load(2, false) }),
  other('sb', 'S', OPCODES.STORE, 0, [X('rs2', 'rs2'), MEM], { group: 'RV32I', cycles: 'store', summary: 'byte at rs1 + imm = rs2[7:0]', exec: store(1) }),
  other('sh', 'S', OPCODES.STORE, 1, [X('rs2', 'rs2'), MEM], { group: 'RV32I', cycles: 'store', summary: 'halfword at rs1 + imm = rs2[15:0] (2-byte aligned)', exec: store(2) }),
  other('sw', 'S', OPCODES.STORE, 2, [X('rs2', 'rs2'), MEM], { group: 'RV32I', cycles: 'store', summary: 'word at rs1 + imm = rs2 (4-byte aligned)', exec: store(4) }),
  I('addi', OPCODES.OP_IMM, 0, [X('rd', 'rd'), X('rs1', 'rs1'), IMM], alu('rd = rs1 + imm', (m, d) => { m.x[d.rd] = m.x[d.rs1] + d.imm; })),
  I('slti', OPCODES.OP_IMM, 2, [X('rd', 'rd'), X('rs1', 'rs1'), IMM], alu('rd = rs1 < imm (signed) ? 1 : 0', (m, d) => { m.x[d.rd] = m.x[d.rs1] < d.imm ? 1 : 0; })),
  I('sltiu', OPCODES.OP_IMM, 3, [X('rd', 'rd'), X('rs1', 'rs1'), IMM], alu('rd = rs1 < imm (unsigned, imm sign-extended) ? 1 : 0', (m, d) => { m.x[d.rd] = u32(m.x[d.rs1]) < u32(d.imm) ? 1 : 0; })),
  I('xori', OPCODES.OP_IMM, 4, [X('rd', 'rd'), X('rs1', 'rs1'), IMM], alu('rd = rs1 ^ imm', (m, d) => { m.x[d.rd] = m.x[d.rs1] ^ d.imm; })),
  I('ori', OPCODES.OP_IMM, 6, [X('rd', 'rd'), X('rs1', 'rs1'), IMM], alu('rd = rs1 | imm', (m, d) => { m.x[d.rd] = m.x[d.rs1] | d.imm; })),
  I('andi', OPCODES.OP_IMM, 7, [X('rd', 'rd'), X('rs1', 'rs1'), IMM], alu('rd = rs1 & imm', (m, d) => { m.x[d.rd] = m.x[d.rs1] & d.imm; })),
  // The shift-immediate forms are I-format words whose imm[11:5] acts as funct7 and imm[4:0] (the rs2 field) as shamt.
  R('slli', OPCODES.OP_IMM, 1, 0x00, [X('rd', 'rd'), X('rs1', 'rs1'), U('shamt', 'rs2', 0, 31)], alu('rd = rs1 << shamt', (m, d) => { m.x[d.rd] = m.x[d.rs1] << d.rs2; })),
  R('srli', OPCODES.OP_IMM, 5, 0x00, [X('rd', 'rd'), X('rs1', 'rs1'), U('shamt', 'rs2', 0, 31)], alu('rd = rs1 >> shamt (logical)', (m, d) => { m.x[d.rd] = m.x[d.rs1] >>> d.rs2; })),
  R('srai', OPCODES.OP_IMM, 5, 0x20, [X('rd', 'rd'), X('rs1', 'rs1'), U('shamt', 'rs2', 0, 31)], alu('rd = rs1 >> shamt (arithmetic)', (m, d) => { m.x[d.rd] = m.x[d.rs1] >> d.rs2; })),
  ...([
    ['add', 0, 0x00, 'rs1 + rs2', (a: number, b: number) => a + b],
    ['sub', 0, 0x20, 'rs1 - rs2', (a: number, b: number) => a - b],
    ['sll', 1, 0x00, 'rs1 << rs2[4:0]', (a: number, b: number) => a << (b & 31)],
    ['slt', 2, 0x00, 'rs1 < rs2 (signed) ? 1 : 0', (a: number, b: number) => (a < b ? 1 : 0)],
    ['sltu', 3, 0x00, 'rs1 < rs2 (unsigned) ? 1 : 0', (a: number, b: number) => (u32(a) < u32(b) ? 1 : 0)],
    ['xor', 4, 0x00, 'rs1 ^ rs2', (a: number, b: number) => a ^ b],
    ['srl', 5, 0x00, 'rs1 >> rs2[4:0] (logical)', (a: number, b: number) => a >>> (b & 31)],
    ['sra', 5, 0x20, 'rs1 >> rs2[4:0] (arithmetic)', (a: number, b: number) => a >> (b & 31)],
    ['or', 6, 0x00, 'rs1 | rs2', (a: number, b: number) => a | b],
    ['and', 7, 0x00, 'rs1 & rs2', (a: number, b: number) => a & b],
  ] as const).map(([mn, f3, f7, text, f]) =>
    R(mn, OPCODES.OP, f3, f7, [X('rd', 'rd'), X('rs1', 'rs1'), X('rs2', 'rs2')], alu(`rd = ${text}`, (m, d) => { m.x[d.rd] = f(m.x[d.rs1], m.x[d.rs2]); }))),
  // fence: fm (imm[11:8]) = 0, pred = imm[7:4], succ = imm[3:0]; rd and rs1 are 0.
  I('fence', OPCODES.MISC_MEM, 0, [{ kind: 'fence', name: 'pred', part: 'pred' }, { kind: 'fence', name: 'succ', part: 'succ' }],
    alu('no-op: the processor has one in-order memory port', () => {}), { rd: 0, rs1: 0 }, { mask: 0xf0000000, match: 0 }),
  I('ecall', OPCODES.SYSTEM, 0, [], alu('system call selected by a7: 93 = exit (halt, exit code a0), 1 = print a0', (m) => m.ecall()), { rd: 0, rs1: 0 }, { mask: 0xfff00000, match: 0 }),
  I('ebreak', OPCODES.SYSTEM, 0, [], alu('breakpoint: stops the run and returns to the host (resumable)', (m) => m.ebreak()), { rd: 0, rs1: 0 }, { mask: 0xfff00000, match: 0x00100000 }),
];

// ---------------------------------------------------------------- RV32M
const RV32M: InstrDef[] = ([
  ['mul', 0, 'mul', 'rd = (rs1 * rs2)[31:0]', Math.imul],
  ['mulh', 1, 'mul', 'rd = (rs1 * rs2)[63:32], signed x signed', mulh],
  ['mulhsu', 2, 'mul', 'rd = (rs1 * rs2)[63:32], signed x unsigned', mulhsu],
  ['mulhu', 3, 'mul', 'rd = (rs1 * rs2)[63:32], unsigned x unsigned', mulhu],
  ['div', 4, 'div', 'rd = rs1 / rs2 (signed, toward zero); x/0 = -1, -2^31/-1 = -2^31', div],
  ['divu', 5, 'div', 'rd = rs1 / rs2 (unsigned); x/0 = 2^32-1', divu],
  ['rem', 6, 'div', 'rd = rs1 % rs2 (signed, sign of rs1); x%0 = x, -2^31%-1 = 0', rem],
  ['remu', 7, 'div', 'rd = rs1 % rs2 (unsigned); x%0 = x', remu],
] as const).map(([mn, f3, cls, text, f]) =>
  R(mn, OPCODES.OP, f3, 0x01, [X('rd', 'rd'), X('rs1', 'rs1'), X('rs2', 'rs2')], mext(cls, text, (m, d) => { m.x[d.rd] = f(m.x[d.rs1], m.x[d.rs2]); })));

// ---------------------------------------------------------------- vector helpers
/** Lane forms: mnemonic suffix, funct3, width, saturating, unsigned. */
interface Form { sfx: string; f3: number; w: 8 | 16 | 32; sat: boolean; unsigned: boolean; float: boolean }
const F: Record<string, Form> = {
  b: { sfx: 'b', f3: 0, w: 8, sat: false, unsigned: false, float: false },
  bs: { sfx: 'bs', f3: 1, w: 8, sat: true, unsigned: false, float: false },
  h: { sfx: 'h', f3: 2, w: 16, sat: false, unsigned: false, float: false },
  hs: { sfx: 'hs', f3: 3, w: 16, sat: true, unsigned: false, float: false },
  f: { sfx: 'f', f3: 4, w: 32, sat: false, unsigned: false, float: true },
  w: { sfx: 'w', f3: 5, w: 32, sat: false, unsigned: false, float: false },
  bu: { sfx: 'bu', f3: 6, w: 8, sat: false, unsigned: true, float: false },
  hu: { sfx: 'hu', f3: 7, w: 16, sat: false, unsigned: true, float: false },
};
const INT4 = [F.b, F.bs, F.h, F.hs];
const FORM_TEXT: Record<string, string> = {
  b: '8-bit lanes, modulo', bs: '8-bit lanes, saturating', h: '16-bit lanes, modulo', hs: '16-bit lanes, saturating',
  f: 'float32 lanes', w: '32-bit lanes', bu: '8-bit lanes, unsigned', hu: '16-bit lanes, unsigned',
};

/** Signed integer lane view of width w. */
function ints(m: Machine, w: number): Int8Array | Int16Array | Int32Array {
  return w === 8 ? m.v.i8 : w === 16 ? m.v.i16 : m.v.i32;
}
function uints(m: Machine, w: number): Uint8Array | Uint16Array | Uint32Array {
  return w === 8 ? m.v.u8 : w === 16 ? m.v.u16 : m.v.u32;
}
/** Lanes of width w in one register. */
function lanesOf(m: Machine, w: number): number {
  return (m.vbytes * 8) / w;
}

/** Lane-wise binary op over two vector registers, modulo (typed-array wrap) or saturating. */
function vvInt(form: Form, f: (a: number, b: number, w: number) => number): Semantics {
  const { w, sat } = form;
  const lo = laneMin(w), hi = laneMax(w);
  return (m, d) => {
    const a = form.unsigned ? uints(m, w) : ints(m, w);
    const n = lanesOf(m, w), od = d.rd * n, o1 = d.rs1 * n, o2 = d.rs2 * n;
    for (let i = 0; i < n; i++) {
      const r = f(a[o1 + i], a[o2 + i], w);
      a[od + i] = sat ? (r < lo ? lo : r > hi ? hi : r) : r;
    }
  };
}
/** Lane-wise op of a vector register with a scalar register's low w bits (sign-extended). */
function vxInt(form: Form, f: (a: number, b: number, w: number) => number): Semantics {
  const { w, sat } = form;
  const lo = laneMin(w), hi = laneMax(w);
  return (m, d) => {
    const a = ints(m, w);
    const b = wrap(m.x[d.rs2], w);
    const n = lanesOf(m, w), od = d.rd * n, o1 = d.rs1 * n;
    for (let i = 0; i < n; i++) {
      const r = f(a[o1 + i], b, w);
      a[od + i] = sat ? (r < lo ? lo : r > hi ? hi : r) : r;
    }
  };
}
/**
 * RISC-V's canonical NaN (F extension, section 11.3): a float result that is NaN is stored as these
 * bits, so results do not depend on how the JavaScript engine propagates NaN payloads.
 */
export const CANONICAL_NAN = 0x7fc00000;

/** Stores a float result into lane i of the 32-bit views, NaN as the canonical NaN. */
function putFloat(m: Machine, i: number, r: number): void {
  if (r === r) m.v.f32[i] = r;
  else m.v.u32[i] = CANONICAL_NAN;
}

function vvFloat(f: (a: number, b: number) => number): Semantics {
  return (m, d) => {
    const a = m.v.f32;
    const n = lanesOf(m, 32), od = d.rd * n, o1 = d.rs1 * n, o2 = d.rs2 * n;
    for (let i = 0; i < n; i++) putFloat(m, od + i, f(a[o1 + i], a[o2 + i]));
  };
}

const VVV = [V('vd', 'rd'), V('vs1', 'rs1'), V('vs2', 'rs2')];
const VVX = [V('vd', 'rd'), V('vs1', 'rs1'), X('rs2', 'rs2')];
const vec = (summary: string, exec: Semantics, elements?: (8 | 16 | 32)[], cycles: CycleClass = 'vector'): Common =>
  ({ group: 'vector lanes', cycles, summary, exec, elements });
const C0 = OPCODES.CUSTOM_0;

/** One entry per lane form of a custom-0 operation. */
function family(base: string, funct7: number, forms: Form[], operands: Operand[], make: (f: Form) => { summary: string; exec: Semantics; cycles?: CycleClass; operands?: Operand[] }, fixed?: Partial<Record<RegField, number>>): InstrDef[] {
  return forms.map((form) => {
    const e = make(form);
    return R(`${base}.${form.sfx}`, C0, form.f3, funct7, e.operands ?? operands,
      vec(`${e.summary} (${FORM_TEXT[form.sfx]})`, e.exec, [form.w], e.cycles), fixed);
  });
}

/** Reads a vector register's lanes into a temporary (for ops whose output lanes overlap other input lanes). */
function copyReg(m: Machine, r: number): Uint8Array {
  return m.v.u8.slice(r * m.vbytes, (r + 1) * m.vbytes);
}

function checkedLane(m: Machine, idx: number, w: number, what: string): number {
  const n = lanesOf(m, w);
  if (idx < 0 || idx >= n) m.trap(`${what}: lane index ${idx} out of range 0..${n - 1} for ${w}-bit lanes`);
  return idx;
}

/** vnarrow / vnarrowsr: 16-bit lanes of vs1 shifted right by rs2[3:0], saturated into half of vd's 8-bit lanes. */
function narrow(hi: boolean, stochastic: boolean): Semantics {
  return (m, d) => {
    const src = new Int16Array(copyReg(m, d.rs1).buffer);
    const s = m.x[d.rs2] & 15;
    const n16 = lanesOf(m, 16);
    const dst = m.v.i8, o = d.rd * m.vbytes + (hi ? n16 : 0), base = hi ? n16 : 0;
    const mask = (1 << s) - 1;
    for (let i = 0; i < n16; i++) {
      // Adding a uniform draw from [0, 2^s) before the floor shift rounds up with probability
      // equal to the discarded fraction: unbiased in the mean.
      const r = stochastic ? m.random(base + i) & mask : 0;
      dst[o + i] = saturate((src[i] + r) >> s, 8);
    }
  };
}
function widen(hi: boolean, unsigned: boolean): Semantics {
  return (m, d) => {
    const src = copyReg(m, d.rs1);
    const n16 = lanesOf(m, 16), o = d.rd * n16, off = hi ? n16 : 0;
    for (let i = 0; i < n16; i++) {
      const b = src[off + i];
      m.v.i16[o + i] = unsigned ? b : (b << 24) >> 24;
    }
  };
}

// ---------------------------------------------------------------- vector: lane arithmetic (custom-0)
const VECTOR_LANES: InstrDef[] = [
  ...family('vadd', 0, [...INT4, F.f], VVV, (f) => ({
    summary: 'vd[i] = vs1[i] + vs2[i]', exec: f.float ? vvFloat((a, b) => a + b) : vvInt(f, (a, b) => a + b),
  })),
  ...family('vsub', 1, [...INT4, F.f], VVV, (f) => ({
    summary: 'vd[i] = vs1[i] - vs2[i]', exec: f.float ? vvFloat((a, b) => a - b) : vvInt(f, (a, b) => a - b),
  })),
  ...family('vmul', 2, [...INT4, F.f], VVV, (f) => ({
    summary: f.float ? 'vd[i] = vs1[i] * vs2[i]' : 'vd[i] = vs1[i] * vs2[i] (integer product)',
    exec: f.float ? vvFloat((a, b) => a * b) : vvInt(f, (a, b) => a * b), cycles: 'vector_mul',
  })),
  ...family('vmulf', 3, INT4, VVV, (f) => ({
    summary: 'vd[i] = (vs1[i] * vs2[i]) >> (w-1) (fractional product, floor)', exec: vvInt(f, fracMul), cycles: 'vector_mul',
  })),
  ...family('vmuls', 4, [...INT4, F.f], VVX, (f) => ({
    summary: f.float ? 'vd[i] = vs1[i] * float(rs2) (rs2 holds float32 bits)' : 'vd[i] = vs1[i] * rs2[w-1:0] (integer product with the sign-extended scalar)',
    exec: f.float
      ? (m, d) => {
          const a = m.v.f32, s = bitsToFloat(m.x[d.rs2]);
          const n = lanesOf(m, 32), od = d.rd * n, o1 = d.rs1 * n;
          for (let i = 0; i < n; i++) putFloat(m, od + i, a[o1 + i] * s);
        }
      : vxInt(f, (a, b) => a * b),
    cycles: 'vector_mul',
  })),
  ...family('vmulfs', 5, INT4, VVX, (f) => ({
    summary: 'vd[i] = (vs1[i] * rs2[w-1:0]) >> (w-1) (fractional product with the scalar)', exec: vxInt(f, fracMul), cycles: 'vector_mul',
  })),
  ...family('vmacf', 6, INT4, VVV, (f) => ({
    summary: 'vd[i] = vd[i] + ((vs1[i] * vs2[i]) >> (w-1)) (fractional multiply-accumulate)',
    exec: (m, d) => {
      const a = ints(m, f.w);
      const n = lanesOf(m, f.w), od = d.rd * n, o1 = d.rs1 * n, o2 = d.rs2 * n;
      for (let i = 0; i < n; i++) {
        const r = a[od + i] + fracMul(a[o1 + i], a[o2 + i], f.w);
        a[od + i] = f.sat ? saturate(r, f.w) : r;
      }
    },
    cycles: 'vector_mul',
  })),
  R('vfma.f', C0, F.f.f3, 6, VVV, vec('vd[i] = vd[i] + vs1[i] * vs2[i] (fused: product and sum in float64, one rounding to float32)', (m, d) => {
    const a = m.v.f32;
    const n = lanesOf(m, 32), od = d.rd * n, o1 = d.rs1 * n, o2 = d.rs2 * n;
    // The product of two float32 values is exact in float64, so only the final rounding remains.
    for (let i = 0; i < n; i++) putFloat(m, od + i, a[od + i] + a[o1 + i] * a[o2 + i]);
  }, [32], 'vector_mul')),
  ...family('vsll', 7, INT4, VVX, (f) => ({
    summary: 'vd[i] = vs1[i] << (rs2 mod w)', exec: vxIntShift(f, (a, s) => a * 2 ** s, (b, w) => b & (w - 1)),
  })),
  ...family('vsrl', 8, [F.b, F.h], VVX, (f) => ({
    summary: 'vd[i] = vs1[i] >> (rs2 mod w) (logical)', exec: vxIntShift(f, (a, s, w) => (a & ((1 << w) - 1)) >>> s, (b, w) => b & (w - 1)),
  })),
  ...family('vsra', 9, [F.b, F.h], VVX, (f) => ({
    summary: 'vd[i] = vs1[i] >> (rs2 mod w) (arithmetic)', exec: vxIntShift(f, (a, s) => a >> s, (b, w) => b & (w - 1)),
  })),
  ...family('vslli', 10, INT4, [], (f) => ({
    operands: [V('vd', 'rd'), V('vs1', 'rs1'), U('shamt', 'rs2', 0, f.w - 1)],
    summary: 'vd[i] = vs1[i] << shamt', exec: viIntShift(f, (a, s) => a * 2 ** s),
  })),
  ...family('vsrli', 11, [F.b, F.h], [], (f) => ({
    operands: [V('vd', 'rd'), V('vs1', 'rs1'), U('shamt', 'rs2', 0, f.w - 1)],
    summary: 'vd[i] = vs1[i] >> shamt (logical)', exec: viIntShift(f, (a, s, w) => (a & ((1 << w) - 1)) >>> s),
  })),
  ...family('vsrai', 12, [F.b, F.h], [], (f) => ({
    operands: [V('vd', 'rd'), V('vs1', 'rs1'), U('shamt', 'rs2', 0, f.w - 1)],
    summary: 'vd[i] = vs1[i] >> shamt (arithmetic)', exec: viIntShift(f, (a, s) => a >> s),
  })),
  ...family('vmin', 13, [F.b, F.h, F.f, F.bu, F.hu], VVV, (f) => ({
    summary: 'vd[i] = min(vs1[i], vs2[i])' + (f.float ? ' (NaN yields the other operand)' : ''),
    exec: f.float ? vvFloat(fmin) : vvInt(f, (a, b) => (a < b ? a : b)),
  })),
  ...family('vmax', 14, [F.b, F.h, F.f, F.bu, F.hu], VVV, (f) => ({
    summary: 'vd[i] = max(vs1[i], vs2[i])' + (f.float ? ' (NaN yields the other operand)' : ''),
    exec: f.float ? vvFloat(fmax) : vvInt(f, (a, b) => (a > b ? a : b)),
  })),
  ...([['vand', 0, '&', (a: number, b: number) => a & b], ['vor', 1, '|', (a: number, b: number) => a | b], ['vxor', 2, '^', (a: number, b: number) => a ^ b]] as const).map(
    ([mn, f3, op, f]) => R(mn, C0, f3, 15, VVV, vec(`vd = vs1 ${op} vs2 (bitwise, any lane width)`, (m, d) => {
      const a = m.v.u32, n = m.vbytes / 4, od = d.rd * n, o1 = d.rs1 * n, o2 = d.rs2 * n;
      for (let i = 0; i < n; i++) a[od + i] = f(a[o1 + i], a[o2 + i]);
    }))),
  R('vsel', C0, 0, 16, VVV, vec('vd = (vd & vs1) | (~vd & vs2): bitwise select with the mask held in vd (from vcmp*)', (m, d) => {
    const a = m.v.u32, n = m.vbytes / 4, od = d.rd * n, o1 = d.rs1 * n, o2 = d.rs2 * n;
    for (let i = 0; i < n; i++) { const k = a[od + i]; a[od + i] = (k & a[o1 + i]) | (~k & a[o2 + i]); }
  })),
  ...family('vcmpeq', 17, [F.b, F.h, F.f], VVV, (f) => ({
    summary: 'vd[i] = vs1[i] == vs2[i] ? all ones : 0', exec: cmp(f, (a, b) => a === b),
  })),
  ...family('vcmplt', 18, [F.b, F.h, F.f, F.bu, F.hu], VVV, (f) => ({
    summary: 'vd[i] = vs1[i] < vs2[i] ? all ones : 0', exec: cmp(f, (a, b) => a < b),
  })),
  ...family('vsplat', 19, [F.b, F.h, F.w], [V('vd', 'rd'), X('value', 'rs1')], (f) => ({
    summary: 'vd[i] = value[w-1:0] for every lane', exec: (m, d) => {
      const n = lanesOf(m, f.w);
      ints(m, f.w).fill(m.x[d.rs1], d.rd * n, (d.rd + 1) * n);
    },
  }), { rs2: 0 }),
  ...family('vext', 20, [F.b, F.h, F.w, F.bu, F.hu], [X('rd', 'rd'), V('vs1', 'rs1'), X('lane', 'rs2')], (f) => ({
    summary: f.unsigned ? 'rd = vs1[lane] zero-extended (a lane index past the last lane traps)' : 'rd = vs1[lane] sign-extended (a lane index past the last lane traps)', exec: (m, d) => {
      const i = checkedLane(m, m.x[d.rs2], f.w, `vext.${f.sfx}`);
      m.x[d.rd] = (f.unsigned ? uints(m, f.w) : ints(m, f.w))[d.rs1 * lanesOf(m, f.w) + i];
    },
  })),
  ...family('vins', 21, [F.b, F.h, F.w], [V('vd', 'rd'), X('value', 'rs1'), X('lane', 'rs2')], (f) => ({
    summary: 'vd[lane] = value[w-1:0] (other lanes unchanged; a lane index past the last lane traps)', exec: (m, d) => {
      const i = checkedLane(m, m.x[d.rs2], f.w, `vins.${f.sfx}`);
      ints(m, f.w)[d.rd * lanesOf(m, f.w) + i] = m.x[d.rs1];
    },
  })),
  ...family('vrand', 22, [F.b, F.h, F.w], [V('vd', 'rd')], (f) => ({
    summary: "vd[i] = low w bits of the next draw of lane i's hardware generator", exec: (m, d) => {
      const a = ints(m, f.w), n = lanesOf(m, f.w), o = d.rd * n;
      for (let i = 0; i < n; i++) a[o + i] = m.random(i);
    },
  }), { rs1: 0, rs2: 0 }),
  R('vnarrow.lo', C0, 0, 23, VVX, vec('vd.b[i] = sat8(vs1.h[i] >> rs2[3:0]) for the lower half of vd\'s 8-bit lanes (upper half unchanged)', narrow(false, false), [8, 16])),
  R('vnarrow.hi', C0, 1, 23, VVX, vec('vd.b[n/2 + i] = sat8(vs1.h[i] >> rs2[3:0]) for the upper half of vd\'s 8-bit lanes (lower half unchanged)', narrow(true, false), [8, 16])),
  R('vnarrowsr.lo', C0, 2, 23, VVX, vec('as vnarrow.lo with stochastic rounding: vd.b[i] = sat8((vs1.h[i] + rand[0, 2^s)) >> s), s = rs2[3:0]; unbiased in the mean', narrow(false, true), [8, 16])),
  R('vnarrowsr.hi', C0, 3, 23, VVX, vec('as vnarrow.hi with stochastic rounding (generator of output lane n/2 + i)', narrow(true, true), [8, 16])),
  R('vwiden.lo', C0, 0, 24, [V('vd', 'rd'), V('vs1', 'rs1')], vec('vd.h[i] = vs1.b[i] sign-extended, for the lower half of the 8-bit lanes', widen(false, false), [8, 16]), { rs2: 0 }),
  R('vwiden.hi', C0, 1, 24, [V('vd', 'rd'), V('vs1', 'rs1')], vec('vd.h[i] = vs1.b[n/2 + i] sign-extended, for the upper half of the 8-bit lanes', widen(true, false), [8, 16]), { rs2: 0 }),
  R('vwidenu.lo', C0, 2, 24, [V('vd', 'rd'), V('vs1', 'rs1')], vec('vd.h[i] = vs1.b[i] zero-extended (ADC codes), lower half', widen(false, true), [8, 16]), { rs2: 0 }),
  R('vwidenu.hi', C0, 3, 24, [V('vd', 'rd'), V('vs1', 'rs1')], vec('vd.h[i] = vs1.b[n/2 + i] zero-extended (ADC codes), upper half', widen(true, true), [8, 16]), { rs2: 0 }),
  R('vcvt.f.w', C0, 0, 25, [V('vd', 'rd'), V('vs1', 'rs1')], vec('vd.f[i] = float32(vs1.w[i]) (round to nearest even)', (m, d) => {
    const n = lanesOf(m, 32);
    for (let i = 0; i < n; i++) m.v.f32[d.rd * n + i] = m.v.i32[d.rs1 * n + i];
  }, [32]), { rs2: 0 }),
  R('vcvt.w.f', C0, 1, 25, [V('vd', 'rd'), V('vs1', 'rs1')], vec('vd.w[i] = int32(vs1.f[i]) rounded to nearest even, saturating; NaN gives 2^31-1', (m, d) => {
    const n = lanesOf(m, 32);
    for (let i = 0; i < n; i++) m.v.i32[d.rd * n + i] = floatToInt32(m.v.f32[d.rs1 * n + i]);
  }, [32]), { rs2: 0 }),
];

function vxIntShift(form: Form, f: (a: number, s: number, w: number) => number, amount: (b: number, w: number) => number): Semantics {
  const { w, sat } = form;
  return (m, d) => {
    const a = ints(m, w), s = amount(m.x[d.rs2], w);
    const n = lanesOf(m, w), od = d.rd * n, o1 = d.rs1 * n;
    for (let i = 0; i < n; i++) { const r = f(a[o1 + i], s, w); a[od + i] = sat ? saturate(r, w) : r; }
  };
}
function viIntShift(form: Form, f: (a: number, s: number, w: number) => number): Semantics {
  const { w, sat } = form;
  return (m, d) => {
    const a = ints(m, w), s = d.rs2;
    const n = lanesOf(m, w), od = d.rd * n, o1 = d.rs1 * n;
    for (let i = 0; i < n; i++) { const r = f(a[o1 + i], s, w); a[od + i] = sat ? saturate(r, w) : r; }
  };
}
function cmp(form: Form, f: (a: number, b: number) => boolean): Semantics {
  return (m, d) => {
    const w = form.w;
    const src = form.float ? m.v.f32 : form.unsigned ? uints(m, w) : ints(m, w);
    const dst = ints(m, w);
    const n = lanesOf(m, w), od = d.rd * n, o1 = d.rs1 * n, o2 = d.rs2 * n;
    for (let i = 0; i < n; i++) dst[od + i] = f(src[o1 + i], src[o2 + i]) ? -1 : 0;
  };
}

// ---------------------------------------------------------------- vector: memory (custom-1)
const VECTOR_MEMORY: InstrDef[] = [
  I('vld', OPCODES.CUSTOM_1, 0, [V('vd', 'rd'), MEM], {
    group: 'vector memory', cycles: 'load', summary: 'vd = vector_bytes bytes at rs1 + imm (4-byte aligned)',
    exec: (m, d) => {
      const addr = u32(m.x[d.rs1] + d.imm);
      m.checkAccess(addr, m.vbytes, 4, 'vector load');
      m.v.u8.set(m.mem.subarray(addr, addr + m.vbytes), d.rd * m.vbytes);
    },
  }),
  other('vst', 'S', OPCODES.CUSTOM_1, 1, [V('vs', 'rs2'), MEM], {
    group: 'vector memory', cycles: 'store', summary: 'vector_bytes bytes at rs1 + imm = vs (4-byte aligned)',
    exec: (m, d) => {
      const addr = u32(m.x[d.rs1] + d.imm);
      m.checkAccess(addr, m.vbytes, 4, 'vector store');
      m.mem.set(m.v.u8.subarray(d.rs2 * m.vbytes, (d.rs2 + 1) * m.vbytes), addr);
      m.wrote(addr, m.vbytes);
    },
  }),
];

// ---------------------------------------------------------------- vector: analog core (custom-2)
const C2 = OPCODES.CUSTOM_2;
const core = (cycles: CycleClass, summary: string, exec: Semantics, elements: (8 | 16 | 32)[]): Common =>
  ({ group: 'vector core access', cycles, summary, exec, elements });

function rowIndex(m: Machine, row: number, what: string): number {
  const r = row >>> 0;
  if (r >= m.bus.rows) m.trap(`${what}: synapse row ${r} out of range 0..${m.bus.rows - 1}`);
  return r;
}
function colIndex(m: Machine, col: number, what: string): number {
  const c = col >>> 0;
  if (c >= m.bus.columns) m.trap(`${what}: column ${c} out of range 0..${m.bus.columns - 1}`);
  return c;
}
/** Writes analog values into lanes: ADC codes on integer lanes, exact float32 on float lanes; lanes past n are 0. */
function analogToLanes(m: Machine, w: 8 | 16 | 32, vd: number, src: Float32Array, n: number): void {
  const lanes = lanesOf(m, w), o = vd * lanes;
  if (w === 32) {
    for (let i = 0; i < lanes; i++) m.v.f32[o + i] = i < n ? src[i] : 0;
  } else {
    const a = ints(m, w);
    for (let i = 0; i < lanes; i++) a[o + i] = i < n ? m.adcCode(src[i], w) : 0;
  }
}

const VECTOR_CORE: InstrDef[] = [
  ...[F.b, F.h, F.f].map((f) => R(`vlds.${f.sfx}`, C2, f.f3, 0, [V('vd', 'rd'), X('row', 'rs1'), X('col0', 'rs2')], core('vector_row',
    f.float
      ? 'vd.f[i] = synapse weight (float32) at row `row`, column col0 + i; lanes past the last column read 0'
      : `vd[i] = synapse code at row \`row\`, column col0 + i, sign-extended into ${f.w}-bit lanes; lanes past the last column read 0`,
    (m, d) => {
      const what = `vlds.${f.sfx}`;
      const row = rowIndex(m, m.x[d.rs1], what), col0 = colIndex(m, m.x[d.rs2], what);
      const lanes = lanesOf(m, f.w), n = Math.min(lanes, m.bus.columns - col0), o = d.rd * lanes;
      if (f.float) {
        if (m.weightCodes !== null) m.trap(`${what}: this chip stores fixed-point synapse codes; use vlds.b or vlds.h`);
        m.bus.readSynapseRow(row, col0, m.scratchF32, n);
        for (let i = 0; i < lanes; i++) m.v.f32[o + i] = i < n ? m.scratchF32[i] : 0;
      } else {
        if (m.weightCodes === null) m.trap(`${what}: this chip stores float32 synapses; use vlds.f`);
        m.bus.readSynapseRow(row, col0, m.scratchI32, n);
        const a = ints(m, f.w);
        for (let i = 0; i < lanes; i++) a[o + i] = i < n ? m.scratchI32[i] : 0;
      }
    }, [f.w]))),
  ...[F.b, F.h, F.f].map((f) => R(`vsts.${f.sfx}`, C2, f.f3, 1, [V('vs', 'rd'), X('row', 'rs1'), X('col0', 'rs2')], core('vector_row',
    f.float
      ? 'synapse weights at row `row`, columns col0 + i = vs.f[i] (lanes past the last column are dropped)'
      : 'synapse codes at row `row`, columns col0 + i = vs[i] clamped to the chip\'s code range (lanes past the last column are dropped)',
    (m, d) => {
      const what = `vsts.${f.sfx}`;
      const row = rowIndex(m, m.x[d.rs1], what), col0 = colIndex(m, m.x[d.rs2], what);
      const lanes = lanesOf(m, f.w), n = Math.min(lanes, m.bus.columns - col0), o = d.rd * lanes;
      if (f.float) {
        if (m.weightCodes !== null) m.trap(`${what}: this chip stores fixed-point synapse codes; use vsts.b or vsts.h`);
        for (let i = 0; i < n; i++) m.scratchF32[i] = m.v.f32[o + i];
        m.bus.writeSynapseRow(row, col0, m.scratchF32, n);
      } else {
        const codes = m.weightCodes;
        if (codes === null) return m.trap(`${what}: this chip stores float32 synapses; use vsts.f`);
        const a = ints(m, f.w);
        // A synapse holds only its code range: the write saturates there, as the hardware's would.
        for (let i = 0; i < n; i++) { const c = a[o + i]; m.scratchI32[i] = c < codes.min ? codes.min : c > codes.max ? codes.max : c; }
        m.bus.writeSynapseRow(row, col0, m.scratchI32, n);
      }
    }, [f.w]))),
  ...[F.b, F.h, F.f].map((f) => R(`vadc.${f.sfx}`, C2, f.f3, 2, [V('vd', 'rd'), U('obs', 'rs1', 0, OBSERVABLES.length - 1), X('col0', 'rs2')], core('vector_adc',
    `vd[i] = observable obs (0 r, 1 u, 2 r', 3 e, 4 diff = ubrm - basal, 5 basal, 6 z = lif refractory state 0/1) of column col0 + i, ${f.float ? 'exact float32' : `as ADC codes in ${f.w}-bit lanes`}; lanes past the last column read 0`,
    (m, d) => {
      const col0 = colIndex(m, m.x[d.rs2], `vadc.${f.sfx}`);
      const n = Math.min(lanesOf(m, f.w), m.bus.columns - col0);
      m.bus.readObservable(d.rs1, col0, m.scratchF32, n);
      analogToLanes(m, f.w, d.rd, m.scratchF32, n);
    }, [f.w]))),
  ...[F.b, F.h, F.f].map((f) => R(`vrowd.${f.sfx}`, C2, f.f3, 3, [V('vd', 'rd'), X('row0', 'rs1')], core('vector_row',
    `vd[i] = presynaptic value on the row driver of row row0 + i, ${f.float ? 'exact float32' : `as ADC codes in ${f.w}-bit lanes`}; lanes past the last row read 0`,
    (m, d) => {
      const row0 = rowIndex(m, m.x[d.rs1], `vrowd.${f.sfx}`);
      const n = Math.min(lanesOf(m, f.w), m.bus.rows - row0);
      m.bus.readRowDrivers(row0, m.scratchF32, n);
      analogToLanes(m, f.w, d.rd, m.scratchF32, n);
    }, [f.w]), { rs2: 0 })),
];

const PARAM_TEXT = '0 bias, 1 tau_m trim, 2 tau_r trim, 3 gain trim, 4 offset trim';
const VECTOR_PARAMS: InstrDef[] = [
  ...[F.h, F.f].map((f) => R(`vldp.${f.sfx}`, C2, f.f3, 4, [V('vd', 'rd'), U('sel', 'rs1', 0, PARAMETERS.length - 1), X('col0', 'rs2')], core('vector_row',
    `vd[i] = neuron parameter sel (${PARAM_TEXT}) of column col0 + i, ${f.float ? 'as its value (float32)' : 'as its signed DAC code in 16-bit lanes'}; lanes past the last column read 0`,
    (m, d) => {
      const what = `vldp.${f.sfx}`;
      const col0 = colIndex(m, m.x[d.rs2], what);
      const lanes = lanesOf(m, f.w), n = Math.min(lanes, m.bus.columns - col0), o = d.rd * lanes;
      if (f.float) {
        m.bus.readParameter(d.rs1, col0, m.scratchF32, n);
        for (let i = 0; i < lanes; i++) m.v.f32[o + i] = i < n ? m.scratchF32[i] : 0;
      } else {
        m.bus.readParameter(d.rs1, col0, m.scratchI32, n);
        for (let i = 0; i < lanes; i++) m.v.i16[o + i] = i < n ? m.scratchI32[i] : 0;
      }
    }, [f.w]))),
  ...[F.h, F.f].map((f) => R(`vstp.${f.sfx}`, C2, f.f3, 5, [V('vs', 'rd'), U('sel', 'rs1', 0, PARAMETERS.length - 1), X('col0', 'rs2')], core('vector_row',
    `neuron parameter sel (${PARAM_TEXT}) of columns col0 + i = vs[i] (${f.float ? 'values' : 'signed DAC codes, clamped by the chip to its code range'}; lanes past the last column are dropped)`,
    (m, d) => {
      const what = `vstp.${f.sfx}`;
      const col0 = colIndex(m, m.x[d.rs2], what);
      const lanes = lanesOf(m, f.w), n = Math.min(lanes, m.bus.columns - col0), o = d.rd * lanes;
      if (f.float) {
        for (let i = 0; i < n; i++) m.scratchF32[i] = m.v.f32[o + i];
        m.bus.writeParameter(d.rs1, col0, m.scratchF32, n);
      } else {
        for (let i = 0; i < n; i++) m.scratchI32[i] = m.v.i16[o + i];
        m.bus.writeParameter(d.rs1, col0, m.scratchI32, n);
      }
    }, [f.w]))),
];

// ---------------------------------------------------------------- hardware time (custom-3)
const TIMING: InstrDef[] = [
  R('wait', OPCODES.CUSTOM_3, 0, 0, [X('steps', 'rs1')], {
    group: 'hardware time', cycles: 'wait',
    summary: 'stall until the analog core has advanced `steps` (unsigned) more Euler steps; the host runs the core meanwhile',
    exec: (m, d) => m.wait(m.x[d.rs1] >>> 0),
  }, { rd: 0, rs2: 0 }),
  R('rdstep', OPCODES.CUSTOM_3, 0, 1, [X('rd', 'rd')], {
    group: 'hardware time', cycles: 'alu',
    summary: "rd = the core's analog step counter (low 32 bits): Euler steps the analog core has advanced while the processor ran",
    exec: (m, d) => { m.x[d.rd] = m.bus.analogSteps | 0; },
  }, { rs1: 0, rs2: 0 }),
];

/** Every instruction of the processor, in documentation order. */
export const INSTRUCTIONS: readonly InstrDef[] = [...RV32I, ...RV32M, ...VECTOR_LANES, ...VECTOR_MEMORY, ...VECTOR_CORE, ...VECTOR_PARAMS, ...TIMING];

/** Table entries by mnemonic. */
export const BY_MNEMONIC: ReadonlyMap<string, InstrDef> = new Map(INSTRUCTIONS.map((d) => [d.mnemonic, d]));

/** The assembly syntax of an entry's operands, e.g. `rd, rs1, imm`. */
export function syntaxOf(def: InstrDef): string {
  return def.operands.map((o) => o.name).join(', ');
}

/** Re-exported for users of the table. */
export type { DecodedInstruction };
