/**
 * One chip on several threads: the Engine (emulator/engine.ts) laid out in a shared
 * WebAssembly.Memory, with worker threads that instantiate build/kernels-shared.wasm on the same
 * memory. The host thread is thread 0; each step program call runs every thread's program
 * (emulator/threads/split.ts: slices of neurons, columns or rows, barriers between dependent
 * phases) in one call, so the API stays synchronous. Results are bit-identical to the
 * single-thread Engine: every float is computed by the same operations in the same order.
 *
 * Arrays split by columns keep each thread's columns in a panel of its own while stepping (two
 * threads writing interleaved parts of the same pages make the hardware prefetchers pass lines
 * back and forth: measured 3x slower than one thread). The Engine's array stays the copy the host
 * sees: the panels are filled from it before a call when it may have changed, and copied back
 * after a call that learned, before the host reads them (readWeights, weightsView, ...).
 *
 * Create it with `await ParallelEngine.create(model, options)`, which returns once the worker
 * threads run (a thread still starting up needs the host's event loop, so the host must not block
 * before). Workers are unref'd (an idle engine does not keep the process alive); close() ends them.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { Engine, type EngineOptions } from '../engine.js';
import type { EmulatorModel } from '../model.js';
import { OP_BYTES } from '../wasm.js';
import { abortBarrier, B, BARRIER_WORDS, C, CMD_EXIT, CMD_PRESENT, CMD_STEPS, CONTROL_WORDS, MAX_THREADS, WORKER_SOURCE } from './control.js';
import { LINE_BYTES, sharedKernelMemory, sharedKernelModule, type SharedKernelExports } from './shared-kernels.js';
import { emitThreadPrograms, planThreads, PROFILE_BARRIERS, type SourceProgram, type ThreadPlan, type ThreadScratch } from './split.js';

/** kernels/program.ts FLAG_LEARN and FLAG_UNFUSED. */
const FLAG_LEARN = 1;
const FLAG_UNFUSED = 4;
const WORDS = OP_BYTES / 4;
/** PopLayout fields that are not per-neuron vectors. */
const NOT_VECTORS = new Set(['size', 'n4', 'flag', 'rngU', 'rngR']);
/** PopLayout fields holding a population's errors (this step's, and the raw ones before their low-pass). */
const ERROR_VECTORS = new Set(['e', 'eRaw']);
/** Barrier spins before sleeping (about 0.5 ns each): well above the ~80 us it takes the OS to wake a sleeping thread on a VM, so threads in step do not fall into a sleep/wake ping-pong. */
const DEFAULT_SPIN = 1 << 21;
/** Calls of at least this many steps take part in auto-balancing. */
const TUNE_MIN_STEPS = 1000;
/** Auto-balancing rounds (profiled calls) at most. */
const TUNE_ROUNDS = 4;

function sum(v: readonly number[]): number {
  return v.reduce((a, b) => a + b, 0);
}

/** How long a worker spins for the next command before it sleeps (us): above the ~80 us the OS takes to wake it. */
const COMMAND_SPIN_US = 200;

/** How long a run call waits for workers that are still starting (ms), for engines not made by create(). */
const START_WAIT_MS = 10_000;

export interface ParallelEngineOptions extends EngineOptions {
  /** Threads stepping the chip, the host included (2 .. 16). */
  threads: number;
  /** Slices of neurons and columns are whole multiples of this many floats (16: a cache line; 4: finest, for tests). */
  quantum?: 4 | 8 | 16;
  /** Barrier spins before a waiting thread sleeps. */
  spin?: number;
  /** Arrays read both ways with at most this fraction of a thread's share of the work are owned by one thread (default 0.5; 0: none). */
  ownShare?: number;
  /**
   * Re-divide the largest split population from the phase times measured on the first long calls
   * (default true): the cost model cannot know which rows the data leave silent. Only the speed
   * changes; the results are the same for every division.
   */
  autoBalance?: boolean;
}

