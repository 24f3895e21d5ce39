/**
 * Neuron kernels against float64 TypeScript: the vector exp, tanh and logistic (relative accuracy
 * 1e-6 against Math.exp / Math.tanh), the piecewise activations (exact), and the whole neuron update
 * of a population against the formulas of emulator/reference.ts for every activation, both models
 * (le, li), mismatched per-neuron parameters, odd sizes, and added noise draws.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import { activate } from '../../emulator/reference.js';
import { ACTIVATION_CODE } from '../../emulator/model.js';
import { pad4 } from '../../emulator/wasm.js';
import { ensureKernels, kernelMemory } from './kernels-build.js';

beforeAll(ensureKernels);

/** Runs activate_vec on xs and returns phi and phi'. */
function runActivation(act: number, xs: ArrayLike<number>): { phi: Float32Array; dphi: Float32Array } {
  const n = pad4(xs.length);
  const mem = kernelMemory(n * 12 + 1024);
  const a = mem.allocF32(n);
  const phi = mem.allocF32(n);
  const dphi = mem.allocF32(n);
  mem.f32(a, xs.length).set(xs);
  mem.k.activate_vec(act, a, phi, dphi, n / 4);
  return { phi: Float32Array.from(mem.f32(phi, xs.length)), dphi: Float32Array.from(mem.f32(dphi, xs.length)) };
}

function grid(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

/** Largest relative error; values below `floor` (default: float32's smallest normal) count as floor. */
function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1.2e-38): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), floor);
    worst = Math.max(worst, err);
  }
  return worst;
}

describe('vector exp', () => {
  it('is accurate to 1e-6 relative on [-87, 88]', () => {
    const xs = Float32Array.from([...grid(-87, 88, 20001), 0, -0, 1e-8, -1e-8, 0.34657359, -0.34657359, 1, -1]);
    const n = pad4(xs.length);
    const mem = kernelMemory(n * 8 + 1024);
    const x = mem.allocF32(n);
    const out = mem.allocF32(n);
    mem.f32(x, xs.length).set(xs);
    mem.k.exp_vec(x, out, n / 4);
    expect(maxRelError(mem.f32(out, xs.length), Array.from(xs, Math.exp))).toBeLessThan(1e-6);
    expect(mem.f32(out, 1)[0]).toBeGreaterThan(0);
  });
});

describe('tanh', () => {
  const xs = Float32Array.from([
    ...grid(-12, 12, 24001), ...grid(-0.7, 0.7, 5001), 1e-30, -1e-30, 1e-6, -1e-6, 0.625, -0.625, 0.62499, 0.62501, 30, -30, 0, 100,
  ]);
  const { phi, dphi } = runActivation(ACTIVATION_CODE.tanh, xs);
  it('phi is accurate to 1e-6 relative and odd', () => {
    expect(maxRelError(phi, Array.from(xs, Math.tanh))).toBeLessThan(1e-6);
    for (let i = 0; i < xs.length; i++) expect(Math.abs(phi[i])).toBeLessThanOrEqual(1);
  });
  it("phi' = 1 - tanh^2 is accurate to 2e-6 relative, also where tanh is close to 1", () => {
    // 1 / cosh^2 in float64 (1 - tanh^2 would cancel); below 1e-30 the derivative is irrelevant
    expect(maxRelError(dphi, Array.from(xs, (x) => 1 / Math.cosh(x) ** 2), 1e-30)).toBeLessThan(2e-6);
  });
});

describe('sigmoid', () => {
  const xs = Float32Array.from([...grid(-80, 80, 32001), ...grid(-1, 1, 2001), 1e-7, -1e-7, 0]);
  const { phi, dphi } = runActivation(ACTIVATION_CODE.sigmoid, xs);
  const ref = Array.from(xs, (x) => activate('sigmoid', x));
  it('phi is accurate to 1e-6 relative', () => {
    expect(maxRelError(phi, ref.map((r) => r[0]))).toBeLessThan(1e-6);
  });
  it("phi' = s (1 - s) is accurate to 2e-6 relative, also in both tails", () => {
    // float64 s (1 - s) cancels for large x; e^-x / (1 + e^-x)^2 does not
    const want = Array.from(xs, (x) => Math.exp(-x) / (1 + Math.exp(-x)) ** 2);
    expect(maxRelError(dphi, want, 1e-30)).toBeLessThan(2e-6);
  });
});

describe('piecewise activations', () => {
  const xs = Float32Array.from([-2, -1, -1e-9, -0, 0, 1e-9, 0.25, 0.5, 0.999, 1, 1.0000001, 2, 50]);
  it.each(['relu', 'hardsigmoid', 'linear'] as const)('%s matches the reference exactly', (name) => {
    const { phi, dphi } = runActivation(ACTIVATION_CODE[name], xs);
    xs.forEach((x, i) => {
      const [p, d] = activate(name, x);
      expect(phi[i] + 0).toBe(Math.fround(p) + 0); // + 0: -0 and 0 are the same rate
      expect(dphi[i]).toBe(d);
    });
  });
});

