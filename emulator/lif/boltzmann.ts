/**
 * Boltzmann distributions over binary states z in {0,1}^n, p(z) ∝ exp(z^T W z / 2 + b^T z) with
 * W symmetric and zero on the diagonal, enumerated over all 2^n states (state index s has
 * z_i = bit i of s). Float64 throughout: the host-side reference of neural sampling.
 */
import { Rng } from '../../common/random.js';

/** Boltzmann parameters: W [n][n] row-major, symmetric, zero diagonal; b [n]. */
export interface Boltzmann {
  n: number;
  W: Float64Array;
  b: Float64Array;
}

/** A random target: W_ij = W_ji and b_i drawn N(0, sigma^2) from (seed, 'boltzmann'), zero diagonal. */
export function randomBoltzmann(n: number, seed: number, sigma = 0.5): Boltzmann {
  const rng = new Rng(seed, 'boltzmann');
  const W = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const w = sigma * rng.normal();
      W[i * n + j] = w;
      W[j * n + i] = w;
    }
  }
  const b = Float64Array.from({ length: n }, () => sigma * rng.normal());
  return { n, W, b };
}

/** Bit i of state s. */
export function bit(s: number, i: number): number {
  return (s >> i) & 1;
}

/** The normalised distribution over all 2^n states. */
export function boltzmannDistribution(m: Boltzmann): Float64Array {
  const { n, W, b } = m;
  if (n > 20) throw new Error(`boltzmann: ${n} units are too many to enumerate`);
  const S = 1 << n;
  const logp = new Float64Array(S);
  let max = -Infinity;
  for (let s = 0; s < S; s++) {
    let e = 0;
    for (let i = 0; i < n; i++) {
      if (!bit(s, i)) continue;
      e += b[i];
      for (let j = i + 1; j < n; j++) if (bit(s, j)) e += W[i * n + j];
    }
    logp[s] = e;
    max = Math.max(max, e);
  }
  let z = 0;
  for (let s = 0; s < S; s++) z += (logp[s] = Math.exp(logp[s] - max));
  for (let s = 0; s < S; s++) logp[s] /= z;
  return logp;
}

/** First and second moments <z_i> and <z_i z_j> ([n][n], diagonal = <z_i>) of a distribution over states. */
export function moments(p: ArrayLike<number>, n: number): { mean: Float64Array; pair: Float64Array } {
  const mean = new Float64Array(n);
  const pair = new Float64Array(n * n);
  for (let s = 0; s < p.length; s++) {
    if (p[s] === 0) continue;
    for (let i = 0; i < n; i++) {
      if (!bit(s, i)) continue;
      mean[i] += p[s];
      for (let j = 0; j < n; j++) if (bit(s, j)) pair[i * n + j] += p[s];
    }
  }
  return { mean, pair };
}

/** Floor for sampled probabilities in the KL divergence: a state never visited counts as this (documented). */
export const KL_FLOOR = 1e-9;

/** DKL(p || q) = sum_s p(s) ln(p(s) / q(s)) in nats; q below KL_FLOOR is taken as KL_FLOOR. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new Error('klDivergence: distributions of different sizes');
  let d = 0;
  for (let s = 0; s < p.length; s++) if (p[s] > 0) d += p[s] * Math.log(p[s] / Math.max(q[s], KL_FLOOR));
  return d;
}

/** Counts -> probabilities. */
export function normalise(counts: ArrayLike<number>): Float64Array {
  let z = 0;
  for (let s = 0; s < counts.length; s++) z += counts[s];
  return Float64Array.from(counts, (c) => (z > 0 ? c / z : 0));
}
