/**
 * Eight clients at once, each on its own chip instance (chip seed), through one server: every
 * recording, readout and weight matrix is identical, bit for bit, to an in-process run with the
 * same seeds. The experiment below is written once against the Chip interface and run twice,
 * switching by one line, as a user's experiment would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Chip } from '../../emulator/chip-interface.js';
import { connectChip } from '../../emulator/hil/client.js';
import { startServer, type HilServer } from '../../emulator/hil/server.js';
import { hilChipFactory, hilImage } from './chips.js';
import { canonicalBytes } from './helpers.js';

const image = await hilImage();
let server: HilServer;

beforeAll(async () => {
  server = await startServer({ createChip: hilChipFactory });
});
afterAll(async () => {
  await server?.close();
});

/** One experiment: run, learn from a few samples, read back everything. */
async function experiment(chip: Chip, chipSeed: number) {
  const m = await chip.load(image.bytes);
  // Ideal processor timing: the firmware completes its passes within these short runs (under cycle
  // timing bss2's processors need longer than 2 ms for one), so the weights really learn.
  await chip.configure({ chipSeed, seed: 100 + chipSeed, processorTiming: 'ideal' });
  const input = m.populations.find((p) => p.role === 'input')!;
  const output = m.populations.find((p) => p.role === 'output')!;
  const hidden = m.populations.filter((p) => p.role !== 'input').map((p) => p.name);
  const wave = (k: number) => Array.from({ length: input.size }, (_, i) => Math.fround(0.5 + 0.4 * Math.sin(0.7 * i + k + chipSeed)));
  const target = (k: number) => Array.from({ length: output.size }, (_, i) => Math.fround(0.3 * Math.cos(i + k)));
  await chip.writeInputs({ [input.name]: [{ t: 0, value: wave(0) }, { t: image.durationMs / 2, value: wave(1) }] }, { [output.name]: [{ t: 0, value: target(0) }] });
  const initialWeights = await chip.readWeights(0);
  const before = await chip.run({ durationMs: image.durationMs, record: hidden, sampleEveryMs: image.durationMs / 5 });
  const afterLearning = await chip.run({ durationMs: image.durationMs, record: [output.name], learn: true });
  // A few learning samples through PRESENT, then the weights they left.
  const count = 4;
  const inputs = new Float32Array(count * input.size).map((_, j) => wave(j)[j % input.size]);
  const targets = new Float32Array(count * output.size).map((_, j) => target(j)[j % output.size]);
  const readout = await chip.present({ inputs, inputSize: input.size, targets, count, tPresMs: image.tPresMs, learn: true, readout: output.name });
  const weights = [];
  for (const p of m.projections) weights.push(await chip.readWeights(p.index));
  const params = await chip.readParameters(output.name);
  const time = chip.time();
  await chip.close();
  return { initialWeights, before, afterLearning, readout, weights, params, time };
}

describe('eight concurrent clients', () => {
  it('get results byte for byte identical to in-process runs with the same seeds', async () => {
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
    const remote = await Promise.all(seeds.map(async (s) => experiment(await connectChip({ port: server.port }), s)));
    const local = [];
    for (const s of seeds) local.push(await experiment(await hilChipFactory(), s));
    for (let k = 0; k < seeds.length; k++) {
      expect(canonicalBytes(remote[k]).equals(canonicalBytes(local[k])), `chip seed ${seeds[k]}`).toBe(true);
    }
    // The instances really differ (so identity is not trivially true of identical chips).
    expect(canonicalBytes(local[0].weights).equals(canonicalBytes(local[1].weights))).toBe(false);
    // Learning moved the weights, so the comparison covers what the plasticity left behind.
    for (const r of local) expect(canonicalBytes(r.initialWeights).equals(canonicalBytes(r.weights[0]))).toBe(false);
    expect(local[0].time.t_bio_ms).toBeGreaterThan(0);
    expect(local[0].before.t_bio_ms.length).toBe(5);
  });
});
