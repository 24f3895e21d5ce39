import { describe, expect, it } from 'vitest';
import { prepareFirmwareTraining } from '../../bench/firmware-training.js';
import { firmwareChipsBenchmark } from '../../bench/le-firmware-bench.js';
import { isSkipped } from '../../bench/native.js';
import type { Runner } from '../../bench/types.js';

// Two chip instances of the firmware training run, one per worker thread, started together:
// the many-chips benchmark. Its instances must train exactly as one instance on the host thread.
describe('firmware benchmark on two chips at once', () => {
  it('runs the rounds together and trains each chip exactly as one chip alone', async () => {
    const samples = 2;
    const runs = 2;
    const b = firmwareChipsBenchmark('mnist', 2, { samples, warmupSamples: 0 });
    expect(b.threads).toBe(2);
    expect(b.baseline).toBe('le-mlp-784-300-100-10-train-firmware-translated-mnist');
    const prepared = await b.prepare!({ runs, quick: true, log: () => {} });
    if (isSkipped(prepared)) throw new Error(`skipped: ${prepared.skipped}`);
    const r = prepared as Runner;
    const rates = [await r.run(), await r.run()];
    for (const v of rates) expect(v).toBeGreaterThan(0);
    const info = r.info!() as { weights_identical_across_chips: boolean; weights_fnv1a: string[]; per_chip_steps_per_s: number[][] };
    expect(info.per_chip_steps_per_s.map((x) => x.length)).toEqual([runs, runs]);
    expect(info.weights_identical_across_chips).toBe(true);

    // The same image, samples and rounds on the host thread: the same weights, byte for byte.
    const alone = await prepareFirmwareTraining({ inputs: 'mnist', samples, warmupSamples: 0 });
    if (isSkipped(alone)) throw new Error(`skipped: ${alone.skipped}`);
    const before = alone.weightsDigest().fnv1a;
    for (let k = 0; k < runs; k++) alone.present(samples);
    const after = alone.weightsDigest().fnv1a;
    expect(after).not.toBe(before); // the firmware learned something the digest sees
    expect(info.weights_fnv1a).toEqual([after, after]);
  }, 120_000);
});
