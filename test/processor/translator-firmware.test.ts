/**
 * Every program in firmware-models/ on the translated processor and on the interpreter: the same
 * processor states and the same chip (synapses, weights, biases, trims) at every step.
 * vec-scale.s on a MockBus; le.s and tau-adapt.s through the firmware runtime on the WASM engine
 * (emulator/firmware-runtime.ts, emulator/core-bus.ts), on ideal and on bss2, both timings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChipImage } from '../../chip/image-model.js';
import { loadChip } from '../../chip/presets.js';
import type { ChipConfig } from '../../emulator/chip-interface.js';
import { Engine } from '../../emulator/engine.js';
import { FirmwareRuntime, type ProcessorTiming } from '../../emulator/firmware-runtime.js';
import { realiseModel } from '../../emulator/instance.js';
import { programFromAssembly } from '../../emulator/processor/interpreter.js';
import { loadTranslator, processorFactory, TranslatedProcessor } from '../../emulator/processor/translator.js';
import { recordsOf, tauAdaptImage } from '../../emulator/tau-adapt-firmware.js';
import { engineProcessorFactory } from '../../emulator/processor/wasm-bus.js';
import { assemble } from '../../isa/assembler.js';
import { Rng } from '../../common/random.js';
import { loadFixture } from '../emulator/engine-models.js';
import { compileFor, goldenDescription, smallNet } from '../firmware/helpers.js';
import { ensureKernels } from '../kernels/kernels-build.js';
import { compareStates, lockstep } from './translator-helpers.js';

beforeAll(async () => {
  await ensureKernels();
  await loadTranslator();
});

const ROOT = join(__dirname, '../..');

describe('firmware-models/examples/vec-scale.s', () => {
  it('runs identically on the translated processor (bss2, full core)', async () => {
    const chip = loadChip('bss2');
    const src = readFileSync(join(ROOT, 'firmware-models/examples/vec-scale.s'), 'utf8');
    const prog = programFromAssembly(assemble(src, { file: 'vec-scale.s', elementBits: chip.processor.element_bits }));
    for (const budgets of [[1e9], [9, 40]]) {
      const r = await lockstep(prog, { chip, budgets });
      expect(r.end).toBe('halt');
      expect(r.translated.stats.hostSteps).toBeLessThan(r.instructions / 2);
    }
  });
});

/** Two engines with their runtimes, one per implementation, on the same image and configuration. */
function pair(image: ChipImage, config: ChipConfig, timing: ProcessorTiming, fast = false) {
  const make = (mode: 'interpret' | 'translate') => {
    const model = realiseModel(image, config);
    const engine = new Engine(model);
    // fast: the translated processors' state in the engine's memory, the bus through the kernels (counting its fused updates).
    const makeProcessor = fast && mode === 'translate'
      ? engineProcessorFactory(image, engine, config, mode, { optimizeLevel: 1 }, { countFusedPaths: true })
      : processorFactory(mode, { optimizeLevel: 1 });
    const runtime = new FirmwareRuntime(image, engine, config, { timing, dtMs: model.dt_ms, makeProcessor });
    return { engine, runtime, model };
  };
  return { a: make('interpret'), b: make('translate') };
}

type Side = ReturnType<typeof pair>['a'];

/** Asserts two sides hold the same processors, weights and neuron parameters. */
function compareSides(a: Side, b: Side, where: string): void {
  for (const core of a.runtime.cores) compareStates(a.runtime.processor(core)!.snapshot(), b.runtime.processor(core)!.snapshot(), `${where}, core ${core}`);
  a.model.projections.forEach((_, j) => {
    expect(Buffer.from(b.engine.readHardwareWeights(j).buffer), `${where}: weights of projection ${j}`).toEqual(Buffer.from(a.engine.readHardwareWeights(j).buffer));
  });
  a.model.populations.forEach((p, pi) => {
    if (p.model === 'input') return;
    const pa = a.engine.readParameters(pi), pb = b.engine.readParameters(pi);
    for (const k of Object.keys(pa) as (keyof typeof pa)[]) expect(Buffer.from(pb[k].buffer), `${where}: ${k} of ${p.name}`).toEqual(Buffer.from(pa[k].buffer));
  });
  expect(b.runtime.statistics(), where).toEqual(a.runtime.statistics());
}

