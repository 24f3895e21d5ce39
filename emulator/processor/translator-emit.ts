/**
 * WebAssembly code for each instruction of the table (isa/table.ts), emitted with binaryen. The
 * code of an instruction does exactly what the table's semantics do on the common path and exits
 * to the host (`bail`) with the state as it was before the instruction wherever the interpreter
 * would trap, so the host's stepper produces the interpreter's own trap. Vector instructions are
 * v128 SIMD over the register's 16-byte chunks: i8x16 / i16x8 with saturating ops where the ISA
 * saturates, f32x4 for float lanes (float64 where the table computes in float64; NaN results are
 * the canonical NaN, as the table stores them), and xoshiro128**
 * of four lane generators per i32x4.
 *
 * Control transfers (branches, jumps, `wait`, `ecall`, `ebreak`) end a block; translator-module.ts
 * emits them (TERMINATORS).
 */
import type binaryen from 'binaryen';
import { CANONICAL_NAN } from '../../isa/table.js';
import type { DecodedInstruction } from '../../isa/types.js';
import type { StateLayout } from './wasm-layout.js';

type E = binaryen.ExpressionRef;
type B = typeof binaryen;

/** What an instruction's code is built with (translator-module.ts provides it per instruction). */
export interface EmitContext {
  readonly B: B;
  readonly m: binaryen.Module;
  readonly L: StateLayout;
  readonly vbytes: number;
  /** 16-byte chunks per vector register. */
  readonly chunks: number;
  readonly rows: number;
  readonly columns: number;
  /** Synapse code range on fixed-weight chips, null on float32 chips. */
  readonly fixedWeights: boolean;
  /** Translated code occupies [codeLo, codeHi): a store there exits to the host. */
  readonly codeLo: number;
  readonly codeHi: number;
  /** Address of the instruction. */
  readonly pc: number;
  /** Value of scalar register r (0 for x0). */
  x(r: number): E;
  /** Writes scalar register r (dropped for x0). */
  setX(r: number, value: E): E;
  /** Exits to the host at this instruction, state as before it. */
  bail(): E;
  /** Index of i32 temporary k (k < 8). */
  ti(k: number): number;
  /** Index of v128 temporary k (k < 4 + chunks). */
  tv(k: number): number;
  /**
   * Chunk k of vector register r: in the register file in memory, or, with the module option
   * vectorLocals, in v128 locals (loaded on entry, stored on every exit), in which case code that
   * reaches the register file in memory (bus calls, lane addresses) stores a register there first
   * (vflush) or reloads it after (vreload); both are no-ops without it.
   */
  vget(r: number, k: number): E;
  /** Sets chunk k of vector register r. */
  vset(r: number, k: number, v: E): E;
  /** Stores register r's locals into the register file in memory. */
  vflush(r: number): E[];
  /** Reloads register r's locals from the register file in memory. */
  vreload(r: number): E[];
  /** The bus transfer of a core-access instruction (vlds/vsts/vadc/vrowd) after its checks. */
  bus(d: DecodedInstruction): E[];
  /** The bus's analog step counter (rdstep). */
  analogSteps(): E;
  /** Next four outputs of lane generators 4g'..4g'+3 whose state words start at `rngAddr` (s0 address). */
  rng4(rngAddr: number): E;
}

/** Emits the code of one instruction (a list of statements). */
export type Emitter = (c: EmitContext, d: DecodedInstruction) => E[];

/** Instructions that end a block; translator-module.ts translates them. */
export const TERMINATORS = new Set(['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu', 'jal', 'jalr', 'wait', 'ecall', 'ebreak']);

// Shuffle masks: the low byte of each 16-bit lane, the low half of each 32-bit lane, of two vectors.
const LOW8 = Array.from({ length: 16 }, (_, i) => 2 * i);
const LOW16 = Array.from({ length: 16 }, (_, i) => 4 * (i >> 1) + (i & 1));

// ---------------------------------------------------------------- small builders
const i32c = (c: EmitContext, v: number) => c.m.i32.const(v | 0);
const lget = (c: EmitContext, i: number, t: binaryen.Type) => c.m.local.get(i, t);

function vload(c: EmitContext, r: number, k: number): E {
  return c.vget(r, k);
}
function vstore(c: EmitContext, r: number, k: number, v: E): E {
  return c.vset(r, k, v);
}
function chunks<T>(c: EmitContext, f: (k: number) => T): T[] {
  return Array.from({ length: c.chunks }, (_, k) => f(k));
}
function orAll(c: EmitContext, xs: E[]): E {
  return xs.reduce((a, b) => c.m.i32.or(a, b));
}

