/**
 * Many chips at once: independent tasks (chip instances with different seeds, mismatch scales,
 * ...) run one per worker thread, results returned in task order, on the WorkerPool of
 * emulator/workers/pool.ts (the robustness sweep's) with a generic worker script. Each task runs
 * the same function it would run serially, on a fresh instance, so the results are identical to
 * running the tasks one after another (tested).
 *
 * A task function lives in an ES module the workers import: `module` (a file URL or path of
 * compiled JavaScript) and `exportName`; by default emulator/threads/chip-task.js's runChipTask.
 * Tasks and results cross threads by structured clone (typed arrays are copied).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UserError } from '../../common/diagnostics.js';
import { projectRoot } from '../../common/paths.js';
import { WorkerPool, workerScript } from '../workers/pool.js';

export interface PoolOptions {
  /** Worker threads (default: the machine's available parallelism, at most one per task). */
  workers?: number;
  /** The module holding the task function (file URL or path of JavaScript; default the chip task). */
  module?: string | URL;
  /** Its export (default `runChipTask`). */
  exportName?: string;
  /** Called with each task's index and result as soon as it is done. */
  onResult?: (index: number, result: unknown) => void;
}

/** What crosses to a worker for one task: where its function is, and its payload. */
export interface TaskEnvelope {
  module: string;
  exportName: string;
  task: unknown;
}

/** The compiled chip task module (dist/ when running from the TypeScript sources, e.g. under vitest). */
export function chipTaskModule(): URL {
  const here = new URL('./chip-task.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return pathToFileURL(join(projectRoot(), 'dist', 'emulator', 'threads', 'chip-task.js'));
}

/** Runs every task on a pool of worker threads; resolves to the results in task order. */
export async function runInstances<T, R = unknown>(tasks: readonly T[], options: PoolOptions = {}): Promise<R[]> {
  const n = tasks.length;
  if (n === 0) return [];
  const want = options.workers ?? availableParallelism();
  if (!Number.isInteger(want) || want < 1) throw new Error(`workers must be a positive integer (got ${want})`);
  const mod = options.module ?? chipTaskModule();
  const module = mod instanceof URL ? mod.href : mod.startsWith('file:') ? mod : pathToFileURL(mod).href;
  const exportName = options.exportName ?? 'runChipTask';
  const pool = new WorkerPool<TaskEnvelope, R>(workerScript(import.meta.url, './task-worker'), Math.min(want, n));
  try {
    return await Promise.all(
      tasks.map((task, i) =>
        pool.run({ module, exportName, task }).then(
          (result) => {
            options.onResult?.(i, result);
            return result;
          },
          (err: Error) => {
            // A user mistake stays a diagnostic (the CLI prints it), whichever thread found it.
            if (err instanceof UserError) throw err;
            const e = new Error(`task ${i}: ${err.message}`);
            if (err.stack) e.stack = `${e.message}\n(on a worker thread) ${err.stack}`;
            throw e;
          },
        ),
      ),
    );
  } finally {
    await pool.close();
  }
}
