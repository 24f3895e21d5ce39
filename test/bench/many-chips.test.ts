import { describe, expect, it } from 'vitest';
import { manyChipsBenchmark } from '../../bench/many-chips-bench.js';
import type { ChipsRun } from '../../bench/many-chips-task.js';
import { isSkipped } from '../../bench/native.js';
import { prepareEngineTraining, prepareFirmwareTraining, type TrainingRun } from '../../bench/training-runs.js';
import type { Runner } from '../../bench/types.js';

// Two chip instances of a training run, one per worker thread, started together: the many-chips
// benchmarks. Each instance must train exactly as one instance on the host thread.
const cases: { run: ChipsRun; single: string; perRound: number; alone: (samples: number) => Promise<TrainingRun | { skipped: string }> }[] = [
  {
    run: 'firmware-mnist',
    single: 'le-mlp-784-300-100-10-train-firmware-translated-mnist',
    perRound: 3, // more than the bank: the bank's samples come round again
    alone: (samples) => prepareFirmwareTraining({ inputs: 'mnist', samples, warmupSamples: 0 }),
  },
  {
    run: 'engine-dense',
    single: 'le-mlp-784-300-100-10-train',
    perRound: 2,
    alone: async (samples) => prepareEngineTraining({ samples, warmupSamples: 0 }),
  },
];

describe('many chips at once (one per worker thread)', () => {
  for (const c of cases) {
    it(`${c.run}: rounds run together and each chip trains exactly as one chip alone`, async () => {
      const samples = 2;
      const runs = 2;
      const b = manyChipsBenchmark(c.run, 2, { samples, perRound: c.perRound, warmupSamples: 0 });
      expect(b.threads).toBe(2);
      expect(b.baseline).toBe(c.single);
      expect(b.name).toBe(`${c.single}-2chips`);
      const prepared = await b.prepare!({ runs, quick: true, log: () => {} });
      if (isSkipped(prepared)) throw new Error(`skipped: ${prepared.skipped}`);
      const r = prepared as Runner;
      try {
        for (let k = 0; k < runs; k++) expect(await r.run()).toBeGreaterThan(0);
        const info = r.info!() as { weights_identical_across_chips: boolean; weights_fnv1a: string[]; per_chip_steps_per_s: number[][] };
        expect(info.per_chip_steps_per_s.map((x) => x.length)).toEqual([runs, runs]);
        expect(info.weights_identical_across_chips).toBe(true);

        // The same samples and rounds on the host thread: the same weights, byte for byte.
        const alone = await c.alone(samples);
        if (isSkipped(alone)) throw new Error(`skipped: ${alone.skipped}`);
        const before = alone.weightsDigest().fnv1a;
        for (let k = 0; k < runs; k++) {
          alone.beforeRun?.();
          alone.present(c.perRound);
        }
        const after = alone.weightsDigest().fnv1a;
        expect(after).not.toBe(before); // learning changed what the digest sees
        expect(info.weights_fnv1a).toEqual([after, after]);
      } finally {
        await r.close?.();
      }
    }, 120_000);
  }

  it('stops instances still waiting for rounds when the suite closes early', async () => {
    const b = manyChipsBenchmark('engine-dense', 2, { samples: 1, warmupSamples: 0 });
    const r = (await b.prepare!({ runs: 3, quick: true, log: () => {} })) as Runner;
    expect(await r.run()).toBeGreaterThan(0);
    const t0 = Date.now();
    await r.close!();
    expect(Date.now() - t0).toBeLessThan(5_000);
  }, 60_000);
});
