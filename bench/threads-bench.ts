/**
 * The LE MLP 784-300-100-10 step benchmarks on two threads (emulator/threads/parallel-engine.ts:
 * one chip, its step split over the host and a worker thread on shared WASM memory), the same
 * network, data and runs as the single-thread engine benchmarks (bench/le-mlp-bench.ts), which
 * are their baselines: ratio_vs_single_thread is measured in the same suite run, runs interleaved.
 * info() adds how the step was split and a short profiled run: per phase (the work between two
 * barriers) each thread's busy and waiting time per step.
 */
import { performance } from 'node:perf_hooks';
import { ParallelEngine } from '../emulator/threads/parallel-engine.js';
import { denseSamples, ENGINE_STEPS_PER_RUN, MLP_DT_MS, MLP_SIZES, MLP_STEPS_PER_SAMPLE, mlpModel } from './mlp.js';
import type { BenchContext, Benchmark, Runner, Skipped } from './types.js';

const PREFIX = 'le-mlp-784-300-100-10';
/** The ideal preset's speedup: the chip these benchmarks emulate. */
const IDEAL_SPEEDUP = 10_000;
/** Steps of the profiled run info() reports. */
const PROFILE_STEPS = 2_000;

function stepsPerRun(ctx: BenchContext): number {
  const n = ctx.quick ? ENGINE_STEPS_PER_RUN.quick : ENGINE_STEPS_PER_RUN.full;
  return Math.max(MLP_STEPS_PER_SAMPLE, Math.round(n / MLP_STEPS_PER_SAMPLE) * MLP_STEPS_PER_SAMPLE);
}

/** The step benchmark of one kind on `threads` threads. */
export function threadsBenchmark(kind: 'forward' | 'train', threads = 2): Benchmark {
  const learn = kind === 'train';
  return {
    sizes: MLP_SIZES,
    dt_ms: MLP_DT_MS,
    speedup: IDEAL_SPEEDUP,
    threads,
    baseline: `${PREFIX}-${kind}`,
    name: `${PREFIX}-${kind}-${threads}threads`,
    description: `the WASM engine on ${threads} threads over shared memory (emulator/threads/), ${learn ? 'learning and nudging on, fused weight update' : 'no target, no learning (error pathway still stepped)'}; bit-identical to one thread`,
    kind,
    implementation: 'engine',
    async prepare(ctx): Promise<Runner | Skipped> {
      const steps = stepsPerRun(ctx);
      const samples = steps / MLP_STEPS_PER_SAMPLE;
      const data = denseSamples(samples, MLP_SIZES[0], MLP_SIZES[MLP_SIZES.length - 1]);
      let engine: ParallelEngine;
      try {
        engine = await ParallelEngine.create(mlpModel(1), { threads });
      } catch (err) {
        // Typically build/kernels-shared.wasm not built yet (npm run build:kernels).
        return { skipped: `parallel engine could not start: ${(err as Error).message.split('\n')[0]}` };
      }
      const present = (count: number) =>
        engine.present({ inputs: data.x, targets: learn ? data.y : null, count, stepsPerSample: MLP_STEPS_PER_SAMPLE, learn, nudge: learn, readout: 'out' });
      // Warm-up: V8 tiers the WASM code up (first call), and auto-balancing measures the next
      // calls and settles the division of the largest population before any run is timed.
      for (let k = 0; k < 6; k++) {
        engine.reset();
        present(Math.min(20, samples));
      }
      return {
        unit: 'steps/s',
        run: () => {
          engine.reset();
          const t0 = performance.now();
          present(samples);
          return steps / ((performance.now() - t0) / 1000);
        },
        info: () => {
          const st = engine.stats();
          engine.reset();
          engine.profile(true);
          present(Math.min(samples, PROFILE_STEPS / MLP_STEPS_PER_SAMPLE));
          engine.profile(false);
          const n = Math.min(samples, PROFILE_STEPS / MLP_STEPS_PER_SAMPLE) * MLP_STEPS_PER_SAMPLE;
          const us = (ms: number) => Number(((ms * 1000) / n).toFixed(2));
          return {
            steps_per_run: steps,
            precision: 'float32',
            fused: true,
            inputs: 'dense uniform [0, 1), new sample every 100 steps',
            threads,
            barriers_per_step: st.barriersPerStep,
            division: engine.division(),
            slices: Object.fromEntries(mlpModel(1).populations.map((p, i) => [p.name, st.slices[i]])),
            barrier_sleeps: st.sleeps,
            phases_us_per_step: engine.profileReport().map((p) => ({ busy: p.busy_ms.map(us), wait: p.wait_ms.map(us) })),
          };
        },
      };
    },
  };
}

/** The two-thread MLP benchmarks (registered next to the single-thread ones). */
export function threadsBenchmarks(): Benchmark[] {
  return [threadsBenchmark('forward'), threadsBenchmark('train')];
}
