// Entry of build/kernels-shared.wasm (`asc kernels/shared.ts --target release-shared`): every
// kernel of build/kernels.wasm, compiled for an imported *shared* memory with atomics enabled, plus
// the thread-program runner and barrier of kernels/parallel.ts (emulator/threads/ runs one
// instance per thread over one memory).
export * from './index';
export { barrier_wait, thread_steps, thread_present } from './parallel';
export { mv_forward_cols, mv_forward_update_cols, mv_update_cols } from './matrix';
