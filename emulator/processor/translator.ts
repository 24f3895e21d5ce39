/**
 * The translated plasticity processor: the same run/state API as the reference interpreter
 * (emulator/processor/interpreter.ts), with the firmware's basic blocks translated into one
 * WebAssembly module per program (translator-blocks.ts, translator-emit.ts, translator-module.ts)
 * and all state in linear memory (wasm-layout.ts). The host and the translated code hand state
 * over at block boundaries in either direction: the host's stepper (translator-machine.ts, the
 * interpreter's loop body on the same memory) runs whatever the module leaves to it, so traps,
 * system calls, cycle budgets and waits happen at the interpreter's points with its state.
 *
 * Selection (`ProcessorMode`): 'interpret' is the reference interpreter; 'translate' translates at
 * the first run; 'auto' steps in the host until the program has retired AUTO_TRANSLATE_AFTER
 * instructions (a long-running program: translation then pays for itself) and translates then,
 * or stays with the interpreter on a chip the translator cannot handle.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type binaryen from 'binaryen';
import { UserError } from '../../common/diagnostics.js';
import type { DecodedInstruction, InstrDef, VectorViews } from '../../isa/types.js';
import type { ProcessorBus } from './bus.js';
import {
  Processor, RETURN_ADDRESS, type ProcessorChip, type ProcessorOptions, type ProcessorState, type ProgramImage, type RunResult,
} from './interpreter.js';
import { findBlocks } from './translator-blocks.js';
import type { EmitContext } from './translator-emit.js';
import { LinearMachine } from './translator-machine.js';
import { buildModule, LISTED, STATUS, type BusLink } from './translator-module.js';
import { NESTED } from './fused-nest.js';
import { rngToAos, rngToSoa, stateBytes, stateLayout, StateViews, type StateLayout } from './wasm-layout.js';

type B = typeof binaryen;

/** Which processor implementation runs firmware. */
export type ProcessorMode = 'interpret' | 'translate' | 'auto';

/**
 * Instructions the 'auto' mode interprets before it translates: about 1 s of interpretation at
 * worst would be 2e7; translating a firmware of a few hundred instructions takes tens of ms, what
 * the interpreter needs for ~1e6 instructions, so from there on translation is the faster choice.
 */
export const AUTO_TRANSLATE_AFTER = 1_000_000;
/** Host steps a due translation waits at most for the program to reach a block start (TranslatedProcessor.toBlockStart). */
const STEPS_TO_BLOCK_START = 10_000;

/** Retranslations (code written, new indirect-jump targets) per loaded program before the host keeps stepping. */
const MAX_TRANSLATIONS = 16;
/** Misses at one pc (an indirect-jump target without a block) before it becomes a block start. */
const MISSES_TO_TRANSLATE = 16;

/** The interface the interpreter and the translated processor share (what the runtime uses). */
export interface FirmwareProcessor {
  readonly x: Int32Array;
  pc: number;
  readonly vbytes: number;
  readonly v: VectorViews;
  readonly mem: Uint8Array;
  readonly bus: ProcessorBus;
  readonly cycles: number;
  readonly instructions: number;
  readonly halted: boolean;
  readonly exitCode: number;
  readonly printed: number[];
  readonly clockMhz: number;
  readonly hwTimeUs: number;
  costOf(def: InstrDef): number;
  load(program: ProgramImage): void;
  reset(entry?: number): void;
  run(maxCycles: number): RunResult;
  snapshot(): ProcessorState;
  restore(s: ProcessorState): void;
}

/** Kernel functions serving core access directly on the engine's memory (kernels/bus.ts). */
export interface KernelBusLink {
  /** The kernels instance's exports (the translated module imports the bus functions from it). */
  exports: Record<string, unknown>;
  /** Builds the module's fast-path bus code (emulator/processor/wasm-bus.ts). */
  link: BusLink & { kind: 'kernel' };
  /** Called after each return from translated code (collects counters the kernels keep). */
  sync?: () => void;
  /** With countFusedPaths: the row-segment updates run fused on float rows, on transpose feedback rows, and unfused (wasm-bus.ts). */
  fusedPathCounts?: () => { float: number; feedback: number; unfused: number };
}

