/**
 * The tau adaptation protocol (firmware-models/tau-adapt-reference.ts) on a chip instance: the
 * network's image realised on the instance (with its calibration, if any), the adaptation rule run
 * in the engine's step program (Engine.setTauAdaptation: the ideal-timing model of the processor
 * firmware firmware-models/tau-adapt.s) layer by layer over the given samples, and the result
 * written back where the processor leaves it: as tau_m trim codes, quantised to the trim DACs, in a
 * `lechip/calibration@1` that training then configures the chip with.
 */
import type { ChipImage } from '../chip/image-model.js';
import { toolVersion } from '../common/paths.js';
import { adaptationOrder, meanAbsGap, type TauAdaptOptions, type TauAdaptPass } from '../firmware-models/tau-adapt-reference.js';
import { CALIBRATION_FORMAT, chipSha256, type Calibration, type CoreTrims } from './calibration/format.js';
import type { ChipConfig } from './chip-interface.js';
import { Engine } from './engine.js';
import { calibrationTrims, realiseModel } from './instance.js';
import { effectiveMismatch } from './mismatch.js';
import { codeFor, trimValue } from './trims.js';

export interface TauAdaptResult {
  calibration: Calibration;
  passes: TauAdaptPass[];
  /** Mean |tau_m - tau_r| per population before and after, ms. */
  before: Record<string, number>;
  after: Record<string, number>;
}

/**
 * Runs the protocol on the chip instance `config` names and returns its calibration with the
 * adapted tau_m codes (other codes as in config.calibration, or 0).
 */
export function adaptTauOnChip(image: ChipImage, config: ChipConfig, inputs: Float32Array, count: number, o: TauAdaptOptions): TauAdaptResult {
  const m = image.manifest;
  const chip = m.chip;
  const model = realiseModel(image, config);
  const E = new Engine(model);
  const us2ms = chip.speedup / 1000;
  const lo = o.loMs ?? chip.parameters.tau_m.min_us * us2ms;
  const hi = o.hiMs ?? chip.parameters.tau_m.max_us * us2ms;
  const passes: TauAdaptPass[] = [];
  const before: Record<string, number> = {};
  const after: Record<string, number> = {};
  for (const pi of adaptationOrder(model)) {
    const p = model.populations[pi];
    before[p.name] = meanAbsGap(p.tau_m_ms, p.tau_r_ms);
    E.setTauAdaptation(pi, o.eta, lo, hi);
    let last = before[p.name];
    for (let pass = 1; pass <= o.maxPasses; pass++) {
      E.present({ inputs, count, stepsPerSample: o.stepsPerSample, learn: false, nudge: false, readout: pi });
      const gap = meanAbsGap(E.readParameters(pi).tau_m_ms, p.tau_r_ms);
      passes.push({ population: p.name, pass, mean_abs_gap_ms: gap });
      const change = Math.abs(gap - last);
      last = gap;
      if (change < o.tolMs) break;
    }
    E.setTauAdaptation(pi, 0);
    after[p.name] = last;
  }

  // Trim codes: the adapted tau_m over the realised one is the factor the tau_m trim must change by.
  const base = calibrationTrims(m, config);
  const N = chip.core.neurons;
  const trims = new Map<number, CoreTrims>();
  const coreTrims = (core: number): CoreTrims => {
    let t = trims.get(core);
    if (!t) {
      const from = base?.get(core);
      const copy = (k: keyof Omit<CoreTrims, 'core'>) => (from ? [...from[k]] : new Array<number>(N).fill(0));
      t = { core, tau_m: copy('tau_m'), tau_r: copy('tau_r'), gain: copy('gain'), offset: copy('offset'), synapse_gain: copy('synapse_gain') };
      trims.set(core, t);
    }
    return t;
  };
  for (const c of base?.keys() ?? []) coreTrims(c);
  for (let core = 0; core < m.system.cores; core++) coreTrims(core);
  for (const pi of adaptationOrder(model)) {
    const adapted = E.readParameters(pi).tau_m_ms;
    const realised = model.populations[pi].tau_m_ms;
    for (const cr of m.populations[pi].columns) {
      if (cr.chunk !== 0) continue;
      const t = coreTrims(cr.core);
      for (let n = 0; n < cr.count; n++) {
        const i = cr.neuron0 + n;
        const col = cr.col0 + n;
        const factor = (adapted[i] / realised[i]) * (1 + trimValue(chip, t.tau_m[col]));
        t.tau_m[col] = codeFor(chip, 'tau_m', factor).code;
      }
    }
  }
  const from = config.calibration as Calibration | undefined;
  const calibration: Calibration = {
    format: CALIBRATION_FORMAT,
    tool_version: toolVersion(),
    chip: chip.name,
    chip_sha256: chipSha256(chip),
    chip_seed: config.chipSeed ?? 0,
    mismatch: effectiveMismatch(chip, config),
    dac_bits: chip.parameters.dac_bits,
    trim_range: chip.parameters.trim_range,
    trims: [...trims.values()].sort((a, b) => a.core - b.core),
    parameters: from?.parameters ?? {},
    iterations: from?.iterations ?? 0,
    seed: config.seed ?? 1,
    tau_adaptation: {
      network: m.network.name,
      eta: o.eta,
      steps_per_sample: o.stepsPerSample,
      samples: count,
      passes,
      mean_abs_gap_ms_before: before,
      mean_abs_gap_ms_after: after,
    },
  };
  return { calibration, passes, before, after };
}
