/**
 * Co-simulation of the plasticity processors with the analog core (DESIGN.md "Co-simulation").
 * One processor per core that has firmware data in the image, each on its core's bus
 * (emulator/core-bus.ts), all running the image's firmware text.
 *
 * Timing 'ideal': after each analog step, every processor whose `wait` has expired runs until it
 * waits again, at no time cost (firmware written for `wait 1` then sees every step, in the order
 * of RESEARCH.md §1: its update after step t uses e^t and the row drivers of step t, and step t+1
 * sees the new weights). Timing 'cycle': instructions take their cycles at chip.processor.clock_mhz
 * while the analog core advances; the core advances by whole steps of dt_hw_us = dt / speedup as
 * the processors' accumulated cycles pass each step's end, so firmware reads the state of the last
 * completed step, and `wait n` stalls until n more steps have completed.
 *
 * The processors run only while learning is on (the host starts them at the first step with
 * plasticity and stops them and their step counter whenever it runs without): steps run with
 * learning off are not counted by `rdstep`, and the processors' clocks do not advance.
 */
import type { ChipImage } from '../chip/image-model.js';
import type { ChipSpecT } from '../chip/spec.js';
import { UserError } from '../common/diagnostics.js';
import type { ChipConfig } from './chip-interface.js';
import { createCoreBuses, type CoreBus, type StepCounter, type SynapseStore, type TrimTable } from './core-bus.js';
import type { Engine } from './engine.js';
import { Processor, type ProcessorOptions, type ProcessorState, type ProgramImage, type RunResult } from './processor/interpreter.js';

/** How processor time relates to analog time. */
export type ProcessorTiming = 'cycle' | 'ideal';

/** What the runtime needs of a processor: the reference interpreter and the translated processor both fit. */
export interface RuntimeProcessor {
  readonly mem: Uint8Array;
  readonly cycles: number;
  readonly instructions: number;
  readonly halted: boolean;
  load(program: ProgramImage): void;
  run(maxCycles: number): RunResult;
  snapshot(): ProcessorState;
  restore(s: ProcessorState): void;
}

/** Builds the processor of one core (default: the reference interpreter). */
export type ProcessorFactory = (opts: ProcessorOptions) => RuntimeProcessor;

/** Cycles a processor may run between two waits under ideal timing before it is declared stuck. */
const IDEAL_BUDGET = 1e9;

/** One core's processor and its place in time. */
interface Slot {
  core: number;
  bus: CoreBus;
  p: RuntimeProcessor;
  /** Hardware time of the processor in cycles since the runtime started (cycle timing). */
  clock: number;
  /** Step count at which a waiting processor resumes (-1: not waiting). */
  wake: number;
  /** Started: it has run up to its first wait (ideal timing). */
  started: boolean;
  /** Address of the firmware's pass counter (le_passes), if the program has one. */
  passesAt: number;
}

/** Counters of the firmware's work (since construction or the last resetStats). */
export interface FirmwareStats {
  timing: ProcessorTiming;
  /** Processors running firmware. */
  processors: number;
  /** Analog steps run with the processors on. */
  steps: number;
  /** Instruction cycles executed, summed over processors. */
  cycles: number;
  /** Instructions retired, summed over processors. */
  instructions: number;
  /** Hardware time the firmware kept each processor busy, us (cycles / clock_mhz). */
  busy_hw_us: number[];
  /** Its largest value. */
  busy_hw_us_max: number;
  /** The same, averaged over processors. */
  busy_hw_us_mean: number;
  /** Full passes over each processor's plastic rows (the firmware's le_passes counter); null when the firmware keeps none. */
  passes: (number | null)[];
  /** Writes to transpose feedback rows the emulator dropped (B is W^T by construction). */
  dropped_writes: number;
}

/** Everything needed to continue a runtime exactly (checkpoints). */
export interface RuntimeState {
  steps: number;
  slots: { clock: number; wake: number; started: boolean; processor: ProcessorState }[];
  base: { steps: number; cycles: number[]; instructions: number[]; passes: number[] };
}

/** The processors of a chip image on one engine. */
export class FirmwareRuntime {
  readonly timing: ProcessorTiming;
  readonly counter: StepCounter = { steps: 0 };
  readonly buses: CoreBus[];
  readonly store: SynapseStore | null;
  readonly trims: TrimTable;
  private readonly slots: Slot[];
  /** Processor cycles per analog step (cycle timing). */
  private readonly cyclesPerStep: number;
  private readonly clockMhz: number;
  /** Counter values at the last resetStats. */
  private base = { steps: 0, cycles: [] as number[], instructions: [] as number[], passes: [] as number[] };

