/**
 * Training checkpoints: after each epoch the learned weights and biases and the epoch number are
 * written atomically; a later `train --checkpoint` resumes from them. A checkpoint is bound to one
 * network (sha256 of its description) and one chip instance (preset name and chip seed).
 * Weights are float32 little-endian in base64, so a resume restores them bit for bit.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { fail } from '../common/diagnostics.js';
import type { ImageManifest } from '../chip/image-model.js';
import type { Chip, ChipConfig, MismatchOverrides } from '../emulator/chip-interface.js';
import { readJson, writeOutput } from './files.js';

export const CHECKPOINT_FORMAT = 'lechip/checkpoint@1';

/** One epoch's results, as train reports them. */
export interface EpochResult {
  epoch: number;
  test_accuracy: number | null;
  test_loss: number;
  train_wall_s: number;
  samples_per_s: number;
}

export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  tool_version: string;
  network: { name: string; sha256: string };
  chip: string;
  chip_seed: number;
  /** The mismatch settings in force (they shape the chip instance as much as its seed). */
  mismatch_scale: number;
  mismatch: MismatchOverrides;
  seed: number;
  /** Epochs completed. */
  epochs_done: number;
  history: EpochResult[];
  /** Mid-epoch checkpoints: the epoch in progress (from 1) and the training samples of it done. */
  position?: { epoch: number; sample: number };
  /** The chip's complete state (Chip.saveState), gzip then base64: resuming continues bit for bit. */
  chip_state?: string;
  weights: { projection: number; from: string; to: string; shape: [number, number]; f32_le_base64: string }[];
  biases: { population: string; size: number; f32_le_base64: string }[];
}

/** Float32 values as little-endian base64. */
export function encodeF32(values: ArrayLike<number>): string {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeFloatLE(values[i], i * 4);
  return b.toString('base64');
}

