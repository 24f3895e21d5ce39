/**
 * Loading build/kernels-shared.wasm: the kernels of build/kernels.wasm compiled for an imported
 * shared memory with atomics (asconfig.json target release-shared), plus the thread-program runner
 * and barrier of kernels/parallel.ts. One instance per thread, all over one memory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../common/diagnostics.js';
import { projectRoot } from '../../common/paths.js';
import { KernelMemory, type KernelExports } from '../wasm.js';

/** The exports of build/kernels-shared.wasm beyond those of build/kernels.wasm. */
export interface SharedKernelExports extends KernelExports {
  barrier_wait(bar: number, thread: number): number;
  thread_steps(prog: number, nOps: number, nSteps: number, flags: number, bar: number, thread: number): number;
  thread_present(prog: number, nOps: number, pres: number, count: number, stepsPerSample: number, flags: number, bar: number, thread: number): number;
  mv_forward_cols(W: number, stride: number, width: number, nPre: number, s: number, y: number, idx: number): void;
  mv_forward_update_cols(
    W: number, stride: number, width: number, nPre: number, s: number, y: number, sl: number, e: number, rate: number, idx: number,
  ): void;
  mv_update_cols(W: number, stride: number, width: number, nPre: number, sl: number, e: number, rate: number): void;
}

/** Cache-line size the parallel layout aligns to (bytes). */
export const LINE_BYTES = 64;

let cached: WebAssembly.Module | undefined;

/** Path of the shared-memory build of the kernels. */
export function sharedKernelsPath(): string {
  return join(projectRoot(), 'build', 'kernels-shared.wasm');
}

/** The compiled shared-memory kernel module (compiled on first use, then cached). */
export function sharedKernelModule(): WebAssembly.Module {
  if (cached) return cached;
  const path = sharedKernelsPath();
  if (!existsSync(path)) {
    throw new UserError({
      file: path,
      message: 'the shared-memory WASM kernels for threads are not built; run `npm run build:kernels` (or `npm run build`) in the lechip folder first',
    });
  }
  cached = new WebAssembly.Module(readFileSync(path));
  return cached;
}

/** Replaces the cached module (tests that rebuild the kernels). */
export function setSharedKernelModule(module: WebAssembly.Module): void {
  cached = module;
}

/** How long a sleeping thread waits before it looks at the barrier's abort word again (ms). */
export const SLEEP_MS = 50;

/**
 * The host functions the shared kernels import: `sleep` waits on the i32 at addr while it holds
 * expected (kernels/parallel.ts sleeps through the host), `now` is the clock of the phase profile.
 * The worker source defines the same two.
 */
export function hostImports(memory: WebAssembly.Memory): { sleep: (addr: number, expected: number) => void; now: () => number } {
  return {
    sleep: (addr, expected) => void Atomics.wait(new Int32Array(memory.buffer, addr, 1), 0, expected, SLEEP_MS),
    now: () => performance.now(),
  };
}

/** A KernelMemory on a shared memory, blocks aligned to cache lines, for the host thread. */
export function sharedKernelMemory(initialBytes: number, module: WebAssembly.Module = sharedKernelModule()): KernelMemory {
  return new KernelMemory(initialBytes, module, { shared: true, align: LINE_BYTES, imports: hostImports });
}

/** Instantiates the shared module on an existing shared memory (another thread's instance). */
export function instantiateShared(module: WebAssembly.Module, memory: WebAssembly.Memory): SharedKernelExports {
  const instance = new WebAssembly.Instance(module, {
    env: {
      ...hostImports(memory),
      memory,
      abort: (_msg: number, _file: number, line: number, col: number) => {
        throw new Error(`kernels-shared.wasm aborted at ${line}:${col}`);
      },
    },
  });
  return instance.exports as unknown as SharedKernelExports;
}
