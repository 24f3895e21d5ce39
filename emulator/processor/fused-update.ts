/**
 * The row-segment update of le.s on the kernels' bus, translated as one operation instead of four
 * instructions (fusedRowUpdate), and le.s's loop over the listed rows of a column segment as one
 * WebAssembly loop (fusedLoop). Both keep the interpreter's results exactly: registers, weights,
 * dropped-write counts, cycles and instructions (lockstep tests in test/processor/).
 *
 * Row records and the table header are those of kernels/bus.ts (wasm-bus.ts writes them).
 */
import type binaryen from 'binaryen';
import { CANONICAL_NAN } from '../../isa/table.js';
import type { DecodedInstruction } from '../../isa/types.js';
import { canonical, type EmitContext } from './translator-emit.js';
import type { StateLayout } from './wasm-layout.js';

type E = binaryen.ExpressionRef;

/** Row kinds of kernels/bus.ts (floatRead: reads by the kernels, writes dropped and counted at header + 48). */
export const ROW_KIND = { none: 0, float: 1, floatRead: 2, host: 3 } as const;
export const HEADER_BYTES = 64;

/**
 * Header offsets where a link built with countFusedPaths counts the row-segment updates it ran
 * fused on float rows, fused on transpose feedback rows, and as the four instructions' own code
 * (a diagnostic for tests and profiling; kernels/bus.ts leaves these words alone).
 */
const FUSED_COUNTS = { float: 52, feedback: 56, unfused: 60 } as const;

/** The counts of a table whose link was built with countFusedPaths. */
export function fusedPathCounts(memory: WebAssembly.Memory, table: number): { float: number; feedback: number; unfused: number } {
  const u = new Uint32Array(memory.buffer, table, HEADER_BYTES / 4);
  return { float: u[FUSED_COUNTS.float / 4], feedback: u[FUSED_COUNTS.feedback / 4], unfused: u[FUSED_COUNTS.unfused / 4] };
}

/**
 * Locals of the registers a fused loop's last iteration leaves pending while `flag` is set: its
 * path, the row's address at the column (and stride, on transpose feedback rows), lanes and
 * factor (fusedLoop, FUSED_LAST).
 */
export interface PendingUpdate {
  flag: number;
  path: number;
  at: number;
  step: number;
  n: number;
  s: number;
}

/** What a fused loop needs of the function around it (translator-module.ts). */
export interface LoopFrame {
  /** Locals: cycles and instructions (f64); param: the cycle budget's end (f64). */
  cyc: number;
  ins: number;
  end: number;
  /** Cycles of one iteration (the block's), and of all but its last instruction (the budget test). */
  cycles: number;
  preCost: number;
  pending: PendingUpdate;
  /** Four i32 locals of its own. */
  temps: number[];
}

/** The module function that computes pending registers (addFusedLast). */
export const FUSED_LAST = 'fused_last';

/** Increments a header counter before `code` when counting (countFusedPaths). */
function counter(c: EmitContext, table: number, count: boolean): (at: number, code: E[]) => E[] {
  return (at, code) => (count ? [increment(c, table, at), ...code] : code);
}

/** Paths of a row-segment update (decodeRow): the instructions' own code, or fused on a float / transpose feedback row with all lanes / n lanes. */
export const PATH = { own: 0, float: 1, floatPart: 2, feedback: 3, feedbackPart: 4 } as const;

/**
 * The strided read of a transpose feedback row (a column of W): start() puts local `at` at the
 * row record `rec`'s value at column offset `off` (base + off * step) and `step` to its stride in
 * bytes; then chunk after chunk, lane after lane (bits copied as i32), advancing local `p`.
 */
export function gatherer(c: EmitContext, at: number, p: number, step: number): { start: (rec: number, off: E) => E; chunk: () => E } {
  const m = c.m, i32 = c.B.i32;
  const get = (i: number) => m.local.get(i, i32);
  return {
    start: (rec, off) => m.block(null, [
      m.local.set(step, m.i32.load(16, 4, get(rec))),
      m.local.set(at, m.i32.add(m.i32.load(4, 4, get(rec)), m.i32.mul(off, get(step)))),
      m.local.set(p, m.i32.sub(get(at), get(step))),
    ]),
    chunk: () => gatherChunk(c.B, m, p, step, c.tv(5)),
  };
}

