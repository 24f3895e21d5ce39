/**
 * The pool of chip instances (emulator/threads/pool.ts): tasks on worker threads give exactly the
 * results of running the same tasks serially in this thread (bit patterns of every recorded value
 * and readout), in task order; different chip seeds do give different results (so a mix-up would
 * show); a user mistake in one task comes back as a UserError; a task module that is not there is
 * reported.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeImage } from '../../chip/image.js';
import { loadChip } from '../../chip/presets.js';
import { UserError } from '../../common/diagnostics.js';
import { projectRoot } from '../../common/paths.js';
import { compile } from '../../compiler/compile.js';
import { runChipTask, type ChipTask, type ChipTaskResult } from '../../emulator/threads/chip-task.js';
import { runInstances } from '../../emulator/threads/pool.js';
import { ensureSharedKernels } from './shared-build.js';

beforeAll(ensureSharedKernels, 180_000);

/** examples/small.json compiled for bss2 (mismatch differs between chip seeds). */
function image(): Uint8Array {
  const text = readFileSync(join(projectRoot(), 'examples', 'small.json'), 'utf8');
  return encodeImage(compile(text, { chip: loadChip('bss2'), seed: 1 }).image);
}

/** A task per chip seed: a run with a schedule, training by present(), the weights read back. */
function tasks(img: Uint8Array, seeds: number[]): ChipTask[] {
  const x = Float32Array.from({ length: 12 * 3 }, (_, i) => Math.sin(i));
  const y = Float32Array.from({ length: 12 * 2 }, (_, i) => (i % 3) / 2);
  return seeds.map((chipSeed) => ({
    image: img,
    config: { chipSeed, seed: 7 },
    actions: [
      { kind: 'writeInputs', inputs: { in: [{ t: 0, value: [0.2, -0.1, 0.4] }, { t: 2, value: [0.5, 0.5, -0.3] }] } },
      { kind: 'run', options: { durationMs: 5, record: ['hidden', 'out'], sampleEveryMs: 0.5 } },
      { kind: 'present', options: { inputs: x, inputSize: 3, targets: y, count: 12, tPresMs: 1, learn: true, readout: 'out' } },
      { kind: 'readWeights', projection: 0 },
    ],
  }));
}

/** The bit patterns of every number in a task result. */
function bits(r: ChipTaskResult): number[] {
  const out: number[] = [];
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const d = new Float64Array(1);
  const du = new Uint32Array(d.buffer);
  const walk = (v: unknown): void => {
    if (v instanceof Float32Array) for (const x of v) { f[0] = x; out.push(u[0]); }
    else if (typeof v === 'number') { d[0] = v; out.push(du[0], du[1]); }
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') for (const k of Object.keys(v).sort()) walk((v as Record<string, unknown>)[k]);
  };
  walk(r.results);
  walk(r.t_bio_ms);
  return out;
}

describe('runInstances', () => {
  it('chip instances on 2 worker threads give the serial results, in task order', async () => {
    const img = image();
    const seeds = [3, 1, 4, 1, 5];
    const serial: ChipTaskResult[] = [];
    for (const t of tasks(img, seeds)) serial.push(await runChipTask(t));
    const seen: number[] = [];
    const pooled = await runInstances<ChipTask, ChipTaskResult>(tasks(img, seeds), { workers: 2, onResult: (i) => seen.push(i) });
    expect(pooled.map(bits)).toEqual(serial.map(bits));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
    // different instances differ; the same seed twice is the same instance
    expect(bits(serial[0])).not.toEqual(bits(serial[1]));
    expect(bits(serial[1])).toEqual(bits(serial[3]));
    // the run recorded what was asked for
    const rec = serial[0].results[1] as { t_bio_ms: number[]; record: Record<string, { r: number[][] }> };
    expect(rec.t_bio_ms.length).toBe(10);
    expect(rec.record.out.r[0].length).toBe(2);
  });

  it('a user mistake in one task comes back as a UserError; no tasks, no workers', async () => {
    const [good, bad] = tasks(image(), [1, 2]);
    bad.config = { ...bad.config, dtMs: -1 };
    await expect(runInstances([good, bad], { workers: 2 })).rejects.toBeInstanceOf(UserError);
    await expect(runInstances([good, bad], { workers: 2 })).rejects.toThrow(/dt must be a number of biological ms greater than 0/);
    expect(await runInstances([], { workers: 2 })).toEqual([]);
  });

  it('reports a task module that cannot be loaded', async () => {
    await expect(runInstances([1], { module: join(projectRoot(), 'no-such-module.js') })).rejects.toThrow(/could not load the task module/);
  });
});
