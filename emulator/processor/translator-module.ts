/**
 * Builds the WebAssembly module of one program: its basic blocks (translator-blocks.ts) become
 * the blocks of one function `run(end_cycles) -> status`, structured by binaryen's Relooper so
 * that firmware loops are WASM loops and scalar registers stay in locals across blocks. A
 * dispatch switch on pc enters the block the host left off at (and follows indirect jumps).
 *
 * Cycle accounting is the interpreter's, at block granularity: a block runs only if the
 * interpreter would execute all of it within the budget (cycles + cycles of all but its last
 * instruction < end); otherwise the module returns BUDGET and the host steps the instructions
 * one by one. Each block adds its summed cycles and instruction count at its end; an exit in the
 * middle of a block (HOST) adds those of the instructions before it.
 */
import type binaryen from 'binaryen';
import type { DecodedInstruction, InstrDef } from '../../isa/types.js';
import { staticJalrTarget, type Block, type ControlFlow } from './translator-blocks.js';
import { fusedListing, listingLoopAt, type ListingLoop } from './fused-listing.js';
import { addNestGlobals, nestAt, type Nest, type NestFrame } from './fused-nest.js';
import { settle, type LoopFrame, type PendingUpdate } from './fused-update.js';
import { emitterFor, type EmitContext } from './translator-emit.js';
import type { StateLayout } from './wasm-layout.js';

type E = binaryen.ExpressionRef;
type B = typeof binaryen;

/** Why `run` returned. */
export const STATUS = {
  /** The block at pc would cross the cycle budget: the host steps. */
  BUDGET: 0,
  /** `wait` with steps > 0 (steps at layout.waitSteps, pc after the wait). */
  WAIT: 1,
  /** The host executes the instruction at pc (a trap, a system call, a store into code...). */
  HOST: 2,
  /** No translated block starts at pc. */
  MISS: 3,
  /** `run_hot` does not enter the block at pc: the host calls `run`. */
  COLD: 4,
} as const;

/**
 * The block starts `run_hot` enters: the translation's start pcs and the blocks the host resumes
 * at when firmware runs between waits (after `wait`, a host-executed instruction, a call's return).
 */
export function hotEntries(cfg: ControlFlow, starts: number[]): Set<number> {
  const hot = new Set<number>();
  for (const s of starts) if (cfg.byStart.has(s >>> 0)) hot.add(s >>> 0);
  for (const b of cfg.blocks) {
    const last = b.instrs[b.instrs.length - 1];
    const resumes = b.exit === 'wait' || b.exit === 'host' || ((b.exit === 'jal' || b.exit === 'jalr') && last.rd !== 0);
    if (resumes && cfg.byStart.has(b.end)) hot.add(b.end);
  }
  return hot;
}

/** How core-access instructions reach the bus. */
export type BusLink =
  /** Through the imported host function env.bus(id, x[rs1], x[rs2]), which runs the table's semantics. */
  | { kind: 'import' }
  /**
   * Through kernel functions (kernels/bus.ts) on the engine's memory, imported from module
   * `kernels` (all parameters i32, result i32 or none). `emit` returns the fast code of an
   * instruction (null: the imported host function serves it); `host()` builds that host call, for
   * the cases a kernel hands back.
   */
  | {
    kind: 'kernel'; emit: (c: EmitContext, d: DecodedInstruction, host: () => E) => E[] | null; imports: { name: string; params: number; returns: boolean }[];
    /**
     * The row-segment update `vlds.f A, R, C; vmul.f P, E, S; vadd.f A, A, P; vsts.f A, R, C`
     * (translator-module.ts rowUpdateAt) in one pass over the chunks, for the rows where its
     * conditions hold, else `unfused` (the four instructions' own code). c is the vlds's context.
     */
    fuseRowUpdate?: (c: EmitContext, ds: DecodedInstruction[], unfused: E[], pending: PendingUpdate | null) => E[];
    /**
     * le.s's loop over listed rows (fusedLoopAt): code run before the block's own, which runs the
     * loop's iterations but the last as one WebAssembly loop (fused-update.ts fusedLoop).
     */
    fusedLoop?: (c: EmitContext, ds: DecodedInstruction[], frame: LoopFrame) => E[];
    /** Adds FUSED_LAST, which computes the registers a fused loop left pending (A, P, E of its update). */
    addFusedLast?: (Bn: B, m: binaryen.Module, L: StateLayout, A: number, P: number, E: number) => void;
    /**
     * le.s's segment loop around a fused row loop (fused-nest.ts nestAt): code run before the outer
     * block's own, which runs every segment but the last with the loops exchanged; addFusedNest adds
     * the module function that does it.
     */
    fusedNest?: (c: EmitContext, n: Nest, frame: NestFrame) => E[];
    addFusedNest?: (Bn: B, m: binaryen.Module, L: StateLayout, n: Nest, o: { rows: number; lanes: number; chunks: number }) => void;
  };