/**
 * Four lanes from local p + step, p + 2 step, ... (p advanced past them), lane 0 first. One statement
 * per lane through local `v`: a lane insert evaluates its address before the vector it inserts
 * into, so nested inserts would fill the lanes in reverse.
 */
function gatherChunk(Bn: typeof binaryen, m: binaryen.Module, p: number, step: number, v: number): E {
  const i32 = Bn.i32, v128 = Bn.v128;
  const next = () => m.local.tee(p, m.i32.add(m.local.get(p, i32), m.local.get(step, i32)), i32);
  const lanes: E[] = [m.local.set(v, m.v128.load32_zero(0, 4, next()))];
  for (let i = 1; i < 4; i++) lanes.push(m.local.set(v, m.v128.load32_lane(0, 4, i, next(), m.local.get(v, v128))));
  return m.block(null, [...lanes, m.local.get(v, v128)], v128);
}

/**
 * Chunk k of a row of n lanes (n the local `n`, at most the register's), at `addr` + 16 k: the
 * chunk's lanes below n from memory, the rest 0; lanes past n are not read (one load per lane in
 * the chunk n ends in, none after it).
 */
export function rowChunk(c: { m: binaryen.Module; B: typeof binaryen }, k: number, addr: () => E, n: () => E, v: number): E {
  const m = c.m, v128 = c.B.v128;
  const lane = (i: number) => m.local.set(v, m.v128.load32_lane(16 * k + 4 * i, 4, i, addr(), m.local.get(v, v128)));
  return m.if(m.i32.le_s(m.i32.const(4 * k + 4), n()), m.v128.load(16 * k, 4, addr()),
    m.block(null, [
      m.local.set(v, m.v128.const(new Array(16).fill(0))),
      m.if(m.i32.lt_s(m.i32.const(4 * k), n()), m.block(null, [
        m.local.set(v, m.v128.load32_zero(16 * k, 4, addr())),
        m.if(m.i32.lt_s(m.i32.const(4 * k + 1), n()), lane(1)),
        m.if(m.i32.lt_s(m.i32.const(4 * k + 2), n()), lane(2)),
      ])),
      m.local.get(v, v128),
    ], v128));
}

/** Stores the lanes of chunk k below n (rowChunk's lanes) of `value` (read as often as it has lanes stored: a local.get). */
export function rowChunkStore(c: { m: binaryen.Module }, k: number, addr: () => E, n: () => E, value: () => E): E {
  const m = c.m;
  const lane = (i: number) => m.if(m.i32.lt_s(m.i32.const(4 * k + i), n()), m.v128.store32_lane(16 * k + 4 * i, 4, i, addr(), value()));
  return m.if(m.i32.le_s(m.i32.const(4 * k + 4), n()), m.v128.store(16 * k, 4, addr(), value()), m.block(null, [lane(0), lane(1), lane(2)]));
}

/** A gathered chunk k of a transpose feedback row of n lanes: lanes below n (advancing p per lane), the rest 0. */
function gatherRowChunk(c: { m: binaryen.Module; B: typeof binaryen }, k: number, p: number, step: number, n: () => E, v: number): E {
  const m = c.m, i32 = c.B.i32, v128 = c.B.v128;
  const next = () => m.local.tee(p, m.i32.add(m.local.get(p, i32), m.local.get(step, i32)), i32);
  const lanes: E[] = [m.local.set(v, m.v128.const(new Array(16).fill(0)))];
  for (let i = 0; i < 4; i++) lanes.push(m.if(m.i32.lt_s(m.i32.const(4 * k + i), n()), m.local.set(v, m.v128.load32_lane(0, 4, i, next(), m.local.get(v, v128)))));
  return m.block(null, [...lanes, m.local.get(v, v128)], v128);
}

