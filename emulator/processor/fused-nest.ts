/**
 * le.s's two loops of a float block, column segments outside and listed rows inside:
 *
 *     O:  vld V, oE(Pe); mv Q, Q0
 *     L:  lw R, oR(Q); lw S, oS(Q); vlds.f A, R, C; vmuls.f P, V, S; vadd.f A, A, P; vsts.f A, R, C
 *         addi Q, Q, step; bltu Q, End, L                          (fused-update.ts fusedLoop)
 *     T:  addi C, C, cs; addi Pe, Pe, es; blt C, Cend, O
 *
 * translated with the loops exchanged: per listed row, its row record is decoded once and the
 * row's segments follow one another (fused_nest_<O's address>, a module function with few live
 * values), instead of a decode and a row-loop iteration per row and segment; then control goes
 * straight to the block after T (translator-module.ts adds the branch). Every float row and
 * segment gets W += fround(E_j * s) (the last segment lane by lane below its n lanes) in the same
 * order as far as any cell can tell: a cell belongs to one row and one segment (segments do not
 * overlap: cs >= lanes; the table's float rows are disjoint, kernels' table header +20,
 * wasm-bus.ts), and a row listed twice is updated twice in list order in each segment; a
 * transpose feedback row's updates only count their dropped writes. It runs only when all of it
 * fits in the cycle budget, the list and the E segments lie inside memory, every listed row is a
 * float or transpose feedback row whose block and the array hold all the register's lanes of
 * every segment but the last and at least one of the last, and no weight lies in the processor's
 * state. The registers end as the loops leave them: C, Pe, Q, R, S, V (the last segment's E), and
 * A and P of the last update (FUSED_LAST).
 */
import type binaryen from 'binaryen';
import { CANONICAL_NAN } from '../../isa/table.js';
import type { Block, ControlFlow } from './translator-blocks.js';
import type { EmitContext } from './translator-emit.js';
import { FUSED_LAST, HEADER_BYTES, PATH, ROW_KIND, rowChunk, rowChunkStore } from './fused-update.js';
import type { PendingUpdate } from './fused-update.js';
import type { StateLayout } from './wasm-layout.js';

type E = binaryen.ExpressionRef;

/** Row record +24 and table header words the nest reads (wasm-bus.ts writes them). */
export const NEST_TABLE = {
  /** Row record: columns from bcol0 on inside both the row's block and the array (float rows with 4 bytes per column and transpose feedback rows; else 0). */
  fullEnd: 24,
  /** Header: 1 when the float rows' weights are pairwise disjoint and outside the table. */
  disjoint: 20,
  /** Header: lowest address and the address after the highest of the float rows' weights. */
  lo: 40,
  hi: 44,
} as const;

/** The three blocks of a nest and their registers and immediates (nestAt). */
export interface Nest {
  blocks: [Block, Block, Block];
  V: number; Pe: number; oE: number; Q: number; Q0: number;
  R: number; S: number; oR: number; oS: number; step: number; End: number;
  C: number; cs: number; es: number; Cend: number;
}

/** What the call site needs of the function around it (translator-module.ts). */
export interface NestFrame {
  cyc: number;
  ins: number;
  end: number;
  /** Cycles of O, L and T, and the largest of their budget tests' costs. */
  cycles: [number, number, number];
  maxPre: number;
  pending: PendingUpdate | null;
  /** Three i32 locals of its own; the third is `done` (the nest ran: skip O's own code, go to the block after T). */
  temps: number[];
}

const is = (b: Block, k: number, mnemonic: string) => b.instrs[k]?.def.mnemonic === mnemonic;

/**
 * The nest whose outer block starts at `o`, or null: O falls into a fused row loop L (`isLoop`)
 * whose E is V and whose Q is O's, and L falls into T, which ends in a branch back to O. C, Pe, Q0,
 * Cend and End are distinct from each other and from the registers the loops write (Q, R, S; C and
 * Pe only in T); cs >= lanes, es a positive multiple of 4; T falls through to a block.
 */