// ---------------------------------------------------------------- scalar
function rr(f: (c: EmitContext, a: E, b: E) => E): Emitter {
  return (c, d) => [c.setX(d.rd, f(c, c.x(d.rs1), c.x(d.rs2)))];
}
function ri(f: (c: EmitContext, a: E, imm: number) => E): Emitter {
  return (c, d) => [c.setX(d.rd, f(c, c.x(d.rs1), d.imm))];
}
function sh(f: (c: EmitContext, a: E, s: E) => E): Emitter {
  return (c, d) => [c.setX(d.rd, f(c, c.x(d.rs1), c.m.i32.const(d.rs2)))];
}

/** Effective address into ti(0) and the bail on misalignment or an access outside memory (or into code, for stores). */
function access(c: EmitContext, d: DecodedInstruction, size: number, align: number, store: boolean): E[] {
  const m = c.m, B = c.B;
  const a = () => lget(c, c.ti(0), B.i32);
  const setA = m.local.set(c.ti(0), m.i32.add(c.x(d.rs1), i32c(c, d.imm)));
  if (c.L.memBytes < size) return [setA, c.bail()];
  const bad = [m.i32.gt_u(a(), i32c(c, c.L.memBytes - size))];
  if (align > 1) bad.push(m.i32.and(a(), i32c(c, align - 1)));
  if (store && c.codeHi > c.codeLo) {
    // The store would change translated code: the host executes it and retranslates.
    const below = m.i32.lt_u(a(), i32c(c, c.codeHi));
    bad.push(c.codeLo === 0 ? below : m.i32.and(below, m.i32.gt_u(m.i32.add(a(), i32c(c, size)), i32c(c, c.codeLo))));
  }
  return [setA, m.if(orAll(c, bad), c.bail())];
}

function load(size: 1 | 2 | 4, signed: boolean): Emitter {
  return (c, d) => {
    const m = c.m, a = lget(c, c.ti(0), c.B.i32), off = c.L.mem;
    const v = size === 1 ? (signed ? m.i32.load8_s(off, 1, a) : m.i32.load8_u(off, 1, a))
      : size === 2 ? (signed ? m.i32.load16_s(off, 2, a) : m.i32.load16_u(off, 2, a))
        : m.i32.load(off, 4, a);
    return [...access(c, d, size, size, false), c.setX(d.rd, v)];
  };
}
function store(size: 1 | 2 | 4): Emitter {
  return (c, d) => {
    const m = c.m, a = lget(c, c.ti(0), c.B.i32), off = c.L.mem, v = c.x(d.rs2);
    const s = size === 1 ? m.i32.store8(off, 1, a, v) : size === 2 ? m.i32.store16(off, 2, a, v) : m.i32.store(off, 4, a, v);
    return [...access(c, d, size, size, true), s];
  };
}

/** High 32 bits of a 64-bit product of extended operands. */
function mulHigh(ext1: 's' | 'u', ext2: 's' | 'u'): Emitter {
  return rr((c, a, b) => {
    const m = c.m;
    const ea = ext1 === 's' ? m.i64.extend_s(a) : m.i64.extend_u(a);
    const eb = ext2 === 's' ? m.i64.extend_s(b) : m.i64.extend_u(b);
    return m.i32.wrap(m.i64.shr_u(m.i64.mul(ea, eb), m.i64.const(BigInt(32))));
  });
}

/** RV32M division and remainder with their defined results for x/0 and INT_MIN/-1 (WASM would trap). */
function divide(kind: 'div' | 'divu' | 'rem' | 'remu'): Emitter {
  return (c, d) => {
    const m = c.m, B = c.B;
    const ta = c.ti(1), tb = c.ti(2);
    const a = () => lget(c, ta, B.i32), b = () => lget(c, tb, B.i32);
    const zero = m.i32.eqz(b());
    let v: E;
    if (kind === 'div') {
      // INT_MIN / -1 = INT_MIN: divide by 1 instead.
      const overflow = m.i32.and(m.i32.eq(a(), i32c(c, -2147483648)), m.i32.eq(b(), i32c(c, -1)));
      v = m.if(zero, i32c(c, -1), m.i32.div_s(a(), m.select(overflow, i32c(c, 1), b())));
    } else if (kind === 'divu') {
      v = m.if(zero, i32c(c, -1), m.i32.div_u(a(), b()));
    } else if (kind === 'rem') {
      v = m.if(zero, a(), m.i32.rem_s(a(), b())); // rem_s(INT_MIN, -1) = 0 in WASM
    } else {
      v = m.if(zero, a(), m.i32.rem_u(a(), b()));
    }
    return [m.local.set(ta, c.x(d.rs1)), m.local.set(tb, c.x(d.rs2)), c.setX(d.rd, v)];
  };
}