/** Adds 1 to the table header's word at `offset`. */
function increment(c: EmitContext, table: number, offset: number): E {
  const m = c.m;
  return m.i32.store(offset, 4, m.i32.const(table), m.i32.add(m.i32.load(offset, 4, m.i32.const(table)), m.i32.const(1)));
}

/** A write to a transpose feedback row: dropped (B is W^T by construction) and counted in the table's header (+48). */
export function countDropped(c: EmitContext, table: number): E {
  return increment(c, table, 48);
}

/**
 * Locals of one update: rec (row record), off (column offset in the row's block), n (lanes the row's
 * block and the array hold from the column on, at most the register's), path (PATH), at (the row's
 * value at the column), step (a transpose feedback row's stride), p (gather pointer).
 */
function locals(c: EmitContext) {
  return { step: c.ti(0), rec: c.ti(1), off: c.ti(2), at: c.ti(3), path: c.ti(4), n: c.ti(5), kind: c.ti(6), p: c.ti(7) };
}

/**
 * Sets the locals' path for row `row`, column `col` (both i32 expressions): fused inside the array
 * on a float row with 4 bytes per column or a transpose feedback row that holds n > 0 lanes from the
 * column on, else PATH.own (rows the kernels or the host serve, columns outside the row's block).
 */
function decodeRow(c: EmitContext, table: number, row: () => E, col: () => E): E[] {
  const m = c.m, i32 = c.B.i32;
  const L = locals(c);
  const get = (i: number) => m.local.get(i, i32);
  const k32 = (v: number) => m.i32.const(v);
  const field = (o: number) => m.i32.load(o, 4, get(L.rec));
  const lanes = c.vbytes / 4;
  const full = () => m.i32.eq(get(L.n), k32(lanes));
  const min = (b: () => E) => m.local.set(L.n, m.select(m.i32.lt_s(get(L.n), b()), get(L.n), b()));
  return [
    m.local.set(L.path, k32(PATH.own)),
    m.if(m.i32.and(m.i32.lt_u(row(), k32(c.rows)), m.i32.lt_u(col(), k32(c.columns))), m.block(null, [
      m.local.set(L.rec, m.i32.add(k32(table + HEADER_BYTES), m.i32.shl(row(), k32(5)))),
      m.local.set(L.off, m.i32.sub(col(), field(8))),
      m.local.set(L.n, m.i32.sub(field(12), get(L.off))),
      min(() => k32(lanes)),
      min(() => m.i32.sub(k32(c.columns), col())),
      m.local.set(L.kind, field(0)),
      m.if(
        m.i32.and(m.i32.ge_s(get(L.off), k32(0)), m.i32.gt_s(get(L.n), k32(0))),
        m.if(
          m.i32.and(m.i32.eq(get(L.kind), k32(ROW_KIND.float)), m.i32.eq(field(16), k32(4))),
          m.local.set(L.path, m.select(full(), k32(PATH.float), k32(PATH.floatPart))),
          m.if(m.i32.eq(get(L.kind), k32(ROW_KIND.floatRead)), m.local.set(L.path, m.select(full(), k32(PATH.feedback), k32(PATH.feedbackPart)))),
        ),
      ),
    ])),
  ];
}

/** if path == p then code, else the next; `otherwise` last. */
function dispatch(c: EmitContext, cases: [number, E[]][], otherwise: E[]): E {
  const m = c.m;
  let out: E = m.block(null, otherwise);
  for (const [p, code] of [...cases].reverse()) out = m.if(m.i32.eq(m.local.get(locals(c).path, c.B.i32), m.i32.const(p)), m.block(null, code), out);
  return out;
}

/**
 * The weights' side of an update on a float row, chunk by chunk (all lanes, or the chunks below n):
 * w + E * s stored to the weights; with `registers`, P = E * s and A = the sum stored too. NaN
 * lanes are noted and, when there is one, made canonical (0x7fc00000) afterwards in what was stored.
 */