/** Weights and neuron parameters of a side, as bytes. */
function chipBytes(s: Side): Buffer {
  const parts: Buffer[] = s.model.projections.map((_, j) => Buffer.from(s.engine.readHardwareWeights(j).buffer));
  s.model.populations.forEach((p, pi) => {
    if (p.model !== 'input') for (const v of Object.values(s.engine.readParameters(pi))) parts.push(Buffer.from(v.buffer));
  });
  return Buffer.concat(parts);
}

/** Presents `samples` random samples (steps each, learning by the firmware) to both sides, comparing after each. */
function drive(image: ChipImage, a: Side, b: Side, samples: number, steps: number, seed: number, nudge = true, timing: ProcessorTiming = 'ideal'): void {
  const rng = new Rng(seed, 'translator-firmware-inputs');
  const before = chipBytes(a);
  const inputs = a.model.populations.filter((p) => p.model === 'input');
  const outputs = a.model.populations.filter((p) => p.role === 'output' && p.model !== 'input');
  for (let n = 0; n < samples; n++) {
    for (const p of inputs) {
      const x = Float32Array.from({ length: p.size }, () => (rng.uniform() < 0.3 ? 0 : rng.uniform()));
      a.engine.setInput(p.index, x);
      b.engine.setInput(p.index, x);
    }
    for (const p of outputs) {
      const y = Float32Array.from({ length: p.size }, () => rng.uniform());
      a.engine.setTarget(p.index, nudge ? y : null);
      b.engine.setTarget(p.index, nudge ? y : null);
    }
    a.runtime.advance(steps, (k) => a.engine.step(k, { learn: false, nudge }));
    b.runtime.advance(steps, (k) => b.engine.step(k, { learn: false, nudge }));
    compareSides(a, b, `${image.manifest.chip.name}, sample ${n}`);
  }
  // The firmware changed the chip (so the comparisons above were not of untouched state).
  expect(chipBytes(a).equals(before)).toBe(false);
  for (const core of b.runtime.cores) {
    const p = b.runtime.processor(core) as TranslatedProcessor;
    expect(p).toBeInstanceOf(TranslatedProcessor);
    // Under ideal timing the learning loops ran translated; under cycle timing the runtime gives a
    // processor the cycles of one analog step per run() (1 to 3 on these presets), less than a
    // block, so the host steps nearly everything there.
    if (timing === 'ideal') expect(p.stats.hostSteps).toBeLessThan(p.instructions / 5);
  }
}

describe('firmware-models/le.s through the firmware runtime', () => {
  it('ideal chip, ideal timing: the golden network', () => {
    const f = loadFixture('le-small');
    const image = compileFor(goldenDescription(f), 'ideal');
    const { a, b } = pair(image, {}, 'ideal');
    drive(image, a, b, 4, 20, 1);
  });
  it('ideal chip, random feedback, cycle timing', () => {
    const image = compileFor(smallNet({ feedback: 'random', sizes: [40, 70, 5] }), 'ideal');
    const { a, b } = pair(image, {}, 'cycle');
    // A pass over the 40 x 70 block takes about 1500 cycles, one analog step each on ideal.
    drive(image, a, b, 2, 2000, 2, true, 'cycle');
  });
  for (const timing of ['ideal', 'cycle'] as const) {
    it(`bss2 (6-bit codes, sign per row), ${timing} timing, with ADC read noise`, () => {
      const image = compileFor(smallNet({ sizes: [30, 80, 6] }), 'bss2');
      const { a, b } = pair(image, { chipSeed: 3, noise: { adc_lsb: 0.5 } }, timing);
      drive(image, a, b, 3, timing === 'cycle' ? 400 : 20, 3, true, timing);
    });
  }
  it('spikey (sign per synapse), ideal timing', () => {
    const image = compileFor(smallNet({ sizes: [20, 30, 4], feedback: 'random' }), 'spikey');
    const { a, b } = pair(image, { chipSeed: 2 }, 'ideal');
    drive(image, a, b, 3, 20, 4);
  });
});

describe('firmware-models/tau-adapt.s through the firmware runtime', () => {
  for (const chipName of ['ideal', 'bss2'] as const) {
    it(`${chipName}: trims adapted identically`, () => {
      const base = compileFor(smallNet({ sizes: [10, 20, 4], activation: 'hardsigmoid', scale: 2 }), chipName);
      const model = realiseModel(base, {});
      const records = new Map<number, ReturnType<typeof recordsOf> extends Map<number, infer R> ? R : never>();
      model.populations.forEach((p, pi) => {
        if (p.model === 'input') return;
        for (const [core, recs] of recordsOf(base, pi, 200)) records.set(core, [...(records.get(core) ?? []), ...recs]);
      });
      const image = tauAdaptImage(base, records, model.dt_ms);
      const { a, b } = pair(image, { chipSeed: 1 }, 'ideal');
      drive(image, a, b, 3, 30, 5, false);
    });
  }
});

