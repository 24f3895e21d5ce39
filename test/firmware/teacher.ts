/** A random small tanh teacher (4 → 8 tanh → 2 linear) and its dataset JSON (cli/datasets.ts format). */
import { Rng } from '../../common/random.js';

export interface TeacherData {
  inputs: number[][];
  targets: number[][];
  test: { inputs: number[][]; targets: number[][] };
}

/** Samples x ~ U[0, 1)^4 through a teacher with W1 ~ N(0, 1.2²), b1 ~ N(0, 0.3²), W2 ~ N(0, 0.5²), all from `seed`. */
export function teacherDataset(seed: number, train: number, test: number): TeacherData {
  const [ni, nh, no] = [4, 8, 2];
  const rng = new Rng(seed, 'teacher');
  const W1 = Array.from({ length: nh }, () => Array.from({ length: ni }, () => rng.normal() * 1.2));
  const b1 = Array.from({ length: nh }, () => rng.normal() * 0.3);
  const W2 = Array.from({ length: no }, () => Array.from({ length: nh }, () => rng.normal() * 0.5));
  const f = (x: number[]) => {
    const h = W1.map((w, i) => Math.tanh(w.reduce((a, v, k) => a + v * x[k], b1[i])));
    return W2.map((w) => w.reduce((a, v, k) => a + v * h[k], 0));
  };
  const make = (n: number) => {
    const inputs: number[][] = [];
    const targets: number[][] = [];
    for (let i = 0; i < n; i++) {
      const x = Array.from({ length: ni }, () => rng.uniform());
      inputs.push(x);
      targets.push(f(x));
    }
    return { inputs, targets };
  };
  const tr = make(train);
  return { ...tr, test: make(test) };
}

/** Mean over output neurons of the variance of the targets (what a test loss per output neuron compares to). */
export function targetVariance(targets: number[][]): number {
  const n = targets.length, m = targets[0].length;
  let total = 0;
  for (let j = 0; j < m; j++) {
    const mean = targets.reduce((a, t) => a + t[j], 0) / n;
    total += targets.reduce((a, t) => a + (t[j] - mean) ** 2, 0) / n;
  }
  return total / m;
}
