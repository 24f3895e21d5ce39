// The step program: the host describes the network once as a list of fixed-size op records in
// linear memory (emulator/engine.ts writes them), and run_steps executes many Euler steps of it
// without returning. The host orders the ops as one step of emulator/reference.ts:
//   A. BASAL (basal = bias) and FORWARD (basal += W s) per projection, reading r left by the last step
//   COPY  r, r', e (and inputs x) -> their *_prev copies, one contiguous block
//   B. NOISE (draws) and NEURON per population
//   C. ERROR_INIT (output nudging or zero) per population, FEEDBACK_T / FEEDBACK_R per projection
//   D. BIAS_LEARN per plastic post population, PLASTIC per plastic projection
// With synaptic filtering (emulator/engine.ts) LOWPASS ops filter inputs before A, rates after B,
// targets before ERROR_INIT and errors after C; TAU_DELTA / TAU_APPLY bracket a population's NEURON
// op when tau adaptation is enabled for it.
//
// Fusion: PLASTIC does not touch the weights; it marks its FORWARD op pending, and that op's next
// execution applies the rank-1 update row by row just before using the row (RESEARCH.md §4).
// At that point sl (the signal the update needs, r^{t-1} or the input of step t) still holds the
// *_prev copy and e still holds e^t, since the COPY comes after the forward pass. Updates still
// pending when a call returns are applied then, so the host always sees up-to-date weights.
import {
  mv_forward, mv_forward_update, mv_update, mv_dot_rows, vec_mul_acc, vec_axpy,
} from './matrix';
import { neuron_update } from './neuron';
import { mv_dot_rows_q8, mv_forward_q8 } from './quantised';
import { rng_fill_normal } from './random';
import { tau_adapt_delta, vec_add_clamped, vec_lowpass, vec_lowpass_flagged } from './adapt';

/** Op record size in bytes (24 words). */
export const OP_BYTES: i32 = 96;

export const OP_COPY: i32 = 1;
export const OP_BASAL: i32 = 2;
export const OP_FORWARD: i32 = 3;
export const OP_NOISE: i32 = 4;
export const OP_NEURON: i32 = 5;
export const OP_ERROR_INIT: i32 = 6;
export const OP_FEEDBACK_T: i32 = 7;
export const OP_FEEDBACK_R: i32 = 8;
export const OP_BIAS_LEARN: i32 = 9;
export const OP_PLASTIC: i32 = 10;
/** Synaptic low-pass (kernels/adapt.ts): 1 ybar, 2 x, 3 k (f32), 4 nVec, 5 flag pointer (0: always). */
export const OP_LOWPASS: i32 = 11;
/** Tau adaptation delta: 1 nVec, 2 eta (f32), 3 u, 4 basal, 5 ePrev, 6 tauM, 7 tauR, 8 delta, 9 enabled. */
export const OP_TAU_DELTA: i32 = 12;
/** Tau adaptation apply: 1 tauM, 2 delta, 3 lo (f32), 4 hi (f32), 5 nVec, 6 enabled. */
export const OP_TAU_APPLY: i32 = 13;

/** run_steps flag bits. */
export const FLAG_LEARN: i32 = 1;
export const FLAG_NUDGE: i32 = 2;
/** Apply plasticity in step D itself instead of fusing it into the next forward pass (benchmarks). */
export const FLAG_UNFUSED: i32 = 4;

// FORWARD record words: 1 W, 2 stride, 3 nPre, 4 s, 5 y, 6 sl, 7 e, 8 rate (f32), 9 idx, 10 pending.
// FORWARD and FEEDBACK_T of a projection with quantised weights (kernels/quantised.ts), words
// 13-17: 13 codes, 14 code row bytes, 15 row unit pointers, 16 int8 flag pointer (0: floats only;
// the host sets the flag while the codes match the weights), 17 unit offset (bytes, column slices).
// @ts-ignore: decorator
@inline const Q_CODES: i32 = 13;

/** The int8 kernels run this op now: it has codes and its flag is set. */
// @ts-ignore: decorator
@inline
function int8On(op: usize): bool {
  const flag = ptr(op, Q_CODES + 3);
  return flag != 0 && load<i32>(flag) != 0;
}

