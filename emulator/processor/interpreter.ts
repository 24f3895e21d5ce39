/**
 * Reference interpreter of a core's plasticity processor: 32 scalar registers, pc, 32 vector
 * registers of `vector_bytes`, byte-addressed local memory of `memory_kib` (text, data, stack),
 * and cycle accounting from the chip's cycle table. The semantics of every instruction are the
 * table's (isa/table.ts); this file fetches, decodes (cached per word), charges cycles and stops
 * for the host on `wait`, `ecall` exit and `ebreak`. Hardware time used = cycles / clock_mhz us.
 */
import type { ChipSpecT } from '../../chip/spec.js';
import { UserError } from '../../common/diagnostics.js';
import { decode } from '../../isa/decoder.js';
import { adcCode, adcLaneCode, LaneRandom } from '../../isa/lanes.js';
import { SYSCALLS } from '../../isa/table.js';
import { CYCLE_CLASSES, type DecodedInstruction, type InstrDef, type Machine, type Semantics, type VectorViews } from '../../isa/types.js';
import type { ProcessorBus } from './bus.js';

/** The parts of a chip the processor depends on. */
export type ProcessorChip = Pick<ChipSpecT, 'processor' | 'adc' | 'weights'>;

/** A program as loaded into processor memory. */
export interface ProgramImage {
  segments: { addr: number; bytes: Uint8Array }[];
  entry: number;
  symbols?: Record<string, number>;
  /** Source line of each word from address 0 on (assembled programs), to name lines in traps. */
  lines?: Uint32Array;
  file?: string;
}

/** What a processor is built from. */
export interface ProcessorOptions {
  chip: ProcessorChip;
  bus: ProcessorBus;
  /** Seed of the per-lane hardware random generators (the chip seed). Default 0. */
  rngSeed?: number;
  /** Core index (each core's generators differ). Default 0. */
  core?: number;
  /** ADC read noise, standard deviation in LSB (default 0), drawn from the stream of `noiseSeed`. */
  adcNoiseLsb?: number;
  noiseSeed?: number;
  /** Receives values printed by `ecall` with a7 = 1. */
  onPrint?: (value: number) => void;
}

/** Why run() returned. */
export type StopReason = 'halt' | 'wait' | 'budget' | 'ebreak';

/** The outcome of one run() call. */
export interface RunResult {
  reason: StopReason;
  /** Cycles this call consumed (the last instruction may overshoot the budget). */
  cycles: number;
  /** Hardware time those cycles take at the processor clock, us. */
  hwUs: number;
  /** Analog steps the firmware waits for (reason 'wait'). */
  waitSteps: number;
  /** a0 at exit (reason 'halt'). */
  exitCode?: number;
}

/** Everything needed to continue a processor later exactly where it stopped. */
export interface ProcessorState {
  x: Int32Array;
  pc: number;
  vregs: Uint8Array;
  mem: Uint8Array;
  rng: Uint32Array;
  /** State of the ADC read-noise stream (empty when noise is off). */
  noise: Uint32Array;
  cycles: number;
  instructions: number;
  halted: boolean;
  exitCode: number;
}

/** A processor trap: a firmware fault (bad address, illegal instruction), reported with pc and source line. */
export class ProcessorTrap extends UserError {
  constructor(readonly pc: number, readonly cause: string, where: { file?: string; line?: number }) {
    super({ file: where.file, line: where.line && where.line > 0 ? where.line : undefined, message: `processor trap at pc ${hex8(pc)}: ${cause}` });
    this.name = 'ProcessorTrap';
  }
}

interface Prepared {
  d: DecodedInstruction;
  exec: Semantics;
  cost: number;
  allowed: boolean;
}

/** Address `ra` holds at entry: returning there halts with exit code a0. */
export const RETURN_ADDRESS = 0xfffffffc;

function hex8(x: number): string {
  return `0x${(x >>> 0).toString(16).padStart(8, '0')}`;
}

