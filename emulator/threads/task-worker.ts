/**
 * Worker script of runInstances (emulator/threads/pool.ts), served by the WorkerPool of
 * emulator/workers/pool.ts: each task names the ES module and export of its task function, which
 * is imported once per worker and called with the task's payload.
 */
import { serveTasks } from '../workers/pool.js';
import type { TaskEnvelope } from './pool.js';

const modules = new Map<string, Promise<Record<string, unknown>>>();

serveTasks(async (t: TaskEnvelope) => {
  let mod = modules.get(t.module);
  if (!mod) {
    mod = import(t.module).catch((err: Error) => {
      throw new Error(`could not load the task module ${t.module}: ${err.message}`);
    });
    modules.set(t.module, mod);
  }
  const fn = (await mod)[t.exportName];
  if (typeof fn !== 'function') throw new Error(`the task module ${t.module} has no function ${t.exportName}`);
  return await (fn as (task: unknown) => unknown)(t.task);
});
