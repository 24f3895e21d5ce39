/**
 * Splitting the engine's step program (kernels/program.ts, written by emulator/engine.ts) into
 * one thread program per thread (kernels/parallel.ts), for one chip stepped on several threads.
 *
 * Every op is split by output elements: per-neuron ops by the population's slice of neurons, the
 * forward product (and its fused update) by columns of the synapse array (post neurons), the
 * transposed product by rows (pre neurons), random feedback by columns of B; each element is then
 * computed by exactly the operations of the single-thread op, so the results are bit-identical.
 * Noise ops (one sequential stream each) run whole on one thread; ops this module does not know
 * run whole on thread 0. Barriers are placed from the memory each thread-op reads and writes: a
 * barrier goes before an op whenever it touches bytes another thread has written since the last
 * barrier, or writes bytes another thread has touched (plus one at the end of every step).
 */
import { OP_BYTES } from '../wasm.js';

const WORDS = OP_BYTES / 4;

// Op codes of kernels/program.ts and kernels/parallel.ts.
const OP_COPY = 1;
const OP_BASAL = 2;
const OP_FORWARD = 3;
const OP_NOISE = 4;
const OP_NEURON = 5;
const OP_ERROR_INIT = 6;
const OP_FEEDBACK_T = 7;
const OP_FEEDBACK_R = 8;
const OP_BIAS_LEARN = 9;
const OP_PLASTIC = 10;
const OP_LOWPASS = 11;
const OP_TAU_DELTA = 12;
const OP_TAU_APPLY = 13;
const OP_FORWARD_COLS = 100;
const OP_PLASTIC_COLS = 101;
const OP_FEEDBACK_R_COLS = 102;
const OP_BARRIER = 103;

/** FORWARD_COLS words beyond FORWARD's: 11 width (floats), 12 the thread's private accumulator (0: none). */
const FWD_WIDTH = 11;
const FWD_ACC = 12;
/** FORWARD and FEEDBACK_T words of quantised weights (kernels/program.ts): codes, code row bytes, row unit pointers, int8 flag, unit offset. */
const Q_CODES = 13;
const Q_CSTRIDE = 14;
const Q_UNITS = 15;
const Q_FLAG = 16;
const Q_UOFF = 17;

type Mode = 'r' | 'w' | 'rw';

/**
 * Per-neuron ops split by the population's slice: which words point at per-neuron vectors (and
 * whether the op reads or writes them), which word counts the vectors of four (or the bytes),
 * and which pointer words are read whole (flags).
 */
const ELEMENTWISE: Record<number, { vecs: [number, Mode][]; nVec?: number; bytes?: number; scalars?: number[] }> = {
  [OP_BASAL]: { vecs: [[1, 'w'], [2, 'r']], bytes: 3 },
  [OP_NEURON]: {
    vecs: [[5, 'rw'], [6, 'r'], [7, 'r'], [8, 'r'], [9, 'r'], [10, 'r'], [11, 'r'], [12, 'w'], [13, 'w'], [14, 'w'], [15, 'r'], [16, 'r']],
    nVec: 1,
  },
  [OP_ERROR_INIT]: { vecs: [[1, 'w'], [3, 'r'], [4, 'r'], [5, 'r']], nVec: 2, scalars: [7] },
  [OP_BIAS_LEARN]: { vecs: [[1, 'rw'], [2, 'r']], nVec: 3 },
  [OP_LOWPASS]: { vecs: [[1, 'rw'], [2, 'r']], nVec: 4, scalars: [5] },
  [OP_TAU_DELTA]: { vecs: [[3, 'r'], [4, 'r'], [5, 'r'], [6, 'r'], [7, 'r'], [8, 'w']], nVec: 1 },
  [OP_TAU_APPLY]: { vecs: [[1, 'rw'], [2, 'r']], nVec: 5 },
};

/** A byte range an op reads or writes; weight-array slices also carry their rectangle. */
interface Access {
  lo: number;
  hi: number;
  w: boolean;
  rect?: { base: number; stride: number; r0: number; r1: number; c0: number; c1: number };
}

/** The program of the single-thread engine and what the splitter must know of its layout. */
export interface SourceProgram {
  /** The op records, nOps x 24 words. */
  words: Int32Array;
  /** Byte address of the first record (PLASTIC records point at FORWARD records). */
  addr: number;
  /** Padded size (floats) of every population. */
  popSizes: number[];
  /** Address of every per-neuron vector (state, parameters, buffers) -> its population. */
  vectors: Map<number, number>;
  /** The error vectors among them (e, and the raw errors before their low-pass) -> population. */
  errorVectors: Map<number, number>;
}

