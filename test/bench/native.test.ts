import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import { ReferenceModel } from '../../emulator/reference.js';
import { checkNetworkModel, runNativeCheck, type CheckNetwork, type NativeActivation } from '../../bench/native-check.js';
import { describeMachine } from '../../bench/machine.js';
import { buildNative, buildNative128, findCompiler, isSkipped, NATIVE_FLAGS_128, runNativeBench, runNativeBenchCopies, runNativeBinary, type NativeBuild } from '../../bench/native.js';

const hasCompiler = findCompiler() !== null;
const hasObjdump = (() => {
  const r = spawnSync('objdump', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return !r.error && r.status === 0;
})();

/** A random layered network with time constants and rates chosen so 300 steps move it visibly. */
function randomNetwork(sizes: number[], activations: NativeActivation[], seed: number, learn: boolean): CheckNetwork {
  const rng = new Rng(seed, 'native-check');
  const L = sizes.length - 1;
  const normal = (n: number, s: number) => Float32Array.from({ length: n }, () => s * rng.normal());
  return {
    sizes,
    activations,
    // tau_r differs from tau_m and between layers, so swapping them would show.
    tau_m_ms: Array.from({ length: L }, (_, l) => 1 + 0.5 * l),
    tau_r_ms: Array.from({ length: L }, (_, l) => 0.7 + 0.4 * l),
    eta_scale: Array.from({ length: L }, (_, l) => [1, 0.6, 0.3][l] ?? 0.3),
    dt_ms: 0.05,
    beta: 0.5,
    eta: 3,
    weights: sizes.slice(1).map((post, l) => normal(sizes[l] * post, 0.6)),
    biases: sizes.slice(1).map((post) => normal(post, 0.2)),
    learn,
    nudge: true,
    steps_per_sample: 30,
    samples: Array.from({ length: 10 }, () => ({
      x: Float32Array.from({ length: sizes[0] }, () => rng.uniform()),
      y: Float32Array.from({ length: sizes[L] }, () => rng.uniform()),
    })),
  };
}

/** Steps the float64 reference on the same network and returns the worst |native - reference| (default build unless `build`). */
function compare(net: CheckNetwork, build?: NativeBuild) {
  const traj = runNativeCheck(net, build);
  if (isSkipped(traj)) throw new Error(traj.skipped);
  const ref = new ReferenceModel(checkNetworkModel(net));
  const L = net.sizes.length - 1;
  let worst = 0;
  let step = 0;
  for (const s of net.samples) {
    ref.set(0, s.x);
    ref.set(L, net.nudge ? s.y : null);
    for (let t = 0; t < net.steps_per_sample; t++) {
      ref.step(net.learn, net.nudge);
      const got = traj.steps[step++];
      for (let l = 1; l <= L; l++)
        for (const key of ['u', 'r', 'e'] as const)
          ref.s[key][l].forEach((v, i) => {
            worst = Math.max(worst, Math.abs(got[key][l - 1][i] - v));
          });
    }
  }
  let worstW = 0;
  let moved = 0;
  for (let l = 0; l < L; l++) {
    ref.W[l].forEach((v, i) => {
      worstW = Math.max(worstW, Math.abs(traj.W[l][i] - v));
      moved = Math.max(moved, Math.abs(v - net.weights[l][i]));
    });
    ref.b[l + 1].forEach((v, i) => (worstW = Math.max(worstW, Math.abs(traj.b[l][i] - v))));
  }
  return { worst, worstW, moved, steps: traj.steps.length };
}

describe.skipIf(!hasCompiler)('native C baseline (bench/native/le_step.c)', () => {
  it('builds with the system compiler at -O3 -march=native -ffast-math', () => {
    const b = buildNative();
    expect(isSkipped(b)).toBe(false);
    if (!isSkipped(b)) expect(b.flags).toEqual(['-O3', '-march=native', '-ffast-math']);
  });

  it('follows emulator/reference.ts on a 5-7-4 network for 300 learning steps within 1e-4', () => {
    const r = compare(randomNetwork([5, 7, 4], ['hardsigmoid', 'linear'], 11, true));
    expect(r.steps).toBe(300);
    expect(r.worst).toBeLessThan(1e-4);
    expect(r.worstW).toBeLessThan(1e-4);
    // Learning moved the weights far beyond the tolerance, so the comparison sees the plasticity.
    expect(r.moved).toBeGreaterThan(0.05);
  });

  it('follows the reference on a 6-9-7-3 network with tanh, hardsigmoid and linear layers', () => {
    const r = compare(randomNetwork([6, 9, 7, 3], ['tanh', 'hardsigmoid', 'linear'], 12, true));
    expect(r.worst).toBeLessThan(1e-4);
    expect(r.worstW).toBeLessThan(1e-4);
    expect(r.moved).toBeGreaterThan(0.05);
  });

  it('follows the reference with nudging and learning off (errors still propagate)', () => {
    const r = compare(randomNetwork([5, 7, 4], ['tanh', 'linear'], 13, false));
    expect(r.worst).toBeLessThan(1e-4);
    expect(r.moved).toBe(0);
  });

  it('--threads 2 steps exactly as one thread (the first layer split by columns over two threads)', () => {
    const net = randomNetwork([6, 40, 7, 3], ['tanh', 'hardsigmoid', 'linear'], 14, true);
    const one = runNativeCheck(net);
    const two = runNativeCheck(net, undefined, 2);
    if (isSkipped(one) || isSkipped(two)) throw new Error('native baseline skipped');
    expect(two.steps).toHaveLength(300);
    expect(two).toEqual(one);
    // The benchmark mode (its fused forward pass too) ends with the same weights, on a division it timed.
    const bench = (threads: number) => {
      const out = runNativeBench({ steps: 400, runs: 1, sizes: [20, 40, 5], stepsPerSample: 50, mode: 'train', threads });
      if (isSkipped(out)) throw new Error(out.skipped);
      return out;
    };
    const [b1, b2] = [bench(1), bench(2)];
    expect(b2.threads).toBe(2);
    expect(b2.weights_checksum).toBe(b1.weights_checksum);
    expect(b2.division[0] + b2.division[1]).toBe(48);
    expect(b2.division[0] % 16).toBe(0);
  });

  it('--threads other than 1 or 2, or two threads on a first layer of 16 neurons or fewer, is refused', () => {
    const b = buildNative();
    if (isSkipped(b)) throw new Error(b.skipped);
    expect(() => runNativeBinary(b, ['--threads', '3'])).toThrow(/exited with 2: le_step: --threads is 1 or 2/);
    expect(() => runNativeBench({ steps: 100, runs: 1, sizes: [20, 10, 5], stepsPerSample: 50, threads: 2 })).toThrow(/--threads 2 needs a first layer of more than 16 neurons/);
  });

  it('benchmark mode prints steps/s per run for forward and train', () => {
    const out = runNativeBench({ steps: 200, runs: 2, sizes: [20, 10, 5], stepsPerSample: 50 });
    if (isSkipped(out)) throw new Error(out.skipped);
    expect(out.sizes).toEqual([20, 10, 5]);
    expect(out.forward_steps_per_s).toHaveLength(2);
    expect(out.train_steps_per_s).toHaveLength(2);
    for (const v of [...out.forward_steps_per_s, ...out.train_steps_per_s]) expect(v).toBeGreaterThan(0);
  });

  it('several copies at once (many chips): each runs the whole benchmark on its own network, as one process alone', async () => {
    const b = buildNative();
    if (isSkipped(b)) throw new Error(b.skipped);
    const opts = { steps: 300, runs: 1, sizes: [20, 10, 5], stepsPerSample: 50, mode: 'train' as const };
    const alone = runNativeBench(opts, b);
    if (isSkipped(alone)) throw new Error(alone.skipped);
    const copies = await runNativeBenchCopies(opts, b, 2);
    expect(copies).toHaveLength(2);
    for (const c of copies) {
      expect(c.weights_checksum).toBe(alone.weights_checksum);
      expect(c.train_steps_per_s[0]).toBeGreaterThan(0);
    }
    await expect(runNativeBenchCopies({ ...opts, sizes: [20, 10, 5], threads: 3 }, b, 2)).rejects.toThrow(/exited with 2: le_step: --threads is 1 or 2/);
  });

  it('benchmark mode steps on the samples of an --inputs file, and refuses one that is not whole samples', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lechip-native-'));
    try {
      const sizes = [20, 10, 5];
      const per = sizes[0] + sizes[2];
      const bank = new Float32Array(3 * per).map((_, i) => (i % per < sizes[0] && i % 3 === 0 ? 0.5 : 0));
      const file = join(dir, 'bank.f32');
      writeFileSync(file, new Uint8Array(bank.buffer));
      const out = runNativeBench({ steps: 200, runs: 1, sizes, stepsPerSample: 50, inputs: file });
      if (isSkipped(out)) throw new Error(out.skipped);
      expect(out.bank).toBe(3);
      expect(out.train_steps_per_s[0]).toBeGreaterThan(0);
      writeFileSync(file, new Uint8Array(bank.buffer, 0, 4 * per + 8));
      expect(() => runNativeBench({ steps: 200, runs: 1, sizes, stepsPerSample: 50, inputs: file })).toThrow(/--inputs: the file is not whole samples/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the 128-bit native build (NATIVE_FLAGS_128)', () => {
  it('is defined for x86-64 only: another architecture gets a Skipped saying so', () => {
    expect(buildNative128({ arch: 'arm64' })).toEqual({ skipped: '128-bit build defined for x86-64 only (this is arm64)' });
    expect(NATIVE_FLAGS_128).toEqual(['-O3', '-march=native', '-mno-avx', '-mno-avx2', '-mno-avx512f', '-mno-fma', '-ffast-math']);
  });

  describe.skipIf(!hasCompiler || process.arch !== 'x64')('built on this x86-64 machine', () => {
    const build128 = () => {
      const b = buildNative128();
      if (isSkipped(b)) throw new Error(b.skipped);
      return b;
    };

    it('has no 256- or 512-bit vector instructions (objdump -d: no %ymm, %zmm), while the default build has them', (ctx) => {
      if (!hasObjdump) ctx.skip('objdump not found: cannot disassemble the builds');
      const disassemble = (b: NativeBuild) => {
        const r = spawnSync('objdump', ['-d', b.binary], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 30_000 });
        if (r.error || r.status !== 0) throw new Error(`objdump -d ${b.binary} failed: ${r.error?.message ?? r.stderr}`);
        return r.stdout;
      };
      const narrow = build128();
      expect(narrow.flags).toEqual(NATIVE_FLAGS_128);
      const asm128 = disassemble(narrow);
      expect(asm128).not.toMatch(/%[yz]mm\d/);
      // Vectorised all the same: packed single-precision SSE (4 lanes) in the step's loops.
      expect(asm128).toMatch(/\t(mul|add)ps\s/);
      const wide = buildNative();
      if (isSkipped(wide)) throw new Error(wide.skipped);
      if (!describeMachine().simd.includes('avx')) ctx.skip('this CPU has no AVX: the default build is 128-bit too');
      expect(disassemble(wide)).toMatch(/%[yz]mm\d/);
    });

    it('follows emulator/reference.ts on a 5-7-4 network for 300 learning steps within 1e-4, as the default build', () => {
      const r = compare(randomNetwork([5, 7, 4], ['hardsigmoid', 'linear'], 11, true), build128());
      expect(r.steps).toBe(300);
      expect(r.worst).toBeLessThan(1e-4);
      expect(r.worstW).toBeLessThan(1e-4);
      expect(r.moved).toBeGreaterThan(0.05);
    });

    it('follows the reference on a 6-9-7-3 network with tanh, hardsigmoid and linear layers', () => {
      const r = compare(randomNetwork([6, 9, 7, 3], ['tanh', 'hardsigmoid', 'linear'], 12, true), build128());
      expect(r.worst).toBeLessThan(1e-4);
      expect(r.worstW).toBeLessThan(1e-4);
      expect(r.moved).toBeGreaterThan(0.05);
    });
  });
});