export function nestAt(cfg: ControlFlow, o: Block, isLoop: (b: Block) => boolean, lanes: number): Nest | null {
  if (o.instrs.length !== 2 || o.exit !== 'fall' || !is(o, 0, 'vld') || !is(o, 1, 'addi') || o.instrs[1].imm !== 0) return null;
  const l = cfg.byStart.get(o.end >>> 0);
  if (!l || !isLoop(l)) return null;
  const t = cfg.byStart.get(l.end >>> 0);
  if (!t || t.exit !== 'branch' || t.instrs.length !== 3 || !is(t, 0, 'addi') || !is(t, 1, 'addi') || !is(t, 2, 'blt')) return null;
  const [vld, mv] = o.instrs;
  const [lwR, lwS, vlds, mul] = l.instrs;
  const br = l.instrs[7];
  const [addC, addPe, blt] = t.instrs;
  const V = vld.rd, Pe = vld.rs1, Q = mv.rd, Q0 = mv.rs1, C = vlds.rs2, End = br.rs2;
  if (lwR.rs1 !== Q || mul.rs1 !== V) return null;
  if (addC.rd !== C || addC.rs1 !== C || addPe.rd !== Pe || addPe.rs1 !== Pe || blt.rs1 !== C) return null;
  if ((t.end - 4 + blt.imm) >>> 0 !== o.start >>> 0) return null;
  const Cend = blt.rs2, R = lwR.rd, S = lwS.rd;
  const fixed = [C, Pe, Q0, Cend, End];
  if (fixed.includes(0) || new Set(fixed).size !== 5 || fixed.some((r) => r === Q || r === R || r === S)) return null;
  if (addC.imm < lanes || addPe.imm <= 0 || addPe.imm % 4 !== 0 || !cfg.byStart.has(t.end >>> 0)) return null;
  return {
    blocks: [o, l, t], V, Pe, oE: vld.imm, Q, Q0, R, S, oR: lwR.imm, oS: lwS.imm, step: l.instrs[6].imm, End,
    C, cs: addC.imm, es: addPe.imm, Cend,
  };
}

/** Name of the module function of the nest at `o`. */
function fnName(n: Nest): string {
  return `fused_nest_${n.blocks[0].start >>> 0}`;
}

/** The exported global (f64) that counts the row-segment updates exchanged loops ran (a diagnostic: TranslatedProcessor.fusedNestUpdates). */
export const NESTED = 'nested';

/** Globals (i32) where a nest's function leaves its last update's path (PATH.float or PATH.feedback), row address at the column, stride and lanes: FUSED_LAST's arguments. */
const LAST = { path: 'fused_nest_path', at: 'fused_nest_at', step: 'fused_nest_step', n: 'fused_nest_n' } as const;

/** The globals of the nests (the module adds them once). */
export function addNestGlobals(Bn: typeof binaryen, m: binaryen.Module): void {
  for (const g of Object.values(LAST)) m.addGlobal(g, Bn.i32, true, m.i32.const(0));
  m.addGlobal(NESTED, Bn.f64, true, m.f64.const(0));
  m.addGlobalExport(NESTED, NESTED);
}

/**
 * Adds fused_nest_<O>(q0, n, c0, J, pe) -> 1 when it ran, 0 when a listed row does not qualify
 * (nothing changed): the n list entries from q0, J segments from column c0, E at pe (processor
 * addresses; the caller checked memory, alignment and the budget).
 */