/** Runs the quantised forward product of a FORWARD or FORWARD_COLS record into y (width floats). */
export function forwardQ8(op: usize, width: i32, y: usize): void {
  mv_forward_q8(ptr(op, Q_CODES), word(op, Q_CODES + 1), ptr(op, Q_CODES + 2), ptr(op, Q_CODES + 4), width, word(op, 3), ptr(op, 4), y, ptr(op, 9));
}

/** Whether a FORWARD or FORWARD_COLS record runs on int8 codes now (never with an update pending). */
export function forwardOnInt8(op: usize): bool {
  return load<i32>(op + FWD_PENDING) == 0 && int8On(op);
}
// @ts-ignore: decorator
@inline const FWD_PENDING: usize = 40;

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

function applyUpdate(op: usize): void {
  mv_update(ptr(op, 1), word(op, 2), word(op, 3), ptr(op, 6), ptr(op, 7), real(op, 8));
}

function errorInit(op: usize, nudge: bool): void {
  // 1 e, 2 nVec, 3 rpPrev, 4 rPrev, 5 y, 6 beta, 7 target flag pointer (0: not an output)
  const e = ptr(op, 1);
  const bytes = <usize>word(op, 2) << 4;
  const flag = ptr(op, 7);
  if (nudge && flag != 0 && load<i32>(flag) != 0) {
    const rp = ptr(op, 3);
    const r = ptr(op, 4);
    const y = ptr(op, 5);
    const beta = f32x4.splat(real(op, 6));
    for (let j: usize = 0; j < bytes; j += 16) {
      v128.store(e + j, f32x4.mul(f32x4.mul(beta, v128.load(rp + j)), f32x4.sub(v128.load(y + j), v128.load(r + j))));
    }
  } else {
    memory.fill(e, 0, bytes);
  }
}