/** Options of a translated processor beyond the interpreter's. */
export interface TranslatedOptions extends ProcessorOptions {
  /** Memory holding the state and the byte address of its region (stateBytes() bytes, 16-aligned); default: a memory of its own. */
  memory?: { memory: WebAssembly.Memory; base: number };
  /** Fast-path bus through the kernels (the state must then live in the kernels' memory). */
  kernels?: KernelBusLink;
  /** Instructions retired before the first translation (0: at the first run; Infinity: never, the host steps). */
  translateAfter?: number;
  /** binaryen optimisation level of the module (default 0: V8 optimises the code as well, measured no faster at 1 or 2, and translating takes 3-5 times longer). */
  optimizeLevel?: number;
  /** Vector registers in v128 locals across the translated function (translator-module.ts ModuleSpec.vectorLocals; default off). */
  vectorLocals?: boolean;
}

let lib: B | undefined;

/** Loads binaryen (once per process; about 0.4 s). */
export async function loadTranslator(): Promise<void> {
  if (!lib) lib = (await import('binaryen')).default;
}

/** Whether loadTranslator() has finished (translated processors can be made synchronously). */
export function translatorLoaded(): boolean {
  return lib !== undefined;
}

/** Whether a chip's processor can be translated (v128 code needs vector_bytes to be a multiple of 32). */
export function translatable(chip: ProcessorChip): boolean {
  return chip.processor.vector_bytes % 32 === 0;
}

interface Loaded {
  /** Enters at any block start. */
  run: (end: number) => number;
  /** Enters at the blocks of `hot` only (firmware loops render as plain WebAssembly loops there). */
  runHot: (end: number) => number;
  hot: Set<number>;
  pre: Map<number, number>;
  busInstrs: DecodedInstruction[];
  busRegs: { rs1: boolean; rs2: boolean }[];
  codeLo: number;
  codeHi: number;
  code: Uint8Array;
  /** The module's count of fused listing iterations (fused-listing.ts), when it has listing loops. */
  listed: WebAssembly.Global | null;
  /** The module's count of row-segment updates run with exchanged loops (fused-nest.ts), when it has such loops. */
  nested: WebAssembly.Global | null;
}

/** The plasticity processor with translated firmware (see the file comment). */
export class TranslatedProcessor implements FirmwareProcessor {
  readonly vbytes: number;
  readonly bus: ProcessorBus;
  readonly clockMhz: number;
  readonly layout: StateLayout;
  /** Module builds since the program was loaded. */
  translations = 0;
  /** Milliseconds spent translating (build, optimise, compile) since construction. */
  translateMs = 0;
  /** Entries into translated code, instructions the host stepped (the rest ran translated) and bus transfers translated code left to the host (TypeScript bus), since construction. */
  readonly stats = { enters: 0, hostSteps: 0, hostBusCalls: 0 };
  private readonly views: StateViews;
  private readonly machine: LinearMachine;
  private readonly memory: WebAssembly.Memory;
  private readonly translateAfter: number;
  private mod?: Loaded;
  private stale = true;
  private program?: ProgramImage;
  private readonly extraStarts = new Set<number>();
  private readonly misses = new Map<number, number>();
  /**
   * Translation is due at a pc inside a basic block of the program's own control flow (auto mode:
   * wherever the instruction count crossed the threshold): starting there would split that block,
   * and a split loop is translated instruction by instruction instead of as the loop it is
   * (translator-module.ts fusedLoopAt). The host steps on to the next block start first: these
   * are the starts, and the steps taken so far.
   */
  private toBlockStart: { starts: Set<number>; steps: number } | null = null;

  /** Start pcs of the translated blocks, ascending (empty before the first translation). */
  get blockStarts(): number[] {
    return [...(this.mod?.pre.keys() ?? [])].sort((a, b) => a - b);
  }

  /**
   * Iterations of listing loops (fused-listing.ts) the current translation ran fused, since it was
   * built (0 when it has none, or before the first translation).
   */
  fusedListingIterations(): number {
    return (this.mod?.listed?.value as number | undefined) ?? 0;
  }