/** The interpreter of one core's processor. */
export class Processor implements Machine {
  readonly x = new Int32Array(32);
  pc = 0;
  nextPc = 0;
  readonly vbytes: number;
  readonly v: VectorViews;
  readonly mem: Uint8Array;
  readonly bus: ProcessorBus;
  readonly weightCodes: { min: number; max: number } | null;
  readonly scratchI32: Int32Array;
  readonly scratchF32: Float32Array;
  /** Total cycles since load. */
  cycles = 0;
  /** Instructions retired since load. */
  instructions = 0;
  halted = false;
  exitCode = 0;
  /** Values printed by `ecall` a7 = 1, in order. */
  readonly printed: number[] = [];
  readonly clockMhz: number;

  private readonly chip: ProcessorChip;
  private readonly cost = new Map<InstrDef, number>();
  private readonly allowed = new Map<InstrDef, boolean>();
  /** Decoded instruction per memory word with its cost and lane check (undefined: not decoded yet; null: illegal). */
  private cache: (Prepared | null | undefined)[];
  private rng: LaneRandom;
  private noise?: LaneRandom;
  private stop: { reason: StopReason; steps: number } | null = null;
  private program?: ProgramImage;
  private readonly vbuf: ArrayBuffer;

  constructor(private readonly opts: ProcessorOptions) {
    const p = opts.chip.processor;
    this.chip = opts.chip;
    this.bus = opts.bus;
    this.clockMhz = p.clock_mhz;
    this.vbytes = p.vector_bytes;
    if (this.vbytes % 4 !== 0) throw new UserError({ pointer: '/processor/vector_bytes', message: `vector_bytes ${this.vbytes} must be a multiple of 4` });
    this.vbuf = new ArrayBuffer(32 * this.vbytes);
    this.v = {
      i8: new Int8Array(this.vbuf), u8: new Uint8Array(this.vbuf), i16: new Int16Array(this.vbuf), u16: new Uint16Array(this.vbuf),
      i32: new Int32Array(this.vbuf), u32: new Uint32Array(this.vbuf), f32: new Float32Array(this.vbuf),
    };
    this.mem = new Uint8Array(p.memory_kib * 1024);
    this.cache = new Array(this.mem.length >>> 2);
    this.scratchI32 = new Int32Array(this.vbytes);
    this.scratchF32 = new Float32Array(this.vbytes);
    const w = opts.chip.weights;
    this.weightCodes = w.kind === 'float32' ? null : w.sign === 'per_synapse' ? { min: -(2 ** (w.bits - 1) - 1), max: 2 ** (w.bits - 1) - 1 } : { min: -(2 ** w.bits - 1), max: 2 ** w.bits - 1 };
    for (const cls of CYCLE_CLASSES) {
      if (!Number.isInteger(p.cycles[cls]) || p.cycles[cls] < 0) {
        throw new UserError({ pointer: `/processor/cycles/${cls}`, message: `the chip gives no cycle cost for instruction class '${cls}' (a non-negative integer is required)` });
      }
    }
    this.rng = new LaneRandom(this.vbytes, opts.rngSeed ?? 0, opts.core ?? 0);
    this.noise = this.makeNoise();
  }

  /** Cycles an instruction costs on this chip. */
  costOf(def: InstrDef): number {
    let c = this.cost.get(def);
    if (c === undefined) {
      c = this.chip.processor.cycles[def.cycles];
      this.cost.set(def, c);
    }
    return c;
  }

  /** Hardware time the executed cycles correspond to, in microseconds. */
  get hwTimeUs(): number {
    return this.cycles / this.clockMhz;
  }

  /** Loads a program: clears memory and registers, copies segments, sets pc = entry, sp = top of memory. */
  load(program: ProgramImage): void {
    this.mem.fill(0);
    for (const s of program.segments) {
      if (s.addr < 0 || s.addr + s.bytes.length > this.mem.length) {
        throw new UserError({
          file: program.file,
          message: `firmware segment at ${hex8(s.addr)} of ${s.bytes.length} bytes does not fit the processor's memory of ${this.mem.length} bytes (memory_kib ${this.mem.length / 1024})`,
        });
      }
      this.mem.set(s.bytes, s.addr);
    }
    this.program = program;
    this.reset(program.entry);
  }