/** What a program's module is built from. */
export interface ModuleSpec {
  cfg: ControlFlow;
  L: StateLayout;
  rows: number;
  columns: number;
  fixedWeights: boolean;
  cost: (def: InstrDef) => number;
  allowed: (def: InstrDef) => boolean;
  bus: BusLink;
  /** binaryen optimisation level (0 = none). */
  optimizeLevel: number;
  /** The pcs translation started from (entries of run_hot). */
  starts: number[];
  /**
   * Keep the vector registers in v128 locals for the whole function (loaded on entry, stored on
   * exit) instead of the register file in memory. Off by default: measured 5-13 % slower on le.s
   * (V8's optimising tier spills them, since every block's budget exit keeps all of them live).
   */
  vectorLocals?: boolean;
  /** Import a shared memory (the engine's when it runs on threads: emulator/threads/). */
  sharedMemory?: boolean;
  /** Run listing loops (fused-listing.ts) block by block, as any other code (A/B runs: LECHIP_TRANSLATOR_NO_LIST). */
  noListing?: boolean;
}

/** The built module and what the host needs to run it. */
export interface BuiltModule {
  binary: Uint8Array;
  /** Instructions the imported bus function serves, by id. */
  busInstrs: DecodedInstruction[];
  /** Per block start: cycles of all but the block's last instruction (the budget test). */
  pre: Map<number, number>;
  /** Block starts the exported `run_hot` enters (others: `run`). */
  hot: Set<number>;
}

/** The exported global (f64) that counts the iterations fused listing loops ran (a diagnostic: TranslatedProcessor.fusedListingIterations). */
export const LISTED = 'listed';

// Local indices of the run function.
const P_END = 0;
const L_CYC = 32;
const L_INS = 33;
const L_PC = 34;
const L_STATUS = 35;
const L_LABEL = 36;
const L_TI = 37;
const N_TI = 8;
const L_TV = L_TI + N_TI;

/** The blocks control reaches from `entries` (dynamic jumps reach the entries again), in address order. */
function reachable(cfg: ControlFlow, entries: Set<number>): Block[] {
  const seen = new Set<number>();
  const work = [...entries];
  while (work.length > 0) {
    const pc = work.pop()! >>> 0;
    const b = cfg.byStart.get(pc);
    if (!b || seen.has(pc)) continue;
    seen.add(pc);
    const last = b.instrs[b.instrs.length - 1];
    const lastPc = b.end - 4;
    switch (b.exit) {
      case 'branch':
        work.push(lastPc + last.imm, b.end);
        break;
      case 'jal':
        work.push(lastPc + last.imm);
        break;
      case 'jalr': {
        const target = staticJalrTarget(b.instrs.length >= 2 ? b.instrs[b.instrs.length - 2] : null, lastPc - 4, last);
        if (target !== null) work.push(target);
        break;
      }
      case 'wait':
      case 'fall':
        work.push(b.end);
        break;
      case 'host':
        break;
    }
  }
  return cfg.blocks.filter((b) => seen.has(b.start));
}

/** Vector registers named by an instruction's operands. */
function vregsOf(d: DecodedInstruction): number[] {
  return d.def.operands.filter((o) => o.kind === 'vreg').map((o) => d[(o as { field: 'rd' | 'rs1' | 'rs2' }).field]);
}

/** Builds, validates and optimises the module of a program (without run_hot should binaryen's Relooper fail on it). */
export function buildModule(Bn: B, spec: ModuleSpec): BuiltModule {
  try {
    return build(Bn, spec, true);
  } catch {
    return build(Bn, spec, false);
  }
}

