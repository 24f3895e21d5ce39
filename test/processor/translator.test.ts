/**
 * The translated processor against the reference interpreter: random valid programs
 * (property-based), every instruction of the table, traps, cycle budgets, waits, self-modifying
 * code, indirect jumps and state hand-over (snapshot/restore in both directions).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { INSTRUCTIONS } from '../../isa/table.js';
import { MockBus } from '../../emulator/processor/bus.js';
import { Processor, programFromAssembly, type ProgramImage } from '../../emulator/processor/interpreter.js';
import { createProcessor, createTranslatedProcessor, TranslatedProcessor } from '../../emulator/processor/translator.js';
import { isTranslated } from '../../emulator/processor/translator-emit.js';
import type { ChipSpecT } from '../../chip/spec.js';
import { allLanes, lockstep, seededBus, smallCore } from './translator-helpers.js';
import { programArb, render } from './translator-programs.js';
import { preset } from './helpers.js';

const bss2 = smallCore(preset('bss2'));
const ideal = smallCore(preset('ideal'));
const bss2All = allLanes(bss2);
const idealAll = allLanes(ideal);

function program(src: string, chip: ChipSpecT): ProgramImage {
  return programFromAssembly(assemble(src, { file: 'test.s', elementBits: chip.processor.element_bits, memoryBytes: chip.processor.memory_kib * 1024 }));
}

const budgets = fc.oneof(
  { weight: 1, arbitrary: fc.constant([1e9]) },
  { weight: 2, arbitrary: fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 4 }) },
);

describe('translator: every table entry', () => {
  it('translates every instruction of the table (inline or as a block terminator)', () => {
    const missing = INSTRUCTIONS.map((d) => d.mnemonic).filter((m) => !isTranslated(m));
    expect(missing).toEqual([]);
  });
});

describe('translator: random programs give the interpreter\'s state', () => {
  const cases: [string, ChipSpecT][] = [['bss2 (8/16-bit lanes)', bss2], ['ideal (float lanes)', ideal], ['bss2 with all lane widths', bss2All], ['ideal with all lane widths', idealAll]];
  for (const [name, chip] of cases) {
    it(`straight-line code on ${name}`, async () => {
      await fc.assert(fc.asyncProperty(programArb(chip, { control: false, maxItems: 40 }), budgets, fc.integer({ min: 0, max: 2 }), async (p, b, opt) => {
        const src = render(p);
        await lockstep(program(src, chip), { chip, budgets: b, translated: { optimizeLevel: opt } });
      }), { numRuns: 25 });
    }, 120_000);
    it(`loops, branches, calls, waits on ${name}`, async () => {
      await fc.assert(fc.asyncProperty(programArb(chip, { control: true, maxItems: 8 }), budgets, async (p, b) => {
        const src = render(p);
        await lockstep(program(src, chip), { chip, budgets: b, translated: { optimizeLevel: 1 } });
      }), { numRuns: 25 });
    }, 120_000);
  }
});