export function addFusedNest(Bn: typeof binaryen, m: binaryen.Module, L: StateLayout, n: Nest, table: number, o: { rows: number; lanes: number; chunks: number }): void {
  const i32 = Bn.i32, v128 = Bn.v128;
  // Params 0 q0, 1 n, 2 c0, 3 J, 4 pe; locals 5 i, 6 lanes of the last segment, 7 row, 8 rec,
  // 9 off, 10 at, 11 segments left, 12 ea, 13 kind (i32); 14 s splat, 15 w, 16 any NaN, 17 partial chunk (v128).
  const get = (i: number) => m.local.get(i, i32);
  const set = (i: number, e: E) => m.local.set(i, e);
  const k32 = (v: number) => m.i32.const(v | 0);
  const mem = L.mem;
  const c = { m, B: Bn };
  const rec = (row: E) => m.i32.add(k32(table + HEADER_BYTES), m.i32.shl(row, k32(5)));
  const entry = () => m.i32.add(get(0), m.i32.mul(get(5), k32(n.step)));
  const fullEnd = () => m.i32.load(NEST_TABLE.fullEnd, 4, get(8));
  // Column offset of the last segment in the row's block; its lanes: min(lanes, fullEnd - that).
  const lastOff = () => m.i32.add(get(9), m.i32.mul(m.i32.sub(get(3), k32(1)), k32(n.cs)));
  const lastLanes = () => m.select(m.i32.lt_s(m.i32.sub(fullEnd(), lastOff()), k32(o.lanes)), m.i32.sub(fullEnd(), lastOff()), k32(o.lanes));
  // Entry i's row (7), its record (8) and the column offset in its block (9).
  const loadRow = () => set(7, m.i32.load(mem + n.oR, 4, entry()));
  const decodeRest = (): E[] => [set(8, rec(get(7))), set(9, m.i32.sub(get(2), m.i32.load(8, 4, get(8))))];
  const decode = (): E[] => [loadRow(), ...decodeRest()];
  // Pass 1: every listed row a float or transpose feedback row holding all lanes of every segment but the last and some of the last.
  const check = m.block(null, [
    set(5, k32(0)),
    m.loop('check', m.block(null, [
      loadRow(),
      m.if(m.i32.ge_u(get(7), k32(o.rows)), m.return(k32(0))),
      ...decodeRest(),
      set(13, m.i32.load(0, 4, get(8))),
      m.if(m.i32.or(
        m.i32.and(m.i32.ne(get(13), k32(ROW_KIND.float)), m.i32.ne(get(13), k32(ROW_KIND.floatRead))),
        m.i32.or(m.i32.lt_s(get(9), k32(0)), m.i32.ge_s(lastOff(), fullEnd())),
      ), m.return(k32(0))),
      m.if(m.i32.and(m.i32.gt_u(get(3), k32(1)), m.i32.gt_s(m.i32.add(m.i32.sub(lastOff(), k32(n.cs)), k32(o.lanes)), fullEnd())), m.return(k32(0))),
      set(5, m.i32.add(get(5), k32(1))),
      m.br('check', m.i32.lt_u(get(5), get(1))),
    ])),
  ]);
  // One segment of a float row at `at` with E at `ea`: all lanes, or (partial) the lanes below local 6.
  const segment = (partial: boolean): E[] => {
    const at = () => get(10), nl = () => get(6);
    const w = () => m.local.get(15, v128);
    const read = (k: number) => (partial ? rowChunk(c, k, at, nl, 17) : m.v128.load(16 * k, 4, at()));
    const write = (k: number, value: () => E) => (partial ? rowChunkStore(c, k, at, nl, value) : m.v128.store(16 * k, 4, at(), value()));
    // A NaN sum: its lanes become the canonical NaN, as vmuls.f and vadd.f leave them.
    const canonical = () => m.v128.bitselect(m.i32x4.splat(k32(CANONICAL_NAN)), w(), m.f32x4.ne(w(), w()));
    const out: E[] = [m.local.set(16, m.v128.const(new Array(16).fill(0)))];
    const fix: E[] = [];
    // The last segment skips the chunks past its n lanes (nothing of them is stored or seen).
    const inside = (k: number, code: E[]): E[] => (partial && k > 0 ? [m.if(m.i32.lt_s(k32(4 * k), nl()), m.block(null, code))] : code);
    for (let k = 0; k < o.chunks; k++) {
      out.push(...inside(k, [
        m.local.set(15, m.f32x4.add(read(k), m.f32x4.mul(m.v128.load(mem + 16 * k, 4, get(12)), m.local.get(14, v128)))),
        write(k, w),
        m.local.set(16, m.v128.or(m.local.get(16, v128), m.f32x4.ne(w(), w()))),
      ]));
      fix.push(...inside(k, [m.local.set(15, read(k)), write(k, canonical)]));
    }
    return [...out, m.if(m.v128.any_true(m.local.get(16, v128)), m.block(null, fix))];
  };
  const floatRow = m.block(null, [
    m.local.set(14, m.f32x4.splat(m.f32.reinterpret(m.i32.load(mem + n.oS, 4, entry())))),
    set(10, m.i32.add(m.i32.load(4, 4, get(8)), m.i32.shl(get(9), k32(2)))),
    set(12, m.i32.add(get(4), k32(n.oE))),
    set(11, m.i32.sub(get(3), k32(1))),
    m.if(get(11), m.loop('segments', m.block(null, [
      ...segment(false),
      set(10, m.i32.add(get(10), k32(4 * n.cs))),
      set(12, m.i32.add(get(12), k32(n.es))),
      set(11, m.i32.sub(get(11), k32(1))),
      m.br('segments', get(11)),
    ]))),
    set(6, lastLanes()),
    ...segment(true),
  ]);
  // A transpose feedback row: its writes are dropped (B is W^T by construction) and counted, J per row.
  const feedbackRow = m.i32.store(48, 4, k32(table), m.i32.add(m.i32.load(48, 4, k32(table)), get(3)));
  const update = m.block(null, [
    set(5, k32(0)),
    m.loop('rows', m.block(null, [
      ...decode(),
      m.if(m.i32.eq(m.i32.load(0, 4, get(8)), k32(ROW_KIND.float)), floatRow, feedbackRow),
      set(5, m.i32.add(get(5), k32(1))),
      m.br('rows', m.i32.lt_u(get(5), get(1))),
    ])),
  ]);
  // The last update: the last entry's row at the last segment.
  const last = m.block(null, [
    set(5, m.i32.sub(get(1), k32(1))),
    ...decode(),
    m.global.set(LAST.n, lastLanes()),
    m.if(m.i32.eq(m.i32.load(0, 4, get(8)), k32(ROW_KIND.float)),
      m.block(null, [
        m.global.set(LAST.path, k32(PATH.float)), m.global.set(LAST.step, k32(0)),
        m.global.set(LAST.at, m.i32.add(m.i32.load(4, 4, get(8)), m.i32.shl(lastOff(), k32(2)))),
      ]),
      m.block(null, [
        m.global.set(LAST.path, k32(PATH.feedback)), m.global.set(LAST.step, m.i32.load(16, 4, get(8))),
        m.global.set(LAST.at, m.i32.add(m.i32.load(4, 4, get(8)), m.i32.mul(lastOff(), m.i32.load(16, 4, get(8))))),
      ])),
  ]);
  // V = the last segment's E.
  const vreg: E[] = [];
  const lastE = () => m.i32.add(m.i32.add(get(4), k32(n.oE)), m.i32.mul(m.i32.sub(get(3), k32(1)), k32(n.es)));
  for (let k = 0; k < o.chunks; k++) vreg.push(m.v128.store(0, 16, k32(L.vregs + n.V * L.vbytes + 16 * k), m.v128.load(mem + 16 * k, 4, lastE())));
  m.addFunction(fnName(n), Bn.createType([i32, i32, i32, i32, i32]), i32, [i32, i32, i32, i32, i32, i32, i32, i32, i32, v128, v128, v128, v128],
    m.block(null, [
      check, update, last, ...vreg,
      m.global.set(NESTED, m.f64.add(m.global.get(NESTED, Bn.f64), m.f64.convert_u.i32(m.i32.mul(get(1), get(3))))),
      m.return(k32(1)),
    ]));
}

