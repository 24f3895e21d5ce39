import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_FORMAT, decodeF32, encodeF32, loadCheckpoint, restoreWeights, saveCheckpoint, type Checkpoint } from '../../cli/checkpoint.js';
import { encodeImage } from '../../chip/image.js';
import { loadChip } from '../../chip/presets.js';
import { writeFileAtomic } from '../../common/fs.js';
import { compile } from '../../compiler/compile.js';
import type { ChipConfig } from '../../emulator/chip-interface.js';
import { createEmulatedChip } from '../../emulator/emulated-chip.js';

const tmp = mkdtempSync(join(tmpdir(), 'lechip-ckpt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const owner = {
  network: { name: 'net', sha256: 'a'.repeat(64) },
  chip: 'bss2',
  chip_seed: 7,
  mismatch_scale: 1,
  mismatch: {},
  projections: [{ index: 0, from: 'in', to: 'out', post_size: 2, pre_size: 3 }],
  populations: [{ name: 'out', size: 2 }],
};

function checkpoint(): Checkpoint {
  return {
    format: CHECKPOINT_FORMAT,
    tool_version: '0.1.0',
    network: owner.network,
    chip: 'bss2',
    chip_seed: 7,
    mismatch_scale: 1,
    mismatch: {},
    seed: 1,
    epochs_done: 1,
    history: [],
    weights: [{ projection: 0, from: 'in', to: 'out', shape: [2, 3], f32_le_base64: encodeF32([1, -2, 0.1, Number.NaN, -0, 3e-40]) }],
    biases: [{ population: 'out', size: 2, f32_le_base64: encodeF32([0.5, -0.5]) }],
  };
}

describe('checkpoints', () => {
  it('float32 values survive base64 bit for bit', () => {
    const v = new Float32Array([1, -2, 0.1, Number.NaN, -0, 3e-40, 3.4e38]);
    const back = decodeF32(encodeF32(v), v.length)!;
    expect(Buffer.from(back.buffer)).toEqual(Buffer.from(v.buffer));
    expect(decodeF32(encodeF32(v), v.length + 1)).toBeUndefined();
  });

  it('saves atomically and loads back', () => {
    const f = join(tmp, 'a.ckpt');
    saveCheckpoint(f, checkpoint());
    expect(loadCheckpoint(f, owner).epochs_done).toBe(1);
    expect(readdirSync(tmp).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a checkpoint of another network, chip or chip instance, or of the wrong shape', () => {
    const f = join(tmp, 'b.ckpt');
    const variants: [(c: Checkpoint) => void, string][] = [
      [(c) => (c.network = { name: 'other', sha256: 'b'.repeat(64) }), `${f}: /network/sha256: the checkpoint belongs to network 'other'`],
      [(c) => (c.chip = 'spikey'), `${f}: /chip: the checkpoint was trained on chip 'spikey', not 'bss2'`],
      [(c) => (c.chip_seed = 8), `${f}: /chip_seed: the checkpoint was trained on chip instance --chip-seed 8, not 7`],
      [(c) => (c.mismatch_scale = 2), `${f}: /mismatch_scale: the checkpoint was trained with --mismatch-scale 2 and --mismatch (none), not 1 and (none)`],
      [(c) => (c.weights[0].shape = [3, 2]), `${f}: /weights/0: projection 0 (in -> out) does not match the network`],
      [(c) => (c.biases[0].f32_le_base64 = encodeF32([1])), `${f}: /biases/0: bias of population 'out' does not match the network`],
      [(c) => ((c as { format: string }).format = 'x'), `${f}: /format: not a lechip checkpoint`],
    ];
    for (const [change, message] of variants) {
      const c = checkpoint();
      change(c);
      writeFileSync(f, JSON.stringify(c));
      expect(() => loadCheckpoint(f, owner)).toThrow(message);
    }
  });

  it('writeFileAtomic leaves the old file intact and no temp file when the write fails', () => {
    const f = join(tmp, 'keep.txt');
    writeFileAtomic(f, 'old');
    expect(() => writeFileAtomic(join(tmp, 'missing-dir', 'x.txt'), 'new')).toThrow();
    // A directory in the way of the rename: the rename fails after the temp file was written.
    const d = join(tmp, 'adir');
    mkdirSync(d);
    writeFileSync(join(d, 'child'), 'x');
    expect(() => writeFileAtomic(d, 'new')).toThrow();
    expect(readdirSync(tmp).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(f, 'utf8')).toBe('old');
  });
});

describe('restoring weights on a chip instance with synapse-gain mismatch', () => {
  const text = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'small.json'), 'utf8');

  async function chipFor(spec: ReturnType<typeof loadChip>, config: ChipConfig) {
    const { image } = compile(text, { chip: spec, cores: 'auto', seed: 1 });
    const chip = await createEmulatedChip();
    await chip.load(encodeImage(image));
    await chip.configure(config);
    return { chip, m: image.manifest };
  }

  it('bss2: what readWeights gave comes back exactly (read and write are symmetric; block gains stay hidden)', async () => {
    const config: ChipConfig = { chipSeed: 5, seed: 1 };
    const a = await chipFor(loadChip('bss2'), config);
    const b = await chipFor(loadChip('bss2'), config);
    for (const p of [0, 1]) {
      const saved = await a.chip.readWeights(p);
      await restoreWeights(b.chip, b.m, p, saved);
      const back = await b.chip.readWeights(p);
      back.forEach((v, i) => expect(v).toBeCloseTo(saved[i], 6));
    }
    await a.chip.close();
    await b.chip.close();
  });

  it('a float chip with gain mismatch restores off-grid values to float32 rounding', async () => {
    const spec = structuredClone(loadChip('ideal'));
    spec.mismatch.synapse_gain = { distribution: 'normal', sigma: 0.2 };
    const config: ChipConfig = { chipSeed: 3, seed: 1 };
    const b = await chipFor(spec, config);
    const saved = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1) * 0.37);
    await restoreWeights(b.chip, b.m, 0, saved);
    const back = await b.chip.readWeights(0);
    back.forEach((v, i) => expect(Math.abs(v - saved[i])).toBeLessThanOrEqual(1e-6 * Math.abs(saved[i])));
    await b.chip.close();
  });
});