  /** Row-segment updates the current translation ran with exchanged loops (fused-nest.ts) since it was built. */
  fusedNestUpdates(): number {
    return (this.mod?.nested?.value as number | undefined) ?? 0;
  }

  /** The fused-path counts of a kernel bus link built with countFusedPaths (null otherwise). */
  fusedPathCounts(): { float: number; feedback: number; unfused: number } | null {
    return this.opts.kernels?.fusedPathCounts?.() ?? null;
  }

  constructor(private readonly opts: TranslatedOptions) {
    if (!lib) throw new Error('TranslatedProcessor: call loadTranslator() first (or use createTranslatedProcessor)');
    const chip = opts.chip, p = chip.processor;
    if (!translatable(chip)) {
      throw new UserError({ pointer: '/processor/vector_bytes', message: `the firmware translator needs vector_bytes to be a multiple of 32 (v128 code); this chip has ${p.vector_bytes}: use the interpreter` });
    }
    // The interpreter validates the chip's processor section; building one reports the same errors.
    new Processor({ chip, bus: opts.bus });
    this.vbytes = p.vector_bytes;
    this.bus = opts.bus;
    this.clockMhz = p.clock_mhz;
    const memBytes = p.memory_kib * 1024;
    if (opts.memory) {
      this.memory = opts.memory.memory;
      this.layout = stateLayout(opts.memory.base, this.vbytes, memBytes);
      const need = this.layout.base + this.layout.bytes;
      if (this.memory.buffer.byteLength < need) throw new Error(`TranslatedProcessor: memory of ${this.memory.buffer.byteLength} bytes is smaller than the state's end ${need}`);
    } else {
      this.layout = stateLayout(0, this.vbytes, memBytes);
      this.memory = new WebAssembly.Memory({ initial: Math.ceil(this.layout.bytes / 65536) });
    }
    this.views = new StateViews(this.memory, this.layout);
    this.machine = new LinearMachine(this.views, chip, opts);
    this.machine.onCodeWrite = () => this.invalidate();
    this.translateAfter = opts.translateAfter ?? 0;
    this.reset(0);
  }

  get x(): Int32Array {
    this.views.refresh();
    return this.views.x;
  }
  get pc(): number {
    return this.machine.pc;
  }
  set pc(v: number) {
    this.machine.pc = v >>> 0;
  }
  get v(): VectorViews {
    this.views.refresh();
    return this.views.vregs;
  }
  get mem(): Uint8Array {
    this.views.refresh();
    return this.views.mem;
  }
  get cycles(): number {
    return this.machine.cycles;
  }
  get instructions(): number {
    return this.machine.instructions;
  }
  get halted(): boolean {
    return this.machine.halted;
  }
  get exitCode(): number {
    return this.machine.exitCode;
  }
  get printed(): number[] {
    return this.machine.printed;
  }
  /** Hardware time the executed cycles correspond to, in microseconds. */
  get hwTimeUs(): number {
    return this.machine.cycles / this.clockMhz;
  }
  /** Whether a translated module is in place. */
  get translated(): boolean {
    return this.mod !== undefined;
  }

  /** Cycles an instruction costs on this chip. */
  costOf(def: InstrDef): number {
    return this.machine.costOf(def);
  }

  /** Loads a program: clears memory and registers, copies segments, sets pc = entry, sp = top of memory. */
  load(program: ProgramImage): void {
    const mem = this.mem;
    mem.fill(0);
    for (const s of program.segments) {
      if (s.addr < 0 || s.addr + s.bytes.length > mem.length) {
        throw new UserError({
          file: program.file,
          message: `firmware segment at 0x${(s.addr >>> 0).toString(16).padStart(8, '0')} of ${s.bytes.length} bytes does not fit the processor's memory of ${mem.length} bytes (memory_kib ${mem.length / 1024})`,
        });
      }
      mem.set(s.bytes, s.addr);
    }
    this.program = program;
    this.machine.program = program;
    // Loading the code that is already translated (a reload, another core's copy) keeps the module.
    const mod = this.mod;
    if (!mod || !equalBytes(mem.subarray(mod.codeLo, mod.codeHi), mod.code)) {
      this.extraStarts.clear();
      this.misses.clear();
      this.translations = 0;
      this.invalidate();
    }
    this.reset(program.entry);
  }

