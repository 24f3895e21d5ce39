/**
 * Nominal floating-point operations of one LE Euler step of a layered MLP at batch 1 (one
 * multiply, add, compare or clamp = 1 FLOP), counted dense: rows skipped because their
 * presynaptic rate is zero (sparse MNIST pixels, clamped hard-sigmoid units) are still counted,
 * so GFLOP/s compare implementations doing the same nominal work.
 *
 * With n_0 .. n_L the sizes and P = sum_l n_{l-1} n_l the synapses:
 *   A. forward products W_l s_l                         2 P
 *   B. neuron update per non-input neuron               13  (basal 1, du 3, v 2, ubrm - basal 3,
 *                                                            u 2, phi and phi' 2)
 *   C. output error beta r' (y - r)                     3 n_L
 *      transposed products W_l^T diff_l, l >= 2         2 n_{l-1} n_l, plus 1 n_{l-1} (times r')
 *   D. rank-1 updates W_l += (rate s_k) e_l             2 P, plus 1 per row (rate s_k)
 *      biases b_l += rate e_l                           2 n_l
 * 'forward' counts A and B (inference: no target, no learning, errors identically zero);
 * 'train' counts A to D.
 */

/** Synapses of a layered MLP with these sizes. */
export function synapses(sizes: readonly number[]): number {
  let p = 0;
  for (let l = 1; l < sizes.length; l++) p += sizes[l - 1] * sizes[l];
  return p;
}

/** FLOPs per neuron of step B. */
export const NEURON_FLOPS = 13;

/** Nominal FLOPs of one step ('forward': A and B; 'train': A to D). */
export function leStepFlops(sizes: readonly number[], mode: 'forward' | 'train'): number {
  const L = sizes.length - 1;
  const P = synapses(sizes);
  let neurons = 0;
  for (let l = 1; l <= L; l++) neurons += sizes[l];
  const forward = 2 * P + NEURON_FLOPS * neurons;
  if (mode === 'forward') return forward;
  let backward = 3 * sizes[L];
  for (let l = 2; l <= L; l++) backward += 2 * sizes[l - 1] * sizes[l] + sizes[l - 1];
  let plasticity = 2 * P;
  for (let l = 1; l <= L; l++) plasticity += sizes[l - 1] + 2 * sizes[l];
  return forward + backward + plasticity;
}
