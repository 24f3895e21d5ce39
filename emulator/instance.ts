/**
 * A chip instance: the fixed-pattern deviations of one physical chip, named by its chip seed.
 * Deviations belong to circuits, not to networks: neuron circuit (core, column) has its own
 * tau_m, tau_r, activation gain, offset and synaptic-input gain (the gain every synapse of that
 * column sees, whichever block of the array it belongs to). So two networks compiled onto the same
 * chip seed meet the same circuits. A calibration (config.calibration, `lechip calibrate`) sets
 * the trim DAC of each circuit (emulator/trims.ts) on top of the raw draw. realiseModel turns an
 * image plus an instance into the EmulatorModel that the engine and the reference step.
 * (The spiking emulator, emulator/lif/, still draws one gain per synapse block with blockGain.)
 */
import type { ChipImage, ImageManifest } from '../chip/image-model.js';
import { RELATIVE_PARAMETERS, type MismatchParameter } from '../chip/spec.js';
import { UserError } from '../common/diagnostics.js';
import { Rng, streamKey } from '../common/random.js';
import { checkCalibration, checkCalibrationFor, type Calibration, type CoreTrims } from './calibration/format.js';
import type { ChipConfig } from './chip-interface.js';
import { effectiveMismatch, type EffectiveMismatch } from './mismatch.js';
import type { EmulatorModel, ModelPopulation, ModelProjection, SynapticFilter } from './model.js';
import { applyTrim } from './trims.js';

export { effectiveMismatch, type EffectiveMismatch } from './mismatch.js';

/** One draw of a parameter's deviation: a factor for relative parameters, an addend otherwise. */
function deviation(rng: Rng, param: MismatchParameter, m: { distribution: string; sigma: number }): number {
  const z = rng.normal();
  if (!RELATIVE_PARAMETERS.has(param)) return m.sigma * z;
  if (m.distribution === 'lognormal') return Math.exp(m.sigma * z);
  return Math.max(1 + m.sigma * z, 0.01); // N(1, s), kept positive (a circuit cannot have a negative gain or tau)
}

/** Deviations of every neuron circuit of one core for one parameter (one value per column). */
export function circuitDeviations(chipSeed: number, core: number, columns: number, param: MismatchParameter, m: EffectiveMismatch[MismatchParameter]): Float64Array {
  const out = new Float64Array(columns);
  const neutral = RELATIVE_PARAMETERS.has(param) ? 1 : 0;
  if (m.sigma === 0) return out.fill(neutral);
  const rng = new Rng(chipSeed, `circuit:${param}:core${core}`);
  for (let c = 0; c < columns; c++) out[c] = deviation(rng, param, m);
  return out;
}

/** Gain of the synapse block at (core, row0, col0) (the lif emulator's per-block synapse gain). */
export function blockGain(chipSeed: number, core: number, row0: number, col0: number, m: EffectiveMismatch['synapse_gain']): number {
  if (m.sigma === 0) return 1;
  const rng = new Rng(streamKey(chipSeed, `synapse:core${core}`), `row${row0}:col${col0}`);
  return deviation(rng, 'synapse_gain', m);
}

function sectionOf(image: ChipImage, name: string): ArrayLike<number> {
  const data = image.sections.get(name);
  if (!data) throw new UserError({ message: `image has no section '${name}' that its manifest refers to` });
  return data;
}

/**
 * The trim codes of config.calibration by core, after checking that the calibration belongs to
 * this chip instance and covers every core the image uses; undefined without a calibration.
 */
