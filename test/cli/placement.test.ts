/**
 * `--placement pack|spread` through the real CLI: compile reports the placement and the synapses
 * per core, pack is the default (the same image bytes), spread balances MNIST over 3 ideal cores,
 * train learns the same on either placement, and a bad value is a malformed command line (exit 2)
 * on every command that compiles a description and takes --cores.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lechip, oneJson, ROOT, scratch } from './helpers.js';

const s = scratch({
  'mnist-mlp.json': readFileSync(join(ROOT, 'examples', 'mnist-mlp.json'), 'utf8'),
  'small.json': readFileSync(join(ROOT, 'examples', 'small.json'), 'utf8'),
});
afterAll(() => s.done());

describe('--placement', () => {
  it('compile --json: pack by default (same bytes as --placement pack), spread balances MNIST over 3 ideal cores', async () => {
    const plain = oneJson((await lechip(['compile', 'mnist-mlp.json', '--cores', '2', '-o', 'plain.lechip', '--json'], s.dir)).stdout);
    const pack = oneJson((await lechip(['compile', 'mnist-mlp.json', '--cores', '2', '--placement', 'pack', '-o', 'pack.lechip', '--json'], s.dir)).stdout);
    expect(pack.image_sha256).toBe(plain.image_sha256);
    expect(plain.placement).toBe('pack');
    // h1 (884 rows: 784 pixels + 100 feedback errors) and out share core 0; h2 (310 rows) has core 1.
    expect(plain.usage).toEqual([
      { core: 0, rows: 984, cols: 310, synapses: 266200 },
      { core: 1, rows: 310, cols: 100, synapses: 31000 },
    ]);

    const r = await lechip(['compile', 'mnist-mlp.json', '--chip', 'ideal', '--cores', '3', '--placement', 'spread', '-o', 'spread.lechip', '--json'], s.dir);
    expect(r.code, r.stderr).toBe(0);
    const spread = oneJson(r.stdout);
    expect(spread).toMatchObject({ placement: 'spread', cores_used: 3, cores: 3 });
    expect(spread.usage).toEqual([
      { core: 0, rows: 884, cols: 152, synapses: 134368 },
      { core: 1, rows: 884, cols: 148, synapses: 130832 },
      { core: 2, rows: 410, cols: 110, synapses: 32000 },
    ]);
    expect(spread.image_sha256).not.toBe(plain.image_sha256);
    expect(r.stderr).toContain('3 of 3 cores used');
  });

  it('train learns the same on either placement (ideal chip, firmware plasticity)', async () => {
    const xs = Array.from({ length: 16 }, (_, i) => [((i * 7) % 10) / 10, ((i * 3) % 10) / 10, 0.5]);
    const labels = xs.map(([a, b]) => (b > a ? 1 : 0));
    writeFileSync(join(s.dir, 'data.json'), JSON.stringify({ inputs: xs.slice(0, 10), labels: labels.slice(0, 10), test: { inputs: xs.slice(10), labels: labels.slice(10) } }));
    const args = ['train', 'small.json', '--dataset', 'data.json', '--samples', '10', '--json'];
    const pack = await lechip(args, s.dir);
    const spread = await lechip([...args, '--cores', '2', '--placement', 'spread'], s.dir);
    expect(pack.code, pack.stderr).toBe(0);
    expect(spread.code, spread.stderr).toBe(0);
    const a = oneJson(pack.stdout);
    const b = oneJson(spread.stdout);
    expect(a.cores_used).toBe(1);
    expect(b.cores_used).toBe(2);
    expect(b.test_loss).toBe(a.test_loss);
    expect(b.test_accuracy).toBe(a.test_accuracy);
    expect(b.per_epoch.map((e: any) => [e.test_loss, e.test_accuracy])).toEqual(a.per_epoch.map((e: any) => [e.test_loss, e.test_accuracy]));
  });

  it('a value other than pack or spread exits 2 on compile, train, robustness and hil-train', async () => {
    const cases = [
      ['compile', 'small.json'],
      ['train', 'small.json', '--dataset', 'data.json'],
      ['robustness', 'small.json', '--dataset', 'data.json', '--mismatch-scale', '0', '--chip-seeds', '1'],
      ['hil-train', 'small.json', '--dataset', 'data.json'],
    ];
    for (const c of cases) {
      const r = await lechip([...c, '--placement', 'tight'], s.dir);
      expect(r.code, `${c[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain("argument 'tight' is invalid. Allowed choices are pack, spread.");
      const help = await lechip([c[0], '--help'], s.dir);
      expect(help.stdout).toMatch(/--placement <P>\s+how blocks go on cores/);
    }
  });
});
