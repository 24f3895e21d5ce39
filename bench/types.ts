/** The shapes shared by the benchmark suite (bench/suite.ts) and the benchmarks it registers. */
import type { MachineInfo } from './machine.js';

/** Why a benchmark did not run (no C compiler, no engine build, ...). */
export interface Skipped {
  skipped: string;
}

/** What one benchmark measures: Euler steps, or wall time of a one-off job (compile). */
export type BenchKind = 'forward' | 'train' | 'compile';

/** Which implementation a benchmark times. */
export type BenchImplementation = 'native' | 'reference' | 'engine' | 'firmware' | 'compiler';

/** Per suite run: options shared by every benchmark. */
export interface BenchContext {
  /** Timed runs per benchmark. */
  runs: number;
  /** Short runs (a smoke test of the suite, numbers noisier). */
  quick: boolean;
  /** A progress line on stderr. */
  log(line: string): void;
}

/** A prepared benchmark: each call of run() is one timed run. */
export interface Runner {
  /** steps/s for forward and train benchmarks, seconds for compile. */
  unit: 'steps/s' | 's';
  /** One timed run; returns steps/s or seconds. */
  run(): Promise<number> | number;
  /** At most this many runs (long one-off jobs such as a compile); default all. */
  maxRuns?: number;
  /** Anything else worth reporting (compiler, data, cores used); read after the last run. */
  info?(): Record<string, unknown>;
  /** Ends what prepare started (worker threads), after info(); also when the suite fails. */
  close?(): Promise<void> | void;
}

/** The raw numbers of one benchmark: one value per run. */
export interface Measurement {
  unit: 'steps/s' | 's';
  values: number[];
  info?: Record<string, unknown>;
}

/** A named benchmark. */
export interface Benchmark {
  name: string;
  /** One line: what is timed, and how. */
  description: string;
  kind: BenchKind;
  implementation: BenchImplementation;
  /** Layer sizes of a step benchmark: its FLOP count and the baselines its ratios use. */
  sizes?: readonly number[];
  /** The inputs it steps on (default dense): its ratios use baselines on the same inputs. */
  inputs?: 'dense' | 'mnist';
  /** Euler step, biological ms (step benchmarks). */
  dt_ms?: number;
  /** Speedup of the emulated chip (step benchmarks; the ideal preset's). */
  speedup?: number;
  /** Threads it steps on (default 1). */
  threads?: number;
  /** Chip instances it runs at once, one per thread (default 1: one chip). */
  chips?: number;
  /**
   * A native build narrower than the machine's vectors: 128 = SSE only (the width of WebAssembly
   * SIMD). Such a benchmark is never the ratio_vs_native baseline; it is the baseline of
   * ratio_vs_native_128bit for the same work (kind, sizes, inputs, threads).
   */
  vectorBits?: 128;
  /** The single-thread benchmark of the same work, for ratio_vs_single_thread (selected with it). */
  baseline?: string;
  /** The same work on float weights (int8 kernels benchmarks), for ratio_vs_float_weights (selected with it). */
  floatWeights?: string;
  /**
   * Builds what the runs need and warms up (untimed), or says why the benchmark cannot run. The
   * suite then interleaves the runs of all prepared benchmarks. Give this or `measure`.
   */
  prepare?(ctx: BenchContext): Promise<Runner | Skipped>;
  /** Alternatively: times all ctx.runs runs in one go (not interleaved with the others). */
  measure?(ctx: BenchContext): Promise<Measurement | Skipped>;
}

/** One row of the report (CONTRACT.md `bench --json`). */
export interface BenchResult {
  name: string;
  description: string;
  kind: BenchKind;
  implementation: BenchImplementation;
  unit: 'steps/s' | 's' | null;
  /** Timed runs and their median, min, max, all values (in `unit`). */
  runs: number;
  median: number | null;
  min: number | null;
  max: number | null;
  values: number[];
  /** Median Euler steps per wall second (null for compile). */
  steps_per_s: number | null;
  samples_per_s: number | null;
  flops_per_step: number | null;
  gflops: number | null;
  /** steps_per_s over the native baseline's (same kind and sizes; the full-width build, never a 128-bit one) measured in this run. */
  ratio_vs_native: number | null;
  /**
   * steps_per_s over the 128-bit native build's (vectorBits 128) of the same work (kind, sizes,
   * inputs, threads) measured in this run; null when there is none.
   */
  ratio_vs_native_128bit: number | null;
  /** steps_per_s over the TypeScript reference's (same kind and sizes) measured in this run. */
  ratio_vs_reference: number | null;
  /** Threads the benchmark stepped on. */
  threads: number;
  /** steps_per_s over its single-thread baseline's measured in this run (multi-thread benchmarks). */
  ratio_vs_single_thread: number | null;
  /**
   * The same ratio run by run: run k over the baseline's run k (the same round of the interleaved
   * runs, so the host's load is shared), their median and range. Steadier than the ratio of the
   * medians on a noisy host.
   */
  ratio_vs_single_thread_per_run: { median: number; min: number; max: number } | null;
  /**
   * Benchmarks on int8 weight kernels: steps_per_s over the same work's on float weights measured
   * in this run, and run by run as above.
   */
  ratio_vs_float_weights: number | null;
  ratio_vs_float_weights_per_run: { median: number; min: number; max: number } | null;
  /** Biological seconds emulated per wall second: steps/s * dt_ms / 1000. */
  bio_s_per_wall_s: number | null;
  /** Hardware seconds of the emulated chip per wall second: bio_s_per_wall_s / speedup. */
  hw_s_per_wall_s: number | null;
  speedup: number | null;
  /** How many times slower than the emulated chip: speedup / bio_s_per_wall_s. */
  slowdown_vs_chip: number | null;
  /** The same against each preset's speedup (spikey, bss1: 10^4; bss2: 10^3). */
  slowdown_vs_presets: Record<string, number> | null;
  /** Median wall seconds of a compile benchmark. */
  wall_s: number | null;
  skipped?: string;
  info?: Record<string, unknown>;
}

/** The whole report (`lechip bench --json`). */
export interface BenchReport {
  format: 'lechip/bench@1';
  /** One line describing the machine (CONTRACT.md); details in machine_info. */
  machine: string;
  machine_info: MachineInfo;
  tool_version: string;
  started: string;
  runs: number;
  quick: boolean;
  filter: string | null;
  wall_s: number;
  results: BenchResult[];
}
