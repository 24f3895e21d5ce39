/**
 * What a chip image holds, as objects. chip/image.ts turns this into the binary file and back;
 * the compiler's emit pass builds it and the emulator loads it.
 */
import type { ChipSpecT } from './spec.js';

export type NeuronModel = 'input' | 'le' | 'li' | 'lif';
export type ActivationName = 'tanh' | 'sigmoid' | 'relu' | 'hardsigmoid' | 'linear';

/** Where some neurons of a population sit: `count` columns from `col0` on `core`. */
export interface ColumnRange {
  core: number;
  col0: number;
  count: number;
  /** First neuron of the population in this range. */
  neuron0: number;
  /** Fan-in chunk this range of columns computes (a neuron whose inputs exceed a synapse array
   * spans one column per chunk; the chunks' currents sum). */
  chunk: number;
}

export interface ImagePopulation {
  name: string;
  index: number;
  size: number;
  role: 'input' | 'hidden' | 'output';
  model: NeuronModel;
  activation: ActivationName;
  /** Nominal time constants, biological and hardware. Zero for inputs. */
  tau_m_ms: number;
  tau_r_ms: number;
  tau_m_us: number;
  tau_r_us: number;
  /** Name of the float32 bias section (size values); absent for inputs. */
  bias_section?: string;
  columns: ColumnRange[];
  /** lif parameters (PyNN units) when model is lif. */
  lif?: Record<string, number>;
  /** Spike source of an input population, as described. */
  source?: unknown;
}

export interface QuantisationReport {
  /** sqrt(mean((w - q)^2)) in weight units, and relative to sqrt(mean(w^2)). */
  rms_error: number;
  relative_rms_error: number;
  max_abs_error: number;
  /** Fraction of originally non-zero weights that quantise to zero. */
  zeroed_fraction: number;
  /** Range of per-block scales (weight units per code). */
  scale_min: number;
  scale_max: number;
}

export interface ImageProjection {
  index: number;
  from: string;
  to: string;
  /** Pre size (columns of W) and post size (rows of W): W is [post][pre]. */
  pre_size: number;
  post_size: number;
  plastic: boolean;
  eta_scale: number;
  feedback: 'transpose' | 'random' | 'none';
  quantisation: QuantisationReport;
}

/** One synapse block: a rectangle of one core's array holding part of a matrix. */
export interface ImageBlock {
  id: number;
  projection: number;
  /** forward: W (rows carry pre rates, columns are post neurons); feedback: B (rows carry the
   * post population's errors, columns are pre neurons). */
  kind: 'forward' | 'feedback';
  core: number;
  row0: number;
  /** Rows used on the array (signals x rows_per_signal). */
  rows: number;
  col0: number;
  cols: number;
  /** Offsets into the matrix: signals [sig0, sig0 + signals) x neurons [neuron0, neuron0 + cols). */
  sig0: number;
  signals: number;
  neuron0: number;
  rows_per_signal: number;
  /** Weight units per code (1 on float chips). */
  scale: number;
  /** Section holding the codes, [signals][cols] row-major as the array holds them: one array row per
   * signal (on per_row-sign chips the code's sign selects the excitatory or inhibitory row of the pair);
   * i8 on fixed chips, f32 on float chips;
   * absent for transpose feedback blocks, which mirror their forward block. */
  section?: string;
}

export interface SectionInfo {
  name: string;
  kind: 'synapse_block' | 'bias' | 'neuron_params' | 'firmware_text' | 'firmware_data' | 'symbols';
  dtype: 'f32' | 'i8' | 'u8' | 'u32';
  /** Number of elements. */
  length: number;
}

export interface ImageManifest {
  format: 'lechip/image@1';
  tool_version: string;
  network: { name: string; sha256: string };
  /** Seed of the compile's own draws (initial weights without their own seed). */
  seed: number;
  chip: ChipSpecT;
  system: { cores: number; cores_used: number; chips: number };
  timing: { speedup: number; dt_ms: number; dt_hw_us: number; t_pres_ms: number; t_pres_hw_us: number };
  learning: { rule: 'le' | 'none'; beta: number; eta: number; feedback: 'transpose' | 'random'; feedback_seed: number };
  populations: ImagePopulation[];
  projections: ImageProjection[];
  blocks: ImageBlock[];
  firmware?: {
    name: string;
    entry: number;
    text_section: string;
    data_section?: string;
    symbols_section?: string;
    /** The Euler step (biological ms) the firmware's per-step learning rates are linked for. */
    dt_ms?: number;
    /** Address at which a core's data section is loaded (the program's .data). */
    data_base?: number;
    /** Per-core data (the link pass's tables): the cores whose processors run the firmware. */
    cores?: { core: number; data_section: string }[];
  };
  warnings: string[];
  sections: SectionInfo[];
}

export type SectionData = Float32Array | Int8Array | Uint8Array | Uint32Array;

/** A compiled image: the manifest and the payload of each section it lists (same order). */
export interface ChipImage {
  manifest: ImageManifest;
  sections: Map<string, SectionData>;
}
