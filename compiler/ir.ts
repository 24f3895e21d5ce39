/**
 * The compiler's intermediate representations, one per pass boundary:
 *   NetworkDescriptionSpec --validate--> Network --lower--> Lowered --place--> Placed
 *   --quantise--> Quantised --timescale--> Timed --emit--> ChipImage (chip/image-model.ts)
 * Passes are pure functions; each IR can be dumped as JSON (--emit).
 */
import type { ChipSpecT } from '../chip/spec.js';
import type { ActivationName, ColumnRange, ImageBlock, NeuronModel, QuantisationReport } from '../chip/image-model.js';
import type { NetworkDescriptionSpec } from './network-schema.js';

/** A validated description with every default filled in and every array drawn. */
export interface Network {
  name: string;
  /** sha256 of the description's bytes. */
  sha256: string;
  file?: string;
  populations: NetworkPopulation[];
  projections: NetworkProjection[];
  learning: { rule: 'le' | 'none'; beta: number; eta: number; feedback: 'transpose' | 'random'; feedback_seed: number };
  presentation: { t_pres_ms: number; dt_ms: number };
  /** The seed used for draws that gave no seed of their own. */
  seed: number;
  description: NetworkDescriptionSpec;
}

export interface NetworkPopulation {
  name: string;
  index: number;
  size: number;
  role: 'input' | 'hidden' | 'output';
  model: NeuronModel;
  activation: ActivationName;
  tau_m_ms: number;
  tau_r_ms: number;
  bias: Float64Array;
  lif?: Record<string, number>;
  source?: unknown;
  /** JSON pointer of the population in the description, for later errors. */
  pointer: string;
}

export interface NetworkProjection {
  index: number;
  from: string;
  to: string;
  pre_size: number;
  post_size: number;
  /** [post][pre] row-major. */
  weights: Float64Array;
  plastic: boolean;
  eta_scale: number;
  pointer: string;
}

/** A matrix the chip must hold: a projection's forward weights, or its feedback weights. */
export interface SynapseMatrix {
  id: number;
  projection: number;
  kind: 'forward' | 'feedback';
  /** Population whose signal drives the rows (forward: pre rates; feedback: post errors). */
  source: string;
  /** Population whose neurons receive (columns). */
  target: string;
  signals: number;
  neurons: number;
  /** [neurons][signals] row-major; for transpose feedback, absent (it mirrors the forward matrix). */
  weights?: Float64Array;
}

export interface Lowered {
  network: Network;
  chip: ChipSpecT;
  /** Rate neuron circuits per non-input population (inputs drive rows, they take no columns). */
  circuits: { population: string; neurons: number; model: NeuronModel }[];
  matrices: SynapseMatrix[];
}

export interface PlacedBlock extends Omit<ImageBlock, 'scale' | 'section'> {
  matrix: number;
}

export interface Placed {
  lowered: Lowered;
  /** The strategy that placed it: 'pack' (first fit, fewest cores) or 'spread' (balanced synapses per core; 'pack' when spread was asked for and found no placement). */
  placement: 'pack' | 'spread';
  /** Cores in the system (from --cores or the preset) and cores the placement uses. */
  system_cores: number;
  cores_used: number;
  columns: Record<string, ColumnRange[]>;
  blocks: PlacedBlock[];
  /** Per core: rows and columns in use, and synapses (rows x columns of its blocks: the plasticity processor's work). */
  usage: { core: number; rows: number; cols: number; synapses: number }[];
}

export interface QuantisedBlock extends PlacedBlock {
  scale: number;
  /** Codes [signals][cols] (array-row major): Int8Array on fixed chips, Float32Array on float chips; absent for transpose feedback. */
  codes?: Int8Array | Float32Array;
}

export interface Quantised {
  placed: Placed;
  blocks: QuantisedBlock[];
  reports: QuantisationReport[];
  warnings: string[];
}

export interface Timed {
  quantised: Quantised;
  speedup: number;
  dt_ms: number;
  dt_hw_us: number;
  t_pres_ms: number;
  t_pres_hw_us: number;
  /** Per population (by name): hardware time constants in us. */
  tau_us: Record<string, { tau_m_us: number; tau_r_us: number }>;
}