function build(Bn: B, spec: ModuleSpec, withHot: boolean): BuiltModule {
  const { cfg, L } = spec;
  const vbytes = L.vbytes;
  const chunks = vbytes / 16;
  const m = new Bn.Module();
  try {
    const features = Bn.Features.MVP | Bn.Features.SIMD128 | Bn.Features.NontrappingFPToInt | Bn.Features.SignExt | Bn.Features.BulkMemory | Bn.Features.MutableGlobals;
    m.setFeatures(spec.sharedMemory ? features | Bn.Features.Atomics : features);
    // No maximum: the import must accept any memory (the engine's has none); a shared memory must
    // declare one, the largest (emulator/wasm.ts SHARED_MAX_PAGES), which accepts any smaller.
    if (spec.sharedMemory) m.setMemory(1, 65536, null, [], true, false, '0');
    else m.setMemory(1, -1, null, [], false, false, '0');
    m.addMemoryImport('0', 'env', 'memory');
    m.addFunctionImport('bus', 'env', 'bus', Bn.createType([Bn.i32, Bn.i32, Bn.i32]), Bn.none);
    m.addFunctionImport('steps', 'env', 'steps', Bn.none, Bn.i32);
    if (spec.bus.kind === 'kernel') {
      for (const f of spec.bus.imports) m.addFunctionImport(f.name, 'kernels', f.name, Bn.createType(Array<number>(f.params).fill(Bn.i32)), f.returns ? Bn.i32 : Bn.none);
    }
    addRng4(Bn, m, L);

    const busInstrs: DecodedInstruction[] = [];
    const pre = new Map<number, number>();
    // With vectorLocals, the vector registers the program names live in v128 locals (chunks per register) from L_VR on.
    const L_VR = L_TV + 4 + chunks;
    const cached = new Map<number, number>();
    if (spec.vectorLocals) for (const block of cfg.blocks) for (const d of block.instrs) for (const r of vregsOf(d)) if (!cached.has(r)) cached.set(r, L_VR + cached.size * chunks);
    const i32 = Bn.i32, f64 = Bn.f64, v128 = Bn.v128;
    const lset = (i: number, v: E) => m.local.set(i, v);
    // le.s's row loops (fusedLoopAt) run fused when they all update the same A, P and E (FUSED_LAST holds them).
    const loopLink = spec.bus.kind === 'kernel' && spec.bus.fuseRowUpdate && spec.bus.fusedLoop && spec.bus.addFusedLast && !spec.vectorLocals ? spec.bus : null;
    const loops = new Set(loopLink ? cfg.blocks.filter((b) => fusedLoopAt(b) && b.instrs.every((d) => spec.allowed(d.def))) : []);
    const triples = new Set([...loops].map((b) => `${b.instrs[2].rd},${b.instrs[3].rd},${b.instrs[3].rs1}`));
    if (triples.size !== 1) loops.clear();
    const L_MORE = L_VR + cached.size * chunks;
    const pending: PendingUpdate | null = loops.size ? { flag: L_MORE, path: L_MORE + 1, at: L_MORE + 2, step: L_MORE + 3, n: L_MORE + 4, s: L_MORE + 5 } : null;
    const loopTemps = [L_MORE + 6, L_MORE + 7, L_MORE + 8, L_MORE + 9];
    // le.s's listing of the rows that carried a value (fused-listing.ts), with three locals of its own after the row loops'.
    const listings = new Map<Block, ListingLoop>();
    if (!spec.noListing) {
      for (const b of cfg.blocks) {
        const l = listingLoopAt(cfg, b);
        if (l && l.blocks.every((x) => x.instrs.every((d) => spec.allowed(d.def)))) listings.set(b, l);
      }
    }
    const L_LIST = L_MORE + (pending ? 10 : 0);
    // Segment loops around the fused row loops (fused-nest.ts), three locals of their own after the listings'.
    const nests = new Map<Block, Nest>();
    if (loopLink?.fusedNest && loopLink.addFusedNest) {
      for (const b of cfg.blocks) {
        const n = nestAt(cfg, b, (x) => loops.has(x), L.vbytes / 4);
        if (n && n.blocks.every((x) => x.instrs.every((d) => spec.allowed(d.def)))) nests.set(b, n);
      }
      if (nests.size) addNestGlobals(Bn, m);
      for (const n of nests.values()) loopLink.addFusedNest(Bn, m, L, n, { rows: spec.rows, lanes: L.vbytes / 4, chunks });
    }
    const L_NEST = L_LIST + (listings.size ? 3 : 0);
    if (listings.size) {
      m.addGlobal(LISTED, f64, true, m.f64.const(0));
      m.addGlobalExport(LISTED, LISTED);
    }
    if (pending) {
      const [A, P, Ev] = [...triples][0].split(',').map(Number);
      loopLink!.addFusedLast!(Bn, m, L, A, P, Ev);
    }

    /** Cycles of each of three blocks and the largest of their budget tests' costs (all but the last instruction). */
    const blockCosts = (blocks: [Block, Block, Block]): { cycles: [number, number, number]; maxPre: number } => {
      const cycles = blocks.map((b) => b.instrs.reduce((a, d) => a + spec.cost(d.def), 0)) as [number, number, number];
      return { cycles, maxPre: Math.max(...blocks.map((b, i) => cycles[i] - spec.cost(b.instrs[b.instrs.length - 1].def))) };
    };
    const exitWith = (status: number, pc: E | null, extra: E[] = []) =>
      m.block(null, [...extra, ...(pc !== null ? [lset(L_PC, pc)] : []), lset(L_STATUS, m.i32.const(status)), m.br('exit')]);
    const addCounts = (cycles: number, instrs: number): E[] => {
      const out: E[] = [];
      if (cycles !== 0) out.push(lset(L_CYC, m.f64.add(m.local.get(L_CYC, f64), m.f64.const(cycles))));
      if (instrs !== 0) out.push(lset(L_INS, m.f64.add(m.local.get(L_INS, f64), m.f64.const(instrs))));
      return out;
    };

    /**
     * The function body over every block. `entries` null: the dispatch enters any block (the host
     * may resume anywhere); else only those block starts (the rest exit with COLD), and jumps to
     * them go through the dispatch too, so that an entry's one predecessor is the dispatch: every
     * loop is then entered at one block, and the Relooper renders firmware loops as plain
     * WebAssembly loops instead of a label-variable dispatch around the whole program.
     */
    const render = (entries: Set<number> | null): E => {
      const blocks = entries === null ? cfg.blocks : reachable(cfg, entries);
      const R = new Bn.Relooper(m);
      const dispatch = R.addBlockWithSwitch(m.nop(), m.i32.rotr(m.i32.sub(m.local.get(L_PC, i32), m.i32.const(cfg.codeLo)), m.i32.const(2)));
      // Default of the dispatch: no block at pc (MISS), or, in run_hot, none it enters (COLD: the host decides).
      const miss = R.addBlock(exitWith(entries === null ? STATUS.MISS : STATUS.COLD, null));
      const rblock = new Map<Block, number>();
      // Jumps to addresses without a block (and, in run_hot, to entries) go through a block that sets pc, then the dispatch.
      const gotos = new Map<number, number>();
      const goto = (addr: number): number => {
        const b = cfg.byStart.get(addr >>> 0);
        const rb = b && !entries?.has(b.start) ? rblock.get(b) : undefined;
        if (rb !== undefined) return rb;
        let g = gotos.get(addr >>> 0);
        if (g === undefined) {
          g = R.addBlock(lset(L_PC, m.i32.const(addr | 0)));
          R.addBranch(g, dispatch, 0, 0);
          gotos.set(addr >>> 0, g);
        }
        return g;
      };

      for (const block of blocks) {
        const costs = block.instrs.map((d) => spec.cost(d.def));
        const total = costs.reduce((a, b) => a + b, 0);
        const preCost = total - costs[costs.length - 1];
        pre.set(block.start, preCost);
        const code: E[] = [];
        const listing = listings.get(block);
        if (listing) {
          const ctx = context(Bn, m, spec, block.start, () => exitWith(STATUS.HOST, m.i32.const(block.start)), busInstrs, cached);
          code.push(...fusedListing(ctx, listing, { cyc: L_CYC, ins: L_INS, end: P_END, ...blockCosts(listing.blocks), temps: [L_LIST, L_LIST + 1, L_LIST + 2], counter: LISTED }));
        }
        // A nest's code runs first; when it ran (local L_NEST + 2), the block's own code is skipped and control goes to the block after the nest.
        const nest = nests.get(block);
        const nestCode: E[] = [];
        if (nest) {
          const ctx = context(Bn, m, spec, block.start, () => exitWith(STATUS.HOST, m.i32.const(block.start)), busInstrs, cached);
          nestCode.push(...loopLink!.fusedNest!(ctx, nest, { cyc: L_CYC, ins: L_INS, end: P_END, ...blockCosts(nest.blocks), pending, temps: [L_NEST, L_NEST + 1, L_NEST + 2] }));
        }
        if (loops.has(block)) {
          const ctx = context(Bn, m, spec, block.start, () => exitWith(STATUS.HOST, m.i32.const(block.start)), busInstrs, cached);
          code.push(...loopLink!.fusedLoop!(ctx, block.instrs, { cyc: L_CYC, ins: L_INS, end: P_END, cycles: total, preCost, pending: pending!, temps: loopTemps }));
        }
        code.push(m.if(m.f64.ge(m.f64.add(m.local.get(L_CYC, f64), m.f64.const(preCost)), m.local.get(P_END, f64)),
          exitWith(STATUS.BUDGET, m.i32.const(block.start))));
        const inline = block.exit === 'fall' ? block.instrs.length : block.instrs.length - 1;
        let prefix = 0;
        const one = (k: number, cyc: number): { ctx: EmitContext; code: E[] } => {
          const d = block.instrs[k];
          const pc = block.start + 4 * k;
          const bail = () => exitWith(STATUS.HOST, m.i32.const(pc | 0), addCounts(cyc, k));
          const ctx = context(Bn, m, spec, pc, bail, busInstrs, cached);
          const emit = spec.allowed(d.def) ? emitterFor(d.def.mnemonic) : undefined;
          return { ctx, code: emit ? emit(ctx, d) : [bail()] };
        };
        for (let k = 0; k < inline; k++) {
          if (spec.bus.kind === 'kernel' && spec.bus.fuseRowUpdate && !spec.vectorLocals && k + 3 < inline
            && rowUpdateAt(block.instrs, k) && block.instrs.slice(k, k + 4).every((d) => spec.allowed(d.def))) {
            // Each instruction's own code (with its own bail-out counts) for the rows the fused pass does not take.
            const unfused: E[] = [];
            let first: EmitContext | null = null;
            for (let j = 0; j < 4; j++) {
              const o = one(k + j, prefix);
              first ??= o.ctx;
              unfused.push(...o.code);
              prefix += costs[k + j];
            }
            code.push(...spec.bus.fuseRowUpdate(first!, block.instrs.slice(k, k + 4), unfused, pending));
            k += 3;
            continue;
          }
          code.push(...one(k, prefix).code);
          prefix += costs[k];
        }
        const last = block.instrs[block.instrs.length - 1];
        const lastPc = block.end - 4;
        if (block.exit === 'host') {
          code.push(exitWith(STATUS.HOST, m.i32.const(lastPc | 0), addCounts(prefix, inline)));
        } else {
          code.push(...addCounts(total, block.instrs.length));
          if (block.exit === 'jal') code.push(xset(m, last.rd, m.i32.const((lastPc + 4) | 0)));
          if (block.exit === 'jalr') {
            const t = L_TI;
            code.push(lset(t, m.i32.and(m.i32.add(xget(m, i32, last.rs1), m.i32.const(last.imm)), m.i32.const(-2))));
            code.push(xset(m, last.rd, m.i32.const((lastPc + 4) | 0)));
            code.push(lset(L_PC, m.local.get(t, i32)));
          }
          if (block.exit === 'wait') {
            const t = L_TI;
            code.push(lset(t, xget(m, i32, last.rs1)));
            code.push(m.if(m.local.get(t, i32), exitWith(STATUS.WAIT, m.i32.const((lastPc + 4) | 0), [m.i32.store(0, 4, m.i32.const(L.waitSteps), m.local.get(t, i32))])));
          }
        }
        rblock.set(block, R.addBlock(m.block(null, nest ? [...nestCode, m.if(m.i32.eqz(m.local.get(L_NEST + 2, i32)), m.block(null, code))] : code)));
      }

      for (const block of blocks) {
        const from = rblock.get(block)!;
        const last = block.instrs[block.instrs.length - 1];
        const lastPc = block.end - 4;
        switch (block.exit) {
          case 'branch':
            R.addBranch(from, goto(lastPc + last.imm), branchCondition(m, i32, last), 0);
            R.addBranch(from, goto(block.end), 0, 0);
            break;
          case 'jal':
            R.addBranch(from, goto(lastPc + last.imm), 0, 0);
            break;
          case 'jalr': {
            const prev = block.instrs.length >= 2 ? block.instrs[block.instrs.length - 2] : null;
            const target = staticJalrTarget(prev, lastPc - 4, last);
            R.addBranch(from, target !== null && cfg.byStart.has(target) ? goto(target) : dispatch, 0, 0);
            break;
          }
          case 'wait':
          case 'fall': {
            const nest = nests.get(block);
            if (nest) R.addBranch(from, goto(nest.blocks[2].end), m.local.get(L_NEST + 2, i32), 0);
            R.addBranch(from, goto(block.end), 0, 0);
            break;
          }
          case 'host':
            break;
        }
        if (entries === null || entries.has(block.start)) R.addBranchForSwitch(dispatch, from, [(block.start - cfg.codeLo) >>> 2], 0);
      }
      R.addBranchForSwitch(dispatch, miss, [], 0);
      return R.renderAndDispose(dispatch, L_LABEL);
    };

    const load: E[] = [];
    const flush: E[] = [];
    for (let r = 1; r < 32; r++) {
      load.push(lset(r, m.i32.load(0, 4, m.i32.const(L.x + 4 * r))));
      flush.push(m.i32.store(0, 4, m.i32.const(L.x + 4 * r), m.local.get(r, i32)));
    }
    for (const [r, at] of cached) {
      for (let k = 0; k < chunks; k++) {
        const a = m.i32.const(L.vregs + r * vbytes + 16 * k);
        load.push(lset(at + k, m.v128.load(0, 16, a)));
        flush.push(m.v128.store(0, 16, m.i32.const(L.vregs + r * vbytes + 16 * k), m.local.get(at + k, v128)));
      }
    }
    load.push(lset(L_PC, m.i32.load(0, 4, m.i32.const(L.pc))), lset(L_CYC, m.f64.load(0, 8, m.i32.const(L.cycles))), lset(L_INS, m.f64.load(0, 8, m.i32.const(L.instructions))));
    flush.push(
      m.i32.store(0, 4, m.i32.const(L.pc), m.local.get(L_PC, i32)),
      m.f64.store(0, 8, m.i32.const(L.cycles), m.local.get(L_CYC, f64)),
      m.f64.store(0, 8, m.i32.const(L.instructions), m.local.get(L_INS, f64)),
    );
    const vars = [
      ...Array<number>(31).fill(i32), f64, f64, i32, i32, i32,
      ...Array<number>(N_TI).fill(i32), ...Array<number>(4 + chunks).fill(v128), ...Array<number>(cached.size * chunks).fill(v128),
      ...(pending ? Array<number>(10).fill(i32) : []),
      ...(listings.size ? Array<number>(3).fill(i32) : []),
      ...(nests.size ? Array<number>(3).fill(i32) : []),
    ];
    const fn = (name: string, entries: Set<number> | null) => {
      m.addFunction(name, Bn.createType([f64]), i32, vars, m.block(null, [
        ...load.map((e) => m.copyExpression(e)),
        m.block('exit', [render(entries)]),
        ...settle({ m, B: Bn }, pending),
        ...flush.map((e) => m.copyExpression(e)),
        m.return(m.local.get(L_STATUS, i32)),
      ], i32));
      m.addFunctionExport(name, name);
    };
    const hot = withHot ? hotEntries(cfg, spec.starts) : new Set<number>();
    fn('run', null);
    if (withHot) fn('run_hot', hot);
    if (!m.validate()) throw new Error('translator: the generated module does not validate');
    if (spec.optimizeLevel > 0) {
      Bn.setOptimizeLevel(spec.optimizeLevel);
      Bn.setShrinkLevel(0);
      m.optimize();
    }
    return { binary: m.emitBinary(), busInstrs, pre, hot };
  } finally {
    m.dispose();
  }
}

