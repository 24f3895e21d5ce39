/**
 * kernels/random.ts against common/random.ts: the same xoshiro128** stream bit for bit from the
 * same state derivation, Box-Muller normals equal to Rng.normal (pairs and spare included), and
 * the moments of the normals the noise ops draw.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, streamKey, xoshiroState } from '../../common/random.js';
import type { KernelMemory } from '../../emulator/wasm.js';
import { RNG_BYTES } from '../../emulator/wasm.js';
import { ensureKernels, kernelMemory } from './kernels-build.js';

beforeAll(ensureKernels);

function seeded(mem: KernelMemory, seed: number, purpose: string): number {
  const st = mem.alloc(RNG_BYTES);
  mem.u32(st, 4).set(xoshiroState(streamKey(seed, purpose)));
  return st;
}

describe('xoshiro128** in WASM', () => {
  it.each([[0, ''], [1, 'membrane-noise/h1'], [0xdeadbeef, 'x'], [2 ** 40 + 3, 'big seed']])(
    'matches Rng.nextU32 bit for bit (seed %d, purpose %j)',
    (seed, purpose) => {
      const mem = kernelMemory();
      const st = seeded(mem, seed, purpose);
      const host = new Rng(seed, purpose);
      for (let i = 0; i < 5000; i++) expect(mem.k.rng_next_u32(st) >>> 0).toBe(host.nextU32());
    },
  );
});

describe('normals', () => {
  it('match Rng.normal value by value, spare included', () => {
    const mem = kernelMemory();
    const st = seeded(mem, 7, 'normals');
    const host = new Rng(7, 'normals');
    for (let i = 0; i < 2001; i++) {
      const w = host.normal();
      expect(Math.abs(mem.k.rng_normal(st) - w)).toBeLessThanOrEqual(1e-13 * (1 + Math.abs(w)));
    }
  });

  it('rng_fill_normal continues the stream across calls of odd length, scaled and rounded to float32', () => {
    const mem = kernelMemory();
    const st = seeded(mem, 3, 'fill');
    const out = mem.allocF32(13);
    const host = new Rng(3, 'fill');
    const got: number[] = [];
    mem.k.rng_fill_normal(st, out, 7, 0.5);
    got.push(...mem.f32(out, 7));
    mem.k.rng_fill_normal(st, out, 6, 0.5);
    got.push(...mem.f32(out, 6));
    for (const g of got) {
      const w = Math.fround(0.5 * host.normal());
      expect(Math.abs(g - w)).toBeLessThanOrEqual(1e-7 * Math.abs(w) + 1e-12);
    }
  });

  it('have mean 0 and variance 1 (200 000 draws, 5 standard errors)', () => {
    const n = 200_000;
    const mem = kernelMemory(n * 4 + 4096);
    const st = seeded(mem, 11, 'moments');
    const out = mem.allocF32(n);
    mem.k.rng_fill_normal(st, out, n, 1);
    const v = mem.f32(out, n);
    let s1 = 0;
    let s2 = 0;
    let s4 = 0;
    for (const x of v) {
      s1 += x;
      s2 += x * x;
      s4 += x ** 4;
    }
    expect(Math.abs(s1 / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(s4 / n - 3)).toBeLessThan(5 * Math.sqrt(96 / n)); // Gaussian kurtosis
  });
});
