/**
 * Differential testing of the translated processor against the reference interpreter: both run
 * the same program on identical MockBuses with the same sequence of cycle budgets, and after
 * every run() call their results, complete states (snapshot), printed values, buses and traps
 * must be identical.
 */
import { expect } from 'vitest';
import type { ChipSpecT } from '../../chip/spec.js';
import { MockBus, type ProcessorBus } from '../../emulator/processor/bus.js';
import { Processor, ProcessorTrap, type ProcessorState, type ProgramImage, type RunResult } from '../../emulator/processor/interpreter.js';
import { createTranslatedProcessor, type TranslatedOptions, type TranslatedProcessor } from '../../emulator/processor/translator.js';
import { Rng } from '../../common/random.js';

/** A MockBus with seeded synapses, observables, row drivers and parameters; observables move on each advance. */
export function seededBus(chip: ChipSpecT, seed: number): MockBus {
  const float = chip.weights.kind === 'float32';
  const bus = new MockBus(chip.core.rows, chip.core.neurons, float ? 'float32' : 'fixed');
  const rng = new Rng(seed, 'translator-test-bus');
  const range = float ? 0 : chip.weights.sign === 'per_synapse' ? 2 ** (chip.weights.bits - 1) - 1 : 2 ** chip.weights.bits - 1;
  for (let i = 0; i < bus.synapses.length; i++) bus.synapses[i] = float ? rng.normal() : rng.int(2 * range + 1) - range;
  const { min, max } = chip.adc;
  for (let i = 0; i < bus.observables.length; i++) bus.observables[i] = min + (max - min) * (1.2 * rng.uniform() - 0.1);
  for (let i = 0; i < bus.rowDrivers.length; i++) bus.rowDrivers[i] = min + (max - min) * rng.uniform();
  for (let i = 0; i < bus.parameters.length; i++) bus.parameters[i] = float ? rng.normal() : rng.int(2047) - 1023;
  bus.onAdvance = (steps, b) => {
    for (let i = 0; i < b.observables.length; i++) b.observables[i] += 0.01 * steps * (max - min) * ((i % 7) - 3);
  };
  return bus;
}

/** What one run() call did, or the trap it raised. */
type Outcome = { ok: true; r: RunResult } | { ok: false; trap: ProcessorTrap };

function attempt(f: () => RunResult): Outcome {
  try {
    return { ok: true, r: f() };
  } catch (e) {
    if (e instanceof ProcessorTrap) return { ok: false, trap: e };
    throw e;
  }
}

/** Options of a lockstep comparison. */
export interface LockstepOptions {
  chip: ChipSpecT;
  busSeed?: number;
  rngSeed?: number;
  /** Cycle budgets of the successive run() calls (cycled); default one huge budget. */
  budgets?: number[];
  /** run() calls before giving up (a program that does not halt). */
  maxCalls?: number;
  /** Options of the translated processor. */
  translated?: { translateAfter?: number; optimizeLevel?: number; vectorLocals?: boolean };
  adcNoiseLsb?: number;
  /** The two sides' buses (default: seeded MockBuses), how to compare them, and options of the translated side (a fast bus). */
  buses?: { a: ProcessorBus; b: ProcessorBus; compare(where: string): void; translatedOptions?: Partial<TranslatedOptions> };
}

/** The result of a lockstep comparison. */
export interface LockstepReport {
  calls: number;
  /** How it ended: halt, trap message, or 'calls' (maxCalls reached). */
  end: string;
  cycles: number;
  instructions: number;
  translated: TranslatedProcessor;
  interpreter: Processor;
}