describe('firmware through the runtime with the fast bus (state in the engine\'s memory, kernels\' table)', () => {
  it('le.s, ideal, the golden network', () => {
    const f = loadFixture('le-small');
    const image = compileFor(goldenDescription(f), 'ideal');
    const { a, b } = pair(image, {}, 'ideal', true);
    drive(image, a, b, 4, 20, 1);
    // Transpose feedback writes are dropped and counted by the kernels too: no transfer goes to the host.
    for (const core of b.runtime.cores) expect((b.runtime.processor(core) as TranslatedProcessor).stats.hostBusCalls).toBe(0);
  });
  for (const [ni, nh, no] of [[40, 72, 8], [40, 70, 5]]) {
    it(`le.s, ideal, ${ni}-${nh}-${no}: every row-segment update of float and transpose feedback rows runs fused, the rows' last, partial segments too`, () => {
      // Each row ends in a segment of nh % 32 or no lanes (8, 8 / 6, 5: lane by lane); the mirror of h -> out has no rows of nh columns.
      const image = compileFor(smallNet({ sizes: [ni, nh, no] }), 'ideal');
      const { a, b } = pair(image, {}, 'ideal', true);
      drive(image, a, b, 3, 20, 8);
      const total = { float: 0, feedback: 0, unfused: 0 };
      for (const core of b.runtime.cores) {
        const c = (b.runtime.processor(core) as TranslatedProcessor).fusedPathCounts()!;
        for (const k of ['float', 'feedback', 'unfused'] as const) total[k] += c[k];
      }
      // Every segment of every block runs with the loops exchanged (fused-nest.ts): per pass ni rows
      // x 3 segments, nh rows x 1 and the no mirror rows x 3; none of the row loop's own updates.
      expect(total.unfused).toBe(0);
      // The listing of the rows that carried a value (fused-listing.ts) ran fused: all but one of the ni input rows per pass on core 0.
      const listed = b.runtime.cores.reduce((a, core) => a + (b.runtime.processor(core) as TranslatedProcessor).fusedListingIterations(), 0);
      expect(listed).toBeGreaterThanOrEqual(50 * (ni - 1));
      const nested = b.runtime.cores.reduce((a, core) => a + (b.runtime.processor(core) as TranslatedProcessor).fusedNestUpdates(), 0);
      expect(nested).toBeGreaterThanOrEqual(30 * (3 * ni + nh + 3 * no));
      expect(total.float + total.feedback).toBeLessThan(nested / 20);
    });
  }
  it('le.s, ideal, random feedback, several cores', () => {
    const image = compileFor(smallNet({ feedback: 'random', sizes: [40, 70, 5] }), 'ideal', { cores: 2 });
    const { a, b } = pair(image, {}, 'ideal', true);
    drive(image, a, b, 3, 20, 6);
  });
  for (const noise of [0, 0.5]) {
    it(`le.s, bss2${noise ? ', ADC read noise' : ''}`, () => {
      const image = compileFor(smallNet({ sizes: [30, 80, 6] }), 'bss2');
      const { a, b } = pair(image, { chipSeed: 3, noise: { adc_lsb: noise } }, 'ideal', true);
      drive(image, a, b, 3, 20, 7);
    });
  }
  it('tau-adapt.s, ideal', () => {
    const base = compileFor(smallNet({ sizes: [10, 20, 4], activation: 'hardsigmoid', scale: 2 }), 'ideal');
    const model = realiseModel(base, {});
    const records = new Map<number, ReturnType<typeof recordsOf> extends Map<number, infer R> ? R : never>();
    model.populations.forEach((p, pi) => {
      if (p.model === 'input') return;
      for (const [core, recs] of recordsOf(base, pi, 200)) records.set(core, [...(records.get(core) ?? []), ...recs]);
    });
    const image = tauAdaptImage(base, records, model.dt_ms);
    const { a, b } = pair(image, { chipSeed: 1 }, 'ideal', true);
    drive(image, a, b, 3, 30, 5, false);
  });
});