const SCALAR: Record<string, Emitter> = {
  lui: (c, d) => [c.setX(d.rd, i32c(c, d.imm))],
  auipc: (c, d) => [c.setX(d.rd, i32c(c, c.pc + d.imm))],
  lb: load(1, true), lh: load(2, true), lw: load(4, true), lbu: load(1, false), lhu: load(2, false),
  sb: store(1), sh: store(2), sw: store(4),
  addi: ri((c, a, k) => c.m.i32.add(a, i32c(c, k))),
  slti: ri((c, a, k) => c.m.i32.lt_s(a, i32c(c, k))),
  sltiu: ri((c, a, k) => c.m.i32.lt_u(a, i32c(c, k))),
  xori: ri((c, a, k) => c.m.i32.xor(a, i32c(c, k))),
  ori: ri((c, a, k) => c.m.i32.or(a, i32c(c, k))),
  andi: ri((c, a, k) => c.m.i32.and(a, i32c(c, k))),
  slli: sh((c, a, s) => c.m.i32.shl(a, s)),
  srli: sh((c, a, s) => c.m.i32.shr_u(a, s)),
  srai: sh((c, a, s) => c.m.i32.shr_s(a, s)),
  // WASM shifts take the count mod 32, as RISC-V's rs2[4:0].
  add: rr((c, a, b) => c.m.i32.add(a, b)),
  sub: rr((c, a, b) => c.m.i32.sub(a, b)),
  sll: rr((c, a, b) => c.m.i32.shl(a, b)),
  slt: rr((c, a, b) => c.m.i32.lt_s(a, b)),
  sltu: rr((c, a, b) => c.m.i32.lt_u(a, b)),
  xor: rr((c, a, b) => c.m.i32.xor(a, b)),
  srl: rr((c, a, b) => c.m.i32.shr_u(a, b)),
  sra: rr((c, a, b) => c.m.i32.shr_s(a, b)),
  or: rr((c, a, b) => c.m.i32.or(a, b)),
  and: rr((c, a, b) => c.m.i32.and(a, b)),
  fence: () => [],
  rdstep: (c, d) => [c.setX(d.rd, c.analogSteps())],
  mul: rr((c, a, b) => c.m.i32.mul(a, b)),
  mulh: mulHigh('s', 's'),
  mulhsu: mulHigh('s', 'u'),
  mulhu: mulHigh('u', 'u'),
  div: divide('div'), divu: divide('divu'), rem: divide('rem'), remu: divide('remu'),
};

// ---------------------------------------------------------------- vector lane forms
interface Form { w: 8 | 16 | 32; sat: boolean; unsigned: boolean; float: boolean }
const FORMS: Record<string, Form> = {
  b: { w: 8, sat: false, unsigned: false, float: false },
  bs: { w: 8, sat: true, unsigned: false, float: false },
  h: { w: 16, sat: false, unsigned: false, float: false },
  hs: { w: 16, sat: true, unsigned: false, float: false },
  f: { w: 32, sat: false, unsigned: false, float: true },
  w: { w: 32, sat: false, unsigned: false, float: false },
  bu: { w: 8, sat: false, unsigned: true, float: false },
  hu: { w: 16, sat: false, unsigned: true, float: false },
};

/** Integer lane ops of width 8 or 16. */
function lane(c: EmitContext, w: number) {
  const m = c.m;
  const o = w === 8 ? m.i8x16 : m.i16x8;
  return {
    add: (a: E, b: E) => o.add(a, b),
    addSat: (a: E, b: E) => o.add_saturate_s(a, b),
    sub: (a: E, b: E) => o.sub(a, b),
    subSat: (a: E, b: E) => o.sub_saturate_s(a, b),
    eq: (a: E, b: E) => o.eq(a, b),
    lt: (a: E, b: E, u: boolean) => (u ? o.lt_u(a, b) : o.lt_s(a, b)),
    min: (a: E, b: E, u: boolean) => (u ? o.min_u(a, b) : o.min_s(a, b)),
    max: (a: E, b: E, u: boolean) => (u ? o.max_u(a, b) : o.max_s(a, b)),
    shl: (a: E, s: E) => o.shl(a, s),
    shrS: (a: E, s: E) => o.shr_s(a, s),
    shrU: (a: E, s: E) => o.shr_u(a, s),
    splat: (x: E) => o.splat(x),
  };
}

