/**
 * The instruction table's Machine over a translated processor's state in linear memory
 * (wasm-layout.ts), and a one-instruction stepper that is the interpreter's loop body
 * (emulator/processor/interpreter.ts) on that state. The translated module hands an instruction
 * to this stepper whenever the exact interpreter behaviour is rare or complex: traps (so their
 * messages are the interpreter's own), system calls, breakpoints, stores into translated code,
 * pcs without a translated block, and the last instructions before a cycle budget runs out.
 */
import { decode } from '../../isa/decoder.js';
import { adcCode, adcLaneCode, LaneRandom } from '../../isa/lanes.js';
import { SYSCALLS } from '../../isa/table.js';
import type { DecodedInstruction, InstrDef, Machine, Semantics, VectorViews } from '../../isa/types.js';
import type { ProcessorBus } from './bus.js';
import { ProcessorTrap, RETURN_ADDRESS, type ProcessorChip, type ProcessorOptions, type ProgramImage, type StopReason } from './interpreter.js';
import type { StateViews } from './wasm-layout.js';

/** A decoded word with its cost and lane check, as the interpreter caches it. */
interface Prepared {
  d: DecodedInstruction;
  exec: Semantics;
  cost: number;
  allowed: boolean;
}

function hex8(x: number): string {
  return `0x${(x >>> 0).toString(16).padStart(8, '0')}`;
}

/** Synapse code range of a chip's weights (stores clamp into it), null on float32 chips; as the interpreter. */
export function weightCodeRange(chip: ProcessorChip): { min: number; max: number } | null {
  const w = chip.weights;
  if (w.kind === 'float32') return null;
  return w.sign === 'per_synapse' ? { min: -(2 ** (w.bits - 1) - 1), max: 2 ** (w.bits - 1) - 1 } : { min: -(2 ** w.bits - 1), max: 2 ** w.bits - 1 };
}

/** The Machine of the instruction table over linear-memory state, with the interpreter's stepper. */
export class LinearMachine implements Machine {
  /** Address of the executing instruction (the host's copy; the module's is in memory). */
  pc = 0;
  nextPc = 0;
  cycles = 0;
  instructions = 0;
  halted = false;
  exitCode = 0;
  readonly printed: number[] = [];
  readonly vbytes: number;
  readonly bus: ProcessorBus;
  readonly weightCodes: { min: number; max: number } | null;
  readonly scratchI32: Int32Array;
  readonly scratchF32: Float32Array;
  /** Why the last step stopped the run (null: it did not). */
  stop: { reason: StopReason; steps: number } | null = null;
  program?: ProgramImage;
  /** Called when a store touches [lo, hi) of `watch` (translated code). */
  onCodeWrite?: () => void;
  /** Words the stepper may cache decoded: [cacheLo, cacheHi) (the translated module never writes there). */
  cacheLo = 0;
  cacheHi = 0;
  private noise?: LaneRandom;
  private cache: (Prepared | null | undefined)[] = [];
  private readonly cost = new Map<InstrDef, number>();
  private readonly allowed = new Map<InstrDef, boolean>();
  private watchLo = 0;
  private watchHi = 0;

  constructor(readonly views: StateViews, private readonly chip: ProcessorChip, private readonly opts: ProcessorOptions) {
    this.vbytes = chip.processor.vector_bytes;
    this.bus = opts.bus;
    this.weightCodes = weightCodeRange(chip);
    this.scratchI32 = new Int32Array(this.vbytes);
    this.scratchF32 = new Float32Array(this.vbytes);
    this.noise = this.makeNoise();
  }