/** One Euler step of the program at prog (nOps records); kernels/parallel.ts runs single ops of thread programs with it. */
export function stepOnce(prog: usize, nOps: i32, flags: i32): void {
  const learn = (flags & FLAG_LEARN) != 0;
  const nudge = (flags & FLAG_NUDGE) != 0;
  const fused = (flags & FLAG_UNFUSED) == 0;
  for (let i = 0; i < nOps; i++) {
    const op = prog + <usize>i * OP_BYTES;
    switch (word(op, 0)) {
      case OP_COPY: {
        memory.copy(ptr(op, 1), ptr(op, 2), ptr(op, 3));
        break;
      }
      case OP_BASAL: {
        memory.copy(ptr(op, 1), ptr(op, 2), ptr(op, 3));
        break;
      }
      case OP_FORWARD: {
        if (forwardOnInt8(op)) {
          forwardQ8(op, word(op, 2), ptr(op, 5));
        } else if (load<i32>(op + FWD_PENDING) != 0) {
          store<i32>(op + FWD_PENDING, 0);
          mv_forward_update(ptr(op, 1), word(op, 2), word(op, 3), ptr(op, 4), ptr(op, 5), ptr(op, 6), ptr(op, 7), real(op, 8), ptr(op, 9));
        } else {
          mv_forward(ptr(op, 1), word(op, 2), word(op, 3), ptr(op, 4), ptr(op, 5), ptr(op, 9));
        }
        break;
      }
      case OP_NOISE: {
        // 1 rng state, 2 out, 3 n, 4-5 scale (f64)
        rng_fill_normal(ptr(op, 1), ptr(op, 2), word(op, 3), load<f64>(op, 16));
        break;
      }
      case OP_NEURON: {
        neuron_update(
          word(op, 1), word(op, 2), word(op, 3), real(op, 4),
          ptr(op, 5), ptr(op, 6), ptr(op, 7),
          ptr(op, 8), ptr(op, 9), ptr(op, 10), ptr(op, 11),
          ptr(op, 12), ptr(op, 13), ptr(op, 14),
          ptr(op, 15), ptr(op, 16),
        );
        break;
      }
      case OP_ERROR_INIT: {
        errorInit(op, nudge);
        break;
      }
      case OP_FEEDBACK_T: {
        // 1 W, 2 stride, 3 nPre, 4 diff(post), 5 rpPrev(pre), 6 e(pre); 13-17 as FORWARD
        if (int8On(op)) {
          mv_dot_rows_q8(ptr(op, Q_CODES), word(op, Q_CODES + 1), ptr(op, Q_CODES + 2), ptr(op, Q_CODES + 4), word(op, 2), word(op, 3), ptr(op, 4), ptr(op, 5), ptr(op, 6));
        } else {
          mv_dot_rows(ptr(op, 1), word(op, 2), word(op, 3), ptr(op, 4), ptr(op, 5), ptr(op, 6));
        }
        break;
      }
      case OP_FEEDBACK_R: {
        // 1 B [post][pre padded], 2 its stride, 3 nPost, 4 diff(post), 5 rpPrev(pre), 6 e(pre),
        // 7 scratch (pre padded), 8 nVec(pre), 9 idx
        const scratch = ptr(op, 7);
        memory.fill(scratch, 0, <usize>word(op, 8) << 4);
        mv_forward(ptr(op, 1), word(op, 2), word(op, 3), ptr(op, 4), scratch, ptr(op, 9));
        vec_mul_acc(ptr(op, 6), ptr(op, 5), scratch, word(op, 8));
        break;
      }
      case OP_BIAS_LEARN: {
        // 1 b, 2 e, 3 nVec, 4 rate
        if (learn) vec_axpy(ptr(op, 1), real(op, 4), ptr(op, 2), word(op, 3));
        break;
      }
      case OP_LOWPASS: {
        vec_lowpass_flagged(ptr(op, 1), ptr(op, 2), real(op, 3), word(op, 4), ptr(op, 5));
        break;
      }
      case OP_TAU_DELTA: {
        if (word(op, 9) != 0) {
          tau_adapt_delta(word(op, 1), real(op, 2), ptr(op, 3), ptr(op, 4), ptr(op, 5), ptr(op, 6), ptr(op, 7), ptr(op, 8));
        }
        break;
      }
      case OP_TAU_APPLY: {
        if (word(op, 6) != 0) vec_add_clamped(ptr(op, 1), ptr(op, 2), real(op, 3), real(op, 4), word(op, 5));
        break;
      }
      case OP_PLASTIC: {
        // 1 the FORWARD record of the projection
        if (learn) {
          const fwd = ptr(op, 1);
          if (fused) store<i32>(fwd + FWD_PENDING, 1);
          else applyUpdate(fwd);
        }
        break;
      }
      default:
        unreachable();
    }
  }
}

/** Applies every weight update still pending in the program. */
export function flush_pending(prog: usize, nOps: i32): void {
  for (let i = 0; i < nOps; i++) {
    const op = prog + <usize>i * OP_BYTES;
    if (word(op, 0) == OP_FORWARD && load<i32>(op + FWD_PENDING) != 0) {
      store<i32>(op + FWD_PENDING, 0);
      applyUpdate(op);
    }
  }
}

/** Runs nSteps Euler steps of the program (flags: FLAG_LEARN | FLAG_NUDGE | FLAG_UNFUSED). */
export function run_steps(prog: usize, nOps: i32, nSteps: i32, flags: i32): void {
  for (let t = 0; t < nSteps; t++) stepOnce(prog, nOps, flags);
  flush_pending(prog, nOps);
}

// Presentation record words: 0 inputs, 1 input floats per sample, 2 targets (0: none),
// 3 target floats per sample, 4 readout r, 5 readout size, 6 out, 7 input segments, 8 target
// segments; then per input segment (dst, offset, count) and per target segment (dst, offset,
// count, flag pointer).
/**
 * Presents count samples one after another, stepsPerSample steps each, state carried over: per
 * sample the input (and target) segments are copied from the sample's row, the steps run, and the
 * readout population's r is copied to out + sample * readout size.
 */
export function present_samples(prog: usize, nOps: i32, pres: usize, count: i32, stepsPerSample: i32, flags: i32): void {
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
    for (let t = 0; t < stepsPerSample; t++) stepOnce(prog, nOps, flags);
    memory.copy(out + <usize>n * readoutBytes, readout, readoutBytes);
  }
  flush_pending(prog, nOps);
}
