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
import { instruction, programArb, render, straightLine } from './translator-programs.js';
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
        await lockstep(program(src, chip), { chip, budgets: b, translated: { optimizeLevel: opt, vectorLocals: opt === 2 } });
      }), { numRuns: 25, seed: 2026120301 });
    }, 120_000);
    it(`loops, branches, calls, waits on ${name}`, async () => {
      await fc.assert(fc.asyncProperty(programArb(chip, { control: true, maxItems: 8 }), budgets, async (p, b) => {
        const src = render(p);
        await lockstep(program(src, chip), { chip, budgets: b, translated: { optimizeLevel: 1 } });
        await lockstep(program(src, chip), { chip, budgets: b, translated: { optimizeLevel: 1, vectorLocals: true } });
      }), { numRuns: 25, seed: 2026120302 });
    }, 120_000);
  }
});

/** A program around straight-line code: `li` of the scalar pool, the data buffer, and the code run `times` times in a loop. */
function loopAround(body: string, times: number): string {
  return render({ items: [], functions: [[], []], dataSeed: 3, init: [] }).replace('  li a7, 93', `  li s10, ${times}\nLbody:\n${body}\n  addi s10, s10, -1\n  bnez s10, Lbody\n  li a7, 93`);
}

describe('translator: each table entry runs translated with the interpreter\'s result', () => {
  for (const [name, chip] of [['bss2 with all lane widths', bss2All], ['ideal with all lane widths', idealAll]] as [string, ChipSpecT][]) {
    it(`on ${name}`, async () => {
      let translatedInstructions = 0, total = 0;
      for (const def of straightLine(chip)) {
        for (const text of fc.sample(instruction(def, chip), { numRuns: 3, seed: def.mnemonic.length * 7919 + def.opcode })) {
          const src = loopAround(`  li t0, 0x12345\n  li t1, -77\n  li t2, 3\n${text.split('\n').map((l) => `  ${l}`).join('\n')}`, 3);
          const r = await lockstep(program(src, chip), { chip, translated: { optimizeLevel: 0 } });
          translatedInstructions += r.instructions - r.translated.stats.hostSteps;
          total += r.instructions;
        }
      }
      // Nearly everything ran in translated code (the host steps traps, exits and out-of-range cases).
      expect(translatedInstructions / total).toBeGreaterThan(0.9);
    }, 120_000);
  }
});

describe('translator: traps at the interpreter\'s pc with its message and state', () => {
  const traps: [string, string, ChipSpecT?][] = [
    ['misaligned load', 'li t0, 2\n addi a0, a0, 5\n lw t1, 0(t0)'],
    ['load outside memory', 'li t0, 0x4000\n lw t1, -2(t0)'],
    ['misaligned halfword store', 'la t0, buf\n sh t1, 1(t0)'],
    ['vector load outside memory', 'li t0, 0x3f90\n vld v1, 0(t0)'],
    ['misaligned vector store', 'la t0, buf\n vst v1, 2(t0)'],
    ['vext lane past the last', 'li t0, 128\n vext.b t1, v1, t0'],
    ['vins negative lane', 'li t0, -1\n vins.h v1, t0, t0'],
    ['synapse row out of range', 'li t0, 150\n vlds.b v1, t0, zero'],
    ['column out of range', 'li t0, 200\n vadc.h v1, 3, t0'],
    ['row driver out of range', 'li t0, 999\n vrowd.h v1, t0'],
    ['parameter column out of range', 'li t0, -5\n vldp.h v1, 0, t0'],
    ['float row on a fixed chip', 'vlds.f v1, zero, zero', bss2All],
    ['integer row on a float chip', 'vsts.h v1, zero, zero', idealAll],
    ['lane width the chip lacks', 'vadd.f v1, v2, v3', bss2],
    ['illegal instruction (jump into data)', 'la t0, buf\n sw zero, 0(t0)\n jr t0'],
    ['fetch outside memory', 'li t0, 0x100000\n jr t0'],
    ['misaligned fetch', 'li t0, 6\n jr t0'],
    ['unknown system call', 'li a7, 5\n ecall'],
  ];
  for (const [what, body, chip0] of traps) {
    it(what, async () => {
      const chip = chip0 ?? bss2All;
      // Assembled for all lane widths, so that a program can hold an instruction the chip lacks.
      const src = loopAround(`  addi s2, s2, 1\n  vadd.h v2, v2, v2\n  ${body}`, 2);
      const prog = programFromAssembly(assemble(src, { file: 'trap.s', elementBits: [8, 16, 32] }));
      for (const budgets of [[1e9], [3], [17, 1]]) {
        const r = await lockstep(prog, { chip, budgets, translated: { optimizeLevel: 1 } });
        expect(r.end).toMatch(/^trap\.s(:\d+)?: processor trap at pc 0x[0-9a-f]{8}: /);
      }
    });
  }
  it('returning from _start halts with a0 as the exit code', async () => {
    const r = await lockstep(program('  .text\n_start:\n  li a0, 42\n  ret\n', bss2), { chip: bss2 });
    expect(r.end).toBe('halt');
    expect(r.interpreter.exitCode).toBe(42);
  });
});

