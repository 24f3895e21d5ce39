/**
 * `lechip calibrate` as a user runs it: --json prints the CONTRACT.md shape (chip, chip_seed, one
 * entry per mismatch parameter with unit, relative, spread_before and spread_after), progress goes
 * to stderr, the file it writes is accepted by run --calibration for that chip seed and refused,
 * naming both seeds, for another one.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lechip, ROOT, scratch, userErrorLines } from '../cli/helpers.js';

const s = scratch();
afterAll(() => s.done());

describe('lechip calibrate', () => {
  it('calibrates bss2 core 0, and run accepts the file for its own chip seed only', async () => {
    const r = await lechip(['calibrate', '--chip', 'bss2', '--chip-seed', '3', '--cores', '1', '-o', 'cal.json', '--json'], s.dir);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.chip).toBe('bss2');
    expect(out.chip_seed).toBe(3);
    expect(Object.keys(out.parameters).sort()).toEqual(['gain', 'offset', 'synapse_gain', 'tau_m', 'tau_r']);
    for (const [p, v] of Object.entries<{ unit: string; relative: boolean; spread_before: number; spread_after: number }>(out.parameters)) {
      expect(v.relative, p).toBe(p !== 'offset');
      expect(v.spread_after, p).toBeLessThan(0.3 * v.spread_before);
    }
    expect(out.parameters.tau_m.unit).toBe('us');
    expect(r.stderr).toMatch(/calibrate: measure raw/);
    const file = JSON.parse(readFileSync(join(s.dir, 'cal.json'), 'utf8'));
    expect(file.format).toBe('lechip/calibration@1');
    expect(file.trims).toHaveLength(1);

    copyFileSync(join(ROOT, 'examples', 'small.json'), join(s.dir, 'small.json'));
    copyFileSync(join(ROOT, 'examples', 'small-input.json'), join(s.dir, 'in.json'));
    expect((await lechip(['compile', 'small.json', '--chip', 'bss2', '-o', 'small.lechip'], s.dir)).code).toBe(0);
    const ok = await lechip(['run', 'small.lechip', '--input', 'in.json', '--chip-seed', '3', '--calibration', 'cal.json', '--json'], s.dir);
    expect(ok.code, ok.stderr).toBe(0);
    const raw = await lechip(['run', 'small.lechip', '--input', 'in.json', '--chip-seed', '3', '--json'], s.dir);
    expect(JSON.parse(ok.stdout).record.out.r).not.toEqual(JSON.parse(raw.stdout).record.out.r);
    const bad = await lechip(['run', 'small.lechip', '--input', 'in.json', '--chip-seed', '4', '--calibration', 'cal.json'], s.dir);
    const lines = userErrorLines(bad);
    expect(lines.join('\n')).toMatch(/cal\.json: \/chip_seed: .*chip seed 3.*chip seed 4/);
  }, 60_000);

  it('a missing -o is a malformed command line (exit 2); nothing is written', async () => {
    const r = await lechip(['calibrate', '--chip', 'bss2'], s.dir);
    expect(r.code).toBe(2);
    expect(existsSync(join(s.dir, 'CALIB.json'))).toBe(false);
  });
});
