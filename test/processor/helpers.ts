/** Test helpers: presets, and running assembly on the interpreter with a MockBus. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChipSpecT } from '../../chip/spec.js';
import { assemble } from '../../isa/assembler.js';
import { MockBus } from '../../emulator/processor/bus.js';
import { Processor, programFromAssembly, runToHalt } from '../../emulator/processor/interpreter.js';

/** A chip preset by name. */
export function preset(name: 'ideal' | 'spikey' | 'bss1' | 'bss2'): ChipSpecT {
  return JSON.parse(readFileSync(join(__dirname, '../../chip/presets', `${name}.json`), 'utf8'));
}

export interface Run {
  p: Processor;
  bus: MockBus;
  symbols: Record<string, number>;
}

/** Assembles and runs a program to its halt (an `exit` is appended). */
export function run(src: string, opts: { chip?: ChipSpecT; bus?: MockBus; rngSeed?: number; noExit?: boolean } = {}): Run {
  const chip = opts.chip ?? preset('bss2');
  const bus = opts.bus ?? new MockBus(chip.core.rows, chip.core.neurons, chip.weights.kind === 'float32' ? 'float32' : 'fixed');
  const prog = assemble(opts.noExit ? src : `${src}\n  .text\n  li a7, 93\n  ecall\n`, { file: 'test.s', elementBits: chip.processor.element_bits });
  const p = new Processor({ chip, bus, rngSeed: opts.rngSeed ?? 1 });
  p.load(programFromAssembly(prog));
  runToHalt(p, 10_000_000);
  return { p, bus, symbols: prog.symbols };
}

/** Lanes of vector register r as signed w-bit integers (or float32 for w = 'f'). */
export function lanes(p: Processor, r: number, w: 8 | 16 | 32 | 'f'): number[] {
  const n = w === 'f' ? p.vbytes / 4 : (p.vbytes * 8) / w;
  const view = w === 8 ? p.v.i8 : w === 16 ? p.v.i16 : w === 32 ? p.v.i32 : p.v.f32;
  return Array.from(view.subarray(r * n, (r + 1) * n));
}

/** Scalar register by ABI index helper: x(p, 10) is a0. */
export function reg(p: Processor, i: number): number {
  return p.x[i];
}