describe('neuron_update', () => {
  const cases: [string, 'le' | 'li', number, boolean][] = [];
  for (const act of Object.keys(ACTIVATION_CODE)) for (const model of ['le', 'li'] as const) cases.push([act, model, 103, false]);
  cases.push(['tanh', 'le', 7, true], ['sigmoid', 'li', 13, true], ['hardsigmoid', 'le', 1, false]);

  it.each(cases)('%s %s neurons (n = %i, noise %s) follow the reference formulas', (act, model, n, noise) => {
    const rng = new Rng(n * 7 + act.length, `neuron/${act}/${model}`);
    const n4 = pad4(n);
    const mem = kernelMemory(n4 * 4 * 16 + 4096);
    const bufs = ['u', 'basal', 'ePrev', 'tauM', 'tauR', 'gain', 'offset', 'r', 'rp', 'diff', 'nu', 'nr'] as const;
    const P = Object.fromEntries(bufs.map((b) => [b, mem.allocF32(n)])) as Record<(typeof bufs)[number], number>;
    const draw = (g: () => number) => Float32Array.from({ length: n }, g);
    const inp = {
      u: draw(() => rng.normal()),
      basal: draw(() => 2 * rng.normal()),
      ePrev: draw(() => 0.1 * rng.normal()),
      tauM: draw(() => 1 + 29 * rng.uniform()),
      tauR: draw(() => 1 + 29 * rng.uniform()),
      gain: draw(() => 0.5 + rng.uniform()),
      offset: draw(() => rng.uniform() - 0.5),
      nu: draw(() => 0.01 * rng.normal()),
      nr: draw(() => 0.01 * rng.normal()),
    };
    mem.f32(P.tauM, n4).fill(1); // padding lanes as the engine lays them out
    for (const [k, v] of Object.entries(inp)) mem.f32(P[k as keyof typeof P], n).set(v);
    const dt = Math.fround(0.01);
    mem.k.neuron_update(
      n4 / 4, model === 'le' ? 0 : 1, ACTIVATION_CODE[act as keyof typeof ACTIVATION_CODE], dt,
      P.u, P.basal, P.ePrev, P.tauM, P.tauR, P.gain, P.offset, P.r, P.rp, P.diff,
      noise ? P.nu : 0, noise ? P.nr : 0,
    );
    const got = { u: mem.f32(P.u, n4), r: mem.f32(P.r, n4), rp: mem.f32(P.rp, n4), diff: mem.f32(P.diff, n4) };
    for (let i = 0; i < n; i++) {
      const u = inp.u[i];
      const b = inp.basal[i];
      const du = (b - u + inp.ePrev[i]) / inp.tauM[i];
      const v = model === 'le' ? u + inp.tauR[i] * du : u + dt * du;
      const scale = 1 + Math.abs(u) + Math.abs(b) + Math.abs(inp.ePrev[i]);
      const [phi, dphi] = activate(act, inp.gain[i] * v + inp.offset[i]);
      const want = {
        u: u + dt * du + (noise ? inp.nu[i] : 0),
        r: phi + (noise ? inp.nr[i] : 0),
        rp: inp.gain[i] * dphi,
        diff: u + inp.tauM[i] * du - b,
      };
      expect(Math.abs(got.u[i] - want.u)).toBeLessThanOrEqual(1e-6 * scale);
      expect(Math.abs(got.diff[i] - want.diff)).toBeLessThanOrEqual(1e-6 * scale);
      // a = g v + o carries float32 rounding of order 1e-7 |v|; phi and phi' are Lipschitz (slope <= g)
      const aTol = 2e-6 * scale * (1 + inp.tauR[i]);
      expect(Math.abs(got.r[i] - want.r)).toBeLessThanOrEqual(aTol);
      if (act === 'relu' || act === 'hardsigmoid') {
        // phi' jumps at the kinks: only compare away from them
        const a = inp.gain[i] * v + inp.offset[i];
        if (Math.abs(a) > aTol && Math.abs(a - 1) > aTol) expect(got.rp[i]).toBe(Math.fround(want.rp));
      } else {
        expect(Math.abs(got.rp[i] - want.rp)).toBeLessThanOrEqual(aTol);
      }
    }
    // padding lanes stay finite, with r' and diff zero (they must not leak into products)
    for (let i = n; i < n4; i++) {
      expect(got.rp[i]).toBe(0);
      expect(got.diff[i]).toBe(0);
      expect(Number.isFinite(got.u[i]) && Number.isFinite(got.r[i])).toBe(true);
    }
  });
});