/** What the split produced, for reports and tests. */
export interface ParallelStats {
  threads: number;
  barriersPerStep: number;
  /** Source ops that run whole on thread 0 (unknown ops). */
  unsplit: number[];
  /** Per population, each thread's slice of elements [lo, hi). */
  slices: [number, number][][];
  /** Estimated work per thread. */
  loads: number[];
  /** Times a thread gave up spinning at a barrier and slept (since construction). */
  sleeps: number;
}

interface Variant {
  addr: number[];
  nOps: number[];
}

/** An Engine whose steps run on several threads over one shared memory. */
export class ParallelEngine extends Engine {
  readonly threads: number;
  private readonly kx: SharedKernelExports;
  private plan: ThreadPlan;
  private readonly quantum: number;
  private readonly ownShare?: number;
  /** The split population auto-balancing re-divides (-1: none), and its state. */
  private readonly mainPop: number;
  private readonly tuning: {
    done: boolean;
    /** Long calls seen (the first one warms the JIT up and is not measured). */
    calls: number;
    rounds: number;
    tried: Set<string>;
    best: { shares: number[]; usPerStep: number } | null;
  };
  private readonly scratch: ThreadScratch[];
  private readonly ctlAddr: number;
  private readonly barAddr: number;
  private readonly variants: { fused: Variant; unfused: Variant };
  private readonly capacity: { fused: number[]; unfused: number[] };
  private snapshot: Int32Array;
  /** Per paneled array (by address): its projection and each thread's panel (0: no columns). */
  private readonly panels = new Map<number, { proj: number; addr: number[] }>();
  /** Which copy of the paneled arrays is current: both, the panels (after learning), the host's (after a write). */
  private panelState: 'both' | 'panels' | 'host' = 'host';
  /** A live view of an array was handed out: it may be written at any time, so sync around every call. */
  private viewsOut = false;
  private barriersPerStep = 0;
  private unsplit: number[] = [];
  private readonly workers: Worker[] = [];
  private readonly exited: Promise<void>[] = [];
  private readonly ports: MessagePort[] = [];
  private broken: string | null = null;
  /** A worker failure delivered by the event loop rather than read after a run call. */
  private lateError: string | null = null;
  private closed = false;
  /** Settles when every worker has instantiated the kernels (or one failed to). */
  readonly started: Promise<void>;