/**
 * The call site, before O's own code: the exchanged loops when everything fits (the file
 * comment), then the registers as they leave them, and local `done` set: O's own code is then
 * skipped and control goes to the block after T (translator-module.ts). Else nothing.
 */
export function fusedNest(c: EmitContext, n: Nest, frame: NestFrame, table: number): E[] {
  const m = c.m, i32 = c.B.i32, f64 = c.B.f64;
  const [J, N, done] = frame.temps;
  const get = (i: number) => m.local.get(i, i32);
  const k32 = (v: number) => m.i32.const(v | 0);
  const kf = (v: number) => m.f64.const(v);
  const u = (e: E) => m.f64.convert_u.i32(e);
  const bytes = c.L.memBytes, mem = c.L.mem;
  const [cO, cL, cT] = frame.cycles;
  const [nO, nL, nT] = n.blocks.map((b) => b.instrs.length);
  const perSeg = () => m.f64.add(kf(cO + cT), m.f64.mul(u(get(N)), kf(cL)));
  // Segments from C (the outer loop goes on while C < Cend; at least one), rows per segment (the
  // row loop's iterations). Where the rounding up wraps (a range within a step of 2^32), the count
  // is 0 and the memory conditions below reject it.
  const segments = m.select(m.i32.lt_s(c.x(n.C), c.x(n.Cend)),
    m.i32.div_u(m.i32.add(m.i32.sub(c.x(n.Cend), c.x(n.C)), k32(n.cs - 1)), k32(n.cs)), k32(1));
  const listed = m.i32.div_u(m.i32.add(m.i32.sub(c.x(n.End), c.x(n.Q0)), k32(n.step - 1)), k32(n.step));
  const tableWord = (o: number) => m.i32.load(o, 4, k32(table));
  const hiList = Math.max(n.oR, n.oS);
  const stateLo = c.L.base, stateHi = c.L.base + c.L.bytes;
  const conditions = [
    m.i32.lt_u(c.x(n.Q0), c.x(n.End)),
    m.i32.eqz(m.i32.and(m.i32.or(m.i32.add(c.x(n.Q0), k32(n.oR)), m.i32.add(c.x(n.Q0), k32(n.oS))), k32(3))),
    m.f64.le(m.f64.add(u(c.x(n.Q0)), m.f64.add(m.f64.mul(u(m.i32.sub(get(N), k32(1))), kf(n.step)), kf(hiList))), kf(bytes - 4)),
    m.i32.eqz(m.i32.and(m.i32.add(c.x(n.Pe), k32(n.oE)), k32(3))),
    m.f64.le(m.f64.add(u(m.i32.add(c.x(n.Pe), k32(n.oE))), m.f64.mul(u(m.i32.sub(get(J), k32(1))), kf(n.es))), kf(bytes - c.vbytes)),
    m.i32.eq(tableWord(NEST_TABLE.disjoint), k32(1)),
    m.i32.or(m.i32.le_u(tableWord(NEST_TABLE.hi), k32(stateLo)), m.i32.ge_u(tableWord(NEST_TABLE.lo), k32(stateHi))),
    m.f64.lt(m.f64.add(m.f64.add(m.local.get(frame.cyc, f64), m.f64.mul(u(get(J)), perSeg())), kf(frame.maxPre)), m.local.get(frame.end, f64)),
  ].reduce((a, b) => m.i32.and(a, b));
  const last = () => m.i32.add(c.x(n.Q0), m.i32.mul(m.i32.sub(get(N), k32(1)), k32(n.step)));
  return [
    m.local.set(J, segments),
    m.local.set(N, listed),
    m.local.set(done, k32(0)),
    m.if(conditions, m.local.set(done, m.call(fnName(n), [c.x(n.Q0), get(N), c.x(n.C), get(J), c.x(n.Pe)], i32))),
    m.if(get(done), m.block(null, [
      m.local.set(frame.cyc, m.f64.add(m.local.get(frame.cyc, f64), m.f64.mul(u(get(J)), perSeg()))),
      m.local.set(frame.ins, m.f64.add(m.local.get(frame.ins, f64), m.f64.mul(u(get(J)), m.f64.add(kf(nO + nT), m.f64.mul(u(get(N)), kf(nL)))))),
      c.setX(n.R, m.i32.load(mem + n.oR, 4, last())),
      c.setX(n.S, m.i32.load(mem + n.oS, 4, last())),
      c.setX(n.Q, m.i32.add(c.x(n.Q0), m.i32.mul(get(N), k32(n.step)))),
      c.setX(n.C, m.i32.add(c.x(n.C), m.i32.mul(get(J), k32(n.cs)))),
      c.setX(n.Pe, m.i32.add(c.x(n.Pe), m.i32.mul(get(J), k32(n.es)))),
      // A and P as the last update leaves them (a pending update of an earlier loop is overwritten).
      ...(frame.pending ? [m.local.set(frame.pending.flag, k32(0))] : []),
      m.call(FUSED_LAST, [m.global.get(LAST.path, i32), m.global.get(LAST.at, i32), m.global.get(LAST.step, i32), m.global.get(LAST.n, i32), c.x(n.S)], c.B.none),
    ])),
  ];
}
