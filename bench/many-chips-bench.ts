/**
 * Many chips at once: `chips` instances of a single-thread training benchmark, one per worker
 * thread (the many-chips mode of emulator/threads/pool.ts: robustness sweeps, ensembles), each
 * warmed up on its own. Every suite run starts one round on all of them at once (a shared block
 * of counters, bench/many-chips-task.ts) and takes all their steps over the wall time until the
 * last finishes; ratio_vs_single_thread divides by the single-thread benchmark of the same run.
 * This is not one chip split over threads (-2threads, bench/threads-bench.ts).
 *   -train-firmware-translated-mnist-2chips   le.s doing the learning, MNIST images
 *   -train-2chips                             the engine's fused kernel plasticity, dense inputs
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { projectRoot } from '../common/paths.js';
import { runInstances } from '../emulator/threads/pool.js';
import { instanceFigures, SYNC, syncBlock, type ChipsResult, type ChipsRun, type ChipsTask } from './many-chips-task.js';
import { ENGINE_STEPS_PER_RUN, FIRMWARE_PASSES_PER_RUN, MLP_DT_MS, MLP_SIZES, MLP_STEPS_PER_SAMPLE, MNIST_BANK } from './mlp.js';
import type { Benchmark, Runner, Skipped } from './types.js';

const PREFIX = 'le-mlp-784-300-100-10';

/** The compiled task module (dist/ when running from the TypeScript sources, e.g. under vitest). */
function taskModule(): URL {
  const here = new URL('./many-chips-task.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return pathToFileURL(join(projectRoot(), 'dist', 'bench', 'many-chips-task.js'));
}

type WaitAsync = (a: Int32Array, i: number, v: number, ms: number) => { async: boolean; value: Promise<string> | string };

/** The single-thread benchmark each run's instances repeat. */
const SINGLE: Record<ChipsRun, { name: string; inputs: 'dense' | 'mnist'; implementation: 'firmware' | 'engine'; what: string }> = {
  'firmware-mnist': {
    name: `${PREFIX}-train-firmware-translated-mnist`, inputs: 'mnist', implementation: 'firmware',
    what: 'examples/mnist-mlp.json on ideal, le.s translated doing the learning, MNIST training images',
  },
  'engine-dense': {
    name: `${PREFIX}-train`, inputs: 'dense', implementation: 'engine',
    what: 'the WASM engine, fused kernel plasticity, dense inputs, many steps per call',
  },
};

/** `chips` instances of a training run at once, one per worker thread. */
export function manyChipsBenchmark(run: ChipsRun, chips = 2, opts: { samples?: number; perRound?: number; warmupSamples?: number } = {}): Benchmark {
  const single = SINGLE[run];
  return {
    name: `${single.name}-${chips}chips`,
    description:
      `${chips} chip instances of ${single.name} (${single.what}) at once, one per worker thread (many chips: robustness sweeps, ensembles); ` +
      `each run starts a round on all of them, steps/s summed over the instances (all their steps over the round's wall time). One chip split over threads is -2threads`,
    kind: 'train',
    inputs: single.inputs,
    implementation: single.implementation,
    sizes: MLP_SIZES,
    dt_ms: MLP_DT_MS,
    speedup: 10_000,
    threads: chips,
    chips,
    baseline: single.name,
    async prepare(ctx): Promise<Runner | Skipped> {
      // The single-thread benchmark's bank and run length.
      const engineSamples = (ctx.quick ? ENGINE_STEPS_PER_RUN.quick : ENGINE_STEPS_PER_RUN.full) / MLP_STEPS_PER_SAMPLE;
      const samples = opts.samples ?? (run === 'engine-dense' ? engineSamples : ctx.quick ? MNIST_BANK.quick : MNIST_BANK.full);
      const perRound = opts.perRound ?? (run === 'engine-dense' || ctx.quick ? samples : samples * FIRMWARE_PASSES_PER_RUN);
      const runs = ctx.runs;
      const sync = syncBlock(chips, runs);
      const s = new Int32Array(sync, 0, 8);
      const tasks: ChipsTask[] = Array.from({ length: chips }, (_, index) => ({
        index, run, samples, perRound, warmupSamples: opts.warmupSamples ?? (ctx.quick ? 5 : 30), runs, sync, patienceMs: 600_000,
      }));
      let failure: Error | null = null;
      let results: ChipsResult[] | null = null;
      const finished = runInstances<ChipsTask, ChipsResult>(tasks, { workers: chips, module: taskModule(), exportName: 'runChip' }).then(
        (r) => {
          results = r;
        },
        (err: Error) => {
          failure = err;
          for (const slot of [SYNC.ready, SYNC.done, SYNC.reported]) Atomics.notify(s, slot);
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
        return { skipped: (results as ChipsResult[] | null)?.find((r) => r.skipped)?.skipped ?? 'an instance could not start' };
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
          return (chips * perRound * MLP_STEPS_PER_SAMPLE) / ((performance.now() - t0) / 1000);
        },
        close: async () => {
          // Instances still waiting for rounds (the suite ran fewer) stop; the pool then ends.
          Atomics.store(s, SYNC.abort, 1);
          Atomics.notify(s, SYNC.go);
          await finished;
        },
        info: () => {
          // The instances write their figures just after the last round; wait for them (briefly).
          const t0 = performance.now();
          while (Atomics.load(s, SYNC.reported) < chips && round === runs && !failure && performance.now() - t0 < 30_000) {
            Atomics.wait(s, SYNC.reported, Atomics.load(s, SYNC.reported), 100);
          }
          const figures = tasks.map((t) => instanceFigures(sync, t.index, runs));
          const reported = Atomics.load(s, SYNC.reported) === chips;
          return {
            chips,
            run: single.what,
            steps_per_run_per_chip: perRound * MLP_STEPS_PER_SAMPLE,
            bank_samples: samples,
            warmup_samples_per_chip: (run === 'firmware-mnist' ? 2 : 0) + tasks[0].warmupSamples,
            per_chip_steps_per_s: figures.map((f) => Array.from(f.subarray(0, round), (v) => Math.round(v))),
            ...(reported
              ? {
                  weights_identical_across_chips: figures.every((f) => f[runs] === figures[0][runs] && f[runs + 1] === figures[0][runs + 1]),
                  weights_fnv1a: figures.map((f) => (f[runs + 1] >>> 0).toString(16).padStart(8, '0')),
                  ...(run === 'firmware-mnist' ? { firmware_instructions_per_step: figures[0][runs + 2] } : {}),
                }
              : { weights_identical_across_chips: null }),
          };
        },
      };
    },
  };
}

/** The many-chips benchmarks of the suite. */
export function manyChipsBenchmarks(): Benchmark[] {
  return [manyChipsBenchmark('engine-dense', 2), manyChipsBenchmark('firmware-mnist', 2)];
}