function xget(m: binaryen.Module, i32: number, r: number): E {
  return r === 0 ? m.i32.const(0) : m.local.get(r, i32);
}
function xset(m: binaryen.Module, r: number, v: E): E {
  return r === 0 ? m.drop(v) : m.local.set(r, v);
}

function branchCondition(m: binaryen.Module, i32: number, d: DecodedInstruction): E {
  const a = xget(m, i32, d.rs1), b = xget(m, i32, d.rs2);
  switch (d.def.mnemonic) {
    case 'beq': return m.i32.eq(a, b);
    case 'bne': return m.i32.ne(a, b);
    case 'blt': return m.i32.lt_s(a, b);
    case 'bge': return m.i32.ge_s(a, b);
    case 'bltu': return m.i32.lt_u(a, b);
    case 'bgeu': return m.i32.ge_u(a, b);
    default: throw new Error(`translator: ${d.def.mnemonic} is not a branch`);
  }
}

/** The emit context of one instruction. */
function context(Bn: B, m: binaryen.Module, spec: ModuleSpec, pc: number, bail: () => E, busInstrs: DecodedInstruction[], cached: Map<number, number>): EmitContext {
  const i32 = Bn.i32, v128 = Bn.v128;
  const L = spec.L, chunks = L.vbytes / 16;
  const vmem = (r: number, k: number) => m.i32.const(L.vregs + r * L.vbytes + 16 * k);
  const local = (r: number) => {
    const at = cached.get(r);
    if (at === undefined) throw new Error(`translator: vector register v${r} has no locals`);
    return at;
  };
  const vflush = (r: number) => (cached.has(r) ? Array.from({ length: chunks }, (_, k) => m.v128.store(0, 16, vmem(r, k), m.local.get(local(r) + k, v128))) : []);
  const vreload = (r: number) => (cached.has(r) ? Array.from({ length: chunks }, (_, k) => m.local.set(local(r) + k, m.v128.load(0, 16, vmem(r, k)))) : []);
  const c: EmitContext = {
    B: Bn, m, L: spec.L, vbytes: spec.L.vbytes, chunks: spec.L.vbytes / 16,
    rows: spec.rows, columns: spec.columns, fixedWeights: spec.fixedWeights,
    codeLo: spec.cfg.codeLo, codeHi: spec.cfg.codeHi, pc,
    x: (r) => xget(m, i32, r),
    setX: (r, v) => xset(m, r, v),
    bail,
    // A register no operand names is only ever read as an unused operand (lanewise code of ops with a scalar operand): memory.
    vget: (r, k) => (cached.has(r) ? m.local.get(local(r) + k, v128) : m.v128.load(0, 16, vmem(r, k))),
    vset: (r, k, v) => (cached.has(r) ? m.local.set(local(r) + k, v) : m.v128.store(0, 16, vmem(r, k), v)),
    vflush,
    vreload,
    ti: (k) => {
      if (k >= N_TI) throw new Error(`translator: i32 temporary ${k} out of range`);
      return L_TI + k;
    },
    tv: (k) => {
      if (k >= 4 + c.chunks) throw new Error(`translator: v128 temporary ${k} out of range`);
      return L_TV + k;
    },
    bus: (d) => {
      let id = -1;
      const host = () => {
        if (id < 0) {
          id = busInstrs.length;
          busInstrs.push(d);
        }
        // The host works on the register file in memory.
        const regs = vregsOf(d);
        return m.block(null, [
          ...regs.flatMap(vflush),
          m.call('bus', [m.i32.const(id), xget(m, i32, d.rs1), xget(m, i32, d.rs2)], Bn.none),
          ...regs.flatMap(vreload),
        ]);
      };
      if (spec.bus.kind === 'kernel') {
        const fast = spec.bus.emit(c, d, host);
        if (fast) return fast;
      }
      return [host()];
    },
    analogSteps: () => m.call('steps', [], i32),
    rng4: (addr) => m.call('rng4', [m.i32.const(addr)], Bn.v128),
  };
  return c;
}