/** The factor S of an update's product E * S, chunk by chunk after its setup (a scalar splat once, or a vector register). */
interface Factor {
  setup: E[];
  chunk: (k: number) => E;
}

/** A scalar factor (float32 bits of an i32 expression), splat once into tv(2). */
function scalarFactor(c: EmitContext, bits: () => E): Factor {
  const m = c.m, sv = c.tv(2);
  return { setup: [m.local.set(sv, m.f32x4.splat(m.f32.reinterpret(bits())))], chunk: () => m.local.get(sv, c.B.v128) };
}

function floatUpdate(c: EmitContext, o: { A: number; P: number; E: number; factor: Factor; full: boolean; registers: boolean }): E[] {
  const m = c.m, i32 = c.B.i32, v128 = c.B.v128;
  const L = locals(c);
  const nan = c.tv(4), w = c.tv(0), pr = c.tv(1);
  const at = () => m.local.get(L.at, i32), n = () => m.local.get(L.n, i32);
  const store = (k: number, value: () => E) => (o.full ? m.v128.store(16 * k, 4, at(), value()) : rowChunkStore(c, k, at, n, value));
  const out: E[] = [...o.factor.setup, m.local.set(nan, m.v128.const(new Array(16).fill(0)))];
  const fix: E[] = [];
  for (let k = 0; k < c.chunks; k++) {
    out.push(
      m.local.set(w, o.full ? m.v128.load(16 * k, 4, at()) : rowChunk(c, k, at, n, c.tv(5))),
      m.local.set(pr, m.f32x4.mul(c.vget(o.E, k), o.factor.chunk(k))),
      ...(o.registers ? [c.vset(o.P, k, m.local.get(pr, v128))] : []),
      m.local.set(w, m.f32x4.add(m.local.get(w, v128), m.local.get(pr, v128))),
      ...(o.registers ? [c.vset(o.A, k, m.local.get(w, v128))] : []),
      store(k, () => m.local.get(w, v128)),
      // A NaN product makes a NaN sum, so the sums tell.
      m.local.set(nan, m.v128.or(m.local.get(nan, v128), m.f32x4.ne(m.local.get(w, v128), m.local.get(w, v128)))),
    );
    if (o.registers) fix.push(c.vset(o.P, k, canonical(c, c.vget(o.P, k))), c.vset(o.A, k, canonical(c, c.vget(o.A, k))));
    fix.push(m.local.set(w, canonical(c, o.full ? m.v128.load(16 * k, 4, at()) : rowChunk(c, k, at, n, c.tv(5)))), store(k, () => m.local.get(w, v128)));
  }
  out.push(m.if(m.v128.any_true(m.local.get(nan, v128)), m.block(null, fix)));
  return out;
}

/** A = canonical(gathered row (0 past n) + E * s), P = canonical(E * s): the registers of an update on a transpose feedback row (its store is dropped). */
function feedbackRegisters(c: EmitContext, o: { A: number; P: number; E: number; factor: Factor; full: boolean }, g: ReturnType<typeof gatherer>): E[] {
  const m = c.m, i32 = c.B.i32, v128 = c.B.v128;
  const w = c.tv(0), pr = c.tv(1);
  const L = locals(c);
  const out: E[] = [...o.factor.setup];
  for (let k = 0; k < c.chunks; k++) {
    out.push(
      m.local.set(w, o.full ? g.chunk() : gatherRowChunk(c, k, L.p, L.step, () => m.local.get(L.n, i32), c.tv(5))),
      m.local.set(pr, m.f32x4.mul(c.vget(o.E, k), o.factor.chunk(k))),
      c.vset(o.P, k, canonical(c, m.local.get(pr, v128))),
      c.vset(o.A, k, canonical(c, m.f32x4.add(m.local.get(w, v128), m.local.get(pr, v128)))),
    );
  }
  return out;
}

