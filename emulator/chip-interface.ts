/**
 * The asynchronous face of an emulated chip. The CLI uses only this; the hardware-in-the-loop
 * client implements it over a connection, so an experiment switches by one line.
 * Units: biological ms for times given by the user; hardware us reported alongside.
 */
import type { ImageManifest } from '../chip/image-model.js';

export type MismatchOverrides = Partial<Record<'tau_m' | 'tau_r' | 'gain' | 'offset' | 'synapse_gain', number>>;

export interface ChipConfig {
  /** Names the chip instance (its fixed-pattern draw). Default 0. */
  chipSeed?: number;
  /** Seeds the run's own draws (noise streams). Default 1. */
  seed?: number;
  /** Multiplies every mismatch sigma. Default 1. */
  mismatchScale?: number;
  /** Sets individual sigmas (others keep the preset's, times the scale). */
  mismatch?: MismatchOverrides;
  /** Overrides the distribution of time-constant mismatch ('normal' = N(1, s) as the LE paper). */
  tauDistribution?: 'lognormal' | 'normal';
  /** Trim codes written by `lechip calibrate` for this chip seed. */
  calibration?: unknown;
  processorTiming?: 'cycle' | 'ideal';
  /** Who applies the LE plasticity when learning is on: the image's firmware on the plasticity
   * processors ('firmware', the default when the image has firmware) or the engine's built-in
   * update kernel ('kernel', the performance baseline). */
  plasticity?: 'firmware' | 'kernel';
  /** How the plasticity processors execute firmware: 'interpret' (the reference interpreter),
   * 'translate' (firmware basic blocks translated to WebAssembly, emulator/processor/translator.ts),
   * or 'auto' (the default: translated under ideal processor timing once a program has run 10^6
   * instructions, interpreted under cycle timing, where a step's few cycles cover no whole block).
   * All three give identical results. */
  processor?: 'interpret' | 'translate' | 'auto';
  /** Euler step in biological ms (default: the image's). */
  dtMs?: number;
  /** How the synapse-array products run on fixed-point chips (emulator/quantised-format.ts): on the
   * int8 codes with their per-block units ('int8', kernels/quantised.ts), on float32 weights
   * ('float'), or 'auto' (the default: int8 for arrays too large for the caches, where it pays).
   * All give identical results; multi-threaded engines run floats. */
  weightKernels?: 'auto' | 'float' | 'int8';
  /** Threads the emulator steps this chip on (1 to 16, default 1; emulator/threads/): the results
   * are bit-identical whatever the count. */
  threads?: number;
  /** Temporal noise overrides (default: the preset's), and synaptic filtering (RESEARCH.md §1
   * "Temporal noise"): rates low-passed with tau_s_ms (biological ms; 0 = off, the default),
   * errors too when filter_errors, targets with depth x tau_s unless filter_targets is false. */
  noise?: Partial<{ membrane: number; rate: number; adc_lsb: number; tau_s_ms: number; filter_errors: boolean; filter_targets: boolean }>;
}

/** Piecewise-constant values of one population: each entry holds from t (ms) until the next. */
export type Schedule = { t: number; value: ArrayLike<number> }[];

export interface RunOptions {
  durationMs: number;
  /** Populations whose r and u are recorded. */
  record?: string[];
  /** Sampling interval of recordings in ms (default dt). Samples are taken at the end of each interval. */
  sampleEveryMs?: number;
  /** Plasticity on (weights and biases of plastic projections learn). Default false. */
  learn?: boolean;
  /** Output nudging on (targets drive output errors). Default true when targets are written. */
  nudge?: boolean;
}

export interface PopulationRecording {
  r: number[][];
  u: number[][];
}

export interface Recording {
  t_bio_ms: number[];
  t_hw_us: number[];
  record: Record<string, PopulationRecording>;
  /** Hardware time this run covered, us. */
  hw_us: number;
  steps: number;
  /** The plasticity processors' work during this run (chips that report it). */
  processor?: ProcessorReport;
}

/** What applied the plasticity and how much work it took (cumulative since configure). */
export interface ProcessorReport {
  /** 'firmware': the processors ran the image's firmware; 'kernel': the engine's update kernel; 'none': nothing learns. */
  plasticity: 'firmware' | 'kernel' | 'none';
  timing: 'cycle' | 'ideal';
  /** Processors running firmware. */
  processors: number;
  /** Analog steps run with learning on. */
  learning_steps: number;
  /** Instruction cycles and instructions, summed over processors. */
  cycles: number;
  instructions: number;
  /** Hardware time the firmware kept each processor busy (cycles / clock), us; its largest value and mean. */
  busy_hw_us: number[];
  busy_hw_us_max: number;
  busy_hw_us_mean: number;
  /** Full passes of each processor over its plastic rows (firmware); the kernel updates every plastic synapse every step. */
  passes: (number | null)[];
}

/** Samples presented one after another for T_pres each, state carried over. */
export interface PresentOptions {
  inputs: Float32Array;
  /** Values per sample of the input population. */
  inputSize: number;
  targets?: Float32Array;
  count: number;
  tPresMs: number;
  learn: boolean;
  /** Population whose rates at the last step of each sample are returned. */
  readout: string;
  /** Called every `progressEvery` samples. */
  onProgress?: (done: number) => void;
  progressEvery?: number;
}

export interface CircuitParameters {
  tau_m_us: Float32Array;
  tau_r_us: Float32Array;
  gain: Float32Array;
  offset: Float32Array;
  bias: Float32Array;
}

export interface Chip {
  /** Loads a compiled image (bytes of a .lechip file) and returns its manifest. */
  load(image: Uint8Array): Promise<ImageManifest>;
  /** Realises the chip instance and the run's streams; resets the state. */
  configure(config: ChipConfig): Promise<void>;
  /** Sets input schedules (per input population) and target schedules (per output population). */
  writeInputs(inputs: Record<string, Schedule>, targets?: Record<string, Schedule>): Promise<void>;
  /** Runs for a duration from the current time, recording as asked. */
  run(options: RunOptions): Promise<Recording>;
  /** Presents samples (training or testing) and returns readout rates [count][readout size]. */
  present(options: PresentOptions): Promise<Float32Array>;
  /** Weights of a projection as the synapse array stores them (codes x block scale on fixed chips),
   * [post][pre] in weight units; the instance's hidden block gains are not included, so reading and
   * writing back is the identity. */
  readWeights(projection: number): Promise<Float32Array>;
  /** Writes weights (quantised to the chip's resolution with the image's block scales). */
  writeWeights(projection: number, weights: ArrayLike<number>): Promise<void>;
  /** The true (realised, trimmed) parameters of a population's circuits. */
  readParameters(population: string): Promise<CircuitParameters>;
  writeParameters(population: string, params: Partial<CircuitParameters>): Promise<void>;
  /** Puts the dynamic state (u, r, errors, time) back to zero; weights stay. */
  reset(): Promise<void>;
  /** Current biological and hardware time. */
  time(): { t_bio_ms: number; t_hw_us: number };
  /** The plasticity processors' work since configure (optional: chips that have processors). */
  processorReport?(): ProcessorReport;
  /** The chip's complete dynamic state (weights, neuron state, noise streams, processors) for checkpoints (optional). */
  saveState?(): Promise<Uint8Array>;
  /** Restores saveState()'s bytes on a chip loaded and configured the same way (optional). */
  restoreState?(state: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