/** Base64 little-endian float32 back to an array; undefined if the length is wrong. */
export function decodeF32(text: string, length: number): Float32Array | undefined {
  const b = Buffer.from(text, 'base64');
  if (b.length !== length * 4) return undefined;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

/** Writes a checkpoint atomically. */
export function saveCheckpoint(file: string, cp: Checkpoint): void {
  writeOutput(file, JSON.stringify(cp), 'checkpoint');
}

/** What a checkpoint must match to be resumed here. */
export interface CheckpointOwner {
  network: { name: string; sha256: string };
  chip: string;
  chip_seed: number;
  mismatch_scale: number;
  mismatch: MismatchOverrides;
  projections: { index: number; from: string; to: string; post_size: number; pre_size: number }[];
  populations: { name: string; size: number }[];
}

/** Reads a checkpoint and checks that it belongs to this network and chip instance and fits its shapes. */
export function loadCheckpoint(file: string, owner: CheckpointOwner): Checkpoint {
  const cp = readJson(file, 'checkpoint') as Checkpoint;
  const where = (pointer: string) => ({ file, pointer });
  if (typeof cp !== 'object' || cp === null || cp.format !== CHECKPOINT_FORMAT) {
    fail(`not a lechip checkpoint (expected "format": "${CHECKPOINT_FORMAT}")`, where('/format'));
  }
  if (cp.network?.sha256 !== owner.network.sha256) {
    fail(
      `the checkpoint belongs to network '${cp.network?.name}' (sha256 ${String(cp.network?.sha256).slice(0, 12)}...), not to this ` +
        `'${owner.network.name}' (sha256 ${owner.network.sha256.slice(0, 12)}...); use another --checkpoint file`,
      where('/network/sha256'),
    );
  }
  if (cp.chip !== owner.chip) fail(`the checkpoint was trained on chip '${cp.chip}', not '${owner.chip}'`, where('/chip'));
  if (cp.chip_seed !== owner.chip_seed) {
    fail(`the checkpoint was trained on chip instance --chip-seed ${cp.chip_seed}, not ${owner.chip_seed}`, where('/chip_seed'));
  }
  if (cp.mismatch_scale !== owner.mismatch_scale || JSON.stringify(sortKeys(cp.mismatch ?? {})) !== JSON.stringify(sortKeys(owner.mismatch))) {
    fail(
      `the checkpoint was trained with --mismatch-scale ${cp.mismatch_scale} and --mismatch ${showMismatch(cp.mismatch ?? {})}, ` +
        `not ${owner.mismatch_scale} and ${showMismatch(owner.mismatch)}`,
      where('/mismatch_scale'),
    );
  }
  if (!Number.isInteger(cp.epochs_done) || cp.epochs_done < 0) fail('must be a non-negative integer', where('/epochs_done'));
  if (cp.position !== undefined) {
    const p = cp.position as { epoch?: unknown; sample?: unknown };
    if (!(Number.isInteger(p?.epoch) && (p.epoch as number) >= 1 && Number.isInteger(p?.sample) && (p.sample as number) >= 0)) {
      fail('must be { "epoch": integer >= 1, "sample": integer >= 0 }', where('/position'));
    }
  }
  if (cp.chip_state !== undefined && typeof cp.chip_state !== 'string') fail('must be a base64 string', where('/chip_state'));
  if (!Array.isArray(cp.weights) || !Array.isArray(cp.biases) || !Array.isArray(cp.history)) {
    fail('a checkpoint has arrays "weights", "biases" and "history"', where(''));
  }
  cp.weights.forEach((w, i) => {
    const p = owner.projections.find((q) => q.index === w.projection);
    if (!p || p.from !== w.from || p.to !== w.to || w.shape?.[0] !== p.post_size || w.shape?.[1] !== p.pre_size) {
      fail(`projection ${w.projection} (${w.from} -> ${w.to}) does not match the network`, where(`/weights/${i}`));
    }
    if (!decodeF32(String(w.f32_le_base64), p.post_size * p.pre_size)) fail(`must hold ${p.post_size * p.pre_size} float32 values`, where(`/weights/${i}/f32_le_base64`));
  });
  cp.biases.forEach((b, i) => {
    const p = owner.populations.find((q) => q.name === b.population);
    if (!p || !decodeF32(String(b.f32_le_base64), p.size)) fail(`bias of population '${b.population}' does not match the network`, where(`/biases/${i}`));
  });
  return cp;
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

function showMismatch(m: MismatchOverrides): string {
  const e = Object.entries(m);
  return e.length ? e.map(([k, v]) => `${k}=${v}`).join(',') : '(none)';
}

/**
 * How far a read-back of written weights may differ, per weight: float32 rounding on float chips;
 * on fixed-point chips half a code step (the engine learns in float, so saved weights may lie
 * between codes and are re-quantised), and Infinity beyond the code range (clamped).
 */
export function restoreTolerance(m: ImageManifest, projection: number, saved: ArrayLike<number>): Float64Array {
  const p = m.projections[projection];
  const tolerance = new Float64Array(saved.length);
  const w = m.chip.weights;
  const qmax = w.sign === 'per_row' ? 2 ** w.bits - 1 : 2 ** (w.bits - 1) - 1;
  for (const b of m.blocks) {
    if (b.projection !== projection || b.kind !== 'forward') continue;
    for (let s = 0; s < b.signals; s++) {
      for (let c = 0; c < b.cols; c++) {
        const i = (b.neuron0 + c) * p.pre_size + b.sig0 + s;
        const rounding = 1e-6 * Math.abs(saved[i]) + 1e-30;
        if (w.kind !== 'fixed') tolerance[i] = rounding;
        else tolerance[i] = Math.abs(saved[i]) / b.scale > qmax + 0.5 ? Infinity : 0.5 * b.scale * (1 + 1e-6) + rounding;
      }
    }
  }
  return tolerance;
}

/**
 * Puts saved weights (as Chip.readWeights returned them) back on the chip and checks them by
 * reading back (see restoreTolerance). A larger difference means the Chip's read/write semantics
 * changed: a bug.
 */
export async function restoreWeights(chip: Chip, m: ImageManifest, projection: number, effective: Float32Array): Promise<void> {
  const tolerance = restoreTolerance(m, projection, effective);
  await chip.writeWeights(projection, effective);
  const back = await chip.readWeights(projection);
  for (let i = 0; i < effective.length; i++) {
    if (!(Math.abs(back[i] - effective[i]) <= tolerance[i])) {
      throw new Error(`checkpoint restore: projection ${projection} weight ${i} reads back ${back[i]}, saved ${effective[i]}`);
    }
  }
}

/** Chip.saveState's bytes as checkpoint text: gzip, then base64. */
export function encodeChipState(bytes: Uint8Array): string {
  return gzipSync(bytes, { level: 6 }).toString('base64');
}

/** The bytes of a checkpoint's chip_state (a user error names the file if they are damaged). */
export function decodeChipState(text: string, file: string): Uint8Array {
  try {
    return new Uint8Array(gunzipSync(Buffer.from(text, 'base64')));
  } catch (err) {
    return fail(`chip_state is not gzip data: ${(err as Error).message}`, { file, pointer: '/chip_state' });
  }
}