/**
 * rng4(p) -> v128: advances the four lane generators whose s0 words are at p (structure of
 * arrays: s1 at p + 4 vbytes, s2 at p + 8 vbytes, s3 at p + 12 vbytes) and returns their outputs
 * (xoshiro128**, as isa/lanes.ts LaneRandom.next).
 */
function addRng4(Bn: B, m: binaryen.Module, L: StateLayout): void {
  const v = Bn.v128, i32 = Bn.i32;
  const stride = 4 * L.vbytes;
  const p = () => m.local.get(0, i32);
  const g = (i: number) => m.local.get(i, v);
  const s = (i: number, e: E) => m.local.set(i, e);
  const rotl = (x: () => E, k: number) => m.v128.or(m.i32x4.shl(x(), m.i32.const(k)), m.i32x4.shr_u(x(), m.i32.const(32 - k)));
  const splat = (k: number) => m.i32x4.splat(m.i32.const(k));
  // Locals: 1..4 = s0..s3, 5 = result, 6 = t.
  m.addFunction('rng4', Bn.createType([i32]), v, [v, v, v, v, v, v], m.block(null, [
    s(1, m.v128.load(0, 16, p())),
    s(2, m.v128.load(stride, 16, p())),
    s(3, m.v128.load(2 * stride, 16, p())),
    s(4, m.v128.load(3 * stride, 16, p())),
    s(6, m.i32x4.mul(g(2), splat(5))),
    s(5, m.i32x4.mul(rotl(() => g(6), 7), splat(9))),
    s(6, m.i32x4.shl(g(2), m.i32.const(9))),
    s(3, m.v128.xor(g(3), g(1))),
    s(4, m.v128.xor(g(4), g(2))),
    s(2, m.v128.xor(g(2), g(3))),
    s(1, m.v128.xor(g(1), g(4))),
    s(3, m.v128.xor(g(3), g(6))),
    s(4, rotl(() => g(4), 11)),
    m.v128.store(0, 16, p(), g(1)),
    m.v128.store(stride, 16, p(), g(2)),
    m.v128.store(2 * stride, 16, p(), g(3)),
    m.v128.store(3 * stride, 16, p(), g(4)),
    g(5),
  ], v));
}

