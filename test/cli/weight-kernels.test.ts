/**
 * `--weight-kernels auto|float|int8` through the real CLI: training on a fixed-point chip (bss2,
 * firmware plasticity) gives the same losses and accuracy on int8 codes as on floats, and a bad
 * value is a malformed command line (exit 2).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lechip, oneJson, ROOT, scratch } from './helpers.js';

const s = scratch({ 'small.json': readFileSync(join(ROOT, 'examples', 'small.json'), 'utf8') });
afterAll(() => s.done());

describe('--weight-kernels', () => {
  it('train on bss2 learns the same with int8 and float kernels', async () => {
    const xs = Array.from({ length: 16 }, (_, i) => [((i * 7) % 10) / 10, ((i * 3) % 10) / 10, 0.5]);
    const labels = xs.map(([a, b]) => (b > a ? 1 : 0));
    writeFileSync(join(s.dir, 'data.json'), JSON.stringify({ inputs: xs.slice(0, 10), labels: labels.slice(0, 10), test: { inputs: xs.slice(10), labels: labels.slice(10) } }));
    const args = ['train', 'small.json', '--chip', 'bss2', '--chip-seed', '2', '--processor-timing', 'ideal', '--dataset', 'data.json', '--samples', '10', '--json'];
    const runs = [];
    for (const mode of ['int8', 'float', 'auto']) {
      const r = await lechip([...args, '--weight-kernels', mode], s.dir);
      expect(r.code, `${mode}: ${r.stderr}`).toBe(0);
      runs.push(oneJson(r.stdout));
    }
    for (const b of runs.slice(1)) {
      expect(b.test_loss).toBe(runs[0].test_loss);
      expect(b.test_accuracy).toBe(runs[0].test_accuracy);
      expect(b.per_epoch.map((e: any) => e.test_loss)).toEqual(runs[0].per_epoch.map((e: any) => e.test_loss));
    }
  });

  it('a value other than auto, float or int8 exits 2 naming the choices', async () => {
    const r = await lechip(['train', 'small.json', '--dataset', 'data.json', '--weight-kernels', 'int4'], s.dir);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("argument 'int4' is invalid. Allowed choices are auto, float, int8.");
    const help = await lechip(['train', '--help'], s.dir);
    expect(help.stdout).toMatch(/--weight-kernels <mode>\s+synapse-array products on fixed-point chips/);
  });
});