/** The word of one assembled instruction. */
function word(text: string): number {
  return assemble(text, { elementBits: [8, 16, 32] }).text[0];
}

describe('translator: control flow the translation cannot see statically', () => {
  it('self-modifying code: a store into translated code is executed by the host and the code retranslated', async () => {
    const src = `
      .text
    _start:
      la t0, patch
      la t1, newword
      lw t2, 0(t1)
      li s2, 0
      li s3, 5
    loop:
    patch:
      addi a0, a0, 1
      sw t2, 0(t0)
      addi s2, s2, 1
      blt s2, s3, loop
      li a7, 93
      ecall
      .data
    newword: .word ${word('addi a0, a0, 100')}
    `;
    const r = await lockstep(program(src, bss2), { chip: bss2 });
    // The first pass adds 1, the four after the patch add 100 each.
    expect(r.interpreter.exitCode).toBe(401);
    expect(r.translated.translations).toBeGreaterThanOrEqual(2);
  });

  it('indirect calls through a function table: repeated targets become blocks of a new translation', async () => {
    const src = `
      .text
    _start:
      la s2, table
      li s3, 0
      li s4, 60
    1:
      andi t0, s3, 1
      slli t0, t0, 2
      add t0, t0, s2
      lw t1, 0(t0)
      jalr ra, 0(t1)
      addi s3, s3, 1
      blt s3, s4, 1b
      li a7, 93
      ecall
    f0:
      addi a0, a0, 3
      ret
    f1:
      addi a0, a0, 5
      ret
      .data
      .align 2
    table: .word f0, f1
    `;
    const r = await lockstep(program(src, bss2), { chip: bss2, budgets: [1e9] });
    expect(r.interpreter.exitCode).toBe(30 * 3 + 30 * 5);
    expect(r.translated.translations).toBe(2);
    expect(r.translated.stats.hostSteps).toBeLessThan(r.instructions / 4);
  });
});

describe('translator: state hand-over between the implementations', () => {
  const src = loopAround('  vrand.h v3\n  vnarrowsr.lo v4, v3, t2\n  vadd.bs v5, v5, v4\n  li a4, 1\n  wait a4\n  vadc.b v6, 1, zero\n  vlds.b v7, s10, zero\n  vadd.bs v7, v7, v6\n  vsts.b v7, s10, zero', 40);
  const prog = program(src, bss2);

  async function runPhases(first: 'interpret' | 'translate', switchAfter: number) {
    const bus = seededBus(bss2, 5);
    const mk = async (mode: 'interpret' | 'translate') => createProcessor({ chip: bss2, bus, rngSeed: 11, processor: mode });
    let p = await mk(first);
    p.load(prog);
    for (let calls = 0; ; calls++) {
      if (calls === switchAfter) {
        const s = p.snapshot();
        const printed = p.printed;
        p = await mk(first === 'interpret' ? 'translate' : 'interpret');
        p.load(prog);
        p.restore(s);
        expect(printed.length).toBe(0);
      }
      const r = p.run(calls % 3 === 0 ? 25 : 1e9);
      if (r.reason === 'wait') bus.advanceAnalog(r.waitSteps);
      if (r.reason === 'halt') break;
    }
    return { state: p.snapshot(), synapses: Array.from(bus.synapses) };
  }

  it('interpreter -> translated and translated -> interpreter continue exactly as one run', async () => {
    const reference = await runPhases('interpret', -1);
    for (const [first, at] of [['interpret', 7], ['translate', 7], ['translate', 30]] as const) {
      const r = await runPhases(first, at);
      expect(r.synapses).toEqual(reference.synapses);
      expect(r.state).toEqual(reference.state);
    }
  });
});