/**
 * `vlds.f A, R, C; vmul.f P, E, S (or vmuls.f P, E, s); vadd.f A, A, P; vsts.f A, R, C` (translator-module.ts
 * rowUpdateAt) in one pass over the chunks when R and C are inside the array and R is a float row
 * or a transpose feedback row whose block and the array hold n > 0 lanes from C on (decodeRow):
 * per chunk, w from the weights (0 past n), P = canonical(E * S),
 * A = canonical(w + P), the weights = A below n (transpose feedback: the store dropped and counted).
 * The registers and the weights end as the four instructions leave them (A, P, E, S distinct; the
 * weights are not the register file); else the instructions' own code runs (`unfused`), traps,
 * kernel and host calls included, after completing what a fused loop left pending.
 */
export function fusedRowUpdate(c: EmitContext, ds: DecodedInstruction[], table: number, unfused: E[], pending: PendingUpdate | null, count: boolean): E[] {
  const m = c.m;
  const [l, mu] = ds;
  const A = l.rd, P = mu.rd, Ev = mu.rs1, S = mu.rs2;
  const L = locals(c);
  const get = (i: number) => m.local.get(i, c.B.i32);
  const k32 = (v: number) => m.i32.const(v);
  // vmuls.f: S is a scalar register holding float32 bits; vmul.f: a vector register, chunk by chunk.
  const factor = (): Factor => (mu.def.mnemonic === 'vmuls.f' ? scalarFactor(c, () => c.x(S)) : { setup: [], chunk: (k) => c.vget(S, k) });
  const counted = counter(c, table, count);
  // Overwriting A and P settles nothing: a pending update's registers are dead.
  const drop = (): E[] => (pending ? [m.local.set(pending.flag, k32(0))] : []);
  const own = counted(FUSED_COUNTS.unfused, [...settle(c, pending), ...unfused]);
  const o = (full: boolean) => ({ A, P, E: Ev, factor: factor(), full, registers: true });
  const floatRow = (full: boolean): E[] => counted(FUSED_COUNTS.float, [
    ...drop(),
    m.local.set(L.at, m.i32.add(m.i32.load(4, 4, get(L.rec)), m.i32.shl(get(L.off), k32(2)))),
    ...floatUpdate(c, o(full)),
  ]);
  const feedbackRow = (full: boolean): E[] => {
    const g = gatherer(c, L.at, L.p, L.step);
    return counted(FUSED_COUNTS.feedback, [...drop(), g.start(L.rec, get(L.off)), ...feedbackRegisters(c, o(full), g), countDropped(c, table)]);
  };
  return [
    ...decodeRow(c, table, () => c.x(l.rs1), () => c.x(l.rs2)),
    dispatch(c, [[PATH.float, floatRow(true)], [PATH.feedback, feedbackRow(true)], [PATH.floatPart, floatRow(false)], [PATH.feedbackPart, feedbackRow(false)]], own),
  ];
}

/** Completes a pending update (fusedLoop) if there is one: FUSED_LAST. */
export function settle(c: { m: binaryen.Module; B: typeof binaryen }, p: PendingUpdate | null): E[] {
  if (!p) return [];
  const m = c.m, i32 = c.B.i32;
  const get = (i: number) => m.local.get(i, i32);
  return [m.if(get(p.flag), m.block(null, [
    m.local.set(p.flag, m.i32.const(0)),
    m.call(FUSED_LAST, [get(p.path), get(p.at), get(p.step), get(p.n), get(p.s)], c.B.none),
  ]))];
}

/**
 * le.s's loop over the rows it listed, for one column segment:
 *
 *     8: lw R, oR(Q); lw S, oS(Q); vlds.f A, R, C; vmuls.f P, E, S; vadd.f A, A, P; vsts.f A, R, C
 *        addi Q, Q, step; bltu Q, End, 8b
 *
 * (translator-module.ts fusedLoopAt). Before the block's own code, this runs every iteration but the
 * last as one WebAssembly loop, when all of them fit in the cycle budget and the list in memory,
 * and as long as each row takes a fused path: no per-iteration budget test, memory checks or
 * counters, and P and A are not stored (every iteration overwrites them; a transpose feedback
 * row's iteration only counts its dropped write). The block's own code then runs the last
 * iteration, which overwrites P and A, or the row the loop stopped at; until then the last
 * iteration's registers are pending (PendingUpdate): FUSED_LAST computes them where they could be
 * seen (the function's exit, the instructions' own code of an update).
 */
