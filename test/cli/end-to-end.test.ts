/**
 * compile → inspect → run on examples/small.json (chip ideal), and train on a tiny dataset, through
 * the real CLI. Values are checked against the network's forward function computed here by hand:
 * with tau_r = tau_m an LE neuron's output is phi(W r_pre + b + e) at once (RESEARCH.md §1), so
 * without targets the recorded rates equal the feed-forward pass one step per layer after a change.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lechip, oneJson, ROOT, scratch, userErrorLines } from './helpers.js';

const smallText = readFileSync(join(ROOT, 'examples', 'small.json'), 'utf8');
const small = JSON.parse(smallText);
const W1: number[][] = small.projections[0].weights;
const W2: number[][] = small.projections[1].weights;
const b1: number[] = small.populations.hidden.bias;

/** The feed-forward pass of examples/small.json: hidden = tanh(W1 x + b1), out = W2 hidden (no output bias). */
function forward(x: number[]): { hidden: number[]; out: number[] } {
  const hidden = W1.map((row, i) => Math.tanh(row.reduce((a, w, k) => a + w * x[k], 0) + b1[i]));
  const out = W2.map((row) => row.reduce((a, w, k) => a + w * hidden[k], 0));
  return { hidden, out };
}

const s = scratch({ 'small.json': smallText });
afterAll(() => s.done());

describe('compile → inspect → run (small, ideal)', () => {
  it('compiles, inspects and runs with the contract output', async () => {
    const c = await lechip(['compile', 'small.json', '--chip', 'ideal', '--json'], s.dir);
    expect(c.code, c.stderr).toBe(0);
    const compiled = oneJson(c.stdout);
    expect(compiled).toMatchObject({ image: 'small.lechip', cores_used: 1, chips: 1, warnings: [], seed: 1 });
    const bytes = readFileSync(join(s.dir, 'small.lechip'));
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(compiled.image_sha256).toBe(sha);

    const i = await lechip(['inspect', 'small.lechip', '--json'], s.dir);
    expect(i.code, i.stderr).toBe(0);
    const insp = oneJson(i.stdout);
    expect(insp.chip.name).toBe('ideal');
    expect(insp.neurons_used).toBe(6);
    expect(insp.populations.map((p: any) => [p.name, p.size, p.tau_m_ms, p.tau_m_us])).toEqual([
      ['in', 3, 0, 0],
      ['hidden', 4, 10, 1], // 10 ms / 10^4 = 1 us
      ['out', 2, 10, 1],
    ]);
    const text = await lechip(['inspect', 'small.lechip'], s.dir);
    expect(text.stdout).toContain('T_pres    1 ms bio = 0.1 us hw (100 steps)');

    const input = {
      duration: 20,
      inputs: { in: [{ t: 0, value: [1, 0, 0.5] }, { t: 10, value: [0, 1, 0.5] }] },
    };
    writeFileSync(join(s.dir, 'input.json'), JSON.stringify(input));
    const r = await lechip(['run', 'small.lechip', '--input', 'input.json', '--record', 'hidden,out', '--sample-every', '0.5', '--chip-seed', '3', '--json'], s.dir);
    expect(r.code, r.stderr).toBe(0);
    const run = oneJson(r.stdout);
    for (const key of ['t_bio_ms', 't_hw_us', 'record', 'wall_s', 'speedup', 'chip_seed', 'seed', 'tool_version', 'image_sha256']) {
      expect(run, key).toHaveProperty(key);
    }
    expect(run.speedup).toBe(10000);
    expect(run.chip_seed).toBe(3);
    expect(run.seed).toBe(1);
    expect(run.image_sha256).toBe(sha);
    expect(run.wall_s).toBeGreaterThan(0);
    // Samples at the end of each 0.5 ms interval: 0.5, 1.0, ..., 20.
    expect(run.t_bio_ms).toHaveLength(40);
    run.t_bio_ms.forEach((t: number, k: number) => expect(t).toBeCloseTo(0.5 * (k + 1), 9));
    run.t_hw_us.forEach((t: number, k: number) => expect(t).toBeCloseTo((run.t_bio_ms[k] * 1000) / run.speedup, 9));
    expect(Object.keys(run.record).sort()).toEqual(['hidden', 'out']);
    for (const [pop, size] of [['hidden', 4], ['out', 2]] as const) {
      expect(run.record[pop].r).toHaveLength(40);
      expect(run.record[pop].u).toHaveLength(40);
      for (const row of run.record[pop].r) expect(row).toHaveLength(size);
    }
    // Prospective coding: the rates are the feed-forward values of the input in force.
    const f1 = forward([1, 0, 0.5]);
    const f2 = forward([0, 1, 0.5]);
    for (const [k, f] of [[18, f1], [39, f2]] as const) {
      run.record.hidden.r[k].forEach((v: number, j: number) => expect(v).toBeCloseTo(f.hidden[j], 4));
      run.record.out.r[k].forEach((v: number, j: number) => expect(v).toBeCloseTo(f.out[j], 4));
    }
    // And the example input (with targets) runs too.
    const ex = await lechip(['run', 'small.lechip', '--input', join(ROOT, 'examples', 'small-input.json'), '--json'], s.dir);
    expect(ex.code, ex.stderr).toBe(0);
    const exRun = oneJson(ex.stdout);
    expect(Object.keys(exRun.record)).toEqual(['out']);
    expect(exRun.t_bio_ms).toHaveLength(Math.round(20 / 0.01));
  });

  it('refuses a run input that does not fit the image, naming the pointer', async () => {
    await lechip(['compile', 'small.json', '-o', 'v.lechip'], s.dir);
    writeFileSync(join(s.dir, 'bad-input.json'), JSON.stringify({ duration: 5, inputs: { in: [{ t: 0, value: [1, 0] }] } }));
    const lines = userErrorLines(await lechip(['run', 'v.lechip', '--input', 'bad-input.json'], s.dir));
    expect(lines).toEqual(["lechip: error: bad-input.json: /inputs/in/0/value: has 2 values but population 'in' has 3 neurons"]);
    const rec = userErrorLines(await lechip(['run', 'v.lechip', '--input', join(ROOT, 'examples', 'small-input.json'), '--record', 'nope'], s.dir));
    expect(rec).toEqual(["lechip: error: --record: unknown population 'nope'; the image has in, hidden, out"]);
  });
});