export function calibrationTrims(manifest: ImageManifest, config: ChipConfig): Map<number, CoreTrims> | undefined {
  if (config.calibration === undefined || config.calibration === null) return undefined;
  const chip = manifest.chip;
  const cal: Calibration = checkCalibration(config.calibration);
  checkCalibrationFor(cal, chip, config.chipSeed ?? 0, effectiveMismatch(chip, config));
  const byCore = new Map(cal.trims.map((t) => [t.core, t]));
  const used = new Set<number>();
  for (const p of manifest.populations) for (const c of p.columns) used.add(c.core);
  for (const b of manifest.blocks) used.add(b.core);
  for (const core of [...used].sort((a, b) => a - b)) {
    const t = byCore.get(core);
    if (!t) {
      throw new UserError({ message: `the calibration covers cores ${[...byCore.keys()].join(', ')} of chip ${chip.name}, but the image uses core ${core}; calibrate with --cores ${Math.max(...used) + 1}` });
    }
    if (t.tau_m.length !== chip.core.neurons) {
      throw new UserError({ message: `the calibration has ${t.tau_m.length} columns on core ${core}; chip ${chip.name} has ${chip.core.neurons}` });
    }
  }
  return byCore;
}

/** Untrimmed-and-trimmed circuit values: deviation (and trim, when calibrated) of one parameter per (core, column). */
function circuitTable(manifest: ImageManifest, config: ChipConfig) {
  const chip = manifest.chip;
  const mm = effectiveMismatch(chip, config);
  const chipSeed = config.chipSeed ?? 0;
  const trims = calibrationTrims(manifest, config);
  const cache = new Map<string, Float64Array>();
  /** Realised factor (relative) or addend (offset) of each column of a core, trims applied. */
  return (param: MismatchParameter, core: number): Float64Array => {
    const key = `${param}:${core}`;
    let v = cache.get(key);
    if (!v) {
      v = circuitDeviations(chipSeed, core, chip.core.neurons, param, mm[param]);
      const codes = trims?.get(core)?.[param];
      if (codes) for (let c = 0; c < v.length; c++) v[c] = applyTrim(chip, param, v[c], codes[c]);
      cache.set(key, v);
    }
    return v;
  };
}

/** The synaptic-input gain (deviation x trim) of neuron column (core, col) on this chip instance. */
export function synapseGainOf(manifest: ImageManifest, config: ChipConfig): (core: number, col: number) => number {
  const table = circuitTable(manifest, config);
  return (core, col) => table('synapse_gain', core)[col];
}

