/**
 * Many chips at once: independent tasks (chip instances with different seeds, mismatch scales,
 * ...) run one per worker thread, results returned in task order. Each task runs the same
 * function it would run serially, on a fresh instance, so the results are identical to running
 * the tasks one after another (tested).
 *
 * A task function lives in an ES module the workers import: `module` (a file URL or path of
 * compiled JavaScript) and `exportName`; by default emulator/threads/chip-task.js's runChipTask.
 * Tasks and results cross threads by structured clone (typed arrays are copied).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserError, type Diagnostic } from '../../common/diagnostics.js';
import { projectRoot } from '../../common/paths.js';

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

/** The worker: imports the task module, then runs one task per message. Plain CommonJS. */
const POOL_WORKER = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const plain = (e) => ({ name: e && e.name, message: String((e && e.message) || e), stack: e && e.stack, diagnostics: e && e.diagnostics });
import(workerData.module).then((mod) => {
  const fn = mod[workerData.exportName];
  if (typeof fn !== 'function') throw new Error(workerData.module + ' has no function ' + workerData.exportName);
  parentPort.on('message', async ({ id, task }) => {
    try {
      parentPort.postMessage({ id, ok: true, result: await fn(task) });
    } catch (e) {
      parentPort.postMessage({ id, ok: false, error: plain(e) });
    }
  });
  parentPort.postMessage({ ready: true });
}).catch((e) => parentPort.postMessage({ fatal: plain(e) }));
`;

/** The compiled chip task module (dist/ when running from the TypeScript sources, e.g. under vitest). */
export function chipTaskModule(): URL {
  const here = new URL('./chip-task.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return pathToFileURL(join(projectRoot(), 'dist', 'emulator', 'threads', 'chip-task.js'));
}

interface WireError {
  name?: string;
  message: string;
  stack?: string;
  diagnostics?: Diagnostic[];
}

function revive(e: WireError, index: number): Error {
  // A user mistake stays a diagnostic (the CLI prints it), whichever thread found it.
  if (e.name === 'UserError' && Array.isArray(e.diagnostics)) return new UserError(e.diagnostics);
  const err = new Error(`task ${index}: ${e.message}`);
  if (e.stack) err.stack = `${err.message}\n(on a worker thread) ${e.stack}`;
  return err;
}

/** Runs every task on a pool of worker threads; resolves to the results in task order. */
export async function runInstances<T, R = unknown>(tasks: readonly T[], options: PoolOptions = {}): Promise<R[]> {
  const n = tasks.length;
  if (n === 0) return [];
  const want = options.workers ?? availableParallelism();
  if (!Number.isInteger(want) || want < 1) throw new Error(`workers must be a positive integer (got ${want})`);
  const count = Math.min(want, n);
  const mod = options.module ?? chipTaskModule();
  const moduleUrl = mod instanceof URL ? mod.href : mod.startsWith('file:') ? mod : pathToFileURL(mod).href;
  const exportName = options.exportName ?? 'runChipTask';
  const results = new Array<R>(n);
  const workers: Worker[] = [];
  let next = 0;
  let done = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        reject(err);
      };
      const give = (w: Worker) => {
        if (failed || next >= n) return;
        const id = next++;
        w.postMessage({ id, task: tasks[id] });
      };
      for (let k = 0; k < count; k++) {
        // Not the host's flags: --input-type=module would make the worker's code an ES module.
        const w = new Worker(POOL_WORKER, { eval: true, execArgv: [], workerData: { module: moduleUrl, exportName } });
        workers.push(w);
        w.on('message', (m: { ready?: boolean; fatal?: WireError; id?: number; ok?: boolean; result?: R; error?: WireError }) => {
          if (m.ready) return give(w);
          if (m.fatal) return fail(new Error(`pool worker could not load ${moduleUrl}: ${m.fatal.message}`));
          const id = m.id!;
          if (!m.ok) return fail(revive(m.error!, id));
          results[id] = m.result as R;
          options.onResult?.(id, m.result);
          if (++done === n) resolve();
          else give(w);
        });
        w.on('error', (err) => fail(new Error(`pool worker: ${err.message}`)));
        w.on('exit', (code) => {
          if (done < n) fail(new Error(`pool worker exited (code ${code}) with tasks left`));
        });
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
