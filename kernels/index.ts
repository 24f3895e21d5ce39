// lechip's WASM kernels (build: `npx asc kernels/index.ts --target release` -> build/kernels.wasm).
// A flat pointer API over imported linear memory laid out by the host (emulator/engine.ts); no
// allocation happens inside: the host places every buffer above heap_base().
export { rng_next_u32, rng_normal, rng_fill_normal, RNG_BYTES } from './random';
export { gather_active, mv_forward, mv_forward_update, mv_update, mv_dot_rows, vec_mul_acc, vec_axpy } from './matrix';
export { mv_forward_q8, mv_dot_rows_q8 } from './quantised';
export { neuron_update, activate_vec, exp_vec } from './neuron';
export { vec_lowpass, vec_lowpass_flagged, tau_adapt_delta, vec_add_clamped } from './adapt';
export { run_steps, present_samples, flush_pending, OP_BYTES } from './program';

/** First byte the host may use: everything below holds the module's static data (math tables). */
export function heap_base(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}
export * from './lif';
export * from './bus';
