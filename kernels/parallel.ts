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
//                   copied back, so the hot accumulator never shares a cache line with another thread;
//                   13-17 as FORWARD's quantised words (codes at the slice's first column, 17 its
//                   unit offset)
//   PLASTIC_COLS    1 the thread's FORWARD_COLS record
//   FEEDBACK_R_COLS 1 B + first column, 2 B stride (floats), 3 nPost, 4 diff(post), 5 rpPrev(pre),
//                   6 e(pre), 7 scratch (5-7 at the slice's first element), 8 nVec of the slice,
//                   9 idx (thread's own), 10 width (floats)
//   BARRIER         every thread waits until all have arrived; 1 the thread's profile area
//                   (f64: time it last left a barrier, then per barrier k busy and waiting
//                   time, ms), 2 k: filled while the barrier record's PROFILE word is set
//
// Barrier record (64-byte aligned): a header line of i32 words 2 threads, 4 abort (set by the
// host when a thread failed: waiting threads give up), 5 spin limit, 6 sleeps (how often a thread
// gave up spinning and slept: a diagnostic for the benchmarks), 7 profile (non-zero: BARRIER ops
// time the phases through the host's clock); then one line per thread t at 128 (t + 1): word 0 the
// number of barriers t has arrived at, word 1 how many threads sleep waiting for it.
import { mv_forward_cols, mv_forward_update_cols, mv_update_cols, vec_mul_acc } from './matrix';
import { FLAG_LEARN, FLAG_UNFUSED, OP_BYTES, forwardOnInt8, forwardQ8, stepOnce } from './program';

export const OP_FORWARD_COLS: i32 = 100;
export const OP_PLASTIC_COLS: i32 = 101;
export const OP_FEEDBACK_R_COLS: i32 = 102;
export const OP_BARRIER: i32 = 103;

/** Byte offset of the pending flag in a FORWARD / FORWARD_COLS record (kernels/program.ts FWD_PENDING). */
// @ts-ignore: decorator
@inline const PENDING: usize = 40;

// Barrier record offsets (bytes).
// @ts-ignore: decorator
@inline const B_THREADS: usize = 8;
// @ts-ignore: decorator
@inline const B_ABORT: usize = 16;
/** Each thread's arrival line (128 bytes apart: the spatial prefetcher fetches lines in pairs). */
// @ts-ignore: decorator
@inline const B_LINE: usize = 128;
// @ts-ignore: decorator
@inline const F_SLEEPERS: usize = 4;
// @ts-ignore: decorator
@inline const B_SPIN: usize = 20;
// @ts-ignore: decorator
@inline const B_SLEEPS: usize = 24;
// @ts-ignore: decorator
@inline const B_PROFILE: usize = 28;

// Sleeping goes through the host (Atomics.wait on the sense word, with a timeout so that an abort
// is seen), not memory.atomic.wait32: V8's baseline compiler (Liftoff, Node 20) corrupts the
// barrier's state across wait32 (both threads end up waiting at one barrier; reproduced with a
// minimal module under --liftoff --no-wasm-tier-up, not under TurboFan), while an import call is
// compiled correctly by both tiers. test/threads/ runs the engine under each tier.
// @ts-ignore: decorator
@external("env", "sleep")
declare function hostSleep(addr: usize, expected: i32): void;

/** The host's clock (performance.now(), ms), read only while profiling. */
// @ts-ignore: decorator
@external("env", "now")
declare function hostNow(): f64;

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
 * Barrier of per-thread arrival counts: a thread counts its own arrival on its own cache line and
 * waits until every other thread's count has reached its own (spinning for up to the spin limit,
 * then sleeping through the host's Atomics.wait). No read-modify-write on a shared line, so
 * arriving costs one cache-line transfer to each waiting thread. Returns 0, or 1 when the barrier
 * was aborted. Atomics are sequentially consistent, so every plain store a thread made before the
 * barrier is visible to every thread after it.
 */
export function barrier_wait(bar: usize, thread: i32): i32 {
  const n = atomic.load<i32>(bar, B_THREADS);
  const mine = bar + B_LINE * (1 + <usize>thread);
  const epoch = atomic.load<i32>(mine) + 1;
  atomic.store<i32>(mine, epoch);
  // A sleeper counts itself on this line before it reads the count it waits on, so skipping the
  // notify when nobody sleeps loses no wake-up.
  if (atomic.load<i32>(mine, F_SLEEPERS) != 0) atomic.notify(mine, n);
  for (let u = 0; u < n; u++) {
    if (u == thread) continue;
    const line = bar + B_LINE * (1 + <usize>u);
    let spins = atomic.load<i32>(bar, B_SPIN);
    // (count - epoch) < 0: u has not arrived yet (wrap-around safe)
    while (atomic.load<i32>(line) - epoch < 0) {
      if (spins > 0) {
        spins--;
        continue;
      }
      if (atomic.load<i32>(bar, B_ABORT) != 0) return 1;
      atomic.add<i32>(bar, 1, B_SLEEPS);
      atomic.add<i32>(line, 1, F_SLEEPERS);
      const seen = atomic.load<i32>(line);
      if (seen - epoch < 0) hostSleep(line, seen);
      atomic.sub<i32>(line, 1, F_SLEEPERS);
    }
  }
  return 0;
}

function forwardCols(op: usize): void {
  const y = ptr(op, 5);
  const acc = ptr(op, 12);
  const bytes = <usize>word(op, 11) << 2;
  const out = acc ? acc : y;
  if (acc) memory.copy(acc, y, bytes);
  if (forwardOnInt8(op)) {
    forwardQ8(op, word(op, 11), out);
  } else if (load<i32>(op + PENDING) != 0) {
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
function threadStep(prog: usize, nOps: i32, flags: i32, bar: usize, thread: i32): i32 {
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
        const prof = ptr(op, 1);
        if (prof != 0 && atomic.load<i32>(bar, B_PROFILE) != 0) {
          const t0 = hostNow();
          const slot = prof + 8 + (<usize>word(op, 2) << 4);
          store<f64>(slot, load<f64>(slot) + (t0 - load<f64>(prof)));
          if (barrier_wait(bar, thread)) return 1;
          const t1 = hostNow();
          store<f64>(slot, load<f64>(slot, 8) + (t1 - t0), 8);
          store<f64>(prof, t1);
        } else if (barrier_wait(bar, thread)) return 1;
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
export function thread_steps(prog: usize, nOps: i32, nSteps: i32, flags: i32, bar: usize, thread: i32): i32 {
  for (let t = 0; t < nSteps; t++) if (threadStep(prog, nOps, flags, bar, thread)) return 1;
  flushCols(prog, nOps);
  return barrier_wait(bar, thread);
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
    if (barrier_wait(bar, thread)) return 1;
    for (let t = 0; t < stepsPerSample; t++) if (threadStep(prog, nOps, flags, bar, thread)) return 1;
    if (thread == 0) memory.copy(out + <usize>n * readoutBytes, readout, readoutBytes);
  }
  flushCols(prog, nOps);
  return barrier_wait(bar, thread);
}
