/**
 * Temporal noise in the engine: membrane noise makes u an Ornstein-Uhlenbeck process whose Euler
 * discretisation u' = (1 - dt/tau) u + sigma sqrt(dt) N has the stationary variance
 * sigma^2 dt / (1 - (1 - dt/tau)^2) and lag-k autocorrelation (1 - dt/tau)^k; rate noise is white
 * with variance sigma_r^2. Runs repeat byte for byte with the same seed and differ with another.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../emulator/engine.js';
import type { EmulatorModel } from '../../emulator/model.js';
import { ensureKernels } from '../kernels/kernels-build.js';
import { randomModel } from './engine-models.js';

beforeAll(ensureKernels);

/** n independent linear neurons with zero input, tau_m = tau_r = tau (no projections). */
function lonelyNeurons(n: number, tau: number, noise: { membrane: number; rate: number }, seed = 1): EmulatorModel {
  const fill = (v: number) => new Float32Array(n).fill(v);
  return {
    populations: [{
      name: 'h', index: 0, size: n, role: 'hidden', model: 'le', activation: 'linear',
      tau_m_ms: fill(tau), tau_r_ms: fill(tau), gain: fill(1), offset: fill(0), bias: fill(0),
    }],
    projections: [], beta: 0.1, eta: 0, dt_ms: 0.01, speedup: 1000, noise, seed, learningRule: 'none',
  };
}

describe('membrane noise', () => {
  it('gives u the analytic OU variance and autocorrelation', () => {
    const n = 64;
    const tau = 1;
    const dt = 0.01;
    const sigma = 0.8;
    const E = new Engine(lonelyNeurons(n, tau, { membrane: sigma, rate: 0 }));
    E.step(600); // 6 tau of burn-in from u = 0
    const a = 1 - dt / tau;
    const variance = (sigma * sigma * dt) / (1 - a * a);
    const lag = 10;
    let s2 = 0;
    let cross = 0;
    let pair = 0;
    let count = 0;
    let prev = Float32Array.from(E.u('h'));
    for (let k = 0; k < 8000; k++) {
      E.step(lag);
      const u = E.u('h');
      for (let i = 0; i < n; i++) {
        s2 += u[i] * u[i];
        cross += u[i] * prev[i];
      }
      for (let i = 0; i + 1 < n; i += 2) pair += u[i] * u[i + 1];
      count++;
      prev = Float32Array.from(u);
    }
    const measured = s2 / (count * n);
    // 64 neurons x 800 tau: ~0.6 % standard error (correlated samples); 3 % is five of them
    expect(Math.abs(measured / variance - 1)).toBeLessThan(0.03);
    expect(Math.abs(cross / s2 - a ** lag)).toBeLessThan(0.01);
    // different neurons draw independent noise
    expect(Math.abs(pair / (count * (n / 2)) / variance)).toBeLessThan(0.03);
  });
});

describe('rate noise', () => {
  it('adds white noise of variance sigma_r^2 to r', () => {
    const n = 32;
    const sigma = 0.3;
    const E = new Engine(lonelyNeurons(n, 5, { membrane: 0, rate: sigma }));
    let s1 = 0;
    let s2 = 0;
    let lag1 = 0;
    let prev = new Float32Array(n);
    const steps = 4000;
    for (let t = 0; t < steps; t++) {
      E.step(1);
      const r = E.r('h');
      for (let i = 0; i < n; i++) {
        s1 += r[i];
        s2 += r[i] * r[i];
        lag1 += r[i] * prev[i];
      }
      prev = Float32Array.from(r);
      // no membrane noise: u stays exactly zero
      if (t % 1000 === 0) expect(E.u('h').every((v) => v === 0)).toBe(true);
    }
    const N = steps * n;
    expect(Math.abs(s1 / N)).toBeLessThan((4 * sigma) / Math.sqrt(N));
    expect(Math.abs(s2 / N / (sigma * sigma) - 1)).toBeLessThan(4 * Math.sqrt(2 / N));
    expect(Math.abs(lag1 / s2)).toBeLessThan(4 / Math.sqrt(N));
  });
});

describe('determinism', () => {
  // the same network and chip; only the run's seed (the noise streams) differs
  const noisy = (seed: number): EmulatorModel => ({
    ...randomModel({ seed: 6, sizes: [6, 10, 4], activations: ['tanh', 'linear'], mismatch: 0.1, noise: { membrane: 0.05, rate: 0.02 } }),
    seed,
  });

  function run(model: EmulatorModel): Uint8Array {
    const E = new Engine(model);
    E.setInput('in', [0.1, 0.5, 0, 0.9, 0.3, 0.2]);
    E.setTarget('out', [0, 1, 0, 0]);
    E.step(300, { learn: true });
    const parts = [E.u('h1'), E.r('h1'), E.e('h1'), E.u('out'), E.r('out'), E.readWeights(0), E.readWeights(1), E.readBias('out')];
    return new Uint8Array(parts.flatMap((p) => Array.from(new Uint8Array(Float32Array.from(p).buffer))));
  }

  it('the same seed repeats a noisy learning run byte for byte; another seed differs', () => {
    const a = run(noisy(1));
    expect(run(noisy(1))).toEqual(a);
    expect(run(noisy(2))).not.toEqual(a);
  });

  it('reset() keeps the noise streams running (a second run differs), re-seeding repeats it', () => {
    const E = new Engine(lonelyNeurons(8, 1, { membrane: 1, rate: 0 }, 5));
    E.step(50);
    const first = Float32Array.from(E.u('h'));
    E.reset();
    E.step(50);
    expect(Float32Array.from(E.u('h'))).not.toEqual(first);
    E.reset();
    E.seedNoise(5);
    E.step(50);
    expect(Float32Array.from(E.u('h'))).toEqual(first);
  });
});
