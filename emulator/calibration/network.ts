/**
 * The calibration network: one input signal driving every neuron column of the calibrated cores
 * through one synapse each, one population of linear le neurons per core filling its columns. It
 * is compiled like any user network; which neuron sits in which (core, column), and the weight the
 * array stores for it (code x block scale), are read from the image, as they would be on silicon.
 */
import { encodeImage } from '../../chip/image.js';
import type { ChipImage } from '../../chip/image-model.js';
import type { ChipSpecT } from '../../chip/spec.js';
import { UserError } from '../../common/diagnostics.js';
import { compile } from '../../compiler/compile.js';

/** Steps per nominal time constant: fine enough for the fits, few enough to be quick. */
export const STEPS_PER_TAU = 50;
/** Bias of every calibration neuron and the weight of its synapse: u spans BIAS .. BIAS + WEIGHT. */
export const CAL_BIAS = -0.3;
export const CAL_WEIGHT = 1.2;

export interface CalibrationPopulation {
  name: string;
  core: number;
  /** Column of neuron i. */
  column: Int32Array;
  /** The stored weight of neuron i's synapse (code x block scale), weight units. */
  weight: Float64Array;
}

export interface CalibrationNetwork {
  image: ChipImage;
  bytes: Uint8Array;
  /** Nominal time constant of every neuron (tau_m = tau_r), biological ms and hardware us. */
  tauMs: number;
  tauUs: number;
  dtMs: number;
  bias: number;
  populations: CalibrationPopulation[];
}

/**
 * A nominal time constant in the middle of the chip's range (geometric mean of min and max,
 * hardware us), so that trims of +-trim_range and the mismatch stay inside it.
 */
export function calibrationTauUs(chip: ChipSpecT): number {
  const lo = Math.max(chip.parameters.tau_m.min_us, chip.parameters.tau_r.min_us);
  const hi = Math.min(chip.parameters.tau_m.max_us, chip.parameters.tau_r.max_us);
  return Math.sqrt(lo * hi);
}

/** Builds and compiles the calibration network for `cores` cores of `chip`. */
export function calibrationNetwork(chip: ChipSpecT, cores: number, seed = 1): CalibrationNetwork {
  if (!(Number.isInteger(cores) && cores >= 1)) throw new UserError({ message: `--cores must be a positive integer (got ${cores})` });
  const N = chip.core.neurons;
  const tauUs = calibrationTauUs(chip);
  // Round the biological time constant to 6 significant digits so the description reads cleanly.
  const tauMs = Number(((tauUs * chip.speedup) / 1000).toPrecision(6));
  const dtMs = tauMs / STEPS_PER_TAU;
  const populations: Record<string, unknown> = { in: { size: 1, role: 'input' } };
  const projections: unknown[] = [];
  for (let k = 0; k < cores; k++) {
    populations[`core${k}`] = {
      size: N,
      role: 'output',
      neuron: { model: 'le', tau_m: tauMs, tau_r: tauMs, activation: 'linear' },
      bias: new Array(N).fill(CAL_BIAS),
    };
    projections.push({ from: 'in', to: `core${k}`, weights: Array.from({ length: N }, () => [CAL_WEIGHT]), plastic: false });
  }
  const text = JSON.stringify({
    format: 'lechip/network@1',
    name: `calibration-${chip.name}`,
    description: 'lechip calibrate: one input driving every neuron column through one synapse',
    populations,
    projections,
    learning: { rule: 'none' },
    presentation: { t_pres: tauMs, dt: dtMs },
  });
  const image = compile(text, { chip, cores, seed, file: '(calibration network)' }).image;
  const m = image.manifest;
  const out: CalibrationPopulation[] = [];
  for (let k = 0; k < cores; k++) {
    const p = m.populations.find((q) => q.name === `core${k}`)!;
    const column = new Int32Array(N).fill(-1);
    let core = -1;
    for (const c of p.columns) {
      if (c.chunk !== 0) continue;
      if (core >= 0 && c.core !== core) throw new Error(`calibration network: population core${k} spans cores ${core} and ${c.core}`);
      core = c.core;
      for (let n = 0; n < c.count; n++) column[c.neuron0 + n] = c.col0 + n;
    }
    if (core < 0 || column.some((c) => c < 0)) throw new Error(`calibration network: population core${k} is not placed on whole columns`);
    const weight = new Float64Array(N);
    for (const b of m.blocks) {
      if (b.kind !== 'forward' || m.projections[b.projection].to !== p.name || !b.section) continue;
      const codes = image.sections.get(b.section)!;
      for (let c = 0; c < b.cols; c++) weight[b.neuron0 + c] = codes[c] * b.scale;
    }
    out.push({ name: p.name, core, column, weight });
  }
  const cs = out.map((p) => p.core).sort((a, b) => a - b);
  if (new Set(cs).size !== cores) throw new Error(`calibration network: ${cores} populations on cores ${cs.join(', ')}`);
  return { image, bytes: encodeImage(image), tauMs, tauUs: (tauMs * 1000) / chip.speedup, dtMs, bias: CAL_BIAS, populations: out };
}
