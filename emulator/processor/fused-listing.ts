/**
 * le.s's listing of the rows that carried a value, translated as one WebAssembly loop:
 *
 *     B1:  lw X, oP(P); beqz X, B3
 *     B2:  add Y, Base, I; sw Y, o1(D); sw X, o2(D); addi D, D, sd
 *     B3:  addi I, I, 1; addi P, P, sp; blt I, N, B1
 *
 * (a scan of words that appends (index, word) pairs for the non-zero ones). Translated block by
 * block, every iteration pays its blocks' budget tests, memory checks and counter updates; most
 * words are zero (MNIST: about 80 % of the pixels), so those are most of the scan's cost. Before
 * B1's own code, fusedListing runs every iteration but the last as one loop when all of them fit
 * in the cycle budget and every load and store they could make lies inside memory, aligned and
 * outside the translated code; the instructions run in program order on the register locals, so
 * the registers, memory, cycles and instructions end exactly as the blocks leave them (lockstep
 * tests in test/processor/translator-listing.test.ts). B1's own code then runs the last iteration.
 */
import type binaryen from 'binaryen';
import type { DecodedInstruction } from '../../isa/types.js';
import type { Block, ControlFlow } from './translator-blocks.js';
import type { EmitContext } from './translator-emit.js';

type E = binaryen.ExpressionRef;

/** The three blocks of a listing loop and its registers and immediates. */
export interface ListingLoop {
  blocks: [Block, Block, Block];
  X: number; P: number; oP: number;
  Y: number; Base: number; I: number;
  D: number; o1: number; o2: number; sd: number;
  sp: number; N: number;
}

/** What a fused listing needs of the function around it (translator-module.ts). */
export interface ListingFrame {
  /** Locals: cycles and instructions (f64); param: the cycle budget's end (f64). */
  cyc: number;
  ins: number;
  end: number;
  /** Cycles of each block (B1, B2, B3) and the largest of their budget tests' costs (all but the last instruction). */
  cycles: [number, number, number];
  maxPre: number;
  /** Three i32 locals of its own. */
  temps: number[];
  /** Adds 1 per fused iteration to this exported global (a diagnostic), when given. */
  counter?: string;
}

const is = (d: DecodedInstruction, mnemonic: string) => d.def.mnemonic === mnemonic;

/**
 * The listing loop that starts at block `b1`, or null. P, D, I and N are distinct, not x0 and
 * neither X nor Y (their values then advance as the fused loop assumes); sp and sd are positive
 * multiples of 4 (every load and store keeps the first one's alignment).
 */
export function listingLoopAt(cfg: ControlFlow, b1: Block): ListingLoop | null {
  if (b1.instrs.length !== 2 || b1.exit !== 'branch') return null;
  const [lw, bz] = b1.instrs;
  if (!is(lw, 'lw') || !is(bz, 'beq') || bz.rs2 !== 0 || bz.rs1 !== lw.rd) return null;
  const b2 = cfg.byStart.get(b1.end >>> 0);
  const b3 = cfg.byStart.get((b1.end - 4 + bz.imm) >>> 0);
  if (!b2 || !b3 || b2.exit !== 'fall' || b2.end !== b3.start || b2.instrs.length !== 4 || b3.instrs.length !== 3 || b3.exit !== 'branch') return null;
  const [add, sw1, sw2, addD] = b2.instrs;
  const [addI, addP, blt] = b3.instrs;
  if (!is(add, 'add') || !is(sw1, 'sw') || !is(sw2, 'sw') || !is(addD, 'addi') || !is(addI, 'addi') || !is(addP, 'addi') || !is(blt, 'blt')) return null;
  const X = lw.rd, P = lw.rs1, Y = add.rd, Base = add.rs1, I = add.rs2, D = sw1.rs1, N = blt.rs2;
  if (sw1.rs2 !== Y || sw2.rs1 !== D || sw2.rs2 !== X) return null;
  if (addD.rd !== D || addD.rs1 !== D || addI.rd !== I || addI.rs1 !== I || addI.imm !== 1) return null;
  if (addP.rd !== P || addP.rs1 !== P || blt.rs1 !== I || (b3.end - 4 + blt.imm) >>> 0 !== b1.start >>> 0) return null;
  const fixed = [P, D, I, N];
  if (fixed.includes(0) || new Set(fixed).size !== 4 || fixed.includes(X) || fixed.includes(Y)) return null;
  if (addP.imm <= 0 || addP.imm % 4 !== 0 || addD.imm <= 0 || addD.imm % 4 !== 0) return null;
  return { blocks: [b1, b2, b3], X, P, oP: lw.imm, Y, Base, I, D, o1: sw1.imm, o2: sw2.imm, sd: addD.imm, sp: addP.imm, N };
}