  /** A parallel engine whose worker threads are running. */
  static async create(model: EmulatorModel, options: ParallelEngineOptions): Promise<ParallelEngine> {
    const engine = new ParallelEngine(model, options);
    try {
      await engine.started;
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  }

  constructor(model: EmulatorModel, options: ParallelEngineOptions) {
    const module = sharedKernelModule();
    const quantum = options.quantum ?? 16;
    super(model, { ...options, padFloats: quantum, memory: (bytes) => sharedKernelMemory(bytes, module) });
    const threads = options.threads;
    if (!Number.isInteger(threads) || threads < 2 || threads > MAX_THREADS) {
      throw new Error(`threads must be an integer from 2 to ${MAX_THREADS} (got ${threads})`);
    }
    this.threads = threads;
    this.kx = this.mem.k as SharedKernelExports;

    const src = this.sourceProgram();
    this.quantum = quantum;
    this.ownShare = options.ownShare;
    this.plan = planThreads(src, threads, quantum, options.ownShare);
    // Room for any division auto-balancing may choose: slices up to a whole population.
    const maxSlice = Math.max(this.plan.sliceFloats, ...this.pops.map((L) => L.n4));
    // Each thread's scratch on its own 4 KiB pages, so no two threads ever write one cache line.
    this.scratch = [];
    for (let t = 0; t < threads; t++) {
      const idx = this.allocPage(4 * this.plan.idxWords);
      const acc = this.allocPage(4 * maxSlice);
      const fb = this.allocPage(4 * maxSlice);
      const prof = this.allocPage(8 + 16 * PROFILE_BARRIERS);
      const snap = this.allocPage(4 * this.plan.snapFloats);
      this.scratch.push({ idx, acc, fb, prof, snap });
    }
    for (const [W, pl] of this.plan.paneled) {
      const proj = this.projs.findIndex((L) => L.W === W);
      if (proj < 0) throw new Error(`no projection has its array at ${W}`);
      // Whole rows per thread, so that any later division of the columns fits.
      this.panels.set(W, { proj, addr: pl.cols.map(() => this.allocPage(4 * pl.nPre * pl.stride)) });
    }
    this.mainPop = this.pickMainPop();
    this.tuning = { done: options.autoBalance === false || this.mainPop < 0, calls: 0, rounds: 0, tried: new Set(), best: null };
    // Program sizes depend on the structure of the source program, which never changes, and a
    // little on the division (a thread with no slice of a population has no op for it).
    const dummy = new Array<number>(threads).fill(0);
    const sizes = (unfused: boolean) =>
      emitThreadPrograms(src, this.plan, this.scratch, dummy, unfused, this.panelAddrs()).programs.map((p) => 2 * p.nOps + 32);
    this.capacity = { fused: sizes(false), unfused: sizes(true) };
    const place = (n: number[]): Variant => ({ addr: n.map((k) => this.allocPage(k * OP_BYTES)), nOps: [...n] });
    this.variants = { fused: place(this.capacity.fused), unfused: place(this.capacity.unfused) };
    this.barAddr = this.mem.alloc(BARRIER_WORDS * 4);
    this.ctlAddr = this.allocPage(CONTROL_WORDS * 4);
    const bar = this.mem.i32(this.barAddr, BARRIER_WORDS);
    bar[B.THREADS] = threads;
    bar[B.SPIN] = options.spin ?? DEFAULT_SPIN;
    const ctl = this.mem.i32(this.ctlAddr, CONTROL_WORDS);
    ctl[C.SPIN_US] = options.spin === undefined ? COMMAND_SPIN_US : Math.min(COMMAND_SPIN_US, options.spin / 2000);
    this.snapshot = src.words;
    this.writePrograms(src);
    this.panelState = 'host';
    // Memory never grows after this point: the workers' views stay valid.
    this.started = this.startWorkers(module);
    // A failure is reported by create() or the first run call; this only keeps it from being unhandled.
    this.started.catch(() => {});
  }

  /** How the work was split, and how often threads slept at barriers. */
  stats(): ParallelStats {
    return {
      threads: this.threads,
      barriersPerStep: this.barriersPerStep,
      unsplit: [...this.unsplit],
      slices: this.plan.slices.map((s) => s.map(([lo, hi]) => [lo, hi] as [number, number])),
      loads: [...this.plan.loads],
      sleeps: this.mem.i32(this.barAddr, BARRIER_WORDS)[B.SLEEPS],
    };
  }

  /**
   * Starts (or stops) timing the phases between barriers on every thread; the times add up over
   * the calls that follow until profile(true) starts afresh. It costs two clock reads per barrier.
   */
  profile(on: boolean): void {
    if (on) {
      for (const s of this.scratch) this.mem.f64(s.prof, 1 + 2 * PROFILE_BARRIERS).fill(0);
    }
    Atomics.store(this.mem.i32(this.barAddr, BARRIER_WORDS), B.PROFILE, on ? 1 : 0);
  }

  /** Per phase (the work before barrier k of a step): each thread's busy and waiting ms, summed since profile(true). */
  profileReport(): { busy_ms: number[]; wait_ms: number[] }[] {
    const n = Math.min(this.barriersPerStep, PROFILE_BARRIERS);
    return Array.from({ length: n }, (_, k) => ({
      busy_ms: this.scratch.map((s) => this.mem.f64(s.prof + 8 + 16 * k, 1)[0]),
      wait_ms: this.scratch.map((s) => this.mem.f64(s.prof + 16 + 16 * k, 1)[0]),
    }));
  }

  /** Ends the worker threads; the engine cannot step afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    registry.unregister(this);
    const ctl = this.mem.i32(this.ctlAddr, CONTROL_WORDS);
    Atomics.store(ctl, C.CMD, CMD_EXIT);
    Atomics.add(ctl, C.SEQ, 1);
    Atomics.notify(ctl, C.SEQ);
    // Waiting for the exits keeps the event loop alive (the workers are unref'd otherwise); a worker
    // that does not leave its loop within a second is stopped.
    for (const w of this.workers) w.ref();
    const timer = setTimeout(() => this.workers.forEach((w) => void w.terminate()), 1000);
    await Promise.all(this.exited);
    clearTimeout(timer);
    for (const p of this.ports) p.close();
  }

  protected override runSteps(n: number, flags: number): void {
    this.tuned(n, () => {
      const v = this.prepare(flags);
      this.command(v, CMD_STEPS, [n, flags, 0, 0]);
      this.finish(() => this.kx.thread_steps(v.addr[0], v.nOps[0], n, flags, this.barAddr, 0), flags);
    });
  }

  protected override runPresent(rec: number, count: number, stepsPerSample: number, flags: number): void {
    this.tuned(count * stepsPerSample, () => {
      const v = this.prepare(flags);
      this.command(v, CMD_PRESENT, [rec, count, stepsPerSample, flags]);
      this.finish(() => this.kx.thread_present(v.addr[0], v.nOps[0], rec, count, stepsPerSample, flags, this.barAddr, 0), flags);
    });
  }

  /** Runs a call; while auto-balancing, profiles it and re-divides the main population after it. */
  private tuned(steps: number, run: () => void): void {
    const bar = this.mem.i32(this.barAddr, BARRIER_WORDS);
    // (not while the caller profiles for itself)
    if (this.tuning.done || steps < TUNE_MIN_STEPS || Atomics.load(bar, B.PROFILE)) return run();
    // The first long call runs while V8 still tiers the kernels up: not a fair measurement.
    if (this.tuning.calls++ === 0) return run();
    this.profile(true);
    const t0 = performance.now();
    try {
      run();
    } finally {
      this.profile(false);
    }
    this.retune((1000 * (performance.now() - t0)) / steps);
  }

  /** The split population with the most modelled work (the one worth re-dividing), or -1. */
  private pickMainPop(): number {
    let best = -1;
    let most = 0;
    this.plan.slices.forEach((sl, p) => {
      const used = sl.filter(([lo, hi]) => hi > lo).length;
      const work = this.plan.blockCost[p] * (this.pops[p].n4 / this.quantum);
      if (used >= 2 && work > most) {
        most = work;
        best = p;
      }
    });
    return best;
  }

  /** Blocks of the main population per thread in the current division. */
  private mainShares(): number[] {
    return this.plan.slices[this.mainPop].map(([lo, hi]) => (hi - lo) / this.quantum);
  }

  /**
   * One round of auto-balancing: in the phase with the most work, moves blocks of the main
   * population from the busiest thread to the idlest (as many as the measured gap is worth at the
   * model's cost per block, scaled to the measured times); after a few rounds, or when nothing
   * new is left to try, keeps the fastest division measured.
   */
  private retune(usPerStep: number): void {
    const T = this.tuning;
    const cur = this.mainShares();
    T.tried.add(cur.join(','));
    if (!T.best || usPerStep < T.best.usPerStep) T.best = { shares: cur, usPerStep };
    T.rounds++;
    const report = this.profileReport();
    let next: number[] | null = null;
    if (T.rounds < TUNE_ROUNDS && report.length) {
      const phase = report.reduce((a, b) => (sum(b.busy_ms) > sum(a.busy_ms) ? b : a));
      const busy = phase.busy_ms;
      const unit = sum(report.map((r) => sum(r.busy_ms))) / Math.max(1e-9, sum(this.plan.loads));
      const perBlock = this.plan.blockCost[this.mainPop] * unit;
      const hi = busy.indexOf(Math.max(...busy));
      const lo = busy.indexOf(Math.min(...busy));
      const k = Math.min(cur[hi], Math.round((busy[hi] - busy[lo]) / (2 * perBlock)));
      if (k > 0) {
        next = [...cur];
        next[hi] -= k;
        next[lo] += k;
        if (T.tried.has(next.join(','))) next = null;
      }
    }
    if (!next) {
      T.done = true;
      next = T.best.shares;
    }
    if (next.join(',') !== cur.join(',') && !this.divide(next)) T.done = true;
  }

  /**
   * Divides the largest split population anew: shares[t] quanta of its neurons (columns) to
   * thread t, in thread order (auto-balancing does this from measured times). Results do not
   * change. Returns false, changing nothing, when the division needs more ops than the programs
   * have room for; throws when the shares do not add up.
   */
  setDivision(shares: number[]): boolean {
    if (this.mainPop < 0) return false;
    return this.divide(shares);
  }

  /** The division of the largest split population: its index and each thread's quanta (see setDivision). */
  division(): { population: number; shares: number[] } | null {
    return this.mainPop < 0 ? null : { population: this.mainPop, shares: this.mainShares() };
  }

  /** Re-divides the main population (shares in blocks per thread); false when the programs would not fit. */
  private divide(shares: number[]): boolean {
    const src = this.sourceProgram();
    const plan = planThreads(src, this.threads, this.quantum, this.ownShare, new Map([[this.mainPop, shares]]));
    if ([...plan.paneled.keys()].some((W) => !this.panels.has(W))) return false;
    const dummy = new Array<number>(this.threads).fill(0);
    for (const unfused of [false, true]) {
      const cap = unfused ? this.capacity.unfused : this.capacity.fused;
      const out = emitThreadPrograms(src, plan, this.scratch, dummy, unfused, this.panelAddrs());
      if (out.programs.some((p, t) => p.nOps > cap[t])) return false;
    }
    // The host's arrays take the panels' columns back before the columns move.
    this.panelsToHost();
    this.plan = plan;
    this.snapshot = src.words;
    this.writePrograms(src);
    this.panelState = 'host';
    return true;
  }

  override readWeights(proj: number): Float32Array {
    this.panelsToHost();
    return super.readWeights(proj);
  }

  override readHardwareWeights(proj: number): Float32Array {
    this.panelsToHost();
    return super.readHardwareWeights(proj);
  }

  override writeWeights(proj: number, wPostPre: ArrayLike<number>): void {
    this.panelsToHost();
    super.writeWeights(proj, wPostPre);
    this.hostWrote();
  }

  override writeHardwareWeights(proj: number, wPrePost: ArrayLike<number>): void {
    this.panelsToHost();
    super.writeHardwareWeights(proj, wPrePost);
    this.hostWrote();
  }

  /** The engine's layout for a checkpoint, with the panels' weights in the host's arrays. */
  override saveMemory(): { bytes: Uint8Array; steps: number } {
    this.panelsToHost();
    return super.saveMemory();
  }

  /** Restores a saveMemory() image (of a parallel engine with the same model and options). */
  override restoreMemory(saved: { bytes: Uint8Array; steps: number }): void {
    super.restoreMemory(saved);
    this.hostWrote();
  }

  /** A live view of the host's copy; from now on the panels are synchronised around every call. */
  override weightsView(proj: number): { view: Float32Array; stride: number } {
    this.panelsToHost();
    this.viewsOut = true;
    return super.weightsView(proj);
  }

  /** Per paneled array, each thread's panel address. */
  private panelAddrs(): Map<number, number[]> {
    return new Map([...this.panels].map(([W, p]) => [W, p.addr]));
  }

  private hostWrote(): void {
    // Called by the base constructor too, before the panels exist: they are filled then.
    if (this.panels) this.panelState = 'host';
  }

  /** Copies each thread's columns of the host's arrays into its panel (or back, toHost). */
  private copyPanels(toHost: boolean): void {
    const f = this.mem.f32(0, this.mem.memory.buffer.byteLength / 4);
    for (const [W, p] of this.panels) {
      const pl = this.plan.paneled.get(W);
      // (a division that leaves an array's columns to one thread steps it in place)
      if (!pl) continue;
      pl.cols.forEach(([c0, c1], t) => {
        const width = c1 - c0;
        if (width <= 0) return;
        for (let k = 0; k < pl.nPre; k++) {
          const home = W / 4 + k * pl.stride + c0;
          const panel = p.addr[t] / 4 + k * width;
          if (toHost) f.copyWithin(home, panel, panel + width);
          else f.copyWithin(panel, home, home + width);
        }
      });
    }
  }

  /** Makes the host's copy current. */
  private panelsToHost(): void {
    if (this.panels?.size && this.panelState === 'panels') {
      this.copyPanels(true);
      this.panelState = 'both';
    }
  }

  /** The single-thread program and the layout the splitter needs. */
  private sourceProgram(): SourceProgram {
    const vectors = new Map<number, number>();
    const errorVectors = new Map<number, number>();
    this.pops.forEach((L, pi) => {
      for (const [key, value] of Object.entries(L)) {
        if (NOT_VECTORS.has(key) || typeof value !== 'number' || value === 0) continue;
        vectors.set(value, pi);
        if (ERROR_VECTORS.has(key)) errorVectors.set(value, pi);
      }
    });
    return {
      words: Int32Array.from(this.mem.i32(this.prog, this.nOps * WORDS)),
      addr: this.prog,
      popSizes: this.pops.map((L) => L.n4),
      vectors,
      errorVectors,
    };
  }

  /** Allocates bytes on whole 4 KiB pages of their own. */
  private allocPage(bytes: number): number {
    const page = 4096;
    const at = this.mem.alloc(0);
    const pad = (page - (at % page)) % page;
    if (pad) this.mem.alloc(pad);
    return this.mem.alloc(Math.ceil(Math.max(bytes, LINE_BYTES) / page) * page);
  }

  /** Writes both variants of the thread programs derived from src. */
  private writePrograms(src: SourceProgram): void {
    for (const unfused of [false, true]) {
      const v = unfused ? this.variants.unfused : this.variants.fused;
      const out = emitThreadPrograms(src, this.plan, this.scratch, v.addr, unfused, this.panelAddrs());
      out.programs.forEach((p, t) => {
        const cap = (unfused ? this.capacity.unfused : this.capacity.fused)[t];
        if (p.nOps > cap) throw new Error(`thread program ${t} has ${p.nOps} ops, room for ${cap}`);
        this.mem.i32(v.addr[t], p.words.length).set(p.words);
        v.nOps[t] = p.nOps;
      });
      if (!unfused) {
        this.barriersPerStep = out.barriersPerStep;
        this.unsplit = out.unsplit;
      }
    }
  }

  /** Re-derives the thread programs when the host changed the source program (e.g. setTauAdaptation). */
  private prepare(flags: number): Variant {
    if (this.broken) throw new Error(`the parallel engine failed earlier and cannot step: ${this.broken}`);
    if (this.closed) throw new Error('the parallel engine is closed');
    this.awaitWorkers();
    const now = this.mem.i32(this.prog, this.nOps * WORDS);
    let same = true;
    for (let i = 0; i < now.length; i++) {
      if (now[i] !== this.snapshot[i]) {
        same = false;
        break;
      }
    }
    if (!same) {
      const src = this.sourceProgram();
      this.snapshot = src.words;
      this.writePrograms(src);
    }
    if (this.panels.size && (this.panelState === 'host' || (this.viewsOut && this.panelState === 'both'))) {
      this.copyPanels(false);
      this.panelState = 'both';
    }
    return flags & FLAG_UNFUSED ? this.variants.unfused : this.variants.fused;
  }

  /** Publishes a command to the workers. */
  private command(v: Variant, cmd: number, args: number[]): void {
    const ctl = this.mem.i32(this.ctlAddr, CONTROL_WORDS);
    if (Atomics.load(this.mem.i32(this.barAddr, BARRIER_WORDS), B.PROFILE)) {
      // Phase 0 of this call starts now on every thread (not when the last call ended).
      const now = performance.now();
      for (const s of this.scratch) this.mem.f64(s.prof, 1)[0] = now;
    }
    for (let t = 0; t < this.threads; t++) {
      ctl[C.PROGS + 2 * t] = v.addr[t];
      ctl[C.PROGS + 2 * t + 1] = v.nOps[t];
    }
    ctl[C.CMD] = cmd;
    ctl.set(args, C.A0);
    Atomics.add(ctl, C.SEQ, 1);
    Atomics.notify(ctl, C.SEQ);
  }

  /** Runs thread 0's part; a failure anywhere leaves the engine broken with the reason. */
  private finish(run: () => number, flags: number): void {
    let status: number;
    try {
      status = run();
    } catch (err) {
      this.abort(`thread 0: ${(err as Error).message}`);
      throw err;
    }
    if (flags & FLAG_LEARN) this.panelState = 'panels';
    // Holders of live views read the host's copy at any time.
    if (this.viewsOut) this.panelsToHost();
    if (status !== 0) {
      const reason = this.workerError() ?? 'a thread stopped at a barrier';
      this.abort(reason);
      throw new Error(`parallel engine: ${reason}`);
    }
  }

  private workerError(): string | null {
    for (const p of this.ports) {
      for (let m = receiveMessageOnPort(p); m; m = receiveMessageOnPort(p)) {
        const msg = m.message as { error?: string };
        if (msg.error) return msg.error;
      }
    }
    return this.lateError;
  }

  private abort(reason: string): void {
    this.broken = reason;
    abortBarrier(this.mem.i32(this.barAddr, BARRIER_WORDS), this.threads);
    void this.close();
  }

  /** Starts the workers; settles when each has posted that it is ready (or failed, or exited). */
  private startWorkers(module: WebAssembly.Module): Promise<void> {
    const ctl = this.mem.i32(this.ctlAddr, CONTROL_WORDS);
    const ready: Promise<void>[] = [];
    for (let t = 1; t < this.threads; t++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        // Not the host's flags: --input-type=module would make the worker's code an ES module.
        execArgv: [],
        workerData: { module, memory: this.mem.memory, ctl: this.ctlAddr, bar: this.barAddr, thread: t, port: port2 },
        transferList: [port2],
      });
      this.exited.push(new Promise<void>((resolve) => worker.once('exit', () => resolve())));
      // Failures reach the host through the port (read synchronously after a run call) and the
      // FAILED word; these listeners keep late ones from being unhandled or lost.
      worker.on('error', (err) => (this.lateError ??= err.message));
      port1.on('message', (m: { error?: string }) => {
        if (m.error) this.lateError ??= m.error;
      });
      ready.push(
        new Promise<void>((resolve, reject) => {
          port1.once('message', (m: { ready?: boolean; error?: string }) => {
            if (m.ready) resolve();
            else reject(new Error(`parallel engine: worker ${t}: ${m.error}`));
            port1.unref();
            worker.unref();
          });
          worker.once('error', (err) => reject(new Error(`parallel engine: worker ${t}: ${err.message}`)));
          worker.once('exit', (code) => reject(new Error(`parallel engine: worker ${t} exited (code ${code}) before it was ready`)));
        }),
      );
      this.workers.push(worker);
      this.ports.push(port1);
    }
    registry.register(this, { ctl, workers: this.workers }, this);
    return Promise.all(ready).then(() => undefined);
  }

  /** Makes sure every worker runs; a host that did not await create() waits here, bounded. */
  private awaitWorkers(): void {
    const ctl = this.mem.i32(this.ctlAddr, CONTROL_WORDS);
    const deadline = Date.now() + START_WAIT_MS;
    for (let ready = Atomics.load(ctl, C.READY); ready < this.threads - 1; ready = Atomics.load(ctl, C.READY)) {
      if (Date.now() > deadline) {
        throw new Error(`parallel engine: ${this.threads - 1 - ready} worker threads have not started; create the engine with \`await ParallelEngine.create(...)\``);
      }
      Atomics.wait(ctl, C.READY, ready, 50);
    }
    if (Atomics.load(ctl, C.FAILED)) {
      const reason = this.workerError() ?? 'a worker could not instantiate the kernels';
      this.abort(reason);
      throw new Error(`parallel engine: ${reason}`);
    }
  }
}

/** An engine dropped without close() still ends its workers when it is collected. */
const registry = new FinalizationRegistry<{ ctl: Int32Array; workers: Worker[] }>(({ ctl, workers }) => {
  Atomics.store(ctl, C.CMD, CMD_EXIT);
  Atomics.add(ctl, C.SEQ, 1);
  Atomics.notify(ctl, C.SEQ);
  for (const w of workers) void w.terminate();
});
