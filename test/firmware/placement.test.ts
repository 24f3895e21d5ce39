/**
 * Placement does not change what the emulated ideal chip computes: the same network compiled
 * 'pack' (one core) and 'spread' (its hidden population's columns over three cores, each core's
 * plasticity processor running le.s over its own rows) learns bit-identical float32 weights and
 * biases with the firmware doing the learning, and gives identical outputs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChipImage } from '../../chip/image-model.js';
import { Rng } from '../../common/random.js';
import type { Chip } from '../../emulator/chip-interface.js';
import { ensureKernels } from '../kernels/kernels-build.js';
import { loadChip } from '../../chip/presets.js';
import { compile } from '../../compiler/compile.js';
import { chipWith, smallNet } from './helpers.js';

beforeAll(ensureKernels);

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

interface Run {
  manifest: ChipImage['manifest'];
  w: Buffer[];
  b: Buffer[];
  trainOut: Buffer;
  testOut: Buffer;
  instructions: number;
}

/** Compiles `net` with a placement, trains `count` random samples with the firmware learning, then tests them. */
async function trainAndTest(net: string, placement: 'pack' | 'spread', cores: number | 'auto', count: number, tPresMs: number): Promise<Run> {
  const image = compile(net, { chip: loadChip('ideal'), cores, placement, seed: 1 }).image;
  const m = image.manifest;
  const inPop = m.populations.find((p) => p.role === 'input')!;
  const outPop = m.populations.find((p) => p.role === 'output')!;
  const rng = new Rng(11, 'placement');
  const inputs = Float32Array.from({ length: inPop.size * count }, () => rng.uniform());
  const targets = Float32Array.from({ length: outPop.size * count }, () => rng.uniform() - 0.5);
  const chip: Chip = await chipWith(image, { plasticity: 'firmware' });
  try {
    const before = bits((await chip.readWeights(0)).slice());
    const trainOut = await chip.present({ inputs, inputSize: inPop.size, targets, count, tPresMs, learn: true, readout: outPop.name });
    const testOut = await chip.present({ inputs, inputSize: inPop.size, count, tPresMs, learn: false, readout: outPop.name });
    const w: Buffer[] = [];
    for (let p = 0; p < m.projections.length; p++) w.push(bits(await chip.readWeights(p)));
    const b: Buffer[] = [];
    for (const p of m.populations) if (p.role !== 'input') b.push(bits((await chip.readParameters(p.name)).bias));
    const report = chip.processorReport?.();
    expect(report?.plasticity).toBe('firmware');
    expect(w[0].equals(before), 'the firmware changed the weights').toBe(false);
    return { manifest: m, w, b, trainOut: bits(trainOut), testOut: bits(testOut), instructions: report?.instructions ?? 0 };
  } finally {
    await chip.close();
  }
}

function expectSame(a: Run, b: Run): void {
  expect(a.instructions).toBeGreaterThan(0);
  expect(b.instructions).toBeGreaterThan(0);
  a.w.forEach((w, p) => expect(w.equals(b.w[p]), `weights of projection ${p}`).toBe(true));
  a.b.forEach((x, p) => expect(x.equals(b.b[p]), `biases of non-input population ${p}`).toBe(true));
  expect(a.trainOut.equals(b.trainOut), 'outputs while learning').toBe(true);
  expect(a.testOut.equals(b.testOut), 'test outputs').toBe(true);
}

describe('placement on the emulated ideal chip', () => {
  it("'pack' and 'spread' (3 cores) learn bit-identical weights and biases with le.s, and give identical outputs", async () => {
    const net = JSON.stringify(smallNet({ sizes: [40, 36, 5] }));
    const packed = await trainAndTest(net, 'pack', 'auto', 12, 0.2);
    const spread = await trainAndTest(net, 'spread', 3, 12, 0.2);
    // The placements really differ: pack puts everything on core 0; spread cuts h over the three cores.
    expect(packed.manifest.system.cores_used).toBe(1);
    expect(spread.manifest.system.cores_used).toBe(3);
    expect(spread.manifest.firmware?.cores?.map((c) => c.core)).toEqual([0, 1, 2]);
    expect(new Set(spread.manifest.populations.find((p) => p.name === 'h')!.columns.map((c) => c.core)).size).toBe(3);
    expectSame(packed, spread);
  });

  it('examples/mnist-mlp.json: pack on 2 cores and spread on 3, a few samples: the same bits', async () => {
    const net = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'mnist-mlp.json'), 'utf8');
    const packed = await trainAndTest(net, 'pack', 2, 3, 0.2);
    const spread = await trainAndTest(net, 'spread', 3, 3, 0.2);
    expect(spread.manifest.populations.find((p) => p.name === 'h1')!.columns.map((c) => [c.core, c.count])).toEqual([[0, 152], [1, 148]]);
    expectSame(packed, spread);
  });
});
