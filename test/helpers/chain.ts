/** A deep feed-forward chain for the LE headline: depth layers of width neurons, tanh, tau_m = 20 ms. */
import { Rng } from '../../common/random.js';
import type { EmulatorModel } from '../../emulator/model.js';

export interface Chain {
  model: EmulatorModel;
  /** Weights [post][pre] and biases per layer, float64, for the independent equilibrium. */
  W: number[][][];
  b: number[][];
}

export function makeChain(model: 'le' | 'li', depth = 10, width = 20, seed = 11): Chain {
  const rng = new Rng(seed, 'chain');
  const sd = 1.5 / Math.sqrt(width);
  const W: number[][][] = [];
  const b: number[][] = [];
  for (let l = 0; l < depth; l++) {
    W.push(Array.from({ length: width }, () => Array.from({ length: width }, () => Math.fround(sd * rng.normal()))));
    b.push(Array.from({ length: width }, () => Math.fround(0.1 * rng.normal())));
  }
  const fill = (v: number) => new Float32Array(width).fill(v);
  const populations = Array.from({ length: depth + 1 }, (_, i) => ({
    name: i === 0 ? 'in' : `l${i}`,
    index: i,
    size: width,
    role: (i === 0 ? 'input' : i === depth ? 'output' : 'hidden') as 'input' | 'hidden' | 'output',
    model: (i === 0 ? 'input' : model) as 'input' | 'le' | 'li',
    activation: (i === 0 ? 'linear' : 'tanh') as 'linear' | 'tanh',
    tau_m_ms: fill(i === 0 ? 0 : 20),
    tau_r_ms: fill(i === 0 ? 0 : 20),
    gain: fill(1),
    offset: fill(0),
    bias: i === 0 ? new Float32Array(width) : Float32Array.from(b[i - 1]),
  }));
  const projections = W.map((w, l) => {
    const hw = new Float32Array(width * width);
    for (let i = 0; i < width; i++) for (let k = 0; k < width; k++) hw[k * width + i] = w[i][k];
    return { index: l, pre: l, post: l + 1, weights: hw, plastic: false, eta_scale: 1, feedback: 'none' as const };
  });
  return {
    model: { populations, projections, beta: 0, eta: 0, dt_ms: 0.01, speedup: 10000, noise: { membrane: 0, rate: 0 }, seed: 1, learningRule: 'none' },
    W,
    b,
  };
}

/** Equilibrium rates of every layer for input x: r_l = tanh(W_l r_{l-1} + b_l), computed in float64. */
export function equilibrium(chain: Chain, x: number[]): number[][] {
  const out: number[][] = [];
  let r = x;
  for (let l = 0; l < chain.W.length; l++) {
    r = chain.W[l].map((row, i) => Math.tanh(row.reduce((a, w, k) => a + w * r[k], chain.b[l][i])));
    out.push(r);
  }
  return out;
}

/** ||a - b|| / ||c - b||: the fraction of the step from b to c not yet made. */
export function stepError(a: ArrayLike<number>, target: number[], before: number[]): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < target.length; i++) {
    num += (a[i] - target[i]) ** 2;
    den += (target[i] - before[i]) ** 2;
  }
  return Math.sqrt(num / den);
}