/**
 * The fused iterations, to run before B1's own code: F = N - I - 1 of them when I < N (the loop
 * goes on after an iteration while I + 1 < N), none unless every load and store the F iterations
 * could make is inside memory and aligned, no store reaches the translated code, and the budget
 * test of every block they pass would let it run (cycles + F x the costliest iteration + the
 * largest budget-test cost < end).
 */
export function fusedListing(c: EmitContext, loop: ListingLoop, frame: ListingFrame): E[] {
  const m = c.m, i32 = c.B.i32, f64 = c.B.f64;
  const { X, P, oP, Y, Base, I, D, o1, o2, sd, sp, N } = loop;
  const [F, k, nz] = frame.temps;
  const label = `fused_list_${loop.blocks[0].start >>> 0}`;
  const get = (i: number) => m.local.get(i, i32);
  const k32 = (v: number) => m.i32.const(v | 0);
  const kf = (v: number) => m.f64.const(v);
  const u = (e: E) => m.f64.convert_u.i32(e);
  const mem = c.L.mem, bytes = c.L.memBytes;
  const [c1, c2, c3] = frame.cycles;
  const [n1, n2, n3] = loop.blocks.map((b) => b.instrs.length);
  // Effective addresses of the first load and the first two stores (wrapping, as the instructions' own checks compute them).
  const a0 = () => m.i32.add(c.x(P), k32(oP));
  const e1 = () => m.i32.add(c.x(D), k32(o1));
  const e2 = () => m.i32.add(c.x(D), k32(o2));
  // The last of F accesses from `first` with stride `step` ends inside memory (exact in f64).
  const inside = (first: E, step: number) => m.f64.le(m.f64.add(u(first), m.f64.mul(u(m.i32.sub(get(F), k32(1))), kf(step))), kf(bytes - 4));
  const aligned = (a: E) => m.i32.eqz(m.i32.and(a, k32(3)));
  // Stores at or above codeHi, or ending at or below codeLo, leave the code alone (the stores' own
  // test). `first` builds its expression anew for each use: binaryen's IR is a tree, and a node used
  // twice made the optimiser emit an invalid module.
  const clearOfCode = (first: () => E): E => {
    if (!(c.codeHi > c.codeLo)) return k32(1);
    const last = m.f64.add(u(first()), m.f64.mul(u(m.i32.sub(get(F), k32(1))), kf(sd)));
    return m.i32.or(m.f64.ge(u(first()), kf(c.codeHi)), m.f64.le(m.f64.add(last, kf(4)), kf(c.codeLo)));
  };
  const ok = [
    inside(a0(), sp), aligned(a0()),
    inside(e1(), sd), aligned(e1()), clearOfCode(e1),
    inside(e2(), sd), aligned(e2()), clearOfCode(e2),
    m.f64.lt(m.f64.add(m.f64.add(m.local.get(frame.cyc, f64), m.f64.mul(u(get(F)), kf(c1 + c2 + c3))), kf(frame.maxPre)), m.local.get(frame.end, f64)),
  ].reduce((a, b) => m.i32.and(a, b));
  const body: E[] = [
    c.setX(X, m.i32.load(mem, 4, a0())),
    m.if(m.i32.ne(c.x(X), k32(0)), m.block(null, [
      c.setX(Y, m.i32.add(c.x(Base), c.x(I))),
      m.i32.store(mem, 4, e1(), c.x(Y)),
      m.i32.store(mem, 4, e2(), c.x(X)),
      c.setX(D, m.i32.add(c.x(D), k32(sd))),
      m.local.set(nz, m.i32.add(get(nz), k32(1))),
    ])),
    c.setX(I, m.i32.add(c.x(I), k32(1))),
    c.setX(P, m.i32.add(c.x(P), k32(sp))),
    m.local.set(k, m.i32.add(get(k), k32(1))),
    m.br(label, m.i32.lt_u(get(k), get(F))),
  ];
  return [
    m.local.set(F, m.select(m.i32.lt_s(c.x(I), c.x(N)), m.i32.sub(m.i32.sub(c.x(N), c.x(I)), k32(1)), k32(0))),
    m.if(m.i32.and(m.i32.ne(get(F), k32(0)), ok), m.block(null, [
      m.local.set(k, k32(0)),
      m.local.set(nz, k32(0)),
      m.loop(label, m.block(null, body)),
      m.local.set(frame.cyc, m.f64.add(m.local.get(frame.cyc, f64), m.f64.add(m.f64.mul(u(get(F)), kf(c1 + c3)), m.f64.mul(u(get(nz)), kf(c2))))),
      m.local.set(frame.ins, m.f64.add(m.local.get(frame.ins, f64), m.f64.add(m.f64.mul(u(get(F)), kf(n1 + n3)), m.f64.mul(u(get(nz)), kf(n2))))),
      ...(frame.counter ? [m.global.set(frame.counter, m.f64.add(m.global.get(frame.counter, f64), u(get(F))))] : []),
    ])),
  ];
}
