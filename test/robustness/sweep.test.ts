/**
 * `lechip robustness` end to end on a small chip and dataset: the CSV and JSON shapes, the same CSV
 * bytes with one or two worker threads, resuming (a rerun skips finished cells and the result equals
 * a fresh run), refusing to resume into other settings, and the plot being a valid SVG.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import { lechip, ROOT, scratch, userErrorLines } from '../cli/helpers.js';

// A bss2-like chip with 16 columns and 32 rows per core, so that calibrating it takes a moment.
const bss2 = JSON.parse(readFileSync(join(ROOT, 'chip', 'presets', 'bss2.json'), 'utf8'));
const tiny = { ...bss2, name: 'tiny', core: { neurons: 16, rows: 32 }, cores_per_chip: 1, default_cores: 1 };

// Two classes of 3-d inputs: is x0 + x1 above x2 + 0.5?
function dataset(n: number, seed: number) {
  const rng = new Rng(seed, 'sweep-data');
  const inputs: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = [rng.uniform(), rng.uniform(), rng.uniform()];
    inputs.push(x);
    labels.push(x[0] + x[1] > x[2] + 0.5 ? 1 : 0);
  }
  return { inputs, labels };
}
/** examples/small.json with a hard-sigmoid hidden layer biased into its linear region (what tau-adapt.s's rule assumes). */
function hardSigmoidSmall() {
  const n = JSON.parse(readFileSync(join(ROOT, 'examples', 'small.json'), 'utf8'));
  n.populations.hidden.neuron.activation = 'hardsigmoid';
  n.populations.hidden.bias = [0.5, 0.45, 0.55, 0.5];
  return n;
}

const train = dataset(120, 1);
const test = dataset(60, 2);
const s = scratch({
  'tiny.json': JSON.stringify(tiny),
  'small.json': JSON.stringify(hardSigmoidSmall()),
  'data.json': JSON.stringify({ ...train, test }),
});
afterAll(() => s.done());

// The engine's tau adaptation here (exact and quick); the firmware's is tested in tau-adapt-firmware.test.ts.
const base = ['robustness', 'small.json', '--dataset', 'data.json', '--chip', 'tiny.json', '--chip-seeds', '2', '--tau-adapt-samples', '40', '--tau-adapt-eta', '5', '--tau-adapt-by', 'engine', '--json'];

describe('lechip robustness', () => {
  let first: { out: string; files: string[]; summary: { condition: string; mismatch_scale: number; seeds: number; accuracy_mean: number }[] };

  it('runs every cell and writes results.json, results.csv and a valid SVG plot', async () => {
    const r = await lechip([...base, '--mismatch-scale', '0,1', '--out', 'a', '--workers', '2'], s.dir);
    expect(r.code, r.stderr).toBe(0);
    first = JSON.parse(r.stdout);
    expect(first.files.map((f) => f.split('/').pop())).toEqual(['results.json', 'results.csv', 'accuracy-vs-mismatch.svg']);
    // 2 scales x 2 seeds x 4 conditions
    const json = JSON.parse(readFileSync(join(s.dir, 'a', 'results.json'), 'utf8'));
    expect(json.format).toBe('lechip/robustness@1');
    expect(json.cells).toHaveLength(16);
    for (const c of json.cells) {
      expect(c.test_accuracy).toBeGreaterThanOrEqual(0);
      expect(c.test_samples).toBe(60);
      expect(c.train_samples).toBe(120);
      expect(c.calibration !== null).toBe(c.condition === 'calibrated' || c.condition === 'both');
      expect(c.tau_adaptation !== null).toBe(c.condition === 'tau-adapted' || c.condition === 'both');
    }
    // at scale 1 the calibration measured real spreads and shrank them; tau adaptation closed the gap
    const cal = json.cells.find((c: { condition: string; mismatch_scale: number }) => c.condition === 'calibrated' && c.mismatch_scale === 1);
    expect(cal.calibration.tau_m.after).toBeLessThan(0.3 * cal.calibration.tau_m.before);
    const ad = json.cells.find((c: { condition: string; mismatch_scale: number }) => c.condition === 'tau-adapted' && c.mismatch_scale === 1);
    expect(ad.tau_adaptation.gap_after_ms).toBeLessThan(0.1 * ad.tau_adaptation.gap_before_ms);
    const csv = readFileSync(join(s.dir, 'a', 'results.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('mismatch_scale,chip_seed,condition,t_pres_ms,tau_s_ms,dt_ms,test_accuracy,test_loss,train_samples,test_samples,tau_gap_before_ms,tau_gap_after_ms,calib_tau_m_after,calib_gain_after');
    expect(csv).toHaveLength(17);
    expect(csv.slice(1).every((l) => l.split(',').length === 14)).toBe(true);
    expect(first.summary).toHaveLength(8);
    expect(first.summary.every((g) => g.seeds === 2)).toBe(true);
    const svg = readFileSync(join(s.dir, 'a', 'accuracy-vs-mismatch.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(wellFormed(svg)).toBe(true);
    for (const label of ['mismatch scale', 'test accuracy (%)', 'raw', 'calibrated', 'tau-adapted', 'both']) expect(svg).toContain(label);
  }, 120_000);

  it('gives the same CSV bytes on one worker thread', async () => {
    const r = await lechip([...base, '--mismatch-scale', '0,1', '--out', 'b', '--workers', '1'], s.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(s.dir, 'b', 'results.csv'), 'utf8')).toBe(readFileSync(join(s.dir, 'a', 'results.csv'), 'utf8'));
  }, 120_000);

  it('resumes: a rerun after an interrupted sweep runs only the missing cells, and the results equal a fresh run', async () => {
    // An interrupted sweep: the first run finished scale 0 only.
    const r1 = await lechip([...base, '--mismatch-scale', '0,1', '--out', 'c', '--conditions', 'raw,both'], s.dir);
    expect(r1.code, r1.stderr).toBe(0);
    const full = readFileSync(join(s.dir, 'c', 'results.csv'), 'utf8');
    const json = JSON.parse(readFileSync(join(s.dir, 'c', 'results.json'), 'utf8'));
    json.cells = json.cells.filter((c: { mismatch_scale: number }) => c.mismatch_scale === 0);
    writeFileSync(join(s.dir, 'c', 'results.json'), JSON.stringify(json));
    const r2 = await lechip([...base, '--mismatch-scale', '0,1', '--out', 'c', '--conditions', 'raw,both'], s.dir);
    expect(r2.code, r2.stderr).toBe(0);
    expect(JSON.parse(r2.stdout)).toMatchObject({ cells: 8, ran: 4, skipped: 4 });
    expect(r2.stderr).toMatch(/4 already done/);
    expect(readFileSync(join(s.dir, 'c', 'results.csv'), 'utf8')).toBe(full);
    // Everything done: nothing runs.
    const r3 = await lechip([...base, '--mismatch-scale', '0,1', '--out', 'c', '--conditions', 'raw,both'], s.dir);
    expect(JSON.parse(r3.stdout)).toMatchObject({ ran: 0, skipped: 8 });
  }, 120_000);

  it('refuses to resume into results made with other settings', async () => {
    const r = await lechip([...base, '--mismatch-scale', '0,1', '--out', 'c', '--conditions', 'raw,both', '--seed', '2'], s.dir);
    const lines = userErrorLines(r);
    expect(lines.join('\n')).toMatch(/results\.json: \/settings: cannot resume: this sweep was run with other settings \(seed differ\)/);
  });
});

/** True when every element opened in the SVG is closed in order (a minimal XML well-formedness check). */
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([A-Za-z][\w:.-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name);
  }
  return stack.length === 0;
}
