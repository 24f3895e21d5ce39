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
 *   -train-firmware-translated-mnist-2chips   two chip instances of the MNIST one at once, one per
 *                                      worker thread (many chips: robustness sweeps, ensembles).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { projectRoot } from '../common/paths.js';
import { TranslatedProcessor } from '../emulator/processor/translator.js';
import { runInstances } from '../emulator/threads/pool.js';
import { instanceFigures, SYNC, syncBlock, type FirmwareChipsResult, type FirmwareChipsTask } from './firmware-chips-task.js';
import { prepareFirmwareTraining } from './firmware-training.js';
import { MLP_DT_MS, MLP_SIZES, MLP_STEPS_PER_SAMPLE, MNIST_BANK } from './mlp.js';
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
      const t = await prepareFirmwareTraining({ inputs, samples, warmupMs: ctx.quick ? 200 : 1000 });
      if (isSkipped(t)) return t;
      const { runtime, present } = t;
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

/** The compiled chips task module (dist/ when running from the TypeScript sources, e.g. under vitest). */
function chipsTaskModule(): URL {
  const here = new URL('./firmware-chips-task.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return pathToFileURL(join(projectRoot(), 'dist', 'bench', 'firmware-chips-task.js'));
}

type WaitAsync = (a: Int32Array, i: number, v: number, ms: number) => { async: boolean; value: Promise<string> | string };

/**
 * `chips` instances of the firmware training run, one per worker thread (emulator/threads/pool.ts),
 * each warmed up on its own; every suite run starts one round on all of them at once and takes
 * their steps over the wall time until the last finishes. Not one chip split over threads.
 */
export function firmwareChipsBenchmark(inputs: 'dense' | 'mnist', chips = 2, opts: { samples?: number; warmupSamples?: number } = {}): Benchmark {
  const single = `${PREFIX}-train-firmware-translated${inputs === 'mnist' ? '-mnist' : ''}`;
  return {
    name: `${single}-${chips}chips`,
    description:
      `${chips} chip instances of ${single} at once, one per worker thread (the many-chips mode of emulator/threads/pool.ts: ` +
      `robustness sweeps, ensembles); each run starts a round on all of them, steps/s summed over the instances (all their steps over the round's wall time). ` +
      `One chip split over threads is -train-2threads`,
    kind: 'train',
    inputs,
    implementation: 'firmware',
    sizes: MLP_SIZES,
    dt_ms: MLP_DT_MS,
    speedup: 10_000,
    threads: chips,
    baseline: single,
    async prepare(ctx): Promise<Runner | Skipped> {
      const samples = opts.samples ?? (ctx.quick ? MNIST_BANK.quick : MNIST_BANK.full);
      const runs = ctx.runs;
      const sync = syncBlock(chips, runs);
      const s = new Int32Array(sync, 0, 8);
      const tasks: FirmwareChipsTask[] = Array.from({ length: chips }, (_, index) => ({
        index, inputs, samples, warmupSamples: opts.warmupSamples ?? (ctx.quick ? 5 : 30), runs, sync, patienceMs: 600_000,
      }));
      let failure: Error | null = null;
      let results: FirmwareChipsResult[] | null = null;
      const wake = () => {
        for (const slot of [SYNC.ready, SYNC.done, SYNC.reported]) Atomics.notify(s, slot);
      };
      const finished = runInstances<FirmwareChipsTask, FirmwareChipsResult>(tasks, { workers: chips, module: chipsTaskModule(), exportName: 'runFirmwareChip' }).then(
        (r) => {
          results = r;
        },
        (err: Error) => {
          failure = err;
          wake();
        },
      );
      const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
      const until = async (slot: number, target: number) => {
        for (let cur = Atomics.load(s, slot); cur < target; cur = Atomics.load(s, slot)) {
          if (failure) throw failure;
          const w = waitAsync(s, slot, cur, 1000);
          if (w.async) await w.value;
        }
        if (failure) throw failure;
      };
      await until(SYNC.ready, chips);
      if (Atomics.load(s, SYNC.skipped)) {
        await finished;
        return { skipped: (results as FirmwareChipsResult[] | null)?.find((r) => r.skipped)?.skipped ?? 'an instance could not start' };
      }
      let round = 0;
      return {
        unit: 'steps/s',
        run: async () => {
          const k = round++;
          const t0 = performance.now();
          Atomics.store(s, SYNC.go, k + 1);
          Atomics.notify(s, SYNC.go);
          await until(SYNC.done, chips * (k + 1));
          return (chips * samples * MLP_STEPS_PER_SAMPLE) / ((performance.now() - t0) / 1000);
        },
        info: () => {
          // The instances write their figures just after the last round; wait for them (briefly).
          const t0 = performance.now();
          while (Atomics.load(s, SYNC.reported) < chips && !failure && performance.now() - t0 < 30_000) Atomics.wait(s, SYNC.reported, Atomics.load(s, SYNC.reported), 100);
          if (round < runs) Atomics.store(s, SYNC.abort, 1);
          const figures = tasks.map((t) => instanceFigures(sync, t.index, runs));
          const reported = Atomics.load(s, SYNC.reported) === chips;
          return {
            network: 'examples/mnist-mlp.json (784-300-100-10) on ideal, processor timing ideal, le.s translated',
            inputs: inputs === 'mnist' ? 'MNIST training images (pixels / 255)' : 'dense uniform [0, 1), new sample every 100 steps',
            chips,
            worker_threads: chips,
            steps_per_run_per_chip: samples * MLP_STEPS_PER_SAMPLE,
            warmup_samples_per_chip: 2 + tasks[0].warmupSamples,
            per_chip_steps_per_s: figures.map((f) => Array.from(f.subarray(0, round), (v) => Math.round(v))),
            ...(reported
              ? {
                  weights_identical_across_chips: figures.every((f) => f[runs] === figures[0][runs] && f[runs + 1] === figures[0][runs + 1]),
                  weights_fnv1a: figures.map((f) => (f[runs + 1] >>> 0).toString(16).padStart(8, '0')),
                  firmware_instructions_per_step: figures[0][runs + 2],
                }
              : { weights_identical_across_chips: null }),
          };
        },
      };
    },
  };
}

/** The firmware training benchmarks of the suite. */
export function leFirmwareBenchmarks(): Benchmark[] {
  return [firmwareBenchmark('dense'), firmwareBenchmark('mnist'), firmwareChipsBenchmark('mnist', 2)];
}
