// One chip on several threads: every thread runs its own "thread program" over the same shared
// linear memory (build/kernels-shared.wasm, one instance per thread). emulator/threads/ derives the
// thread programs from the single-thread step program (kernels/program.ts): each op works on the
// thread's slice of a population (its neurons, or its columns of a synapse array), ops whose work
// cannot be split run on thread 0 alone, and BARRIER ops separate dependent phases.
//
// A slice is a set of whole output elements, so every float is computed by the same operations in
// the same order as in the single-thread program (no sum is ever split): the results are
// bit-identical. Records are OP_BYTES long; ops of kernels/program.ts run through its stepOnce.
//
//   FORWARD_COLS    words 1-10 as FORWARD (W, y, e point at the slice's first column, idx is the
//                   thread's own scratch, word 10 the thread's own pending flag), 11 width (floats),
//                   12 the thread's private accumulator (0: none): y is copied there, accumulated and
//                   copied back, so the hot accumulator never shares a cache line with another thread
//   PLASTIC_COLS    1 the thread's FORWARD_COLS record
//   FEEDBACK_R_COLS 1 B + first column, 2 B stride (floats), 3 nPost, 4 diff(post), 5 rpPrev(pre),
//                   6 e(pre), 7 scratch (5-7 at the slice's first element), 8 nVec of the slice,
//                   9 idx (thread's own), 10 width (floats)
//   BARRIER         every thread waits until all have arrived
//
// Barrier record (16-byte aligned, i32 words): 0 arrived count, 1 sense, 2 threads, 3 sleepers,
// 4 abort (set by the host when a thread failed: waiting threads give up), 5 spin limit, 6 sleeps
// (how often a thread gave up spinning and slept: a diagnostic for the benchmarks).
import { mv_forward_cols, mv_forward_update_cols, mv_update_cols, vec_mul_acc } from './matrix';
import { FLAG_LEARN, FLAG_UNFUSED, OP_BYTES, stepOnce } from './program';

export const OP_FORWARD_COLS: i32 = 100;
export const OP_PLASTIC_COLS: i32 = 101;
export const OP_FEEDBACK_R_COLS: i32 = 102;
export const OP_BARRIER: i32 = 103;

/** Byte offset of the pending flag in a FORWARD / FORWARD_COLS record (kernels/program.ts FWD_PENDING). */
// @ts-ignore: decorator
@inline const PENDING: usize = 40;

// Barrier record offsets (bytes).
// @ts-ignore: decorator
@inline const B_COUNT: usize = 0;
// @ts-ignore: decorator
@inline const B_SENSE: usize = 4;
// @ts-ignore: decorator
@inline const B_THREADS: usize = 8;
// @ts-ignore: decorator
@inline const B_SLEEPERS: usize = 12;
// @ts-ignore: decorator
@inline const B_ABORT: usize = 16;
// @ts-ignore: decorator
@inline const B_SPIN: usize = 20;
// @ts-ignore: decorator
@inline const B_SLEEPS: usize = 24;

// Sleeping goes through the host (Atomics.wait on the sense word, with a timeout so that an abort
// is seen), not memory.atomic.wait32: V8's baseline compiler (Liftoff, Node 20) corrupts the
// barrier's state across wait32 (both threads end up waiting at one barrier; reproduced with a
// minimal module under --liftoff --no-wasm-tier-up, not under TurboFan), while an import call is
// compiled correctly by both tiers. test/threads/ runs the engine under each tier.
// @ts-ignore: decorator
@external("env", "sleep")
declare function hostSleep(addr: usize, expected: i32): void;