/** Ops on lanes twice as wide (w = 8: i16x8, w = 16: i32x4) and the narrowing back to w. */
function wide(c: EmitContext, w: number) {
  const m = c.m;
  if (w === 8) {
    return {
      extLo: (v: E) => m.i16x8.extend_low_i8x16_s(v),
      extHi: (v: E) => m.i16x8.extend_high_i8x16_s(v),
      mulLo: (a: E, b: E) => m.i16x8.extmul_low_i8x16_s(a, b),
      mulHi: (a: E, b: E) => m.i16x8.extmul_high_i8x16_s(a, b),
      add: (a: E, b: E) => m.i16x8.add(a, b),
      shl: (a: E, s: E) => m.i16x8.shl(a, s),
      shrS: (a: E, s: E) => m.i16x8.shr_s(a, s),
      narrowSat: (lo: E, hi: E) => m.i8x16.narrow_i16x8_s(lo, hi),
      narrowMod: (lo: E, hi: E) => m.i8x16.shuffle(lo, hi, LOW8),
    };
  }
  return {
    extLo: (v: E) => m.i32x4.extend_low_i16x8_s(v),
    extHi: (v: E) => m.i32x4.extend_high_i16x8_s(v),
    mulLo: (a: E, b: E) => m.i32x4.extmul_low_i16x8_s(a, b),
    mulHi: (a: E, b: E) => m.i32x4.extmul_high_i16x8_s(a, b),
    add: (a: E, b: E) => m.i32x4.add(a, b),
    shl: (a: E, s: E) => m.i32x4.shl(a, s),
    shrS: (a: E, s: E) => m.i32x4.shr_s(a, s),
    narrowSat: (lo: E, hi: E) => m.i16x8.narrow_i32x4_s(lo, hi),
    narrowMod: (lo: E, hi: E) => m.i8x16.shuffle(lo, hi, LOW16),
  };
}

/**
 * A lane-wise op vd = f(vs1, vs2) chunk by chunk. `b` is vs2's chunk, or a splat of the scalar
 * operand (computed once into tv(2)) when `scalar` builds it. Operands pass through tv(0), tv(1).
 */
function lanewise(f: (c: EmitContext, a: () => E, b: () => E, d: () => E, k: number) => E, scalar?: (c: EmitContext, d: DecodedInstruction) => E): Emitter {
  return (c, d) => {
    const m = c.m, V = c.B.v128;
    const out: E[] = [];
    if (scalar) out.push(m.local.set(c.tv(2), scalar(c, d)));
    for (let k = 0; k < c.chunks; k++) {
      out.push(m.local.set(c.tv(0), vload(c, d.rs1, k)));
      out.push(m.local.set(c.tv(1), scalar ? lget(c, c.tv(2), V) : vload(c, d.rs2, k)));
      out.push(vstore(c, d.rd, k, f(c, () => lget(c, c.tv(0), V), () => lget(c, c.tv(1), V), () => vload(c, d.rd, k), k)));
    }
    return out;
  };
}

/** Splat of the low w bits of scalar rs2 (sign-extension is implied by the lane width). */
const splatX = (w: number) => (c: EmitContext, d: DecodedInstruction) =>
  w === 8 ? c.m.i8x16.splat(c.x(d.rs2)) : w === 16 ? c.m.i16x8.splat(c.x(d.rs2)) : c.m.i32x4.splat(c.x(d.rs2));

/** Integer product, modulo or saturating. */
function intMul(c: EmitContext, f: Form, a: () => E, b: () => E): E {
  if (f.w === 16 && !f.sat) return c.m.i16x8.mul(a(), b());
  const W = wide(c, f.w);
  const lo = W.mulLo(a(), b()), hi = W.mulHi(a(), b());
  return f.sat ? W.narrowSat(lo, hi) : W.narrowMod(lo, hi);
}
/** Fractional product (a*b) >> (w-1), floor, modulo or saturating. */
function fracMul(c: EmitContext, f: Form, a: () => E, b: () => E): E {
  const W = wide(c, f.w), s = c.m.i32.const(f.w - 1);
  const lo = W.shrS(W.mulLo(a(), b()), s), hi = W.shrS(W.mulHi(a(), b()), c.m.i32.const(f.w - 1));
  return f.sat ? W.narrowSat(lo, hi) : W.narrowMod(lo, hi);
}