  get x(): Int32Array {
    return this.views.x;
  }
  get v(): VectorViews {
    return this.views.vregs;
  }
  get mem(): Uint8Array {
    return this.views.mem;
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

  /** Whether the chip has the lane widths an instruction needs. */
  isAllowed(def: InstrDef): boolean {
    let ok = this.allowed.get(def);
    if (ok === undefined) {
      ok = (def.elements ?? []).every((w) => this.chip.processor.element_bits.includes(w as 8 | 16 | 32));
      this.allowed.set(def, ok);
    }
    return ok;
  }

  /** Stores into [lo, hi) call onCodeWrite (the translated code there is stale). */
  watch(lo: number, hi: number): void {
    this.watchLo = lo;
    this.watchHi = hi;
  }

  /** Forgets decoded words and sets the range the stepper may cache. */
  resetCache(lo: number, hi: number): void {
    this.cacheLo = lo;
    this.cacheHi = hi;
    this.cache = new Array(Math.max(0, (hi - lo) >>> 2));
  }

  /** Lane generators and the ADC noise stream back to their seeded start. */
  seedRandom(): void {
    const lanes = new LaneRandom(this.vbytes, this.opts.rngSeed ?? 0, this.opts.core ?? 0);
    const soa = this.views.rng;
    for (let i = 0; i < this.vbytes; i++) for (let k = 0; k < 4; k++) soa[k * this.vbytes + i] = lanes.state[4 * i + k];
    this.noise = this.makeNoise();
  }

  /** State of the ADC read-noise stream (empty when noise is off). */
  get noiseState(): Uint32Array {
    return this.noise ? this.noise.state : new Uint32Array(0);
  }

  private makeNoise(): LaneRandom | undefined {
    const o = this.opts;
    return o.adcNoiseLsb && o.adcNoiseLsb > 0 ? new LaneRandom(1, o.noiseSeed ?? 0, o.core ?? 0, 'adc-noise') : undefined;
  }

  /**
   * Executes one instruction at `pc` exactly as the interpreter's loop body does (the caller has
   * checked the cycle budget): halts at the return address, traps on bad fetches, illegal words
   * and missing lane widths, charges the cycles.
   */
  step(): void {
    const pc = this.pc;
    const x = this.views.x;
    if (pc === RETURN_ADDRESS) {
      this.halted = true;
      this.exitCode = x[10];
      this.stop = { reason: 'halt', steps: 0 };
      return;
    }
    const mem = this.views.mem;
    if ((pc & 3) !== 0 || pc + 4 > mem.length) {
      this.trap((pc & 3) !== 0 ? 'instruction fetch from a misaligned address' : `instruction fetch outside memory (0..${hex8(mem.length - 1)})`);
    }
    let e: Prepared | null | undefined;
    const cached = pc >= this.cacheLo && pc < this.cacheHi;
    if (cached) e = this.cache[(pc - this.cacheLo) >>> 2];
    if (e === undefined) {
      e = this.prepare(mem[pc] | (mem[pc + 1] << 8) | (mem[pc + 2] << 16) | (mem[pc + 3] << 24));
      if (cached) this.cache[(pc - this.cacheLo) >>> 2] = e;
    }
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
  }

  private prepare(word: number): Prepared | null {
    const d = decode(word);
    return d ? { d, exec: d.def.exec, cost: this.costOf(d.def), allowed: this.isAllowed(d.def) } : null;
  }

  // ---------------------------------------------------------------- Machine
  checkAccess(addr: number, size: number, align: number, what: string): void {
    const mem = this.views.mem;
    if (addr % align !== 0) this.trap(`${what} at misaligned address ${hex8(addr)} (needs ${align}-byte alignment)`);
    if (addr + size > mem.length) this.trap(`${what} at address ${hex8(addr)} outside memory (0..${hex8(mem.length - 1)})`);
  }

  wrote(addr: number, size: number): void {
    const end = addr + size;
    if (end > this.cacheLo && addr < this.cacheHi) {
      const last = Math.min(end - 1, this.cacheHi - 1);
      for (let a = Math.max(addr, this.cacheLo) & ~3; a <= last; a += 4) this.cache[(a - this.cacheLo) >>> 2] = undefined;
    }
    if (end > this.watchLo && addr < this.watchHi) this.onCodeWrite?.();
  }

  /** xoshiro128** of lane `lane` on the structure-of-arrays state (as LaneRandom.next). */
  random(lane: number): number {
    const s = this.views.rng, n = this.vbytes;
    const s0 = s[lane], s1 = s[n + lane];
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const s2 = (s[2 * n + lane] ^ s0) >>> 0;
    const s3 = (s[3 * n + lane] ^ s1) >>> 0;
    s[n + lane] = s1 ^ s2;
    s[lane] = s0 ^ s3;
    s[2 * n + lane] = s2 ^ t;
    s[3 * n + lane] = rotl(s3, 11);
    return result;
  }

  adcCode(value: number, laneBits: 8 | 16): number {
    const adc = this.chip.adc;
    const noise = this.noise ? this.noise.normal(0) * (this.opts.adcNoiseLsb ?? 0) : 0;
    return adcLaneCode(adcCode(value, adc, noise), adc.bits, laneBits);
  }

  trap(message: string): never {
    const lines = this.program?.lines;
    const line = lines && this.pc >>> 2 < lines.length ? lines[this.pc >>> 2] : undefined;
    throw new ProcessorTrap(this.pc, message, { file: this.program?.file, line });
  }

  ecall(): void {
    const a7 = this.views.x[17];
    if (a7 === SYSCALLS.EXIT) {
      this.halted = true;
      this.exitCode = this.views.x[10];
      this.stop = { reason: 'halt', steps: 0 };
    } else if (a7 === SYSCALLS.PRINT) {
      this.printed.push(this.views.x[10]);
      this.opts.onPrint?.(this.views.x[10]);
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

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