// @ts-ignore: decorator
@inline
function word(op: usize, i: i32): i32 {
  return load<i32>(op + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline
function ptr(op: usize, i: i32): usize {
  return <usize>load<u32>(op + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline
function real(op: usize, i: i32): f32 {
  return load<f32>(op + (<usize>i << 2));
}

/**
 * Sense-reversing barrier: the last thread to arrive resets the count and flips the sense; the
 * others spin on the sense for up to the spin limit, then sleep (the host's Atomics.wait) until
 * woken. Returns 0, or 1 when the barrier was aborted. Atomics are sequentially consistent, so
 * every plain store made before the barrier is visible to every thread after it.
 */
export function barrier_wait(bar: usize): i32 {
  const sense = atomic.load<i32>(bar, B_SENSE);
  const n = atomic.load<i32>(bar, B_THREADS);
  if (atomic.add<i32>(bar, 1, B_COUNT) == n - 1) {
    atomic.store<i32>(bar, 0, B_COUNT);
    atomic.store<i32>(bar, sense ^ 1, B_SENSE);
    // A sleeper counts itself before it waits, and the wait returns at once when the sense has
    // already flipped, so skipping the notify when nobody sleeps loses no wake-up.
    if (atomic.load<i32>(bar, B_SLEEPERS) != 0) atomic.notify(bar + B_SENSE, n);
    return 0;
  }
  let spins = atomic.load<i32>(bar, B_SPIN);
  while (atomic.load<i32>(bar, B_SENSE) == sense) {
    if (spins > 0) {
      spins--;
      continue;
    }
    if (atomic.load<i32>(bar, B_ABORT) != 0) return 1;
    atomic.add<i32>(bar, 1, B_SLEEPS);
    atomic.add<i32>(bar, 1, B_SLEEPERS);
    hostSleep(bar + B_SENSE, sense);
    atomic.sub<i32>(bar, 1, B_SLEEPERS);
  }
  return 0;
}

function forwardCols(op: usize): void {
  const y = ptr(op, 5);
  const acc = ptr(op, 12);
  const bytes = <usize>word(op, 11) << 2;
  const out = acc ? acc : y;
  if (acc) memory.copy(acc, y, bytes);
  if (load<i32>(op + PENDING) != 0) {
    store<i32>(op + PENDING, 0);
    mv_forward_update_cols(
      ptr(op, 1), word(op, 2), word(op, 11), word(op, 3), ptr(op, 4), out, ptr(op, 6), ptr(op, 7), real(op, 8), ptr(op, 9),
    );
  } else {
    mv_forward_cols(ptr(op, 1), word(op, 2), word(op, 11), word(op, 3), ptr(op, 4), out, ptr(op, 9));
  }
  if (acc) memory.copy(y, acc, bytes);
}

function updateCols(fwd: usize): void {
  mv_update_cols(ptr(fwd, 1), word(fwd, 2), word(fwd, 11), word(fwd, 3), ptr(fwd, 6), ptr(fwd, 7), real(fwd, 8));
}

/** One step of a thread program; returns 1 when a barrier was aborted. */
function threadStep(prog: usize, nOps: i32, flags: i32, bar: usize): i32 {
  for (let i = 0; i < nOps; i++) {
    const op = prog + <usize>i * OP_BYTES;
    switch (word(op, 0)) {
      case OP_FORWARD_COLS: {
        forwardCols(op);
        break;
      }
      case OP_PLASTIC_COLS: {
        if (flags & FLAG_LEARN) {
          const fwd = ptr(op, 1);
          if (flags & FLAG_UNFUSED) updateCols(fwd);
          else store<i32>(fwd + PENDING, 1);
        }
        break;
      }
      case OP_FEEDBACK_R_COLS: {
        const scratch = ptr(op, 7);
        memory.fill(scratch, 0, <usize>word(op, 8) << 4);
        mv_forward_cols(ptr(op, 1), word(op, 2), word(op, 10), word(op, 3), ptr(op, 4), scratch, ptr(op, 9));
        vec_mul_acc(ptr(op, 6), ptr(op, 5), scratch, word(op, 8));
        break;
      }
      case OP_BARRIER: {
        if (barrier_wait(bar)) return 1;
        break;
      }
      default:
        stepOnce(op, 1, flags);
    }
  }
  return 0;
}

/** Applies the thread's pending weight updates (its columns). */
function flushCols(prog: usize, nOps: i32): void {
  for (let i = 0; i < nOps; i++) {
    const op = prog + <usize>i * OP_BYTES;
    if (word(op, 0) == OP_FORWARD_COLS && load<i32>(op + PENDING) != 0) {
      store<i32>(op + PENDING, 0);
      updateCols(op);
    }
  }
}

/**
 * Runs nSteps steps of this thread's program (every thread calls it with its own program), then
 * applies the pending updates and meets the others at the barrier, so the caller sees the whole
 * state when it returns. Returns 0, or 1 when aborted.
 */
export function thread_steps(prog: usize, nOps: i32, nSteps: i32, flags: i32, bar: usize): i32 {
  for (let t = 0; t < nSteps; t++) if (threadStep(prog, nOps, flags, bar)) return 1;
  flushCols(prog, nOps);
  return barrier_wait(bar);
}

/**
 * present_samples (kernels/program.ts) on threads: thread 0 copies each sample's inputs and
 * targets in (then a barrier makes them visible) and the readout out after the sample's last step
 * (every thread program ends in a barrier); all threads step. Returns 0, or 1 when aborted.
 */
export function thread_present(
  prog: usize, nOps: i32, pres: usize, count: i32, stepsPerSample: i32, flags: i32, bar: usize, thread: i32,
): i32 {
  const inputs = ptr(pres, 0);
  const inStride = <usize>word(pres, 1) << 2;
  const targets = ptr(pres, 2);
  const tgtStride = <usize>word(pres, 3) << 2;
  const readout = ptr(pres, 4);
  const readoutBytes = <usize>word(pres, 5) << 2;
  const out = ptr(pres, 6);
  const nIn = word(pres, 7);
  const nTgt = word(pres, 8);
  const inSegs = pres + 36;
  const tgtSegs = inSegs + <usize>nIn * 12;
  for (let n = 0; n < count; n++) {
    if (thread == 0) {
      const row = inputs + <usize>n * inStride;
      for (let s = 0; s < nIn; s++) {
        const seg = inSegs + <usize>s * 12;
        memory.copy(ptr(seg, 0), row + (<usize>word(seg, 1) << 2), <usize>word(seg, 2) << 2);
      }
      if (targets) {
        const trow = targets + <usize>n * tgtStride;
        for (let s = 0; s < nTgt; s++) {
          const seg = tgtSegs + <usize>s * 16;
          memory.copy(ptr(seg, 0), trow + (<usize>word(seg, 1) << 2), <usize>word(seg, 2) << 2);
          store<i32>(ptr(seg, 3), 1);
        }
      }
    }
    if (barrier_wait(bar)) return 1;
    for (let t = 0; t < stepsPerSample; t++) if (threadStep(prog, nOps, flags, bar)) return 1;
    if (thread == 0) memory.copy(out + <usize>n * readoutBytes, readout, readoutBytes);
  }
  flushCols(prog, nOps);
  return barrier_wait(bar);
}