/** A float result with NaN lanes replaced by the canonical NaN 0x7fc00000 (isa/table.ts CANONICAL_NAN); tv(3) holds r meanwhile. */
export function canonical(c: EmitContext, r: E): E {
  const m = c.m, t = c.tv(3), V = c.B.v128;
  return m.v128.bitselect(m.i32x4.splat(m.i32.const(CANONICAL_NAN)), m.local.tee(t, r, V), m.f32x4.ne(m.local.get(t, V), m.local.get(t, V)));
}

/** RISC-V fmin/fmax on float lanes: a NaN operand yields the other, two NaNs the canonical NaN, -0 below +0. */
function fminmax(c: EmitContext, max: boolean, a: () => E, b: () => E): E {
  const m = c.m;
  // Neither NaN: a < b ? a : b (min); equal values (incl. +-0) combine bitwise: OR gives -0 for min, AND gives +0 for max.
  const pick = m.v128.bitselect(a(), b(), max ? m.f32x4.gt(a(), b()) : m.f32x4.lt(a(), b()));
  const same = max ? m.v128.and(a(), b()) : m.v128.or(a(), b());
  let r = m.v128.bitselect(same, pick, m.f32x4.eq(a(), b()));
  const nanA = () => m.f32x4.ne(a(), a()), nanB = () => m.f32x4.ne(b(), b());
  r = m.v128.bitselect(a(), r, nanB());
  r = m.v128.bitselect(b(), r, nanA());
  // Both NaN: the canonical NaN.
  return m.v128.bitselect(m.i32x4.splat(m.i32.const(CANONICAL_NAN)), r, m.v128.and(nanA(), nanB()));
}

