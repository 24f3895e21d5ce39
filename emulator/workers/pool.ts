/**
 * A pool of worker threads running independent tasks (one chip instance each), in the order they
 * are submitted, at most `size` at a time. A worker script serves tasks with serveTasks(); results
 * and progress come back by message. Workers run compiled JavaScript: under the TypeScript sources
 * (tests) the script is taken from dist/ (workerScript), which the test setup keeps built.
 * User errors thrown in a worker come back as UserError with their diagnostics.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, Worker } from 'node:worker_threads';
import { UserError, type Diagnostic } from '../../common/diagnostics.js';
import { projectRoot } from '../../common/paths.js';

type Reply<O, P> =
  | { id: number; kind: 'done'; result: O }
  | { id: number; kind: 'progress'; progress: P }
  | { id: number; kind: 'error'; message: string; stack?: string; diagnostics?: Diagnostic[] };

/**
 * The path of a worker script, given relative to the calling module (`import.meta.url`) without
 * extension: the .js beside a compiled module, or its counterpart in dist/ when called from sources.
 */
export function workerScript(callerUrl: string, relativePath: string): string {
  const here = fileURLToPath(callerUrl);
  const target = resolve(dirname(here), relativePath);
  if (here.endsWith('.js')) return `${target}.js`;
  const root = projectRoot();
  const built = join(root, 'dist', relative(root, target)) + '.js';
  if (!existsSync(built)) throw new UserError({ file: built, message: 'the worker script is not built; run `npm run build` in the lechip folder first' });
  return built;
}

interface Pending<O, P> {
  id: number;
  task: unknown;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
  onProgress?: (p: P) => void;
}

/** A fixed number of worker threads taking tasks from one queue. */
export class WorkerPool<I, O, P = unknown> {
  private readonly workers: { w: Worker; busy: Pending<O, P> | null }[] = [];
  private readonly queue: Pending<O, P>[] = [];
  private next = 1;
  private closed = false;

  constructor(script: string, readonly size: number) {
    if (!(Number.isInteger(size) && size >= 1)) throw new Error(`WorkerPool: size ${size}`);
    for (let k = 0; k < size; k++) this.spawn(script);
  }

  private spawn(script: string): void {
    const w = new Worker(script);
    const slot: { w: Worker; busy: Pending<O, P> | null } = { w, busy: null };
    w.on('message', (m: Reply<O, P>) => {
      const job = slot.busy;
      if (!job || job.id !== m.id) return;
      if (m.kind === 'progress') {
        job.onProgress?.(m.progress);
        return;
      }
      slot.busy = null;
      if (m.kind === 'done') job.resolve(m.result);
      else if (m.diagnostics) job.reject(new UserError(m.diagnostics));
      else {
        const e = new Error(m.message);
        if (m.stack) e.stack = m.stack;
        job.reject(e);
      }
      this.pump();
    });
    w.on('error', (err) => {
      const job = slot.busy;
      slot.busy = null;
      job?.reject(err);
      // A worker that crashed is replaced so the queue keeps draining.
      const i = this.workers.indexOf(slot);
      if (i >= 0) this.workers.splice(i, 1);
      if (!this.closed) {
        this.spawn(script);
        this.pump();
      }
    });
    this.workers.push(slot);
  }

  /** Runs a task on the next free worker; resolves with its result. */
  run(task: I, onProgress?: (p: P) => void): Promise<O> {
    if (this.closed) return Promise.reject(new Error('WorkerPool: closed'));
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ id: this.next++, task, resolve, reject, onProgress });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.workers) {
      if (slot.busy || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.busy = job;
      slot.w.postMessage({ id: job.id, task: job.task });
    }
  }

  /** Ends every worker (queued tasks are rejected). */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('WorkerPool: closed'));
    await Promise.all(this.workers.map((s) => s.w.terminate()));
  }
}

/** In a worker script: answers every task with handler's result (or its error), reporting progress. */
export function serveTasks<I, O, P>(handler: (task: I, progress: (p: P) => void) => Promise<O>): void {
  const port = parentPort;
  if (!port) throw new Error('serveTasks: not in a worker thread');
  // Tasks arrive one at a time (the pool waits for each reply), so a chain keeps them in order.
  let chain = Promise.resolve();
  port.on('message', (m: { id: number; task: I }) => {
    chain = chain.then(async () => {
      try {
        const result = await handler(m.task, (progress) => port.postMessage({ id: m.id, kind: 'progress', progress }));
        port.postMessage({ id: m.id, kind: 'done', result });
      } catch (err) {
        if (err instanceof UserError) port.postMessage({ id: m.id, kind: 'error', message: err.message, diagnostics: err.diagnostics });
        else port.postMessage({ id: m.id, kind: 'error', message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined });
      }
    });
  });
}
