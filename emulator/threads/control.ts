/**
 * The control block the host and the worker threads of a parallel engine share (i32 words in the
 * engine's shared memory), and the worker's code. The worker is plain JavaScript evaluated by
 * worker_threads (no module to resolve, so it runs the same from dist/ and under vitest): it
 * instantiates the shared kernels on the engine's memory and then waits for commands, spinning for
 * a while before it sleeps, and runs its thread program for each.
 */
import { SLEEP_MS } from './shared-kernels.js';

/** Word indices of the control block. */
export const C = {
  /** Bumped by the host for every command. */
  SEQ: 0,
  /** The command: STEPS, PRESENT or EXIT. */
  CMD: 1,
  /** Arguments: steps (n, flags); present (record, count, steps per sample, flags). */
  A0: 2,
  A1: 3,
  A2: 4,
  A3: 5,
  /** Workers that have instantiated the kernels. */
  READY: 6,
  /** Set by a worker whose call threw (its message goes to its port). */
  FAILED: 7,
  /** Microseconds a worker spins on SEQ after a command before it sleeps. */
  SPIN_US: 8,
  /** Per thread t: its program's address at PROGS + 2t, its op count at PROGS + 2t + 1. */
  PROGS: 16,
} as const;

/** Control block size in i32 words (room for the programs of MAX_THREADS threads). */
export const CONTROL_WORDS = 48;
/** Most threads one parallel engine runs. */
export const MAX_THREADS = (CONTROL_WORDS - C.PROGS) / 2;

export const CMD_STEPS = 1;
export const CMD_PRESENT = 2;
export const CMD_EXIT = 3;

/** Barrier header words (kernels/parallel.ts); thread t's arrival line is i32 word 32 (t + 1). */
export const B = { THREADS: 2, ABORT: 4, SPIN: 5, SLEEPS: 6, PROFILE: 7 } as const;
/** i32 words of the barrier record: the header line and one line per thread. */
export const BARRIER_WORDS = 32 * (1 + MAX_THREADS);

/** Aborts a barrier: waiting threads give up (those asleep within their next wake-up or now). */
export function abortBarrier(bar: Int32Array, threads: number): void {
  Atomics.store(bar, B.ABORT, 1);
  for (let t = 0; t < threads; t++) Atomics.notify(bar, 32 * (1 + t));
}

/**
 * The worker: workerData { module, memory, ctl, bar, thread, port } (ctl and bar byte addresses).
 * It posts { ready: true } to port once it has instantiated the kernels. On an exception it posts
 * { error: stack }, marks FAILED and aborts the barrier, so the other threads (waiting there) give
 * up instead of waiting forever. It runs as CommonJS (the engine starts it with execArgv []).
 */
export const WORKER_SOURCE = `'use strict';
const { workerData } = require('node:worker_threads');
const { module, memory, ctl, bar, thread, port } = workerData;
const c = new Int32Array(memory.buffer, ctl, ${CONTROL_WORDS});
const b = new Int32Array(memory.buffer, bar, ${BARRIER_WORDS});
function fail(e) {
  try { port.postMessage({ error: String((e && e.stack) || e) }); } catch (_) {}
  Atomics.store(c, ${C.FAILED}, 1);
  Atomics.store(b, ${B.ABORT}, 1);
  for (let t = 0; t < ${MAX_THREADS}; t++) Atomics.notify(b, 32 * (1 + t));
}
let k = null;
try {
  k = new WebAssembly.Instance(module, { env: {
    memory,
    sleep(addr, expected) { Atomics.wait(new Int32Array(memory.buffer, addr, 1), 0, expected, ${SLEEP_MS}); },
    now() { return performance.now(); },
    abort(_m, _f, line, col) { throw new Error('kernels-shared.wasm aborted at ' + line + ':' + col); },
  } }).exports;
} catch (e) { fail(e); }
let seq = Atomics.load(c, ${C.SEQ});
Atomics.add(c, ${C.READY}, 1);
Atomics.notify(c, ${C.READY});
if (k !== null) port.postMessage({ ready: true });
for (;;) {
  // A command that follows soon (steps in short calls) is caught spinning; then the worker sleeps,
  // so that it does not keep a core from whatever the host does next.
  const until = performance.now() + Atomics.load(c, ${C.SPIN_US}) / 1000;
  while (Atomics.load(c, ${C.SEQ}) === seq) {
    if (performance.now() > until) Atomics.wait(c, ${C.SEQ}, seq);
  }
  seq = Atomics.load(c, ${C.SEQ});
  const cmd = Atomics.load(c, ${C.CMD});
  if (cmd === ${CMD_EXIT}) break;
  if (k === null) continue;
  const prog = c[${C.PROGS} + 2 * thread];
  const nOps = c[${C.PROGS} + 2 * thread + 1];
  try {
    if (cmd === ${CMD_STEPS}) k.thread_steps(prog, nOps, c[${C.A0}], c[${C.A1}], bar, thread);
    else if (cmd === ${CMD_PRESENT}) k.thread_present(prog, nOps, c[${C.A0}], c[${C.A1}], c[${C.A2}], c[${C.A3}], bar, thread);
  } catch (e) { fail(e); }
}
port.close();
`;