export function fusedLoop(c: EmitContext, ds: DecodedInstruction[], frame: LoopFrame, table: number, count: boolean): E[] {
  const m = c.m, i32 = c.B.i32, f64 = c.B.f64;
  const [lwR, lwS, l, mu, , , addi, br] = ds;
  const Q = lwR.rs1, oR = lwR.imm, oS = lwS.imm, step = addi.imm, End = br.rs2, C = l.rs2;
  const L = locals(c);
  const pend = frame.pending;
  const get = (i: number) => m.local.get(i, i32);
  const k32 = (v: number) => m.i32.const(v);
  const T = frame.temps;
  const [F, k, row, s] = [T[0], T[1], T[2], T[3]];
  const q = () => c.x(Q);
  const counted = counter(c, table, count);
  const remember = (path: number): E[] => [
    m.local.set(pend.path, k32(path)), m.local.set(pend.at, get(L.at)), m.local.set(pend.step, get(L.step)), m.local.set(pend.n, get(L.n)), m.local.set(pend.s, get(s)),
  ];
  const floatRow = (full: boolean, path: number): E[] => counted(FUSED_COUNTS.float, [
    m.local.set(L.at, m.i32.add(m.i32.load(4, 4, get(L.rec)), m.i32.shl(get(L.off), k32(2)))),
    ...floatUpdate(c, { A: l.rd, P: mu.rd, E: mu.rs1, factor: scalarFactor(c, () => get(s)), full, registers: false }),
    ...remember(path),
  ]);
  const feedbackRow = (path: number): E[] => counted(FUSED_COUNTS.feedback, [
    // The registers are all this would compute (the store is dropped): the row's stride is all FUSED_LAST needs.
    m.local.set(L.step, m.i32.load(16, 4, get(L.rec))),
    m.local.set(L.at, m.i32.add(m.i32.load(4, 4, get(L.rec)), m.i32.mul(get(L.off), get(L.step)))),
    countDropped(c, table),
    ...remember(path),
  ]);
  const mem = c.L.mem, bytes = c.L.memBytes;
  const hi = Math.max(oR, oS);
  const cycles = (n: E) => m.f64.mul(m.f64.convert_u.i32(n), m.f64.const(frame.cycles));
  return [
    m.local.set(F, k32(0)),
    // F = the iterations but the last (the loop goes on after iteration j while Q + (j + 1) * step < End),
    // with Q below End inside memory, Q + oR and Q + oS aligned.
    m.if(
      m.i32.and(
        m.i32.and(m.i32.lt_u(q(), c.x(End)), m.i32.le_u(c.x(End), k32(bytes))),
        m.i32.eqz(m.i32.and(m.i32.or(m.i32.add(q(), k32(oR)), m.i32.add(q(), k32(oS))), k32(3))),
      ),
      m.local.set(F, m.i32.div_u(m.i32.sub(m.i32.sub(c.x(End), q()), k32(1)), k32(step))),
    ),
    // The last load of the loop inside memory, and its last iteration within the budget (as the
    // block's own test would find each: cycles + (F - 1) * per iteration + preCost < end).
    m.if(
      m.i32.or(
        m.i32.gt_u(m.i32.add(m.i32.add(q(), m.i32.mul(m.i32.sub(get(F), k32(1)), k32(step))), k32(hi)), k32(bytes - 4)),
        m.f64.ge(m.f64.add(m.f64.add(m.local.get(frame.cyc, f64), cycles(m.i32.sub(get(F), k32(1)))), m.f64.const(frame.preCost)), m.local.get(frame.end, f64)),
      ),
      m.local.set(F, k32(0)),
    ),
    m.local.set(k, k32(0)),
    m.if(get(F), m.block(null, [
      m.loop('fused_rows', m.block('fused_row', [
        m.local.set(row, m.i32.load(mem + oR, 4, q())),
        m.local.set(s, m.i32.load(mem + oS, 4, q())),
        ...decodeRow(c, table, () => get(row), () => c.x(C)),
        m.br('fused_row', m.i32.eq(get(L.path), k32(PATH.own))),
        dispatch(c, [
          [PATH.float, floatRow(true, PATH.float)], [PATH.feedback, feedbackRow(PATH.feedback)],
          [PATH.floatPart, floatRow(false, PATH.floatPart)], [PATH.feedbackPart, feedbackRow(PATH.feedbackPart)],
        ], []),
        c.setX(lwR.rd, get(row)),
        c.setX(lwS.rd, get(s)),
        c.setX(Q, m.i32.add(q(), k32(step))),
        m.local.set(k, m.i32.add(get(k), k32(1))),
        m.br('fused_rows', m.i32.lt_u(get(k), get(F))),
      ])),
      m.if(get(k), m.block(null, [
        m.local.set(pend.flag, k32(1)),
        m.local.set(frame.cyc, m.f64.add(m.local.get(frame.cyc, f64), cycles(get(k)))),
        m.local.set(frame.ins, m.f64.add(m.local.get(frame.ins, f64), m.f64.mul(m.f64.convert_u.i32(get(k)), m.f64.const(ds.length)))),
      ])),
    ])),
  ];
}

