/**
 * EmulatorModels for the engine tests, built directly (no compiler): the 4-6-5-3 network of the
 * golden fixtures, and random networks with random feedback, li neurons and per-neuron mismatch.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../common/random.js';
import { projectRoot } from '../../common/paths.js';
import type { ActivationName } from '../../chip/image-model.js';
import { toHardwareLayout, type EmulatorModel, type ModelPopulation, type ModelProjection } from '../../emulator/model.js';

export interface LeSmallFixture {
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
  final: { W: number[][][]; b: number[][] };
}

/** Reads test/fixtures/<name>.json. */
export function loadFixture(name: string): LeSmallFixture {
  return JSON.parse(readFileSync(join(projectRoot(), 'test', 'fixtures', `${name}.json`), 'utf8'));
}

function population(
  index: number, name: string, size: number, role: ModelPopulation['role'], model: ModelPopulation['model'],
  activation: ActivationName, tau_m: ArrayLike<number>, tau_r: ArrayLike<number>,
  gain: ArrayLike<number>, offset: ArrayLike<number>, bias: ArrayLike<number>,
): ModelPopulation {
  return {
    name, index, size, role, model, activation,
    tau_m_ms: Float32Array.from(tau_m), tau_r_ms: Float32Array.from(tau_r),
    gain: Float32Array.from(gain), offset: Float32Array.from(offset), bias: Float32Array.from(bias),
  };
}

/** The golden fixture's layered network as an EmulatorModel (ideal chip: no mismatch, no noise). */
export function leSmallModel(f: LeSmallFixture): EmulatorModel {
  const L = f.sizes.length - 1;
  const pops: ModelPopulation[] = [population(0, 'in', f.sizes[0], 'input', 'input', 'linear', [], [], [], [], [])];
  pops[0].tau_m_ms = new Float32Array(f.sizes[0]);
  pops[0].tau_r_ms = new Float32Array(f.sizes[0]);
  pops[0].gain = new Float32Array(f.sizes[0]);
  pops[0].offset = new Float32Array(f.sizes[0]);
  pops[0].bias = new Float32Array(f.sizes[0]);
  for (let l = 1; l <= L; l++) {
    const n = f.sizes[l];
    pops.push(population(
      l, l === L ? 'out' : `h${l}`, n, l === L ? 'output' : 'hidden', 'le', f.activation[l - 1],
      new Array(n).fill(f.tau_m[l - 1]), new Array(n).fill(f.tau_r[l - 1]),
      new Array(n).fill(1), new Array(n).fill(0), f.initial.b[l - 1],
    ));
  }
  const projs: ModelProjection[] = [];
  for (let l = 1; l <= L; l++) {
    projs.push({
      index: l - 1, pre: l - 1, post: l,
      weights: toHardwareLayout(f.initial.W[l - 1].flat(), f.sizes[l], f.sizes[l - 1]),
      plastic: true, eta_scale: f.eta_scale[l - 1],
      feedback: l === 1 ? 'none' : 'transpose',
    });
  }
  return {
    populations: pops, projections: projs, beta: f.beta, eta: f.eta, dt_ms: f.dt, speedup: 1000,
    noise: { membrane: 0, rate: 0 }, seed: 1, learningRule: 'le',
  };
}

export interface RandomModelOptions {
  seed: number;
  sizes: number[];
  activations: ActivationName[];
  models?: ('le' | 'li')[];
  feedback?: 'transpose' | 'random';
  /** Relative spread of tau_m, tau_r, gain; absolute spread of offset. */
  mismatch?: number;
  weightScale?: number;
  noise?: { membrane: number; rate: number };
  eta?: number;
  /** Adds skip projections input -> output and first hidden -> output (two projections into out). */
  skip?: boolean;
}

/** A random layered network: mismatched per-neuron tau/gain/offset, random biases and weights. */
export function randomModel(o: RandomModelOptions): EmulatorModel {
  const rng = new Rng(o.seed, 'engine-test-model');
  const s = o.mismatch ?? 0;
  const L = o.sizes.length - 1;
  const pops: ModelPopulation[] = [];
  for (let l = 0; l <= L; l++) {
    const n = o.sizes[l];
    const draw = (f: () => number) => Array.from({ length: n }, f);
    if (l === 0) {
      const z = new Array(n).fill(0);
      pops.push(population(0, 'in', n, 'input', 'input', 'linear', z, z, z, z, z));
      continue;
    }
    const tau = 2 + 8 * rng.uniform();
    pops.push(population(
      l, l === L ? 'out' : `h${l}`, n, l === L ? 'output' : 'hidden', o.models?.[l - 1] ?? 'le', o.activations[l - 1],
      draw(() => tau * (1 + s * rng.normal())), draw(() => tau * (1 + s * rng.normal())),
      draw(() => 1 + s * rng.normal()), draw(() => s * rng.normal()), draw(() => 0.1 * rng.normal()),
    ));
  }
  const projs: ModelProjection[] = [];
  for (let l = 1; l <= L; l++) {
    const pre = o.sizes[l - 1];
    const post = o.sizes[l];
    const w = Float32Array.from({ length: pre * post }, () => (o.weightScale ?? 0.5) * rng.normal());
    const feedback = l === 1 ? 'none' : (o.feedback ?? 'transpose');
    projs.push({
      index: l - 1, pre: l - 1, post: l, weights: w, plastic: true, eta_scale: 1 / l, feedback,
      feedbackWeights: feedback === 'random' ? Float32Array.from({ length: pre * post }, () => 0.3 * rng.normal()) : undefined,
    });
  }
  if (o.skip && L >= 3) {
    for (const pre of [0, 1]) {
      const nPre = o.sizes[pre];
      const nPost = o.sizes[L];
      projs.push({
        index: projs.length, pre, post: L, plastic: true, eta_scale: 0.3,
        weights: Float32Array.from({ length: nPre * nPost }, () => 0.3 * rng.normal()),
        feedback: pre === 0 ? 'none' : 'transpose',
      });
    }
  }
  return {
    populations: pops, projections: projs, beta: 0.1, eta: o.eta ?? 0.5, dt_ms: 0.01, speedup: 1000,
    noise: o.noise ?? { membrane: 0, rate: 0 }, seed: o.seed, learningRule: 'le',
  };
}
