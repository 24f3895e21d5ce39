/**
 * EmulatorModel: the realised network a chip instance runs — nominal image values with the
 * instance's fixed-pattern deviations and trims applied. The TypeScript reference and the WASM
 * engine both step exactly this (equations in emulator/reference.ts).
 */
import type { ActivationName } from '../chip/image-model.js';

export interface ModelPopulation {
  name: string;
  index: number;
  size: number;
  role: 'input' | 'hidden' | 'output';
  model: 'input' | 'le' | 'li';
  activation: ActivationName;
  /** Per neuron, realised (mismatch, trims), biological ms. */
  tau_m_ms: Float32Array;
  tau_r_ms: Float32Array;
  /** r = phi(gain * v + offset). */
  gain: Float32Array;
  offset: Float32Array;
  bias: Float32Array;
}

export interface ModelProjection {
  index: number;
  /** Population indices. */
  pre: number;
  post: number;
  /** [pre][post] row-major: the hardware layout, one array row per presynaptic signal. */
  weights: Float32Array;
  plastic: boolean;
  eta_scale: number;
  /** 'none' when the pre population is an input or learning is off. */
  feedback: 'transpose' | 'random' | 'none';
  /** random feedback: [post][pre] (rows carry the post population's errors). */
  feedbackWeights?: Float32Array;
}

export interface EmulatorModel {
  populations: ModelPopulation[];
  projections: ModelProjection[];
  beta: number;
  eta: number;
  dt_ms: number;
  speedup: number;
  noise: { membrane: number; rate: number };
  seed: number;
  learningRule: 'le' | 'none';
  /** Synaptic filtering (RESEARCH.md §1 "Temporal noise"); absent or tau_s_ms = 0: off. */
  filter?: SynapticFilter;
}

/**
 * Low-pass filters of the synapses: every projection's presynaptic signal (inputs included) is
 * rbar += (r - rbar) dt / tau_s; optionally errors the same way (ebar enters the membrane and the
 * weight update); with `targets`, an output's target is low-passed with tau = depth x tau_s, depth
 * being the projections on the longest path from an input to it (emulator/synaptic-filter.ts).
 */
export interface SynapticFilter {
  tau_s_ms: number;
  errors: boolean;
  targets: boolean;
}

/** Activation codes shared by the reference and the kernels. */
export const ACTIVATION_CODE: Record<ActivationName, number> = {
  linear: 0,
  tanh: 1,
  sigmoid: 2,
  relu: 3,
  hardsigmoid: 4,
};

/** Converts a [post][pre] matrix (as in W r) into the hardware layout [pre][post]. */
export function toHardwareLayout(wPostPre: ArrayLike<number>, post: number, pre: number): Float32Array {
  const out = new Float32Array(pre * post);
  for (let i = 0; i < post; i++) for (let k = 0; k < pre; k++) out[k * post + i] = wPostPre[i * pre + k];
  return out;
}

/** Converts a hardware-layout [pre][post] matrix back to [post][pre]. */
export function fromHardwareLayout(wPrePost: ArrayLike<number>, post: number, pre: number): Float32Array {
  const out = new Float32Array(pre * post);
  for (let k = 0; k < pre; k++) for (let i = 0; i < post; i++) out[i * pre + k] = wPrePost[k * post + i];
  return out;
}