  /** Translates now (normally the first run() does) when translation is due; returns whether a module is in place. */
  translateNow(): boolean {
    if (this.stale && this.machine.instructions >= this.translateAfter && this.translations < MAX_TRANSLATIONS) this.translate();
    return this.mod !== undefined;
  }

  /** Puts registers, vector registers, counters and the random generators back to their start values; memory stays. */
  reset(entry = this.program?.entry ?? 0): void {
    const M = this.machine, V = this.views;
    V.refresh();
    V.x.fill(0);
    V.x[1] = RETURN_ADDRESS | 0;
    V.x[2] = this.layout.memBytes & ~15;
    V.vregs.u8.fill(0);
    M.pc = entry >>> 0;
    M.cycles = 0;
    M.instructions = 0;
    M.halted = false;
    M.exitCode = 0;
    M.printed.length = 0;
    M.stop = null;
    this.resetCache();
    M.seedRandom();
  }

  /**
   * Executes until the program halts, executes `wait` (returned to the host with the steps to
   * advance), hits `ebreak`, or has used at least `maxCycles` cycles: as Processor.run.
   */
  run(maxCycles: number): RunResult {
    const M = this.machine, V = this.views;
    const start = M.cycles;
    if (M.halted) return { reason: 'halt', cycles: 0, hwUs: 0, waitSteps: 0, exitCode: M.exitCode };
    const end = start + maxCycles;
    M.stop = null;
    V.refresh();
    let mustStep = false;
    while (M.cycles < end) {
      if (this.stale && M.instructions >= this.translateAfter && this.translations < MAX_TRANSLATIONS) this.translate();
      const mod = this.mod;
      const pre = mod && !mustStep ? mod.pre.get(M.pc) : undefined;
      if (pre !== undefined && M.cycles + pre < end) {
        V.pc = M.pc;
        V.cycles = M.cycles;
        V.instructions = M.instructions;
        this.stats.enters++;
        const status = mod!.hot.has(M.pc) ? mod!.runHot(end) : mod!.run(end);
        this.opts.kernels?.sync?.();
        V.refresh();
        M.pc = V.pc;
        M.cycles = V.cycles;
        M.instructions = V.instructions;
        if (status === STATUS.WAIT) {
          M.stop = { reason: 'wait', steps: V.waitSteps };
          break;
        }
        // COLD: run_hot does not enter at pc; run does, if a block starts there (else it is a miss).
        if (status === STATUS.COLD && mod!.pre.has(M.pc)) continue;
        if (status === STATUS.MISS || status === STATUS.COLD) this.noteMiss(M.pc);
        mustStep = status === STATUS.HOST;
        continue;
      }
      mustStep = false;
      this.stats.hostSteps++;
      M.step();
      if (M.stop) break;
    }
    const used = M.cycles - start;
    const hwUs = used / this.clockMhz;
    const stop = M.stop as { reason: RunResult['reason']; steps: number } | null;
    if (!stop) return { reason: 'budget', cycles: used, hwUs, waitSteps: 0 };
    return { reason: stop.reason, cycles: used, hwUs, waitSteps: stop.steps, exitCode: stop.reason === 'halt' ? M.exitCode : undefined };
  }

  /** Saves the complete processor state (the interpreter's format: checkpoints are interchangeable). */
  snapshot(): ProcessorState {
    const M = this.machine, V = this.views;
    V.refresh();
    const rng = new Uint32Array(4 * this.vbytes);
    rngToAos(V.rng, this.vbytes, rng);
    return {
      x: V.x.slice(), pc: M.pc, vregs: V.vregs.u8.slice(), mem: V.mem.slice(), rng, noise: M.noiseState.slice(),
      cycles: M.cycles, instructions: M.instructions, halted: M.halted, exitCode: M.exitCode,
    };
  }