/**
 * FUSED_LAST(path, at, step, n, s): the registers a fused loop's last iteration leaves (fusedLoop):
 * P = canonical(E * s); A = the stored weights below n on a float row (at: the row's value at the
 * column; they hold canonical(w + P)), canonical(gathered + P) on a transpose feedback row (at,
 * step: its first value and stride), canonical(0 + P) past n.
 */
export function addFusedLast(Bn: typeof binaryen, m: binaryen.Module, L: StateLayout, A: number, P: number, Ev: number): void {
  const i32 = Bn.i32, v128 = Bn.v128;
  const c = { m, B: Bn };
  const reg = (r: number, k: number) => m.i32.const(L.vregs + r * L.vbytes + 16 * k);
  const get = (i: number) => m.local.get(i, i32);
  const canon = (t: number, e: E) => m.v128.bitselect(m.i32x4.splat(m.i32.const(CANONICAL_NAN)), m.local.tee(t, e, v128), m.f32x4.ne(m.local.get(t, v128), m.local.get(t, v128)));
  const zero = () => m.v128.const(new Array(16).fill(0));
  // Params 0 path, 1 at, 2 step, 3 n, 4 s; locals 5 gather pointer, 6 s splat, 7 product, 8 scratch, 9 lanes read.
  const body: E[] = [m.local.set(5, m.i32.sub(get(1), get(2))), m.local.set(6, m.f32x4.splat(m.f32.reinterpret(get(4))))];
  for (let k = 0; k < L.vbytes / 16; k++) {
    // Lanes below n: the weights (they hold canonical(w + P)); past n: canonical(0 + P).
    const below = m.i32x4.lt_s(m.v128.const(Array.from(new Uint8Array(new Int32Array([4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3]).buffer))), m.i32x4.splat(get(3)));
    body.push(
      m.local.set(7, m.f32x4.mul(m.v128.load(0, 16, reg(Ev, k)), m.local.get(6, v128))),
      m.v128.store(0, 16, reg(P, k), canon(8, m.local.get(7, v128))),
      m.v128.store(0, 16, reg(A, k), m.if(
        m.i32.le_u(get(0), m.i32.const(PATH.floatPart)),
        m.v128.bitselect(rowChunk(c, k, () => get(1), () => get(3), 9), canon(8, m.f32x4.add(zero(), m.local.get(7, v128))), below),
        canon(8, m.f32x4.add(gatherRowChunk(c, k, 5, 2, () => get(3), 9), m.local.get(7, v128))),
      )),
    );
  }
  m.addFunction(FUSED_LAST, Bn.createType([i32, i32, i32, i32, i32]), Bn.none, [i32, v128, v128, v128, v128], m.block(null, body));
}
