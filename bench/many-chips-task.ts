/**
 * One chip instance of a many-chips benchmark (bench/many-chips-bench.ts), run on a worker thread
 * by emulator/threads/pool.ts: the training run of a single-thread benchmark (bench/training-runs.ts),
 * started in step with the other instances through a shared block of counters, so that the host
 * times all instances' rounds together (their steps over the wall time of the round).
 */
import { performance } from 'node:perf_hooks';
import { MLP_STEPS_PER_SAMPLE } from './mlp.js';
import { isSkipped } from './native.js';
import { prepareEngineTraining, prepareFirmwareTraining, type FirmwareTraining } from './training-runs.js';

/** Int32 slots at the start of the shared block. */
export const SYNC = {
  /** Instances warmed up (or skipped). */
  ready: 0,
  /** Rounds the host has started. */
  go: 1,
  /** Instance-rounds finished. */
  done: 2,
  /** Set by an instance that cannot run (its result says why). */
  skipped: 3,
  /** Set by the host: stop waiting for rounds. */
  abort: 4,
  /** Instances that wrote their figures after the last round. */
  reported: 5,
} as const;
const SYNC_BYTES = 64;

/** Float64 figures per instance after the counters: steps/s of each round, then weights' sum, FNV-1a hash, instructions per step. */
export function figuresPerInstance(runs: number): number {
  return runs + 3;
}

/** A shared block for `instances` instances and `runs` rounds. */
export function syncBlock(instances: number, runs: number): SharedArrayBuffer {
  return new SharedArrayBuffer(SYNC_BYTES + 8 * instances * figuresPerInstance(runs));
}

/** An instance's figures in the shared block. */
export function instanceFigures(sync: SharedArrayBuffer, index: number, runs: number): Float64Array {
  const n = figuresPerInstance(runs);
  return new Float64Array(sync, SYNC_BYTES + 8 * index * n, n);
}

/** Which training run an instance times: le.s on MNIST images, or the engine's kernel plasticity on dense inputs. */
export type ChipsRun = 'firmware-mnist' | 'engine-dense';

export interface ChipsTask {
  index: number;
  run: ChipsRun;
  /** Samples in the bank (presented round-robin). */
  samples: number;
  /** Samples per round (firmware runs: several passes over the bank; the engine's: at most the bank). */
  perRound: number;
  /** Warm-up samples after the first two (a count: every instance presents the same samples). */
  warmupSamples: number;
  /** Rounds to run (the suite's runs). */
  runs: number;
  sync: SharedArrayBuffer;
  /** Longest wait for the next round before giving up (the host stopped), ms. */
  patienceMs: number;
}

export interface ChipsResult {
  skipped?: string;
  /** This instance's own steps/s per round. */
  steps_per_s: number[];
  /** Its weights after the last round: the same on every instance (same image, seeds and samples). */
  weights: { sum: number; fnv1a: string };
  /** Firmware instructions per analog step (firmware runs; else null). */
  firmware_instructions_per_step: number | null;
}

/** Prepares one instance, then runs `runs` rounds, each when the host starts it. */
export async function runChip(task: ChipsTask): Promise<ChipsResult> {
  const s = new Int32Array(task.sync, 0, SYNC_BYTES / 4);
  const figures = instanceFigures(task.sync, task.index, task.runs);
  const signal = (slot: number) => {
    Atomics.add(s, slot, 1);
    Atomics.notify(s, slot);
  };
  const t =
    task.run === 'firmware-mnist'
      ? await prepareFirmwareTraining({ inputs: 'mnist', samples: task.samples, warmupSamples: task.warmupSamples })
      : prepareEngineTraining({ samples: task.samples, warmupSamples: task.warmupSamples });
  if (isSkipped(t)) {
    Atomics.store(s, SYNC.skipped, 1);
    signal(SYNC.ready);
    return { skipped: t.skipped, steps_per_s: [], weights: { sum: 0, fnv1a: '' }, firmware_instructions_per_step: null };
  }
  signal(SYNC.ready);
  const perRun: number[] = [];
  for (let k = 0; k < task.runs; k++) {
    t.beforeRun?.();
    const waited = performance.now();
    while (Atomics.load(s, SYNC.go) <= k) {
      if (Atomics.load(s, SYNC.abort)) throw new Error('the host stopped the rounds');
      if (performance.now() - waited > task.patienceMs) throw new Error(`no round ${k + 1} started within ${task.patienceMs} ms`);
      Atomics.wait(s, SYNC.go, k, 100);
    }
    const t0 = performance.now();
    t.present(task.perRound);
    perRun.push((task.perRound * MLP_STEPS_PER_SAMPLE) / ((performance.now() - t0) / 1000));
    figures[k] = perRun[k];
    signal(SYNC.done);
  }
  // After the last round (outside its timing): the weights' digest and the firmware's work.
  const weights = t.weightsDigest();
  const st = 'runtime' in t ? (t as FirmwareTraining).runtime.statistics() : null;
  const ips = st ? Math.round(st.instructions / Math.max(1, st.steps)) : null;
  figures[task.runs] = weights.sum;
  figures[task.runs + 1] = parseInt(weights.fnv1a, 16);
  figures[task.runs + 2] = ips ?? NaN;
  signal(SYNC.reported);
  return { steps_per_s: perRun, weights, firmware_instructions_per_step: ips };
}