/**
 * Whether instructions k..k+3 are the row-segment update `vlds.f A, R, C; vmul.f P, E, S;
 * vadd.f A, A, P; vsts.f A, R, C` with A, P distinct from each other and from E and S, so that
 * doing it chunk by chunk gives what the four instructions give one after the other.
 */
export function rowUpdateAt(ds: DecodedInstruction[], k: number): boolean {
  const [l, mu, ad, st] = ds.slice(k, k + 4);
  if (!l || !mu || !ad || !st) return false;
  const scalar = mu.def.mnemonic === 'vmuls.f';
  if (l.def.mnemonic !== 'vlds.f' || (mu.def.mnemonic !== 'vmul.f' && !scalar) || ad.def.mnemonic !== 'vadd.f' || st.def.mnemonic !== 'vsts.f') return false;
  const A = l.rd, P = mu.rd, E = mu.rs1, S = mu.rs2;
  if (ad.rd !== A || ad.rs1 !== A || ad.rs2 !== P) return false;
  if (st.rd !== A || st.rs1 !== l.rs1 || st.rs2 !== l.rs2) return false;
  // With vmuls.f, S is a scalar register (float32 bits), not a vector register.
  return A !== P && A !== E && P !== E && (scalar || (A !== S && P !== S));
}

/**
 * Whether a block is le.s's loop over listed rows, which fused-update.ts fusedLoop runs as one loop:
 *
 *     lw R, oR(Q); lw S, oS(Q); vlds.f A, R, C; vmuls.f P, E, S; vadd.f A, A, P; vsts.f A, R, C
 *     addi Q, Q, step; bltu Q, End, <the block>
 *
 * with oR, oS >= 0, step a positive multiple of 4, R and S distinct and neither Q, C nor End, Q
 * neither C nor End, none of them x0, and the update's registers as rowUpdateAt wants them.
 */
