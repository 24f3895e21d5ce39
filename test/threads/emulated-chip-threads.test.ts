/**
 * `threads` on the emulated chip (ChipConfig.threads, CLI --threads): a compiled 48-64-40-10
 * network on bss2 (mismatch from the chip seed, temporal noise) stepped on 1, 2 and 3 threads gives
 * bit-identical recordings, readouts and weights, with the engine's update kernel and with the
 * firmware on the plasticity processors (which works on the engine's arrays between steps); the
 * CLI's run --json is the same with --threads 2; bad thread counts are user errors.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeImage } from '../../chip/image.js';
import { loadChip } from '../../chip/presets.js';
import { UserError } from '../../common/diagnostics.js';
import { projectRoot } from '../../common/paths.js';
import { compile } from '../../compiler/compile.js';
import type { ChipConfig } from '../../emulator/chip-interface.js';
import { createEmulatedChip } from '../../emulator/emulated-chip.js';
import { ensureSharedKernels } from './shared-build.js';

beforeAll(ensureSharedKernels, 180_000);

const SIZES = [48, 64, 40, 10];

function description(): Record<string, unknown> {
  const names = ['in', 'h1', 'h2', 'out'];
  const populations: Record<string, unknown> = { in: { size: SIZES[0], role: 'input' } };
  for (let l = 1; l < SIZES.length; l++) {
    populations[names[l]] = {
      size: SIZES[l],
      ...(l === SIZES.length - 1 ? { role: 'output' } : {}),
      neuron: { model: 'le', tau_m: 2, tau_r: 2, activation: l === SIZES.length - 1 ? 'linear' : 'tanh' },
      bias: { kind: 'normal', scale: 0.1, seed: 10 + l },
    };
  }
  return {
    format: 'lechip/network@1',
    name: 'threads-test',
    populations,
    projections: names.slice(1).map((to, l) => ({
      from: names[l], to, init: { kind: 'normal', scale: 0.3, seed: l + 1 }, plastic: true, eta_scale: 1 / (l + 1),
    })),
    learning: { rule: 'le', beta: 0.1, eta: 0.5, feedback: 'transpose' },
    presentation: { t_pres: 0.5, dt: 0.05 },
  };
}

function image(): Uint8Array {
  return encodeImage(compile(JSON.stringify(description()), { chip: loadChip('bss2'), seed: 1 }).image);
}

function bits(values: ArrayLike<number>[]): number[] {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const out: number[] = [];
  for (const v of values) for (const x of Array.from(v)) { f[0] = x; out.push(u[0]); }
  return out;
}

/** A run with schedules, training by present(), testing, and the weights: everything as bit patterns. */
async function experiment(img: Uint8Array, config: ChipConfig): Promise<number[]> {
  const chip = await createEmulatedChip();
  await chip.load(img);
  await chip.configure(config);
  const x = Float32Array.from({ length: 6 * SIZES[0] }, (_, i) => 0.5 + 0.5 * Math.sin(0.37 * i));
  const y = Float32Array.from({ length: 6 * SIZES[3] }, (_, i) => (i % 7) / 7);
  await chip.writeInputs({ in: [{ t: 0, value: x.subarray(0, SIZES[0]) }, { t: 1, value: x.subarray(SIZES[0], 2 * SIZES[0]) }] });
  const rec = await chip.run({ durationMs: 2, record: ['h1', 'out'], sampleEveryMs: 0.25 });
  const train = await chip.present({ inputs: x, inputSize: SIZES[0], targets: y, count: 6, tPresMs: 0.5, learn: true, readout: 'out' });
  const test = await chip.present({ inputs: x, inputSize: SIZES[0], count: 3, tPresMs: 0.5, learn: false, readout: 'h2' });
  const weights = await Promise.all([0, 1, 2].map((j) => chip.readWeights(j)));
  await chip.close();
  return bits([...rec.record.h1.r, ...rec.record.out.u, train, test, ...weights]);
}

describe('ChipConfig.threads', () => {
  it.each(['kernel', 'firmware'] as const)('%s plasticity: 2 and 3 threads give the bits of 1 thread', async (plasticity) => {
    const img = image();
    const base: ChipConfig = { chipSeed: 5, seed: 3, plasticity, noise: { rate: 0.01 } };
    const one = await experiment(img, base);
    expect(one.length).toBeGreaterThan(1000);
    for (const threads of [2, 3]) expect(await experiment(img, { ...base, threads })).toEqual(one);
    // a different chip instance differs (the comparison can fail)
    expect(await experiment(img, { ...base, chipSeed: 6, threads: 2 })).not.toEqual(one);
  });

  it('translated firmware: on the parallel engine\'s shared memory (cycle timing) and on one thread (ideal timing), the bits of 1 thread', async () => {
    const img = image();
    for (const timing of ['cycle', 'ideal'] as const) {
      const base: ChipConfig = { chipSeed: 5, seed: 3, plasticity: 'firmware', processor: 'translate', processorTiming: timing, noise: { rate: 0.01 } };
      const one = await experiment(img, base);
      expect(await experiment(img, { ...base, threads: 2 })).toEqual(one);
      // the translated processors learn as the interpreter does
      expect(await experiment(img, { ...base, processor: 'interpret' })).toEqual(one);
    }
  });

  it('refuses thread counts outside 1..16', async () => {
    const chip = await createEmulatedChip();
    await chip.load(image());
    for (const threads of [0, 17, 1.5]) await expect(chip.configure({ threads })).rejects.toBeInstanceOf(UserError);
    await chip.close();
  });

  it('lechip run --threads 2 prints what --threads 1 prints', () => {
    const file = join(tmpdir(), `lechip-threads-${process.pid}.lechip`);
    writeFileSync(file, image());
    const input = join(tmpdir(), `lechip-threads-${process.pid}.json`);
    writeFileSync(input, JSON.stringify({ duration: 3, inputs: { in: [{ t: 0, value: new Array(SIZES[0]).fill(0.3) }] } }));
    const run = (threads: number) => {
      const r = spawnSync(process.execPath, ['bin/lechip.js', 'run', file, '--input', input, '--record', 'h1,out', '--chip-seed', '2', '--threads', String(threads), '--json'], {
        cwd: projectRoot(), encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      delete out.wall_s;
      return out;
    };
    expect(run(2)).toEqual(run(1));
  });
});