describe('translator: options', () => {
  const src = loopAround('  vadc.b v1, 0, zero\n  vadc.h v2, 4, t2\n  vrowd.b v3, zero\n  vadd.b v4, v4, v1', 20);
  it('ADC read noise (drawn by the host, as the interpreter draws it)', async () => {
    await lockstep(program(src, bss2), { chip: bss2, adcNoiseLsb: 0.8, budgets: [40, 1e9] });
  });
  it('auto mode: the host interprets, then translates once the program has run a while', async () => {
    const r = await lockstep(program(src, bss2), { chip: bss2, translated: { translateAfter: 100 }, budgets: [30] });
    expect(r.translated.translated).toBe(true);
    expect(r.translated.stats.hostSteps).toBeGreaterThanOrEqual(100);
  });
  it('auto mode translates from a block start: the blocks a translation at the entry has, wherever the count crosses the threshold', async () => {
    const atEntry = (await lockstep(program(src, bss2), { chip: bss2, budgets: [1e9] })).translated.blockStarts;
    expect(atEntry.length).toBeGreaterThan(3);
    for (const after of [37, 61, 97, 101, 102, 103]) {
      for (const budgets of [[1e9], [30]]) {
        const r = await lockstep(program(src, bss2), { chip: bss2, translated: { translateAfter: after }, budgets });
        expect(r.translated.blockStarts, `translateAfter ${after}, budgets ${budgets}`).toEqual(atEntry);
      }
    }
  });
  it('createProcessor picks the implementation of a mode', async () => {
    expect(await createProcessor({ chip: bss2, bus: new MockBus(150, 200), processor: 'interpret' })).toBeInstanceOf(Processor);
    expect(await createProcessor({ chip: bss2, bus: new MockBus(150, 200), processor: 'translate' })).toBeInstanceOf(TranslatedProcessor);
    const odd = { ...bss2, processor: { ...bss2.processor, vector_bytes: 20 } };
    expect(await createProcessor({ chip: odd, bus: new MockBus(150, 200), processor: 'auto' })).toBeInstanceOf(Processor);
    await expect(createTranslatedProcessor({ chip: odd, bus: new MockBus(150, 200) })).rejects.toThrow(/multiple of 32/);
  });
  it('reloading the translated program keeps its module; another program is translated anew', async () => {
    const p = await createTranslatedProcessor({ chip: bss2, bus: seededBus(bss2, 1) });
    const runAll = () => {
      for (;;) {
        const r = p.run(1e9);
        if (r.reason === 'halt') return r.exitCode;
        if (r.reason === 'wait') p.bus.advanceAnalog(r.waitSteps);
      }
    };
    const first = program(loopAround('  addi a0, a0, 3', 5), bss2);
    p.load(first);
    expect(runAll()).toBe(15);
    expect(p.translations).toBe(1);
    p.load(first);
    expect(p.translateNow()).toBe(true);
    expect(runAll()).toBe(15);
    expect(p.translations).toBe(1);
    p.load(program(loopAround('  addi a0, a0, 4', 5), bss2));
    expect(runAll()).toBe(20);
    expect(p.translations).toBe(1);
    expect(p.translateMs).toBeGreaterThan(0);
  });

  it('NaN results are the canonical NaN in both implementations', async () => {
    const nanSrc = loopAround('  li t0, 0x7f800001\n  li t1, 0xffc01234\n  vsplat.w v1, t0\n  vsplat.w v2, t1\n  vadd.f v3, v1, v2\n  vfma.f v4, v2, v1\n  vmin.f v5, v1, v2\n  vext.w a0, v3, zero', 1);
    const r = await lockstep(program(nanSrc, ideal), { chip: ideal });
    for (const v of [3, 4, 5]) expect(Array.from(r.translated.v.u32.subarray(v * 32, v * 32 + 32))).toEqual(new Array(32).fill(0x7fc00000));
  });
});