  /** Restores a state saved by `snapshot` (of either implementation) on a processor of the same chip. */
  restore(s: ProcessorState): void {
    const M = this.machine, V = this.views;
    V.refresh();
    if (s.mem.length !== V.mem.length || s.vregs.length !== V.vregs.u8.length) throw new Error('processor state of another chip');
    V.x.set(s.x);
    M.pc = s.pc >>> 0;
    V.vregs.u8.set(s.vregs);
    V.mem.set(s.mem);
    rngToSoa(s.rng, this.vbytes, V.rng);
    const noise = M.noiseState;
    if (noise.length > 0 && s.noise.length === noise.length) noise.set(s.noise);
    M.cycles = s.cycles;
    M.instructions = s.instructions;
    M.halted = s.halted;
    M.exitCode = s.exitCode;
    const mod = this.mod;
    if (mod && !equalBytes(V.mem.subarray(mod.codeLo, mod.codeHi), mod.code)) this.invalidate();
    this.resetCache();
  }

  /** Drops the module (its code no longer matches memory); the next run translates again. */
  private invalidate(): void {
    this.mod = undefined;
    this.stale = true;
    this.toBlockStart = null;
    this.resetCache();
  }

  private resetCache(): void {
    const mod = this.mod;
    // The module never writes inside its code range without handing the store to the host, so
    // the host's decode cache is safe there; before any translation it may cache everything.
    if (mod) this.machine.resetCache(mod.codeLo, mod.codeHi);
    else if (this.translations === 0 || this.translations >= MAX_TRANSLATIONS) this.machine.resetCache(0, this.layout.memBytes);
    else this.machine.resetCache(0, 0);
    this.machine.watch(mod ? mod.codeLo : 0, mod ? mod.codeHi : 0);
  }

  private noteMiss(pc: number): void {
    if (!this.mod || pc === RETURN_ADDRESS) return;
    const n = (this.misses.get(pc) ?? 0) + 1;
    this.misses.set(pc, n);
    if (n === MISSES_TO_TRANSLATE && this.translations < MAX_TRANSLATIONS) {
      this.extraStarts.add(pc);
      this.invalidate();
    }
  }