/** How the work is divided: per population and thread, a range of elements [lo, hi). */
export interface ThreadPlan {
  threads: number;
  quantum: number;
  slices: [number, number][][];
  /** Modelled work of one quantum of each population's elements (the units of loads). */
  blockCost: number[];
  /** Thread of each NOISE op (by source op index). */
  noiseThread: Map<number, number>;
  /** Arrays (by address) owned whole by one thread: forward, update and transposed product. */
  matrixOwner: Map<number, number>;
  /** Populations whose error ops (initial error, feedback into them, filter, bias update) run whole on one thread. */
  errorOwner: Map<number, number>;
  /**
   * Arrays (by address) split by columns and never read transposed: each thread's columns live in
   * a panel of their own while the engine steps (emulator/threads/parallel-engine.ts), so that no
   * two threads write into one page (the hardware prefetchers would pass the lines back and forth).
   * Per array: rows, row stride (floats) and each thread's columns.
   */
  paneled: Map<number, { nPre: number; stride: number; cols: [number, number][] }>;
  /** Scratch each thread needs: i32 words of row indices, floats of its largest slice, floats of the state block. */
  idxWords: number;
  sliceFloats: number;
  snapFloats: number;
  /** Estimated work per thread (arbitrary units; the balance the partition reached). */
  loads: number[];
}

/** Per-thread scratch in shared memory (byte addresses), kept apart so threads never share a line. */
export interface ThreadScratch {
  idx: number;
  acc: number;
  fb: number;
  /** Phase profile (f64: last barrier left, then busy and waiting ms per barrier), PROFILE_BARRIERS barriers. */
  prof: number;
  /** Private copy of parts of the state block (snapFloats floats, the block's layout). */
  snap: number;
}

/** Barriers per step the phase profile has room for. */
export const PROFILE_BARRIERS = 64;

/** One thread program as op records, and what it took. */
export interface ThreadProgram {
  words: Int32Array;
  nOps: number;
}

export interface EmittedPrograms {
  programs: ThreadProgram[];
  /** Barriers per step (the same in every thread program). */
  barriersPerStep: number;
  /** Source ops run whole on thread 0 because they could not be split. */
  unsplit: number[];
  /** Why each barrier is there: the op (source index and code) that needed it, and the bytes. */
  reasons: { op: number; code: number; thread: number; lo: number; hi: number; by: number }[];
}

function word(src: SourceProgram, i: number, w: number): number {
  return src.words[i * WORDS + w];
}

function u32(v: number): number {
  return v >>> 0;
}

/** A synapse array that is also read transposed (FEEDBACK_T): rows pre, columns post. */
interface Matrix {
  W: number;
  pre: number;
  post: number;
  /** Forward product, fused update and transposed product (multiply-adds). */
  cost: number;
}

/**
 * Work per element of each population (without owned matrices), of each noise op, and the arrays
 * read transposed (units: multiply-adds).
 */
function costs(src: SourceProgram, owned: Map<number, number>): { perElement: number[]; noise: Map<number, number>; matrices: Matrix[] } {
  const perElement = src.popSizes.map(() => 0);
  const noise = new Map<number, number>();
  const matrices: Matrix[] = [];
  const nOps = src.words.length / WORDS;
  for (let i = 0; i < nOps; i++) {
    const code = word(src, i, 0);
    const pop = (w: number) => src.vectors.get(u32(word(src, i, w)));
    const W = u32(word(src, i, 1));
    if (code === OP_FORWARD) {
      const p = pop(5);
      // forward product plus the fused update (learning is what the benchmarks time)
      if (p !== undefined && !owned.has(W)) perElement[p] += 2 * word(src, i, 3);
    } else if (code === OP_FEEDBACK_T) {
      const p = pop(6);
      const post = pop(4);
      if (p !== undefined && post !== undefined) matrices.push({ W, pre: p, post, cost: 3 * word(src, i, 3) * word(src, i, 2) });
      if (p !== undefined && !owned.has(W)) perElement[p] += word(src, i, 2);
    } else if (code === OP_FEEDBACK_R) {
      const p = pop(6);
      if (p !== undefined) perElement[p] += word(src, i, 3);
    } else if (code === OP_NOISE) {
      // Box-Muller in float64 with log, sqrt, sin, cos: tens of multiply-adds per draw
      noise.set(i, 40 * word(src, i, 3));
    } else if (ELEMENTWISE[code]) {
      const spec = ELEMENTWISE[code];
      const p = spec.vecs.map(([w]) => pop(w)).find((x) => x !== undefined);
      if (p !== undefined) perElement[p] += code === OP_NEURON ? 12 : 2;
    }
  }
  return { perElement, noise, matrices };
}

