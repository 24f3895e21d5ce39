/**
 * `lechip hil-train` as a command (registered on a program built here; cli/main.ts is another
 * area's): all three modes on a small dataset file, in process and through --connect, same numbers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerHilTrain } from '../../cli/commands/hil-train.js';
import { Console } from '../../cli/io.js';
import { Rng } from '../../common/random.js';
import { startServer, type HilServer } from '../../emulator/hil/server.js';

const root = join(import.meta.dirname, '..', '..');
let dir: string;
let dataset: string;
let server: HilServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lechip-hil-train-'));
  dataset = join(dir, 'data.json');
  const rng = new Rng(2, 'hil-train-data');
  const inputs = Array.from({ length: 60 }, () => [rng.uniform(), rng.uniform(), rng.uniform()].map(Math.fround));
  const labels = inputs.map((x) => (x[0] + x[1] > x[2] + 0.5 ? 1 : 0));
  writeFileSync(dataset, JSON.stringify({ inputs, labels }));
  server = await startServer({ token: 't' });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<Record<string, any>> {
  let stdout = '';
  const con = new Console({ stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true } });
  const p = new Command('lechip').exitOverride();
  registerHilTrain(p, con);
  await p.parseAsync(args, { from: 'user' });
  return JSON.parse(stdout);
}

describe('lechip hil-train', () => {
  it('runs every mode on each chip seed, and gives the same numbers through --connect', async () => {
    const args = ['hil-train', join(root, 'examples', 'small.json'), '--dataset', dataset, '--chip', 'bss2', '--mode', 'all', '--chip-seeds', '1,2', '--epochs', '2', '--json'];
    const local = await cli(args);
    expect(local).toMatchObject({ chip: 'bss2', chip_seeds: [1, 2], modes: ['off-chip', 'in-the-loop', 'on-chip'], train_samples: 48, test_samples: 12, batch: 8, lr: 2, connection: 'in-process' });
    expect(local.results.map((r: { chip_seed: number; mode: string }) => [r.chip_seed, r.mode])).toEqual([
      [1, 'off-chip'], [1, 'in-the-loop'], [1, 'on-chip'], [2, 'off-chip'], [2, 'in-the-loop'], [2, 'on-chip'],
    ]);
    for (const r of local.results) {
      expect(r.test_accuracy).toBeGreaterThanOrEqual(0);
      expect(r.test_accuracy).toBeLessThanOrEqual(1);
    }
    const remote = await cli([...args, '--connect', `127.0.0.1:${server.port}`, '--token', 't']);
    expect(remote.connection).toBe(`127.0.0.1:${server.port}`);
    const strip = (rs: Record<string, unknown>[]) => rs.map(({ train_wall_s: _a, test_wall_s: _b, ...r }) => r);
    expect(strip(remote.results)).toEqual(strip(local.results));
  });
});