  constructor(
    image: ChipImage,
    private readonly engine: Engine,
    config: ChipConfig,
    options: { timing?: ProcessorTiming; dtMs: number; makeProcessor?: ProcessorFactory },
  ) {
    const m = image.manifest;
    const chip: ChipSpecT = m.chip;
    const fw = m.firmware;
    if (!fw) throw new Error('FirmwareRuntime: the image has no firmware');
    this.timing = options.timing ?? chip.processor.timing;
    const { buses, store, trims } = createCoreBuses(image, engine, config, this.counter);
    this.buses = buses;
    this.store = store;
    this.trims = trims;
    this.clockMhz = chip.processor.clock_mhz;
    const dtHwUs = (options.dtMs * 1000) / chip.speedup;
    this.cyclesPerStep = dtHwUs * chip.processor.clock_mhz;

    const text = section(image, fw.text_section);
    const symbols = fw.symbols_section ? (JSON.parse(new TextDecoder().decode(section(image, fw.symbols_section) as Uint8Array)) as Record<string, number>) : {};
    const textBytes = new Uint8Array(text.buffer, text.byteOffset, text.byteLength);
    const make = options.makeProcessor ?? ((o: ProcessorOptions) => new Processor(o));
    this.slots = (fw.cores ?? []).map(({ core, data_section }) => {
      const bus = buses[core];
      if (!bus) throw new UserError({ message: `image firmware data for core ${core}, but the system has ${buses.length} cores` });
      const data = section(image, data_section);
      const p = make({
        chip,
        bus,
        rngSeed: config.chipSeed ?? 0,
        core,
        adcNoiseLsb: config.noise?.adc_lsb ?? chip.noise.adc_lsb,
        noiseSeed: config.seed ?? 1,
      });
      p.load({
        segments: [
          { addr: 0, bytes: textBytes },
          { addr: fw.data_base ?? 0, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) },
        ],
        entry: fw.entry,
        symbols,
        file: `${fw.name} firmware (core ${core})`,
      });
      return { core, bus, p, clock: 0, wake: -1, started: false, passesAt: symbols.le_passes ?? -1 };
    });
    this.resetStats();
  }

  /** Cores whose processors run firmware. */
  get cores(): number[] {
    return this.slots.map((s) => s.core);
  }

  /** The processor of a core (tests, checkpoints). */
  processor(core: number): RuntimeProcessor | undefined {
    return this.slots.find((s) => s.core === core)?.p;
  }

  /** Runs `steps` analog steps with the processors running (plasticity by firmware). */
  advance(steps: number, step: (n: number) => void): void {
    if (this.slots.length === 0) {
      step(steps);
      this.counter.steps += steps;
      return;
    }
    if (this.timing === 'ideal') this.advanceIdeal(steps, step);
    else this.advanceCycle(steps, step);
  }

  private advanceIdeal(steps: number, step: (n: number) => void): void {
    for (const s of this.slots) if (!s.started) this.runUntilWait(s);
    let done = 0;
    while (done < steps) {
      // Skip ahead to the first step after which some processor wakes.
      let next = Infinity;
      for (const s of this.slots) if (!s.p.halted && s.wake >= 0) next = Math.min(next, s.wake);
      const n = Math.max(1, Math.min(steps - done, next - this.counter.steps));
      step(n);
      this.counter.steps += n;
      done += n;
      for (const s of this.slots) if (!s.p.halted && s.wake >= 0 && this.counter.steps >= s.wake) this.runUntilWait(s);
    }
  }

  /** Ideal timing: runs a processor (at no time cost) until it waits or halts. */
  private runUntilWait(s: Slot): void {
    s.started = true;
    s.wake = -1;
    let used = 0;
    for (;;) {
      const r = s.p.run(IDEAL_BUDGET - used);
      used += r.cycles;
      if (r.reason === 'wait') {
        s.wake = this.counter.steps + r.waitSteps;
        return;
      }
      if (r.reason === 'halt') return;
      if (r.reason === 'budget') {
        throw new UserError({ message: `core ${s.core}: the firmware ran ${IDEAL_BUDGET} cycles without waiting for the analog core (processor timing ideal needs a wait in every loop)` });
      }
      // ebreak: the host has nothing to inspect; continue.
    }
  }

  private advanceCycle(steps: number, step: (n: number) => void): void {
    const cps = this.cyclesPerStep;
    let done = 0;
    while (done < steps) {
      const S = this.counter.steps;
      const end = (S + 1) * cps;
      let nextWake = Infinity;
      let busy = false;
      for (const s of this.slots) {
        if (s.p.halted) continue;
        if (s.wake >= 0) {
          if (S < s.wake) {
            nextWake = Math.min(nextWake, s.wake);
            continue;
          }
          // The stall ended when step `wake` completed.
          s.clock = Math.max(s.clock, s.wake * cps);
          s.wake = -1;
        }
        busy = true;
        while (s.clock < end && !s.p.halted) {
          const r = s.p.run(end - s.clock);
          s.clock += r.cycles;
          if (r.reason === 'wait') {
            s.wake = S + r.waitSteps;
            break;
          }
        }
        if (s.wake >= 0) nextWake = Math.min(nextWake, s.wake);
        else if (!s.p.halted) nextWake = Math.min(nextWake, S + 1);
      }
      // When every processor is stalled, the analog core runs on in one call until the first wakes.
      const n = busy ? 1 : Math.max(1, Math.min(steps - done, (Number.isFinite(nextWake) ? nextWake : Infinity) - S));
      step(n);
      this.counter.steps += n;
      done += n;
    }
  }

  /** Zeroes the counters statistics() reports. */
  resetStats(): void {
    this.base = {
      steps: this.counter.steps,
      cycles: this.slots.map((s) => s.p.cycles),
      instructions: this.slots.map((s) => s.p.instructions),
      passes: this.slots.map((s) => this.passes(s) ?? 0),
    };
    for (const b of this.buses) b.droppedWrites = 0;
  }

  /** The firmware's work since construction or the last resetStats. */
  statistics(): FirmwareStats {
    const cycles = this.slots.map((s, i) => s.p.cycles - this.base.cycles[i]);
    const busy = cycles.map((c) => c / this.clockMhz);
    return {
      timing: this.timing,
      processors: this.slots.length,
      steps: this.counter.steps - this.base.steps,
      cycles: cycles.reduce((a, b) => a + b, 0),
      instructions: this.slots.reduce((a, s, i) => a + s.p.instructions - this.base.instructions[i], 0),
      busy_hw_us: busy,
      busy_hw_us_max: busy.length ? Math.max(...busy) : 0,
      busy_hw_us_mean: busy.length ? busy.reduce((a, b) => a + b, 0) / busy.length : 0,
      passes: this.slots.map((s, i) => {
        const p = this.passes(s);
        return p === null ? null : p - this.base.passes[i];
      }),
      dropped_writes: this.buses.reduce((a, b) => a + b.droppedWrites, 0),
    };
  }

  private passes(s: Slot): number | null {
    if (s.passesAt < 0 || s.passesAt + 4 > s.p.mem.length) return null;
    const m = s.p.mem;
    const a = s.passesAt;
    return (m[a] | (m[a + 1] << 8) | (m[a + 2] << 16) | (m[a + 3] << 24)) >>> 0;
  }

  /** After the host wrote a projection's weights: the array's codes follow the engine (fixed chips). */
  resync(projection: number): void {
    this.store?.resync(projection);
  }

  /** The runtime's state (the engine's state is saved separately). */
  snapshot(): RuntimeState {
    return {
      steps: this.counter.steps,
      slots: this.slots.map((s) => ({ clock: s.clock, wake: s.wake, started: s.started, processor: s.p.snapshot() })),
      base: { steps: this.base.steps, cycles: [...this.base.cycles], instructions: [...this.base.instructions], passes: [...this.base.passes] },
    };
  }

  /** Restores a snapshot of a runtime of the same image and configuration. */
  restore(st: RuntimeState): void {
    if (st.slots.length !== this.slots.length) throw new UserError({ message: `saved firmware state has ${st.slots.length} processors; this image runs ${this.slots.length}` });
    this.counter.steps = st.steps;
    st.slots.forEach((v, i) => {
      const s = this.slots[i];
      s.clock = v.clock;
      s.wake = v.wake;
      s.started = v.started;
      s.p.restore(v.processor);
    });
    this.base = { steps: st.base.steps, cycles: [...st.base.cycles], instructions: [...st.base.instructions], passes: [...st.base.passes] };
  }
}

function section(image: ChipImage, name: string): Uint8Array | Uint32Array | Float32Array | Int8Array {
  const data = image.sections.get(name);
  if (!data) throw new UserError({ message: `the image's firmware refers to section '${name}', which it does not hold` });
  return data;
}