export function fusedLoopAt(block: Block): boolean {
  const ds = block.instrs;
  if (ds.length !== 8 || block.exit !== 'branch' || !rowUpdateAt(ds, 2)) return false;
  const [lwR, lwS, l, mu, , st, addi, br] = ds;
  if (lwR.def.mnemonic !== 'lw' || lwS.def.mnemonic !== 'lw' || mu.def.mnemonic !== 'vmuls.f' || addi.def.mnemonic !== 'addi' || br.def.mnemonic !== 'bltu') return false;
  const Q = lwR.rs1, R = lwR.rd, S = lwS.rd, C = l.rs2, End = br.rs2;
  if (lwS.rs1 !== Q || l.rs1 !== R || mu.rs2 !== S || st.rs1 !== R || st.rs2 !== C) return false;
  if (addi.rd !== Q || addi.rs1 !== Q || br.rs1 !== Q || block.end - 4 + br.imm !== block.start) return false;
  if (lwR.imm < 0 || lwS.imm < 0 || addi.imm <= 0 || addi.imm % 4 !== 0) return false;
  const regs = [Q, R, S, C, End];
  if (regs.includes(0) || R === S || [Q, C, End].includes(R) || [Q, C, End].includes(S) || Q === C || Q === End) return false;
  return true;
}