  /** Puts registers, vector registers, counters and the random generators back to their start values; memory stays. */
  reset(entry = this.program?.entry ?? 0): void {
    this.x.fill(0);
    this.x[1] = RETURN_ADDRESS | 0;
    this.x[2] = this.mem.length & ~15;
    this.v.u8.fill(0);
    this.pc = entry >>> 0;
    this.cycles = 0;
    this.instructions = 0;
    this.halted = false;
    this.exitCode = 0;
    this.printed.length = 0;
    this.stop = null;
    this.cache = new Array(this.mem.length >>> 2);
    this.rng = new LaneRandom(this.vbytes, this.opts.rngSeed ?? 0, this.opts.core ?? 0);
    this.noise = this.makeNoise();
  }

  /** The ADC read-noise stream (one generator), when noise is on. */
  private makeNoise(): LaneRandom | undefined {
    const o = this.opts;
    return o.adcNoiseLsb && o.adcNoiseLsb > 0 ? new LaneRandom(1, o.noiseSeed ?? 0, o.core ?? 0, 'adc-noise') : undefined;
  }

  /**
   * Executes instructions until the program halts, executes `wait` (returned to the host with the
   * steps to advance), hits `ebreak`, or has used at least `maxCycles` cycles.
   */
  run(maxCycles: number): RunResult {
    const start = this.cycles;
    if (this.halted) return { reason: 'halt', cycles: 0, hwUs: 0, waitSteps: 0, exitCode: this.exitCode };
    const end = start + maxCycles;
    const cache = this.cache;
    const mem = this.mem;
    const x = this.x;
    this.stop = null;
    while (this.cycles < end) {
      const pc = this.pc;
      if (pc === RETURN_ADDRESS) {
        this.halted = true;
        this.exitCode = x[10];
        this.stop = { reason: 'halt', steps: 0 };
        break;
      }
      if ((pc & 3) !== 0 || pc + 4 > mem.length) {
        this.trap((pc & 3) !== 0 ? 'instruction fetch from a misaligned address' : `instruction fetch outside memory (0..${hex8(mem.length - 1)})`);
      }
      const wi = pc >>> 2;
      let e = cache[wi];
      if (e === undefined) e = cache[wi] = this.prepare(mem[pc] | (mem[pc + 1] << 8) | (mem[pc + 2] << 16) | (mem[pc + 3] << 24));
      if (e === null) {
        const word = (mem[pc] | (mem[pc + 1] << 8) | (mem[pc + 2] << 16) | (mem[pc + 3] << 24)) >>> 0;
        this.trap(`illegal instruction ${hex8(word)}`);
      }
      if (!e.allowed) {
        this.trap(`${e.d.def.mnemonic} needs ${e.d.def.elements!.join(' and ')}-bit vector lanes; this chip has element_bits [${this.chip.processor.element_bits.join(', ')}]`);
      }
      this.nextPc = (pc + 4) >>> 0;
      e.exec(this, e.d);
      x[0] = 0;
      this.cycles += e.cost;
      this.instructions++;
      this.pc = this.nextPc;
      if (this.stop) break;
    }
    const used = this.cycles - start;
    const hwUs = used / this.clockMhz;
    const stop = this.stop as { reason: StopReason; steps: number } | null;
    if (!stop) return { reason: 'budget', cycles: used, hwUs, waitSteps: 0 };
    return { reason: stop.reason, cycles: used, hwUs, waitSteps: stop.steps, exitCode: stop.reason === 'halt' ? this.exitCode : undefined };
  }

  private prepare(word: number): Prepared | null {
    const d = decode(word);
    return d ? { d, exec: d.def.exec, cost: this.costOf(d.def), allowed: this.isAllowed(d.def) } : null;
  }

  private isAllowed(def: InstrDef): boolean {
    let ok = this.allowed.get(def);
    if (ok === undefined) {
      ok = (def.elements ?? []).every((w) => this.chip.processor.element_bits.includes(w as 8 | 16 | 32));
      this.allowed.set(def, ok);
    }
    return ok;
  }

  /** Saves the complete processor state (for checkpoints). */
  snapshot(): ProcessorState {
    return {
      x: this.x.slice(), pc: this.pc, vregs: this.v.u8.slice(), mem: this.mem.slice(), rng: this.rng.state.slice(),
      noise: this.noise ? this.noise.state.slice() : new Uint32Array(0),
      cycles: this.cycles, instructions: this.instructions, halted: this.halted, exitCode: this.exitCode,
    };
  }

