/**
 * A teacher-student regression learned on chip by the firmware (lechip train, the CLI as users run
 * it): the student of examples/teacher-student.json learns a random tanh teacher's function to a
 * test loss under 10 % of the targets' variance; untrained it is far off. The exact-backprop
 * reference (--reference backprop) learns the same task from the same start with the same budget.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lechip, oneJson, ROOT, scratch } from '../cli/helpers.js';
import { targetVariance, teacherDataset } from './teacher.js';

const s = scratch();
afterAll(() => s.done());
const data = teacherDataset(7, 1000, 300);
writeFileSync(join(s.dir, 'teacher.json'), JSON.stringify(data));
copyFileSync(join(ROOT, 'examples', 'teacher-student.json'), join(s.dir, 'student.json'));
const variance = targetVariance(data.test.targets);

describe('teacher-student regression on chip', () => {
  it('the firmware learns the teacher to a test loss under 10 % of the targets\' variance (ideal chip)', async () => {
    const untrained = await lechip(['train', 'student.json', '--dataset', 'teacher.json', '--samples', '1', '--json'], s.dir);
    expect(untrained.code, untrained.stderr).toBe(0);
    expect(oneJson(untrained.stdout).test_loss).toBeGreaterThan(0.5 * variance);

    const r = await lechip(['train', 'student.json', '--dataset', 'teacher.json', '--json'], s.dir);
    expect(r.code, r.stderr).toBe(0);
    const out = oneJson(r.stdout);
    expect(out).toMatchObject({ train_samples: 1000, test_samples: 300, plasticity: 'firmware', processor_timing: 'ideal', test_accuracy: null });
    // Ideal timing: one full pass after every step, 20 steps per sample.
    expect(out.plasticity_updates_per_sample).toBe(20);
    expect(out.processor_cycles).toBeGreaterThan(0);
    expect(out.test_loss).toBeLessThan(0.1 * variance);

    const ref = await lechip(['train', 'student.json', '--dataset', 'teacher.json', '--reference', 'backprop', '--json'], s.dir);
    expect(ref.code, ref.stderr).toBe(0);
    const bp = oneJson(ref.stdout);
    expect(bp.reference).toBe('backprop');
    expect(bp.test_loss).toBeLessThan(0.1 * variance);
  });
});
