/**
 * Loading build/kernels.wasm (the AssemblyScript kernels of kernels/) and the linear memory it
 * imports. The module is compiled once per process; every Engine instantiates it on its own memory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../common/diagnostics.js';
import { projectRoot } from '../common/paths.js';

/** The functions build/kernels.wasm exports (pointers are byte offsets into its memory). */
export interface KernelExports {
  heap_base(): number;
  rng_next_u32(state: number): number;
  rng_normal(state: number): number;
  rng_fill_normal(state: number, out: number, n: number, scale: number): void;
  gather_active(s: number, sl: number, n: number, idx: number): number;
  mv_forward(W: number, stride: number, nPre: number, s: number, y: number, idx: number): void;
  mv_forward_update(
    W: number, stride: number, nPre: number, s: number, y: number, sl: number, e: number, rate: number, idx: number,
  ): void;
  mv_update(W: number, stride: number, nPre: number, sl: number, e: number, rate: number): void;
  mv_dot_rows(W: number, stride: number, nPre: number, d: number, gate: number, out: number): void;
  mv_forward_q8(C: number, cstride: number, U: number, uoff: number, width: number, nPre: number, s: number, y: number, idx: number): void;
  mv_dot_rows_q8(C: number, cstride: number, U: number, uoff: number, width: number, nPre: number, d: number, gate: number, out: number): void;
  vec_mul_acc(out: number, a: number, b: number, nVec: number): void;
  vec_axpy(out: number, c: number, a: number, nVec: number): void;
  neuron_update(
    nVec: number, model: number, act: number, dt: number,
    u: number, basal: number, ePrev: number,
    tauM: number, tauR: number, gain: number, offset: number,
    r: number, rp: number, diff: number,
    noiseU: number, noiseR: number,
  ): void;
  activate_vec(act: number, a: number, phi: number, dphi: number, nVec: number): void;
  exp_vec(x: number, out: number, nVec: number): void;
  run_steps(prog: number, nOps: number, nSteps: number, flags: number): void;
  present_samples(prog: number, nOps: number, pres: number, count: number, stepsPerSample: number, flags: number): void;
  flush_pending(prog: number, nOps: number): void;
}

/** Size of one generator state record (kernels/random.ts). */
export const RNG_BYTES = 32;
/** Size of one step-program op record (kernels/program.ts). */
export const OP_BYTES = 96;
/** WebAssembly page size in bytes. */
const PAGE_BYTES = 65536;
/** The module declares 16 pages of initial memory; an imported memory may not be smaller. */
const MIN_PAGES = 16;

let cachedModule: WebAssembly.Module | undefined;

/** Path of the release build of the kernels. */
export function kernelsPath(): string {
  return join(projectRoot(), 'build', 'kernels.wasm');
}

/** The compiled kernel module (compiled on first use, then cached). */
export function kernelModule(): WebAssembly.Module {
  if (cachedModule) return cachedModule;
  const path = kernelsPath();
  if (!existsSync(path)) {
    throw new UserError({
      file: path,
      message: 'the WASM kernels are not built; run `npm run build` (or `npm run build:kernels`) in the lechip folder first',
    });
  }
  cachedModule = new WebAssembly.Module(readFileSync(path));
  return cachedModule;
}

/** Replaces the cached module (tests that rebuild the kernels). */
export function setKernelModule(module: WebAssembly.Module): void {
  cachedModule = module;
}

/** Options of a KernelMemory beyond its size and module. */
export interface KernelMemoryOptions {
  /** A shared memory (SharedArrayBuffer) for a module built with sharedMemory (emulator/threads/). */
  shared?: boolean;
  /** Alignment and size granularity of every block in bytes (default 16; 64 keeps blocks on their own cache lines). */
  align?: number;
  /** Further `env` imports the module needs (the shared build imports `sleep`), given the memory. */
  imports?: (memory: WebAssembly.Memory) => Record<string, unknown>;
}

/** Maximum pages of a shared memory (the release-shared build declares 65536: 4 GiB). */
const SHARED_MAX_PAGES = 65536;

/**
 * Kernel instance on its own memory, with a bump allocator for the host's layout: every block is
 * 16-byte aligned (v128 loads) or as the options say, and memory grows as blocks are allocated.
 */
export class KernelMemory {
  readonly memory: WebAssembly.Memory;
  readonly k: KernelExports;
  private top: number;
  private readonly align: number;

  constructor(initialBytes = 0, module: WebAssembly.Module = kernelModule(), options: KernelMemoryOptions = {}) {
    const pages = Math.max(MIN_PAGES, Math.ceil(initialBytes / PAGE_BYTES) + MIN_PAGES);
    this.align = options.align ?? 16;
    this.memory = options.shared
      ? new WebAssembly.Memory({ initial: pages, maximum: SHARED_MAX_PAGES, shared: true })
      : new WebAssembly.Memory({ initial: pages });
    const instance = new WebAssembly.Instance(module, {
      env: {
        ...options.imports?.(this.memory),
        memory: this.memory,
        abort: (_msg: number, _file: number, line: number, col: number) => {
          throw new Error(`kernels.wasm aborted at ${line}:${col}`);
        },
      },
    });
    this.k = instance.exports as unknown as KernelExports;
    this.top = Math.ceil(this.k.heap_base() / this.align) * this.align;
  }

  /** Allocates `bytes` (rounded up to the alignment, 16 by default) of zeroed memory and returns its address. */
  alloc(bytes: number): number {
    const ptr = this.top;
    this.top = ptr + Math.ceil(Math.max(bytes, 0) / this.align) * this.align;
    const needPages = Math.ceil(this.top / PAGE_BYTES);
    const havePages = this.memory.buffer.byteLength / PAGE_BYTES;
    if (needPages > havePages) this.memory.grow(needPages - havePages);
    return ptr;
  }

  /** Allocates room for n float32 values padded to a multiple of 4. */
  allocF32(n: number): number {
    return this.alloc(pad4(n) * 4);
  }

  /** Bytes in use (the layout's high-water mark). */
  get usedBytes(): number {
    return this.top;
  }

  /** A float32 view of n values at ptr (valid until memory grows). */
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  /** An int32 view of n values at ptr (valid until memory grows). */
  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, n);
  }

  /** A uint32 view of n values at ptr (valid until memory grows). */
  u32(ptr: number, n: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, ptr, n);
  }

  /** A float64 view of n values at ptr (8-byte aligned). */
  f64(ptr: number, n: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, n);
  }
}

/** n rounded up to a multiple of 4 (floats per v128). */
export function pad4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
