/**
 * One chip instance as a task for the pool (emulator/threads/pool.ts): load an image, configure
 * the instance (chip seed, mismatch, seed, ...), then a script of Chip calls; the result of each
 * call comes back in order. The same function runs in-process, so a task gives the same bytes
 * whether it runs serially or on a worker thread.
 */
import { createEmulatedChip } from '../emulated-chip.js';
import type { ChipConfig, PresentOptions, Recording, RunOptions, Schedule } from '../chip-interface.js';

/** One call on the chip. */
export type ChipAction =
  | { kind: 'writeInputs'; inputs: Record<string, Schedule>; targets?: Record<string, Schedule> }
  | { kind: 'run'; options: RunOptions }
  | { kind: 'present'; options: Omit<PresentOptions, 'onProgress' | 'progressEvery'> }
  | { kind: 'readWeights'; projection: number }
  | { kind: 'writeWeights'; projection: number; weights: Float32Array }
  | { kind: 'reset' };

/** A chip instance and what to do with it. */
export interface ChipTask {
  /** Bytes of a compiled image (.lechip). */
  image: Uint8Array;
  config: ChipConfig;
  actions: ChipAction[];
}

/** Per action, in order: a Recording (run), readout rates (present), weights (readWeights), or null. */
export interface ChipTaskResult {
  results: (Recording | Float32Array | null)[];
  /** Biological ms the instance advanced. */
  t_bio_ms: number;
}

/** Runs one chip task (on the calling thread). */
export async function runChipTask(task: ChipTask): Promise<ChipTaskResult> {
  const chip = await createEmulatedChip();
  try {
    await chip.load(task.image);
    await chip.configure(task.config);
    const results: ChipTaskResult['results'] = [];
    for (const a of task.actions) {
      switch (a.kind) {
        case 'writeInputs':
          await chip.writeInputs(a.inputs, a.targets);
          results.push(null);
          break;
        case 'run':
          results.push(await chip.run(a.options));
          break;
        case 'present':
          results.push(await chip.present(a.options));
          break;
        case 'readWeights':
          results.push(await chip.readWeights(a.projection));
          break;
        case 'writeWeights':
          await chip.writeWeights(a.projection, a.weights);
          results.push(null);
          break;
        case 'reset':
          await chip.reset();
          results.push(null);
          break;
        default:
          throw new Error(`unknown chip action ${(a as { kind: string }).kind}`);
      }
    }
    return { results, t_bio_ms: chip.time().t_bio_ms };
  } finally {
    await chip.close();
  }
}