  /** Restores a state saved by `snapshot` on a processor of the same chip. */
  restore(s: ProcessorState): void {
    if (s.mem.length !== this.mem.length || s.vregs.length !== this.v.u8.length) throw new Error('processor state of another chip');
    this.x.set(s.x);
    this.pc = s.pc;
    this.v.u8.set(s.vregs);
    this.mem.set(s.mem);
    this.rng.state.set(s.rng);
    if (this.noise && s.noise.length === this.noise.state.length) this.noise.state.set(s.noise);
    this.cycles = s.cycles;
    this.instructions = s.instructions;
    this.halted = s.halted;
    this.exitCode = s.exitCode;
    this.cache = new Array(this.mem.length >>> 2);
  }

  // ---------------------------------------------------------------- Machine
  checkAccess(addr: number, size: number, align: number, what: string): void {
    if (addr % align !== 0) this.trap(`${what} at misaligned address ${hex8(addr)} (needs ${align}-byte alignment)`);
    if (addr + size > this.mem.length) this.trap(`${what} at address ${hex8(addr)} outside memory (0..${hex8(this.mem.length - 1)})`);
  }

  wrote(addr: number, size: number): void {
    const last = (addr + size - 1) >>> 2;
    for (let i = addr >>> 2; i <= last; i++) this.cache[i] = undefined;
  }

  random(lane: number): number {
    return this.rng.next(lane);
  }

  adcCode(value: number, laneBits: 8 | 16): number {
    const adc = this.chip.adc;
    const noise = this.noise ? this.noise.normal(0) * (this.opts.adcNoiseLsb ?? 0) : 0;
    return adcLaneCode(adcCode(value, adc, noise), adc.bits, laneBits);
  }

  trap(message: string): never {
    const line = this.program?.lines && this.pc >>> 2 < this.program.lines.length ? this.program.lines[this.pc >>> 2] : undefined;
    throw new ProcessorTrap(this.pc, message, { file: this.program?.file, line });
  }

  ecall(): void {
    const a7 = this.x[17];
    if (a7 === SYSCALLS.EXIT) {
      this.halted = true;
      this.exitCode = this.x[10];
      this.stop = { reason: 'halt', steps: 0 };
    } else if (a7 === SYSCALLS.PRINT) {
      this.printed.push(this.x[10]);
      this.opts.onPrint?.(this.x[10]);
    } else {
      this.trap(`unknown system call a7 = ${a7} (${SYSCALLS.EXIT} = exit, ${SYSCALLS.PRINT} = print a0)`);
    }
  }

  ebreak(): void {
    this.stop = { reason: 'ebreak', steps: 0 };
  }

  wait(steps: number): void {
    if (steps > 0) this.stop = { reason: 'wait', steps };
  }
}

/**
 * Runs until the program halts, advancing the analog core through the bus at each `wait` with no
 * time cost to the firmware (ideal timing). Throws a UserError if it does not halt within maxCycles.
 */
export function runToHalt(p: Processor, maxCycles = 1e9): RunResult {
  let total = 0;
  for (;;) {
    const r = p.run(maxCycles - total);
    total += r.cycles;
    if (r.reason === 'halt') return { ...r, cycles: total, hwUs: total / p.clockMhz };
    if (r.reason === 'wait') p.bus.advanceAnalog(r.waitSteps);
    else if (r.reason === 'budget') {
      throw new UserError({ message: `firmware did not halt within ${maxCycles} cycles (pc ${hex8(p.pc)})` });
    }
  }
}

/** The program image of an assembled program (text at 0, data at its base). */
export function programFromAssembly(p: { text: Uint32Array; data: Uint8Array; dataBase: number; entry: number; symbols: Record<string, number>; lines?: Uint32Array; file?: string }): ProgramImage {
  return {
    segments: [
      { addr: 0, bytes: new Uint8Array(p.text.buffer, p.text.byteOffset, p.text.byteLength) },
      { addr: p.dataBase, bytes: p.data },
    ],
    entry: p.entry,
    symbols: p.symbols,
    lines: p.lines,
    file: p.file,
  };
}