/** Realised per-neuron circuit parameters of every population (index-aligned with the manifest). */
export function realiseCircuits(manifest: ImageManifest, config: ChipConfig) {
  const chip = manifest.chip;
  const dev = circuitTable(manifest, config);
  const us2ms = chip.speedup / 1000;
  const range = (p: 'tau_m' | 'tau_r') => [chip.parameters[p].min_us * us2ms, chip.parameters[p].max_us * us2ms];
  return manifest.populations.map((p) => {
    const out = {
      tau_m_ms: new Float32Array(p.size),
      tau_r_ms: new Float32Array(p.size),
      gain: new Float32Array(p.size).fill(1),
      offset: new Float32Array(p.size),
    };
    if (p.model === 'input') return out;
    out.tau_m_ms.fill(p.tau_m_ms);
    out.tau_r_ms.fill(p.tau_r_ms);
    const [mLo, mHi] = range('tau_m');
    const [rLo, rHi] = range('tau_r');
    // A neuron's soma is its chunk-0 column; its time constants, gain and offset are that circuit's.
    for (const cr of p.columns) {
      if (cr.chunk !== 0) continue;
      const dm = dev('tau_m', cr.core), dr = dev('tau_r', cr.core), dg = dev('gain', cr.core), dof = dev('offset', cr.core);
      for (let n = 0; n < cr.count; n++) {
        const i = cr.neuron0 + n;
        const c = cr.col0 + n;
        out.tau_m_ms[i] = clamp(p.tau_m_ms * dm[c], mLo, mHi);
        out.tau_r_ms[i] = clamp(p.tau_r_ms * dr[c], rLo, rHi);
        out.gain[i] = dg[c];
        out.offset[i] = dof[c];
      }
    }
    return out;
  });
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** The EmulatorModel of an image on the chip instance named by config.chipSeed. */
export function realiseModel(image: ChipImage, config: ChipConfig = {}): EmulatorModel {
  const m = image.manifest;
  const chip = m.chip;
  for (const p of m.populations) {
    if (p.model === 'lif')
      throw new UserError({ message: `population ${p.name}: lif (spiking) neurons are not supported by the rate emulator; only le and li run here` });
  }
  const circuits = realiseCircuits(m, config);
  const gainOf = synapseGainOf(m, config);
  const popIndex = new Map(m.populations.map((p) => [p.name, p.index]));
  const populations: ModelPopulation[] = m.populations.map((p, i) => ({
    name: p.name,
    index: p.index,
    size: p.size,
    role: p.role,
    model: p.model as 'input' | 'le' | 'li',
    activation: p.activation,
    ...circuits[i],
    bias: p.bias_section ? Float32Array.from(sectionOf(image, p.bias_section)) : new Float32Array(p.size),
  }));
  const learningOn = m.learning.rule === 'le';
  const projections: ModelProjection[] = m.projections.map((j) => {
    const pre = popIndex.get(j.from)!;
    const post = popIndex.get(j.to)!;
    const preIsInput = m.populations[pre].model === 'input';
    const feedback = !learningOn || preIsInput || j.feedback === 'none' ? 'none' : j.feedback;
    return {
      index: j.index,
      pre,
      post,
      weights: new Float32Array(j.pre_size * j.post_size),
      plastic: j.plastic && learningOn,
      eta_scale: j.eta_scale,
      feedback,
      feedbackWeights: feedback === 'random' ? new Float32Array(j.pre_size * j.post_size) : undefined,
    };
  });
  // Effective weight = code x unit, the unit (block scale x the synaptic-input gain of the column
  // it sits in) a float32 constant of the array: fround(code x fround(gain x scale)), the value the
  // kernels on quantised weights realise from the code (kernels/quantised.ts).
  for (const b of m.blocks) {
    if (!b.section) continue;
    const codes = sectionOf(image, b.section);
    const proj = projections[b.projection];
    const target = b.kind === 'forward' ? proj.weights : proj.feedbackWeights;
    if (!target) continue;
    const width = b.kind === 'forward' ? m.projections[b.projection].post_size : m.projections[b.projection].pre_size;
    for (let c = 0; c < b.cols; c++) {
      const g = Math.fround(gainOf(b.core, b.col0 + c) * b.scale);
      for (let s = 0; s < b.signals; s++) target[(b.sig0 + s) * width + b.neuron0 + c] = codes[s * b.cols + c] * g;
    }
  }
  const noise = { membrane: chip.noise.membrane, rate: chip.noise.rate, ...pick(config.noise) };
  const filter = synapticFilter(config);
  return {
    populations,
    projections,
    beta: m.learning.beta,
    eta: m.learning.eta,
    dt_ms: config.dtMs ?? m.timing.dt_ms,
    speedup: chip.speedup,
    noise: { membrane: noise.membrane, rate: noise.rate },
    seed: config.seed ?? 1,
    learningRule: m.learning.rule,
    ...(filter ? { filter } : {}),
  };
}

/** The run's synaptic filtering (config.noise.tau_s_ms > 0), or undefined when off. */
export function synapticFilter(config: ChipConfig): SynapticFilter | undefined {
  const n = config.noise;
  const tau = n?.tau_s_ms ?? 0;
  if (!(Number.isFinite(tau) && tau >= 0)) throw new UserError({ message: `the synaptic time constant tau_s must be a number of biological ms >= 0 (got ${tau})` });
  if (tau === 0) return undefined;
  return { tau_s_ms: tau, errors: n?.filter_errors ?? false, targets: n?.filter_targets ?? true };
}

function pick(n: ChipConfig['noise']): Partial<{ membrane: number; rate: number }> {
  const out: Partial<{ membrane: number; rate: number }> = {};
  if (n?.membrane !== undefined) out.membrane = n.membrane;
  if (n?.rate !== undefined) out.rate = n.rate;
  return out;
}