/** Runs a program on the interpreter and the translated processor in lockstep, asserting identical behaviour. */
export async function lockstep(program: ProgramImage, o: LockstepOptions): Promise<LockstepReport> {
  const chip = o.chip;
  const mockA = seededBus(chip, o.busSeed ?? 1), mockB = seededBus(chip, o.busSeed ?? 1);
  const buses = o.buses ?? { a: mockA, b: mockB, compare: (where: string) => compareBuses(mockA, mockB, where) };
  const busA = buses.a, busB = buses.b;
  const common = { chip, rngSeed: o.rngSeed ?? 7, adcNoiseLsb: o.adcNoiseLsb, noiseSeed: 3 };
  const a = new Processor({ ...common, bus: busA });
  const b = await createTranslatedProcessor({ ...common, bus: busB, ...o.translated, ...buses.translatedOptions });
  a.load(program);
  b.load(program);
  const budgets = o.budgets && o.budgets.length ? o.budgets : [1e9];
  const maxCalls = o.maxCalls ?? 10_000;
  let calls = 0;
  let end = 'calls';
  for (; calls < maxCalls; calls++) {
    const budget = budgets[calls % budgets.length];
    const ra = attempt(() => a.run(budget));
    const rb = attempt(() => b.run(budget));
    const where = `call ${calls} (budget ${budget}, interpreter pc 0x${a.pc.toString(16)})`;
    if (!ra.ok || !rb.ok) {
      expect(rb.ok, `${where}: ${ra.ok ? 'only the translator trapped: ' + (rb as { trap: Error }).trap.message : 'only the interpreter trapped: ' + ra.trap.message}`).toBe(ra.ok);
      const ta = (ra as { trap: ProcessorTrap }).trap, tb = (rb as { trap: ProcessorTrap }).trap;
      expect(tb.message, where).toBe(ta.message);
      expect(tb.pc, where).toBe(ta.pc);
      end = ta.message;
    } else {
      expect(rb.r, where).toEqual(ra.r);
    }
    compareStates(a.snapshot(), b.snapshot(), where);
    expect(b.printed, where).toEqual(a.printed);
    expect(b.pc, where).toBe(a.pc);
    buses.compare(where);
    if (!ra.ok) break;
    if (ra.r.reason === 'wait') {
      busA.advanceAnalog(ra.r.waitSteps);
      busB.advanceAnalog(ra.r.waitSteps);
    }
    if (ra.r.reason === 'halt') {
      end = 'halt';
      calls++;
      break;
    }
  }
  return { calls, end, cycles: a.cycles, instructions: a.instructions, translated: b, interpreter: a };
}

/** Asserts two processor states are identical (fast path first; expect() only to report a difference). */
export function compareStates(a: ProcessorState, b: ProcessorState, where: string): void {
  for (const k of ['x', 'vregs', 'mem', 'rng', 'noise'] as const) {
    if (!equalArrays(a[k], b[k])) {
      const i = Array.from(a[k]).findIndex((v, j) => v !== b[k][j]);
      expect(`${k}[${i}] = ${b[k][i]}`, `${where}: ${k} differs`).toBe(`${k}[${i}] = ${a[k][i]}`);
    }
  }
  for (const k of ['pc', 'cycles', 'instructions', 'halted', 'exitCode'] as const) expect(b[k], `${where}: ${k}`).toBe(a[k]);
}

/** Asserts two buses hold the same synapses, parameters and step counts. */
export function compareBuses(a: MockBus, b: MockBus, where: string): void {
  expect(b.steps, where).toBe(a.steps);
  expect(equalArrays(b.synapses, a.synapses), `${where}: synapses differ`).toBe(true);
  expect(equalArrays(b.parameters, a.parameters), `${where}: parameters differ`).toBe(true);
  expect(equalArrays(b.observables, a.observables), `${where}: observables differ`).toBe(true);
}

function equalArrays(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  // Float arrays compare bit for bit (NaN payloads and the sign of zero included).
  if (a instanceof Float32Array && b instanceof Float32Array) return equalArrays(new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length));
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** A chip preset with every lane width, so one program can use every lane form. */
export function allLanes(chip: ChipSpecT): ChipSpecT {
  return { ...chip, processor: { ...chip.processor, element_bits: [8, 16, 32] } };
}

/** A preset with a small core (fast buses in tests); 200 columns and 150 rows are not multiples of the lane counts, so partial rows occur. */
export function smallCore(chip: ChipSpecT): ChipSpecT {
  return { ...chip, core: { ...chip.core, neurons: 200, rows: 150 } };
}