  /** Builds and instantiates the module of the code in memory now (or, see toBlockStart, after a few more host steps). */
  private translate(): void {
    const M = this.machine, V = this.views;
    const own = [...this.extraStarts, ...(this.program ? [this.program.entry] : [])];
    if (!own.includes(M.pc)) {
      this.toBlockStart ??= { starts: new Set(findBlocks(V.mem, own, (def) => M.isAllowed(def)).blocks.map((b) => b.start)), steps: 0 };
      if (!this.toBlockStart.starts.has(M.pc) && this.toBlockStart.steps++ < STEPS_TO_BLOCK_START) return;
    }
    this.toBlockStart = null;
    const t0 = performance.now();
    const starts = [M.pc, ...this.extraStarts];
    if (this.program) starts.push(this.program.entry);
    const cfg = findBlocks(V.mem, starts, (def) => M.isAllowed(def));
    this.translations++;
    this.stale = false;
    if (cfg.blocks.length === 0) {
      this.mod = undefined;
      this.resetCache();
      return;
    }
    const built = buildModule(lib!, {
      cfg, L: this.layout,
      rows: this.bus.rows, columns: this.bus.columns, fixedWeights: M.weightCodes !== null,
      cost: (def) => M.costOf(def), allowed: (def) => M.isAllowed(def),
      bus: this.opts.kernels?.link ?? { kind: 'import' },
      optimizeLevel: this.opts.optimizeLevel ?? 0,
      vectorLocals: this.opts.vectorLocals ?? false,
      sharedMemory: typeof SharedArrayBuffer !== 'undefined' && this.memory.buffer instanceof SharedArrayBuffer,
      starts,
      // LECHIP_TRANSLATOR_NO_LIST runs listing loops block by block (A/B runs: bench/translator-ab.ts).
      noListing: !!process.env.LECHIP_TRANSLATOR_NO_LIST,
    });
    const busRegs = built.busInstrs.map((d) => ({
      rs1: d.def.operands.some((o) => o.kind === 'xreg' && o.field === 'rs1'),
      rs2: d.def.operands.some((o) => o.kind === 'xreg' && o.field === 'rs2'),
    }));
    const imports: WebAssembly.Imports = {
      env: { memory: this.memory, bus: (id: number, a: number, b: number) => this.busCall(id, a, b), steps: () => this.bus.analogSteps | 0 },
    };
    if (this.opts.kernels) imports.kernels = this.opts.kernels.exports as WebAssembly.ModuleImports;
    // LECHIP_TRANSLATOR_DUMP=DIR writes each module (inspect with wasm-dis or wasm2wat).
    const dump = process.env.LECHIP_TRANSLATOR_DUMP;
    if (dump) writeFileSync(join(dump, `translated-${this.opts.core ?? 0}-${this.translations}.wasm`), built.binary);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(built.binary as Uint8Array<ArrayBuffer>), imports);
    this.mod = {
      run: instance.exports.run as (end: number) => number,
      runHot: instance.exports.run_hot as (end: number) => number,
      hot: built.hot,
      listed: (instance.exports[LISTED] as WebAssembly.Global | undefined) ?? null,
      nested: (instance.exports[NESTED] as WebAssembly.Global | undefined) ?? null,
      pre: built.pre, busInstrs: built.busInstrs, busRegs,
      codeLo: cfg.codeLo, codeHi: cfg.codeHi, code: V.mem.slice(cfg.codeLo, cfg.codeHi),
    };
    this.resetCache();
    this.translateMs += performance.now() - t0;
  }

  /** The imported bus function: the table's semantics of a core-access instruction on the current state. */
  private busCall(id: number, a: number, b: number): void {
    const mod = this.mod!;
    this.stats.hostBusCalls++;
    const d = mod.busInstrs[id];
    const regs = mod.busRegs[id];
    this.views.refresh();
    const x = this.views.x;
    // The module keeps registers in locals; the two operands come as arguments.
    if (regs.rs1) x[d.rs1] = a;
    if (regs.rs2) x[d.rs2] = b;
    d.def.exec(this.machine, d);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A translated processor (loads binaryen first). */
export async function createTranslatedProcessor(opts: TranslatedOptions): Promise<TranslatedProcessor> {
  await loadTranslator();
  return new TranslatedProcessor(opts);
}

/** Bytes of linear memory a translated processor's state needs on a chip (for hosts that place it). */
export function translatedStateBytes(chip: ProcessorChip): number {
  return stateBytes(chip.processor.vector_bytes, chip.processor.memory_kib * 1024);
}

/**
 * The processor of a mode: 'interpret' the reference interpreter, 'translate' the translated
 * processor, 'auto' the translated processor that interprets the first AUTO_TRANSLATE_AFTER
 * instructions (or the interpreter where the chip cannot be translated).
 */
export async function createProcessor(opts: TranslatedOptions & { processor?: ProcessorMode }): Promise<FirmwareProcessor> {
  const mode = opts.processor ?? 'auto';
  if (mode === 'interpret' || (mode === 'auto' && !translatable(opts.chip))) return new Processor(opts);
  await loadTranslator();
  return new TranslatedProcessor({ ...opts, translateAfter: opts.translateAfter ?? (mode === 'translate' ? 0 : AUTO_TRANSLATE_AFTER) });
}

/**
 * A synchronous processor factory of a mode (for FirmwareRuntime's makeProcessor); 'translate' and
 * 'auto' need loadTranslator() to have been awaited.
 */
export function processorFactory(mode: ProcessorMode, extra: Partial<TranslatedOptions> = {}): (opts: ProcessorOptions) => FirmwareProcessor {
  return (opts) => {
    if (mode === 'interpret' || (mode === 'auto' && !translatable(opts.chip))) return new Processor(opts);
    return new TranslatedProcessor({ ...opts, ...extra, translateAfter: extra.translateAfter ?? (mode === 'translate' ? 0 : AUTO_TRANSLATE_AFTER) });
  };
}

/** The emit context, for modules that build bus links (emulator/processor/wasm-bus.ts). */
export type { EmitContext };
