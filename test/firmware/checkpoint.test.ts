/**
 * A training run stopped halfway at a checkpoint (--stop-after) and resumed ends with the same
 * weights, biases and chip state, byte for byte, as the uninterrupted run with the same seeds. On
 * bss2 under cycle timing, so the resumed state includes the processors (registers, memory,
 * per-lane random generators, ADC read noise), the neuron state and the membrane noise streams.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../common/diagnostics.js';
import { lechip, ROOT, scratch } from '../cli/helpers.js';
import { ensureKernels } from '../kernels/kernels-build.js';
import { chipWith, compileFor, smallNet } from './helpers.js';
import { teacherDataset } from './teacher.js';

beforeAll(ensureKernels);

const s = scratch();
afterAll(() => s.done());
writeFileSync(join(s.dir, 'teacher.json'), JSON.stringify(teacherDataset(3, 600, 100)));
copyFileSync(join(ROOT, 'examples', 'teacher-student.json'), join(s.dir, 'student.json'));

const readCheckpoint = (name: string) => JSON.parse(readFileSync(join(s.dir, name), 'utf8'));

describe('checkpoint and resume', () => {
  it('stopped halfway and resumed, training ends with the uninterrupted run\'s weights and state, byte for byte (bss2, cycle timing)', async () => {
    const base = ['train', 'student.json', '--dataset', 'teacher.json', '--chip', 'bss2', '--chip-seed', '1', '--seed', '5', '--epochs', '2', '--checkpoint-every', '200', '--json'];
    const whole = await lechip([...base, '--checkpoint', 'whole.ckpt'], s.dir);
    expect(whole.code, whole.stderr).toBe(0);

    const first = await lechip([...base, '--checkpoint', 'split.ckpt', '--stop-after', '700'], s.dir);
    expect(first.code, first.stderr).toBe(0);
    const stopped = JSON.parse(first.stdout);
    expect(stopped.stopped_at).toEqual({ epoch: 2, sample: 200 }); // 600 of epoch 1, then the checkpoint boundary at 200 of epoch 2
    expect(readCheckpoint('split.ckpt').position).toEqual({ epoch: 2, sample: 200 });

    const rest = await lechip([...base, '--checkpoint', 'split.ckpt'], s.dir);
    expect(rest.code, rest.stderr).toBe(0);
    const resumed = JSON.parse(rest.stdout);
    expect(resumed.resumed_at).toEqual({ epoch: 2, sample: 200 });
    const full = JSON.parse(whole.stdout);
    expect(resumed.test_loss).toBe(full.test_loss);
    expect(full.processor_timing).toBe('cycle');

    const a = readCheckpoint('whole.ckpt');
    const b = readCheckpoint('split.ckpt');
    expect(a.epochs_done).toBe(2);
    expect(b.epochs_done).toBe(2);
    expect(b.weights).toEqual(a.weights);
    expect(b.biases).toEqual(a.biases);
    expect(Buffer.compare(gunzipSync(Buffer.from(b.chip_state, 'base64')), gunzipSync(Buffer.from(a.chip_state, 'base64')))).toBe(0);
    expect(b.history.map((h: { test_loss: number }) => h.test_loss)).toEqual(a.history.map((h: { test_loss: number }) => h.test_loss));
  });

  it('a saved state does not restore onto a chip configured otherwise (a user error)', async () => {
    const image = compileFor(smallNet(), 'bss2');
    const a = await chipWith(image, { chipSeed: 1 });
    const state = await a.saveState!();
    const b = await chipWith(image, { chipSeed: 1, plasticity: 'kernel' });
    await expect(b.restoreState!(state)).rejects.toThrow(UserError);
    const c = await chipWith(image, { chipSeed: 1, noise: { rate: 0.1 } });
    await expect(c.restoreState!(state)).rejects.toThrow(/another network layout or configuration/);
    await expect(a.restoreState!(new Uint8Array([1, 2, 3]))).rejects.toThrow(/not readable/);
  });
});