/**
 * Divides the work among the threads.
 *
 * A synapse array read both ways (forward by columns, errors by rows) would pass its cache lines
 * between cores twice a step if its columns and rows went to different threads; so an array whose
 * work is at most ownShare (default half) of a thread's share is owned by one thread (forward, update and transposed
 * product), as are the populations it alone feeds and the error ops of the population its errors
 * go to. Noise ops go to the least loaded thread; the other populations (largest work first) are
 * cut into contiguous slices of whole quanta, the least loaded threads taking the larger shares.
 */
export function planThreads(
  src: SourceProgram, threads: number, quantum: number, ownShare = 0.5, shares: Map<number, number[]> = new Map(),
): ThreadPlan {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads ${threads} is not a positive integer`);
  const first = costs(src, new Map());
  const total =
    first.perElement.reduce((a, c, p) => a + c * src.popSizes[p], 0) + [...first.noise.values()].reduce((a, b) => a + b, 0);
  const loads = new Array<number>(threads).fill(0);
  const matrixOwner = new Map<number, number>();
  const errorOwner = new Map<number, number>();
  const popOwner = new Map<number, number>();
  if (threads > 1) {
    for (const m of [...first.matrices].sort((a, b) => b.cost - a.cost)) {
      if (m.cost > (ownShare * total) / threads) continue;
      const t = loads.indexOf(Math.min(...loads));
      matrixOwner.set(m.W, t);
      loads[t] += m.cost;
      if (!errorOwner.has(m.pre)) errorOwner.set(m.pre, t);
    }
  }
  const { perElement, noise } = costs(src, matrixOwner);
  const noiseThread = new Map<number, number>();
  for (const [i, c] of [...noise.entries()].sort((a, b) => b[1] - a[1])) {
    const t = loads.indexOf(Math.min(...loads));
    noiseThread.set(i, t);
    loads[t] += c;
  }
  // A population fed only by arrays one thread owns belongs to that thread.
  const feeders = new Map<number, Set<number | undefined>>();
  const nOps = src.words.length / WORDS;
  for (let i = 0; i < nOps; i++) {
    if (word(src, i, 0) !== OP_FORWARD) continue;
    const post = src.vectors.get(u32(word(src, i, 5)));
    if (post === undefined) continue;
    if (!feeders.has(post)) feeders.set(post, new Set());
    feeders.get(post)!.add(matrixOwner.get(u32(word(src, i, 1))));
  }
  for (const [post, owners] of feeders) {
    const [t] = [...owners];
    if (owners.size === 1 && t !== undefined) popOwner.set(post, t);
  }

  const slices: [number, number][][] = src.popSizes.map(() => []);
  const blockCost = src.popSizes.map(() => 0);
  const order = src.popSizes.map((n, p) => p).sort((a, b) => src.popSizes[b] * perElement[b] - src.popSizes[a] * perElement[a] || a - b);
  for (const p of order) {
    const n = src.popSizes[p];
    if (n % quantum !== 0) throw new Error(`population ${p}: padded size ${n} is not a multiple of the quantum ${quantum}`);
    const blocks = n / quantum;
    const c = Math.max(perElement[p], 1) * quantum;
    const share = new Array<number>(threads).fill(0);
    const owner = popOwner.get(p);
    const forced = shares.get(p);
    if (forced) {
      if (forced.length !== threads || forced.reduce((a, b) => a + b, 0) !== blocks || forced.some((b) => !(Number.isInteger(b) && b >= 0))) {
        throw new Error(`population ${p}: shares ${forced} do not divide its ${blocks} blocks among ${threads} threads`);
      }
      share.splice(0, threads, ...forced);
    } else if (owner !== undefined) {
      share[owner] = blocks;
    } else {
      const target = (loads.reduce((a, b) => a + b, 0) + blocks * c) / threads;
      const byLoad = loads.map((l, t) => t).sort((a, b) => loads[a] - loads[b] || a - b);
      let left = blocks;
      for (let k = 0; k < threads - 1; k++) {
        const t = byLoad[k];
        share[t] = Math.min(left, Math.max(0, Math.round((target - loads[t]) / c)));
        left -= share[t];
      }
      share[byLoad[threads - 1]] += left;
    }
    blockCost[p] = c;
    // Slices in thread order, so thread 0 holds the first elements.
    let at = 0;
    for (let t = 0; t < threads; t++) {
      slices[p][t] = [at * quantum, (at + share[t]) * quantum];
      at += share[t];
      loads[t] += share[t] * c;
    }
  }
  // Scratch: row indices for the largest gather, and the largest slice (or owned array width).
  let idxWords = 4;
  let sliceFloats = quantum;
  for (let i = 0; i < nOps; i++) {
    const code = word(src, i, 0);
    if (code === OP_FORWARD) {
      idxWords = Math.max(idxWords, word(src, i, 3));
      if (matrixOwner.has(u32(word(src, i, 1)))) sliceFloats = Math.max(sliceFloats, word(src, i, 2));
    }
    if (code === OP_FEEDBACK_R) idxWords = Math.max(idxWords, word(src, i, 3));
  }
  for (const s of slices) for (const [lo, hi] of s) sliceFloats = Math.max(sliceFloats, hi - lo);
  for (const [p] of errorOwner) sliceFloats = Math.max(sliceFloats, src.popSizes[p]);
  const transposed = new Set(first.matrices.map((m) => m.W));
  const paneled = new Map<number, { nPre: number; stride: number; cols: [number, number][] }>();
  for (let i = 0; i < nOps; i++) {
    if (word(src, i, 0) !== OP_FORWARD) continue;
    const W = u32(word(src, i, 1));
    const post = src.vectors.get(u32(word(src, i, 5)));
    if (post === undefined || matrixOwner.has(W) || transposed.has(W) || paneled.has(W)) continue;
    const cols = slices[post];
    if (cols.filter(([lo, hi]) => hi > lo).length < 2) continue;
    paneled.set(W, { nPre: word(src, i, 3), stride: word(src, i, 2), cols });
  }
  let snapFloats = 4;
  for (let i = 0; i < nOps; i++) if (word(src, i, 0) === OP_COPY) snapFloats = Math.max(snapFloats, word(src, i, 3) / 4);
  return { threads, quantum, slices, blockCost, noiseThread, matrixOwner, errorOwner, paneled, idxWords, sliceFloats, snapFloats, loads };
}

/** One source op divided among the threads: records and accesses per thread. */
interface SplitOp {
  source: number;
  records: Int32Array[][];
  access: Access[][];
  /** PLASTIC_COLS records that must point at their thread's FORWARD_COLS (resolved on layout). */
  links: { thread: number; record: number; forward: number }[];
  /** Runs whole on one thread and may move to the start of the step. */
  single: boolean;
}

const EVERYTHING: Access = { lo: 0, hi: 2 ** 32, w: true };

function overlap(a: Access, b: Access): boolean {
  if (!a.w && !b.w) return false;
  if (a.rect && b.rect && a.rect.base === b.rect.base && a.rect.stride === b.rect.stride) {
    return a.rect.r0 < b.rect.r1 && b.rect.r0 < a.rect.r1 && a.rect.c0 < b.rect.c1 && b.rect.c0 < a.rect.c1;
  }
  return a.lo < b.hi && b.lo < a.hi;
}

function range(lo: number, bytes: number, mode: Mode | boolean): Access {
  return { lo, hi: lo + bytes, w: mode === true || mode === 'w' || mode === 'rw' };
}

/** Rows [r0, r1), byte columns [c0, c1) of an array with rows `stride` bytes apart. */
function rect(base: number, stride: number, r0: number, r1: number, c0: number, c1: number, w: boolean): Access {
  return { lo: base + r0 * stride + c0, hi: base + (r1 - 1) * stride + c1, w, rect: { base, stride, r0, r1, c0, c1 } };
}

/** Emits the thread programs of a plan (progAddr: where each will be written, for the links). */
export function emitThreadPrograms(
  src: SourceProgram, plan: ThreadPlan, scratch: ThreadScratch[], progAddr: number[], unfused: boolean,
  panels: Map<number, number[]> = new Map(),
): EmittedPrograms {
  const T = plan.threads;
  const nOps = src.words.length / WORDS;
  const split: SplitOp[] = [];
  const unsplit: number[] = [];
  /** Per source FORWARD record address: per thread, its FORWARD_COLS record (undefined: an empty slice). */
  const forwardOf = new Map<number, (number | undefined)[]>();
  /** Per source FORWARD record address: the columns each thread updates. */
  const columnsOf = new Map<number, [number, number][]>();

  const copyRecord = (i: number): Int32Array => Int32Array.from(src.words.subarray(i * WORDS, (i + 1) * WORDS));
  const newSplit = (i: number, single = false): SplitOp => ({
    source: i, records: Array.from({ length: T }, () => []), access: Array.from({ length: T }, () => []), links: [], single,
  });
  const whole = (i: number, thread: number, access: Access[], single: boolean): SplitOp => {
    const s = newSplit(i, single);
    s.records[thread].push(copyRecord(i));
    s.access[thread].push(...access);
    return s;
  };
  const popOf = (ptr: number) => src.vectors.get(u32(ptr));
  /** All n elements on thread t. */
  const all = (t: number, n: number): [number, number][] => Array.from({ length: T }, (_, u) => (u === t ? [0, n] : [0, 0]));

  for (let i = 0; i < nOps; i++) {
    const code = word(src, i, 0);
    const w = (k: number) => word(src, i, k);
    const p = (k: number) => u32(word(src, i, k));
    let s: SplitOp | null = null;
    if (ELEMENTWISE[code]) s = splitElementwise(i, code);
    else if (code === OP_COPY) s = splitCopy(i);
    else if (code === OP_FORWARD) {
      const post = popOf(w(5));
      const stride = w(2);
      if (post !== undefined && src.popSizes[post] === stride && popOf(w(7)) === post) {
        s = newSplit(i);
        const nPre = w(3);
        const perThread: (number | undefined)[] = [];
        const owner = plan.matrixOwner.get(p(1));
        const cols = owner === undefined ? plan.slices[post] : all(owner, stride);
        for (let t = 0; t < T; t++) {
          const [c0, c1] = cols[t];
          if (c1 <= c0) continue;
          const r = copyRecord(i);
          // A paneled array: this thread's columns are rows of width c1 - c0 in its own panel.
          const panel = plan.paneled.has(p(1)) ? panels.get(p(1))?.[t] : undefined;
          if (plan.paneled.has(p(1)) && panel === undefined) throw new Error(`array at ${p(1)}: no panel for thread ${t}`);
          r[0] = OP_FORWARD_COLS;
          r[1] = panel ?? p(1) + 4 * c0;
          r[2] = panel === undefined ? stride : c1 - c0;
          r[5] = p(5) + 4 * c0;
          r[7] = p(7) + 4 * c0;
          r[9] = scratch[t].idx;
          r[10] = 0;
          r[FWD_WIDTH] = c1 - c0;
          r[FWD_ACC] = scratch[t].acc;
          // Quantised weights: the slice's codes (one byte per column) and its offset into the unit vectors.
          if (r[Q_FLAG]) {
            r[Q_CODES] = p(Q_CODES) + c0;
            r[Q_UOFF] = 4 * c0;
          }
          perThread[t] = s.records[t].length;
          s.records[t].push(r);
          s.access[t].push(
            range(p(4), 4 * nPre, 'r'),
            range(p(5) + 4 * c0, 4 * (c1 - c0), 'rw'),
            range(p(7) + 4 * c0, 4 * (c1 - c0), 'r'),
            panel === undefined ? rect(p(1), 4 * stride, 0, nPre, 4 * c0, 4 * c1, true) : range(panel, 4 * nPre * (c1 - c0), 'rw'),
          );
          if (p(6)) s.access[t].push(range(p(6), 4 * nPre, 'r'));
        }
        forwardOf.set(src.addr + i * OP_BYTES, perThread);
        columnsOf.set(src.addr + i * OP_BYTES, cols);
      }
    } else if (code === OP_PLASTIC) {
      const fwdAddr = p(1);
      const fi = (fwdAddr - src.addr) / OP_BYTES;
      const per = forwardOf.get(fwdAddr);
      if (per && Number.isInteger(fi)) {
        s = newSplit(i);
        const cols = columnsOf.get(fwdAddr)!;
        const stride = word(src, fi, 2);
        const nPre = word(src, fi, 3);
        const W = u32(word(src, fi, 1));
        for (let t = 0; t < T; t++) {
          if (per[t] === undefined) continue;
          const [c0, c1] = cols[t];
          const r = new Int32Array(WORDS);
          r[0] = OP_PLASTIC_COLS;
          s.links.push({ thread: t, record: s.records[t].length, forward: fi });
          s.records[t].push(r);
          if (unfused) {
            const panel = panels.get(W)?.[t];
            s.access[t].push(
              panel === undefined ? rect(W, 4 * stride, 0, nPre, 4 * c0, 4 * c1, true) : range(panel, 4 * nPre * (c1 - c0), 'rw'),
              range(u32(word(src, fi, 7)) + 4 * c0, 4 * (c1 - c0), 'r'),
            );
            const sl = u32(word(src, fi, 6));
            if (sl) s.access[t].push(range(sl, 4 * nPre, 'r'));
          }
        }
      }
    } else if (code === OP_FEEDBACK_T) {
      const pre = popOf(w(6));
      if (pre !== undefined && popOf(w(5)) === pre) {
        s = newSplit(i);
        const stride = w(2);
        const nPre = w(3);
        const owner = plan.matrixOwner.get(p(1));
        const rows = owner === undefined ? plan.slices[pre] : all(owner, src.popSizes[pre]);
        for (let t = 0; t < T; t++) {
          const [k0, k1full] = rows[t];
          const k1 = Math.min(k1full, nPre);
          if (k1 <= k0) continue;
          const r = copyRecord(i);
          r[1] = p(1) + 4 * stride * k0;
          r[3] = k1 - k0;
          if (r[Q_FLAG]) {
            r[Q_CODES] = p(Q_CODES) + w(Q_CSTRIDE) * k0;
            r[Q_UNITS] = p(Q_UNITS) + 4 * k0;
          }
          r[5] = p(5) + 4 * k0;
          r[6] = p(6) + 4 * k0;
          s.records[t].push(r);
          s.access[t].push(
            rect(p(1), 4 * stride, k0, k1, 0, 4 * stride, false),
            range(p(4), 4 * stride, 'r'),
            range(p(5) + 4 * k0, 4 * (k1 - k0), 'r'),
            range(p(6) + 4 * k0, 4 * (k1 - k0), 'rw'),
          );
        }
      }
    } else if (code === OP_FEEDBACK_R) {
      const pre = popOf(w(6));
      const bStride = w(2);
      if (pre !== undefined && popOf(w(5)) === pre && src.popSizes[pre] === bStride && w(8) * 4 === bStride) {
        s = newSplit(i);
        const nPost = w(3);
        const owner = plan.errorOwner.get(pre);
        const cols = owner === undefined ? plan.slices[pre] : all(owner, bStride);
        for (let t = 0; t < T; t++) {
          const [c0, c1] = cols[t];
          if (c1 <= c0) continue;
          const r = new Int32Array(WORDS);
          r[0] = OP_FEEDBACK_R_COLS;
          r[1] = p(1) + 4 * c0;
          r[2] = bStride;
          r[3] = nPost;
          r[4] = w(4);
          r[5] = p(5) + 4 * c0;
          r[6] = p(6) + 4 * c0;
          r[7] = scratch[t].fb;
          r[8] = (c1 - c0) / 4;
          r[9] = scratch[t].idx;
          r[10] = c1 - c0;
          s.records[t].push(r);
          s.access[t].push(
            rect(p(1), 4 * bStride, 0, nPost, 4 * c0, 4 * c1, false),
            range(p(4), 4 * nPost, 'r'),
            range(p(5) + 4 * c0, 4 * (c1 - c0), 'r'),
            range(p(6) + 4 * c0, 4 * (c1 - c0), 'rw'),
          );
        }
      }
    } else if (code === OP_NOISE) {
      const t = plan.noiseThread.get(i) ?? 0;
      s = whole(i, t, [range(p(1), 32, 'rw'), range(p(2), 4 * w(3), 'w')], true);
    }
    if (!s) {
      unsplit.push(i);
      s = whole(i, 0, [EVERYTHING], false);
    }
    split.push(s);
  }

  snapshotPrevReads(split);

  // Single-thread ops (noise draws) move to the start of the step when they commute with every
  // op before them, so they overlap the forward pass instead of needing barriers of their own.
  const order: SplitOp[] = [];
  const rest: SplitOp[] = [];
  for (const s of split) {
    const mine = s.access.flat();
    const commutes = s.single && rest.every((o) => o.access.flat().every((a) => mine.every((b) => !overlap(a, b))));
    (commutes ? order : rest).push(s);
  }
  order.push(...rest);

  // Barriers from the accesses since the last one.
  const out: Int32Array[][] = Array.from({ length: T }, () => []);
  const since: Access[][] = Array.from({ length: T }, () => []);
  let barriers = 0;
  const barrier = () => {
    for (let t = 0; t < T; t++) {
      const r = new Int32Array(WORDS);
      r[0] = OP_BARRIER;
      if (barriers < PROFILE_BARRIERS) {
        r[1] = scratch[t].prof;
        r[2] = barriers;
      }
      out[t].push(r);
      since[t] = [];
    }
    barriers++;
  };
  /** Where each split op's records landed: per thread, index of its first record. */
  const placed = new Map<SplitOp, number[]>();
  const reasons: EmittedPrograms['reasons'] = [];
  for (const s of order) {
    let conflict: EmittedPrograms['reasons'][number] | null = null;
    for (let t = 0; t < T && !conflict; t++) {
      for (let u = 0; u < T && !conflict; u++) {
        if (u === t) continue;
        for (const a of s.access[t]) {
          if (since[u].some((b) => overlap(a, b))) {
            conflict = { op: s.source, code: word(src, s.source, 0), thread: t, lo: a.lo, hi: a.hi, by: u };
            break;
          }
        }
      }
    }
    if (conflict) {
      reasons.push(conflict);
      barrier();
    }
    placed.set(s, out.map((o) => o.length));
    for (let t = 0; t < T; t++) {
      out[t].push(...s.records[t]);
      since[t].push(...s.access[t]);
    }
  }
  barrier();

  // Links: PLASTIC_COLS -> the same thread's FORWARD_COLS record of that projection.
  const bySource = new Map(split.map((s) => [s.source, s]));
  for (const s of split) {
    for (const l of s.links) {
      const fwd = bySource.get(l.forward)!;
      const fwdAt = placed.get(fwd)![l.thread];
      const r = out[l.thread][placed.get(s)![l.thread] + l.record];
      r[1] = progAddr[l.thread] + fwdAt * OP_BYTES;
    }
  }

  const programs = out.map((records) => {
    const words = new Int32Array(records.length * WORDS);
    records.forEach((r, k) => words.set(r, k * WORDS));
    return { words, nOps: records.length };
  });
  return { programs, barriersPerStep: barriers, unsplit, reasons };

  function splitElementwise(i: number, code: number): SplitOp | null {
    const spec = ELEMENTWISE[code];
    const ptrs = spec.vecs.map(([w]) => u32(word(src, i, w)));
    const pops = ptrs.filter((x) => x !== 0).map((x) => popOf(x));
    if (pops.length === 0 || pops.some((x) => x === undefined)) return null;
    const pop = pops[0]!;
    const n = src.popSizes[pop];
    if (pops.some((x) => src.popSizes[x!] !== n)) return null;
    const count = spec.nVec !== undefined ? word(src, i, spec.nVec) * 4 : word(src, i, spec.bytes!) / 4;
    if (count !== n) return null;
    // Ops on the errors of a population whose errors one thread computes run whole there.
    const errPop = ptrs.map((x) => src.errorVectors.get(x)).find((x) => x !== undefined && plan.errorOwner.has(x));
    const ranges = errPop === undefined ? plan.slices[pop] : all(plan.errorOwner.get(errPop)!, n);
    const s = newSplit(i);
    for (let t = 0; t < T; t++) {
      const [lo, hi] = ranges[t];
      if (hi <= lo) continue;
      const r = copyRecord(i);
      spec.vecs.forEach(([w, mode], k) => {
        if (ptrs[k] === 0) return;
        r[w] = ptrs[k] + 4 * lo;
        s.access[t].push(range(ptrs[k] + 4 * lo, 4 * (hi - lo), mode));
      });
      if (spec.nVec !== undefined) r[spec.nVec] = (hi - lo) / 4;
      else r[spec.bytes!] = 4 * (hi - lo);
      for (const w of spec.scalars ?? []) {
        const q = u32(word(src, i, w));
        if (q) s.access[t].push(range(q, 4, 'r'));
      }
      s.records[t].push(r);
    }
    return s;
  }

  function splitCopy(i: number): SplitOp | null {
    const dst = u32(word(src, i, 1));
    const from = u32(word(src, i, 2));
    const bytes = word(src, i, 3);
    const inside = [...src.vectors.entries()].filter(([a]) => a >= from && a < from + bytes).sort((a, b) => a[0] - b[0]);
    const s = newSplit(i);
    const piece = (t: number, a: number, len: number) => {
      if (len <= 0) return;
      const r = new Int32Array(WORDS);
      r[0] = OP_COPY;
      r[1] = dst + (a - from);
      r[2] = a;
      r[3] = len;
      s.records[t].push(r);
      s.access[t].push(range(a, len, 'r'), range(dst + (a - from), len, 'w'));
    };
    let cursor = from;
    for (const [a, pop] of inside) {
      const len = 4 * src.popSizes[pop];
      if (a < cursor || a + len > from + bytes) return null;
      piece(0, cursor, a - cursor);
      // The errors of a population one thread computes are copied by that thread (others read
      // their slices of the copy from snapshots, see snapshotPrevReads).
      const owner = src.errorVectors.has(a) ? plan.errorOwner.get(pop) : undefined;
      const ranges = owner === undefined ? plan.slices[pop] : all(owner, src.popSizes[pop]);
      for (let t = 0; t < T; t++) {
        const [lo, hi] = ranges[t];
        piece(t, a + 4 * lo, 4 * (hi - lo));
      }
      cursor = a + len;
    }
    piece(0, cursor, from + bytes - cursor);
    return s;
  }

  /**
   * After the COPY of the state block, the error ops read the previous step's r and r' through
   * the *Prev copies; where a thread reads parts another thread copied (a population whose errors
   * one thread computes), it reads instead a private snapshot of r and r' that it takes at the
   * start of the step, before any thread can change them. That removes the barrier the errors
   * would otherwise need after the neuron updates. A read is redirected only when nothing before
   * the COPY writes the values it needs.
   */
  function snapshotPrevReads(ops: SplitOp[]): void {
    const ci = ops.findIndex((o) => word(src, o.source, 0) === OP_COPY && o.records.flat().every((r) => r[0] === OP_COPY));
    if (ci < 0) return;
    const dst = u32(word(src, ops[ci].source, 1));
    const from = u32(word(src, ops[ci].source, 2));
    const bytes = word(src, ops[ci].source, 3);
    const copied = ops[ci].records.map((rs) => rs.map((r) => [u32(r[1]), u32(r[1]) + r[3]] as [number, number]));
    const writtenBefore = ops.slice(0, ci).flatMap((o) => o.access.flat()).filter((a) => a.w);
    const covered = (t: number, lo: number, hi: number) => {
      // the thread's own COPY pieces, merged in order, must cover [lo, hi)
      let at = lo;
      for (const [a, b] of [...copied[t]].sort((x, y) => x[0] - y[0])) if (a <= at && b > at) at = b;
      return at >= hi;
    };
    /** Per thread: ranges of the state block [lo, hi) to snapshot. */
    const need: [number, number][][] = Array.from({ length: T }, () => []);
    for (let k = ci + 1; k < ops.length; k++) {
      const o = ops[k];
      for (let t = 0; t < T; t++) {
        for (const r of o.records[t]) {
          for (const [w, len] of prevReads(r)) {
            const q = u32(r[w]);
            if (q < dst || q + len > dst + bytes || covered(t, q, q + len)) continue;
            const cur = from + (q - dst);
            if (writtenBefore.some((a) => a.lo < cur + len && cur < a.hi)) continue;
            r[w] = scratch[t].snap + (q - dst);
            const i = o.access[t].findIndex((a) => !a.w && a.lo === q && a.hi === q + len);
            if (i >= 0) o.access[t].splice(i, 1);
            need[t].push([cur, cur + len]);
          }
        }
      }
    }
    const snaps: SplitOp[] = [];
    for (let t = 0; t < T; t++) {
      const merged: [number, number][] = [];
      for (const [a, b] of need[t].sort((x, y) => x[0] - y[0])) {
        const last = merged[merged.length - 1];
        if (last && a <= last[1]) last[1] = Math.max(last[1], b);
        else merged.push([a, b]);
      }
      for (const [a, b] of merged) {
        const snap = newSplit(ops[ci].source);
        const r = new Int32Array(WORDS);
        r[0] = OP_COPY;
        r[1] = scratch[t].snap + (a - from);
        r[2] = a;
        r[3] = b - a;
        snap.records[t].push(r);
        snap.access[t].push(range(a, b - a, 'r'));
        snaps.push(snap);
      }
    }
    ops.unshift(...snaps);
  }
}

/** Words of a thread-op record that read previous-step values (*Prev vectors), with the bytes read. */
function prevReads(r: Int32Array): [number, number][] {
  switch (r[0]) {
    case OP_NEURON:
      return [[7, 16 * r[1]]];
    case OP_TAU_DELTA:
      return [[5, 16 * r[1]]];
    case OP_ERROR_INIT:
      return [[3, 16 * r[2]], [4, 16 * r[2]]];
    case OP_FEEDBACK_T:
      return [[5, 4 * r[3]]];
    case OP_FEEDBACK_R:
      return [[5, 16 * r[8]]];
    case OP_FEEDBACK_R_COLS:
      return [[5, 4 * r[10]]];
    default:
      return [];
  }
}
