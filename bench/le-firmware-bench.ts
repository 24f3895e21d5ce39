/**
 * The LE MLP training step with the plasticity processors' firmware doing the learning:
 * examples/mnist-mlp.json (784-300-100-10) compiled for `ideal`, processor timing ideal (le.s runs
 * a full pass after every analog step), one thread, the processors translated to WebAssembly
 * (emulator/processor/translator.ts) on the kernels' bus. Two input sets:
 *   -train-firmware-translated         dense uniform [0, 1) inputs, a new sample every 100 steps
 *                                      (the inputs of the native and engine train benchmarks);
 *   -train-firmware-translated-mnist   MNIST training images (about 80 % zero pixels: le.s skips
 *                                      rows that carried 0, as the engine's kernels do).
 * Each reports ratio_vs_native against the native C train step on the same inputs (the MNIST one
 * against -native-train-mnist, the same images).
 */
import { performance } from 'node:perf_hooks';
import { TranslatedProcessor } from '../emulator/processor/translator.js';
import { prepareFirmwareTraining } from './training-runs.js';
import { FIRMWARE_PASSES_PER_RUN, MLP_DT_MS, MLP_SIZES, MLP_STEPS_PER_SAMPLE, MNIST_BANK } from './mlp.js';
import { isSkipped } from './native.js';
import type { Benchmark, Runner, Skipped } from './types.js';

const PREFIX = 'le-mlp-784-300-100-10';

function firmwareBenchmark(inputs: 'dense' | 'mnist'): Benchmark {
  return {
    name: `${PREFIX}-train-firmware-translated${inputs === 'mnist' ? '-mnist' : ''}`,
    description:
      `examples/mnist-mlp.json on ideal, processor timing ideal: the engine steps the analog core, le.s on the plasticity processors ` +
      `(translated to WASM, kernels' bus) updates every weight and bias after every step; ${inputs === 'mnist' ? 'MNIST training images' : 'dense uniform [0, 1) inputs'}, one thread`,
    kind: 'train',
    inputs,
    implementation: 'firmware',
    sizes: MLP_SIZES,
    dt_ms: MLP_DT_MS,
    speedup: 10_000,
    async prepare(ctx): Promise<Runner | Skipped> {
      const samples = ctx.quick ? MNIST_BANK.quick : MNIST_BANK.full;
      const perRun = samples * (ctx.quick ? 1 : FIRMWARE_PASSES_PER_RUN);
      const t = await prepareFirmwareTraining({ inputs, samples, warmupMs: ctx.quick ? 200 : 1000 });
      if (isSkipped(t)) return t;
      const { runtime, present } = t;
      return {
        unit: 'steps/s',
        run: () => {
          const t0 = performance.now();
          present(perRun);
          return (perRun * MLP_STEPS_PER_SAMPLE) / ((performance.now() - t0) / 1000);
        },
        info: () => {
          const st = runtime.statistics();
          const procs = runtime.cores.map((c) => runtime.processor(c)).filter((p): p is TranslatedProcessor => p instanceof TranslatedProcessor);
          return {
            network: 'examples/mnist-mlp.json (784-300-100-10, per-layer rates, transpose feedback) on ideal',
            inputs: inputs === 'mnist' ? 'MNIST training images (pixels / 255)' : 'dense uniform [0, 1), new sample every 100 steps',
            steps_per_run: perRun * MLP_STEPS_PER_SAMPLE,
            bank_samples: samples,
            processors: st.processors,
            firmware_instructions_per_step: Math.round(st.instructions / Math.max(1, st.steps)),
            translated_processors: procs.length,
            host_steps: procs.reduce((a, p) => a + p.stats.hostSteps, 0),
            native_baseline_inputs: inputs === 'mnist' ? 'the same MNIST images (ratio_vs_native: -native-train-mnist)' : 'dense uniform [0, 1) (ratio_vs_native)',
          };
        },
      };
    },
  };
}

/** The firmware training benchmarks of the suite. */
export function leFirmwareBenchmarks(): Benchmark[] {
  return [firmwareBenchmark('dense'), firmwareBenchmark('mnist')];
}