describe('train (tiny dataset)', () => {
  // 3 inputs, 2 classes: class 1 when the second input exceeds the first.
  const xs = Array.from({ length: 30 }, (_, i) => [((i * 7) % 10) / 10, ((i * 3) % 10) / 10, 0.5]);
  const labels = xs.map(([a, b]) => (b > a ? 1 : 0));
  const dataset = { inputs: xs.slice(0, 20), labels: labels.slice(0, 20), test: { inputs: xs.slice(20), labels: labels.slice(20) } };

  it('without learning, test loss and accuracy equal the feed-forward values computed here', async () => {
    const frozen = structuredClone(small);
    frozen.learning = { rule: 'none' };
    writeFileSync(join(s.dir, 'frozen.json'), JSON.stringify(frozen));
    writeFileSync(join(s.dir, 'data.json'), JSON.stringify(dataset));
    const r = await lechip(['train', 'frozen.json', '--dataset', 'data.json', '--samples', '6', '--test', '10', '--json'], s.dir);
    expect(r.code, r.stderr).toBe(0);
    const out = oneJson(r.stdout);
    let loss = 0;
    let correct = 0;
    for (let i = 20; i < 30; i++) {
      const y = forward(xs[i]).out;
      const t = [labels[i] === 0 ? 1 : 0, labels[i] === 1 ? 1 : 0];
      loss += (y[0] - t[0]) ** 2 + (y[1] - t[1]) ** 2;
      if ((y[1] > y[0] ? 1 : 0) === labels[i]) correct++;
    }
    expect(out.test_loss).toBeCloseTo(loss / 20, 4);
    expect(out.test_accuracy).toBeCloseTo(correct / 10, 12);
  });

  it('trains, reports the contract fields, checkpoints and resumes', async () => {
    writeFileSync(join(s.dir, 'data.json'), JSON.stringify(dataset));
    const args = ['train', 'small.json', '--dataset', 'data.json', '--samples', '8', '--test', '5', '--seed', '4', '--chip-seed', '2', '--checkpoint', 'small.ckpt', '--json'];
    const r = await lechip([...args, '--epochs', '2'], s.dir);
    expect(r.code, r.stderr).toBe(0);
    const out = oneJson(r.stdout);
    expect(out).toMatchObject({ train_samples: 8, test_samples: 5, epochs: 2, t_pres_ms: 1, dt_ms: 0.01, chip: 'ideal', chip_seed: 2, seed: 4 });
    expect(out.test_accuracy).toBeGreaterThanOrEqual(0);
    expect(out.test_accuracy).toBeLessThanOrEqual(1);
    expect(out.per_epoch.map((e: any) => e.epoch)).toEqual([1, 2]);
    expect(out.test_accuracy).toBe(out.per_epoch[1].test_accuracy);
    expect(out.bio_s).toBeCloseTo((2 * 8 * 1) / 1000, 9); // 16 samples x 1 ms
    expect(out.emulated_hw_s).toBeCloseTo(out.bio_s / 10000, 12);
    expect(out.samples_per_s).toBeGreaterThan(0);
    expect(out.wall_s).toBeGreaterThan(0);
    expect(out.data_order).toContain("'data-order:epoch' + e");
    expect(r.stderr).toMatch(/epoch 2\/2: test accuracy .*, test loss/);
    const cp = JSON.parse(readFileSync(join(s.dir, 'small.ckpt'), 'utf8'));
    expect(cp.epochs_done).toBe(2);

    // Resume for a third epoch: the first two come from the checkpoint unchanged.
    const r3 = await lechip([...args, '--epochs', '3'], s.dir);
    expect(r3.code, r3.stderr).toBe(0);
    const out3 = oneJson(r3.stdout);
    expect(out3.resumed_from_epoch).toBe(2);
    expect(out3.per_epoch.slice(0, 2)).toEqual(out.per_epoch);
    expect(out3.per_epoch).toHaveLength(3);
    expect(out3.bio_s).toBeCloseTo(8 / 1000, 9);

    // A checkpoint of another network or chip instance is refused.
    const other = structuredClone(small);
    other.name = 'other';
    writeFileSync(join(s.dir, 'other.json'), JSON.stringify(other));
    const bad = await lechip(['train', 'other.json', '--dataset', 'data.json', '--samples', '2', '--checkpoint', 'small.ckpt'], s.dir);
    expect(userErrorLines(bad)[0]).toMatch(/^lechip: error: small\.ckpt: \/network\/sha256: the checkpoint belongs to network 'small'/);
    const seed = await lechip(['train', 'small.json', '--dataset', 'data.json', '--samples', '2', '--checkpoint', 'small.ckpt', '--chip-seed', '9'], s.dir);
    expect(userErrorLines(seed)).toEqual(['lechip: error: small.ckpt: /chip_seed: the checkpoint was trained on chip instance --chip-seed 2, not 9']);
  });

  it('range errors of train options are user errors', async () => {
    const r = await lechip(['train', 'small.json', '--dataset', 'data.json', '--samples', '0'], s.dir);
    expect(userErrorLines(r)).toEqual(['lechip: error: --samples must be a positive integer (got 0)']);
    const m = await lechip(['train', 'small.json', '--dataset', 'data.json', '--samples', 'many'], s.dir);
    expect(m.code).toBe(2);
  });
});