/** vd + vs1 * vs2 in float64 (exact product, one rounding of the sum to float64), then rounded to float32: as the table. */
function fmaF64(c: EmitContext, a: () => E, b: () => E, d: () => E): E {
  const m = c.m;
  // The high two lanes moved down (the second operand only fills the unused upper half).
  const high = (v: E) => m.i8x16.shuffle(v, m.v128.const(new Array(16).fill(0)), [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
  const half = (sel: (v: E) => E) =>
    m.f32x4.demote_f64x2_zero(m.f64x2.add(m.f64x2.promote_low_f32x4(sel(d())), m.f64x2.mul(m.f64x2.promote_low_f32x4(sel(a())), m.f64x2.promote_low_f32x4(sel(b())))));
  return m.i8x16.shuffle(half((v) => v), half(high), [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
}

/** float32 -> int32 rounded to nearest even, saturating, NaN -> 2^31 - 1. */
function cvtWF(c: EmitContext, a: () => E): E {
  const m = c.m;
  return m.v128.bitselect(m.i32x4.splat(m.i32.const(0x7fffffff)), m.i32x4.trunc_sat_f32x4_s(m.f32x4.nearest(a())), m.f32x4.ne(a(), a()));
}

/** Lane count of a form in one register. */
const lanesOf = (c: EmitContext, w: number) => (c.vbytes * 8) / w;

/** vext / vins: lane index from rs2, bail past the last lane; returns the lane's address into ti(0). */
function laneAddress(c: EmitContext, d: DecodedInstruction, w: number, reg: number): E[] {
  const m = c.m;
  const idx = c.ti(0);
  return [
    m.local.set(idx, c.x(d.rs2)),
    m.if(m.i32.ge_u(lget(c, idx, c.B.i32), i32c(c, lanesOf(c, w))), c.bail()),
    m.local.set(idx, m.i32.add(m.i32.shl(lget(c, idx, c.B.i32), i32c(c, Math.log2(w / 8))), i32c(c, c.L.vregs + reg * c.vbytes))),
  ];
}

/** Loads every chunk of register r into tv(4 + k) (for ops whose output chunks overlap other input chunks). */
function copySource(c: EmitContext, r: number): E[] {
  return chunks(c, (k) => c.m.local.set(c.tv(4 + k), vload(c, r, k)));
}
const src = (c: EmitContext, k: number) => c.m.local.get(c.tv(4 + k), c.B.v128);

/** vrand: lane i of vd gets the low w bits of generator i's next output. */
function vrand(w: 8 | 16 | 32): Emitter {
  return (c, d) => {
    const m = c.m, R = c.L.rng;
    return chunks(c, (k) => {
      if (w === 32) return vstore(c, d.rd, k, c.rng4(R + 16 * k));
      if (w === 16) return vstore(c, d.rd, k, m.i8x16.shuffle(c.rng4(R + 32 * k), c.rng4(R + 32 * k + 16), LOW16));
      const p01 = m.i8x16.shuffle(c.rng4(R + 64 * k), c.rng4(R + 64 * k + 16), LOW16);
      const p23 = m.i8x16.shuffle(c.rng4(R + 64 * k + 32), c.rng4(R + 64 * k + 48), LOW16);
      return vstore(c, d.rd, k, m.i8x16.shuffle(p01, p23, LOW8));
    });
  };
}

/** vnarrow / vnarrowsr: sat8((vs1.h[i] (+ rand & (2^s - 1))) >> s) into the lower or upper half of vd's bytes. */
function narrow(hi: boolean, stochastic: boolean): Emitter {
  return (c, d) => {
    const m = c.m, B = c.B;
    const s = c.ti(1);
    const out: E[] = [m.local.set(s, m.i32.and(c.x(d.rs2), i32c(c, 15))), ...copySource(c, d.rs1)];
    const sv = () => lget(c, s, B.i32);
    const base = hi ? c.vbytes / 2 : 0;
    if (stochastic) out.push(m.local.set(c.tv(3), m.i32x4.splat(m.i32.sub(m.i32.shl(i32c(c, 1), sv()), i32c(c, 1)))));
    for (let k = 0; k < c.chunks / 2; k++) {
      const outChunk = base / 16 + k;
      let v: E;
      if (!stochastic) {
        v = m.i8x16.narrow_i16x8_s(m.i16x8.shr_s(src(c, 2 * k), sv()), m.i16x8.shr_s(src(c, 2 * k + 1), sv()));
      } else {
        // Output lanes 16k..16k+15 draw from generators base + 16k + j (four per i32x4).
        const g = c.L.rng + 4 * (base + 16 * k);
        const q = (j: number) => {
          const h = src(c, 2 * k + (j >> 1));
          const ext = j & 1 ? m.i32x4.extend_high_i16x8_s(h) : m.i32x4.extend_low_i16x8_s(h);
          return m.i32x4.shr_s(m.i32x4.add(ext, m.v128.and(c.rng4(g + 16 * j), lget(c, c.tv(3), B.v128))), sv());
        };
        // Each rng4 advances four distinct generators once, so the order of the groups does not matter.
        out.push(m.local.set(c.tv(0), q(0)), m.local.set(c.tv(1), q(1)), m.local.set(c.tv(2), q(2)));
        const t = (i: number) => lget(c, c.tv(i), B.v128);
        v = m.i8x16.narrow_i16x8_s(m.i16x8.narrow_i32x4_s(t(0), t(1)), m.i16x8.narrow_i32x4_s(t(2), q(3)));
      }
      out.push(vstore(c, d.rd, outChunk, v));
    }
    return out;
  };
}

/** vwiden(u).lo/hi: vd.h[i] = vs1.b[off + i], sign- or zero-extended. */
function widen(hi: boolean, unsigned: boolean): Emitter {
  return (c, d) => {
    const m = c.m;
    const off = hi ? c.chunks / 2 : 0;
    return [
      ...copySource(c, d.rs1),
      ...chunks(c, (k) => {
        const v = src(c, off + (k >> 1));
        const e = k & 1
          ? (unsigned ? m.i16x8.extend_high_i8x16_u(v) : m.i16x8.extend_high_i8x16_s(v))
          : (unsigned ? m.i16x8.extend_low_i8x16_u(v) : m.i16x8.extend_low_i8x16_s(v));
        return vstore(c, d.rd, k, e);
      }),
    ];
  };
}

/** The emitter of a vector-lane instruction, by base mnemonic and form. */
function vectorLane(base: string, sfx: string | undefined): Emitter | undefined {
  const f = sfx ? FORMS[sfx] : undefined;
  const L = (c: EmitContext) => lane(c, f!.w);
  switch (base) {
    case 'vadd':
    case 'vsub': {
      if (!f) return undefined;
      const add = base === 'vadd';
      if (f.float) return lanewise((c, a, b) => canonical(c, add ? c.m.f32x4.add(a(), b()) : c.m.f32x4.sub(a(), b())));
      return lanewise((c, a, b) => {
        const o = L(c);
        return add ? (f.sat ? o.addSat(a(), b()) : o.add(a(), b())) : (f.sat ? o.subSat(a(), b()) : o.sub(a(), b()));
      });
    }
    case 'vmul':
      if (f?.float) return lanewise((c, a, b) => canonical(c, c.m.f32x4.mul(a(), b())));
      return f && lanewise((c, a, b) => intMul(c, f, a, b));
    case 'vmuls':
      if (f?.float) return lanewise((c, a, b) => canonical(c, c.m.f32x4.mul(a(), b())), (c, d) => c.m.f32x4.splat(c.m.f32.reinterpret(c.x(d.rs2))));
      return f && lanewise((c, a, b) => intMul(c, f, a, b), splatX(f.w));
    case 'vmulf':
      return f && lanewise((c, a, b) => fracMul(c, f, a, b));
    case 'vmulfs':
      return f && lanewise((c, a, b) => fracMul(c, f, a, b), splatX(f.w));
    case 'vmacf':
      return f && lanewise((c, a, b, dv) => {
        const W = wide(c, f.w), s = () => c.m.i32.const(f.w - 1);
        const lo = W.shrS(W.mulLo(a(), b()), s()), hi = W.shrS(W.mulHi(a(), b()), s());
        if (!f.sat) return L(c).add(dv(), W.narrowMod(lo, hi));
        return W.narrowSat(W.add(W.extLo(dv()), lo), W.add(W.extHi(dv()), hi));
      });
    case 'vfma':
      return lanewise((c, a, b, dv) => canonical(c, fmaF64(c, a, b, dv)));
    case 'vsll':
    case 'vslli': {
      if (!f) return undefined;
      const amount = base === 'vsll' ? (c: EmitContext, d: DecodedInstruction) => c.x(d.rs2) : (c: EmitContext, d: DecodedInstruction) => c.m.i32.const(d.rs2);
      return (c, d) => {
        const m = c.m, t = c.ti(1);
        // WASM lane shifts take the count mod w, as the table's (rs2 mod w).
        const s = () => m.local.get(t, c.B.i32);
        return [m.local.set(t, m.i32.and(amount(c, d), i32c(c, f.w - 1))), ...lanewise((c2, a) => {
          if (!f.sat) return L(c2).shl(a(), s());
          const W = wide(c2, f.w);
          return W.narrowSat(W.shl(W.extLo(a()), s()), W.shl(W.extHi(a()), s()));
        })(c, d)];
      };
    }
    case 'vsrl':
    case 'vsrli':
    case 'vsra':
    case 'vsrai': {
      if (!f) return undefined;
      const arith = base.startsWith('vsra');
      const imm = base.endsWith('i');
      return (c, d) => {
        const m = c.m, t = c.ti(1);
        const s = () => m.local.get(t, c.B.i32);
        const amount = imm ? m.i32.const(d.rs2) : m.i32.and(c.x(d.rs2), i32c(c, f.w - 1));
        return [m.local.set(t, amount), ...lanewise((c2, a) => (arith ? L(c2).shrS(a(), s()) : L(c2).shrU(a(), s())))(c, d)];
      };
    }
    case 'vmin':
    case 'vmax': {
      if (!f) return undefined;
      const max = base === 'vmax';
      if (f.float) return lanewise((c, a, b) => fminmax(c, max, a, b));
      return lanewise((c, a, b) => (max ? L(c).max(a(), b(), f.unsigned) : L(c).min(a(), b(), f.unsigned)));
    }
    case 'vand':
      return lanewise((c, a, b) => c.m.v128.and(a(), b()));
    case 'vor':
      return lanewise((c, a, b) => c.m.v128.or(a(), b()));
    case 'vxor':
      return lanewise((c, a, b) => c.m.v128.xor(a(), b()));
    case 'vsel':
      return lanewise((c, a, b, dv) => c.m.v128.bitselect(a(), b(), dv()));
    case 'vcmpeq':
      if (f?.float) return lanewise((c, a, b) => c.m.f32x4.eq(a(), b()));
      return f && lanewise((c, a, b) => L(c).eq(a(), b()));
    case 'vcmplt':
      if (f?.float) return lanewise((c, a, b) => c.m.f32x4.lt(a(), b()));
      return f && lanewise((c, a, b) => L(c).lt(a(), b(), f.unsigned));
    case 'vsplat':
      return f && ((c, d) => {
        const m = c.m, V = c.B.v128;
        const x = c.x(d.rs1);
        const v = f.w === 8 ? m.i8x16.splat(x) : f.w === 16 ? m.i16x8.splat(x) : m.i32x4.splat(x);
        return [m.local.set(c.tv(0), v), ...chunks(c, (k) => vstore(c, d.rd, k, m.local.get(c.tv(0), V)))];
      });
    case 'vext':
      return f && ((c, d) => {
        const m = c.m, a = lget(c, c.ti(0), c.B.i32);
        const v = f.w === 8 ? (f.unsigned ? m.i32.load8_u(0, 1, a) : m.i32.load8_s(0, 1, a))
          : f.w === 16 ? (f.unsigned ? m.i32.load16_u(0, 2, a) : m.i32.load16_s(0, 2, a)) : m.i32.load(0, 4, a);
        return [...laneAddress(c, d, f.w, d.rs1), ...c.vflush(d.rs1), c.setX(d.rd, v)];
      });
    case 'vins':
      return f && ((c, d) => {
        const m = c.m, a = lget(c, c.ti(0), c.B.i32), x = c.x(d.rs1);
        const s = f.w === 8 ? m.i32.store8(0, 1, a, x) : f.w === 16 ? m.i32.store16(0, 2, a, x) : m.i32.store(0, 4, a, x);
        return [...laneAddress(c, d, f.w, d.rd), ...c.vflush(d.rd), s, ...c.vreload(d.rd)];
      });
    case 'vrand':
      return f && vrand(f.w);
    case 'vnarrow':
      return sfx === 'lo' || sfx === 'hi' ? narrow(sfx === 'hi', false) : undefined;
    case 'vnarrowsr':
      return sfx === 'lo' || sfx === 'hi' ? narrow(sfx === 'hi', true) : undefined;
    case 'vwiden':
    case 'vwidenu':
      return sfx === 'lo' || sfx === 'hi' ? widen(sfx === 'hi', base === 'vwidenu') : undefined;
    default:
      return undefined;
  }
}

/** vld / vst: vector_bytes bytes at rs1 + imm (4-byte aligned). */
function vectorMemory(isStore: boolean): Emitter {
  return (c, d) => {
    const m = c.m, a = () => lget(c, c.ti(0), c.B.i32);
    const copy = chunks(c, (k) => (isStore
      ? m.v128.store(c.L.mem + 16 * k, 4, a(), vload(c, d.rs2, k))
      : vstore(c, d.rd, k, m.v128.load(c.L.mem + 16 * k, 4, a()))));
    return [...access(c, d, c.vbytes, 4, isStore), ...copy];
  };
}

/**
 * vlds / vsts / vadc / vrowd / vldp / vstp: the row, column and lane-kind checks of the table (a failing check
 * exits to the host, which traps with the table's message), then the bus transfer.
 */
function coreAccess(base: string, sfx: string): Emitter | undefined {
  const f = FORMS[sfx];
  const params = base === 'vldp' || base === 'vstp';
  if (!f || !(sfx === 'h' || sfx === 'f' || (sfx === 'b' && !params))) return undefined;
  return (c, d) => {
    const m = c.m;
    const bad: E[] = [];
    const rowBad = (r: E) => m.i32.ge_u(r, i32c(c, c.rows));
    const colBad = (col: E) => m.i32.ge_u(col, i32c(c, c.columns));
    if (base === 'vlds' || base === 'vsts') {
      // Float lanes on a fixed-weight chip, or integer lanes on a float chip, always trap.
      if (f.float === c.fixedWeights) return [c.bail()];
      bad.push(rowBad(c.x(d.rs1)), colBad(c.x(d.rs2)));
    } else if (base === 'vadc') {
      bad.push(colBad(c.x(d.rs2)));
    } else if (base === 'vrowd') {
      bad.push(rowBad(c.x(d.rs1)));
    } else if (params) {
      bad.push(colBad(c.x(d.rs2)));
    } else {
      return [];
    }
    return [m.if(orAll(c, bad), c.bail()), ...c.bus(d)];
  };
}

/** The emitter of a table entry, or undefined when the translator has none (the host then executes it). */
export function emitterFor(mnemonic: string): Emitter | undefined {
  if (SCALAR[mnemonic]) return SCALAR[mnemonic];
  if (mnemonic === 'vld') return vectorMemory(false);
  if (mnemonic === 'vst') return vectorMemory(true);
  if (mnemonic === 'vcvt.f.w') return lanewise((c, a) => c.m.f32x4.convert_i32x4_s(a()));
  if (mnemonic === 'vcvt.w.f') return lanewise((c, a) => cvtWF(c, a));
  const dot = mnemonic.indexOf('.');
  const base = dot < 0 ? mnemonic : mnemonic.slice(0, dot);
  const sfx = dot < 0 ? undefined : mnemonic.slice(dot + 1);
  if (['vlds', 'vsts', 'vadc', 'vrowd', 'vldp', 'vstp'].includes(base)) return sfx ? coreAccess(base, sfx) : undefined;
  return vectorLane(base, sfx);
}

/** Whether the translator translates a mnemonic (inline code or a block terminator). */
export function isTranslated(mnemonic: string): boolean {
  return TERMINATORS.has(mnemonic) || emitterFor(mnemonic) !== undefined;
}
