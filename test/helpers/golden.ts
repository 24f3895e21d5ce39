/** Builds EmulatorModels from the golden fixtures (copied from ../shared/golden, see test/fixtures/README.md). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActivationName } from '../../chip/image-model.js';
import type { EmulatorModel } from '../../emulator/model.js';

export interface Golden {
  sizes: number[];
  activation: ActivationName[];
  tau_m: number[];
  tau_r: number[];
  eta: number;
  eta_scale: number[];
  beta: number;
  dt: number;
  t_pres: number;
  samples: { x: number[]; y: number[] }[];
  initial: { W: number[][][]; b: number[][] };
  trace: { step: number; t_ms: number; u: number[][]; r: number[][]; e: number[][] }[];
  final?: { W: number[][][]; b: number[][] };
}

export function loadGolden(name: string): Golden {
  return JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8'));
}

/** The golden layered network as an EmulatorModel (population 0 is the input). */
export function goldenModel(g: Golden, learning: boolean, precision: 'f32' | 'f64' = 'f32'): EmulatorModel {
  // f64 keeps the golden's exact initial values (the reference computes in float64), for an exact check.
  const arr = (v: ArrayLike<number>) => (precision === 'f64' ? Float64Array.from(v) : Float32Array.from(v)) as Float32Array;
  const n = g.sizes.length;
  const populations = g.sizes.map((size, i) => {
    const layer = i - 1;
    const fill = (v: number) => new Float32Array(size).fill(v);
    return {
      name: i === 0 ? 'in' : i === n - 1 ? 'out' : `h${i}`,
      index: i,
      size,
      role: (i === 0 ? 'input' : i === n - 1 ? 'output' : 'hidden') as 'input' | 'hidden' | 'output',
      model: (i === 0 ? 'input' : 'le') as 'input' | 'le',
      activation: (i === 0 ? 'linear' : g.activation[layer]) as ActivationName,
      tau_m_ms: fill(i === 0 ? 0 : g.tau_m[layer]),
      tau_r_ms: fill(i === 0 ? 0 : g.tau_r[layer]),
      gain: fill(1),
      offset: fill(0),
      bias: i === 0 ? new Float32Array(size) : arr(g.initial.b[layer]),
    };
  });
  const projections = g.initial.W.map((w, l) => ({
    index: l,
    pre: l,
    post: l + 1,
    weights: arr(toHardwareLayout64(w.flat(), g.sizes[l + 1], g.sizes[l])),
    plastic: learning,
    eta_scale: g.eta_scale[l],
    feedback: (l === 0 ? 'none' : 'transpose') as 'none' | 'transpose',
  }));
  return {
    populations,
    projections,
    beta: g.beta,
    eta: learning ? g.eta : 0,
    dt_ms: g.dt,
    speedup: 10000,
    noise: { membrane: 0, rate: 0 },
    seed: 1,
    learningRule: 'le',
  };
}

function toHardwareLayout64(w: number[], post: number, pre: number): Float64Array {
  const out = new Float64Array(pre * post);
  for (let i = 0; i < post; i++) for (let k = 0; k < pre; k++) out[k * post + i] = w[i * pre + k];
  return out;
}
