/**
 * A compiled image of a spiking network on one chip instance: image + ChipConfig -> LifModel.
 *
 * - Parameters: each lif population's PyNN parameters (image manifest `lif`), its bias added to
 *   v_rest per neuron (mV: a lif neuron's bias is its leak potential's offset, which is how
 *   neural sampling sets Boltzmann biases).
 * - Weights: code x block scale x the block's gain on this instance (uS), the code's sign picking
 *   the excitatory or inhibitory row (bss2, spikey: sign by row; the compiler has quantised them
 *   with one scale per block).
 * - Mismatch, per neuron circuit (core, column) from the chip seed, in the style of
 *   emulator/instance.ts: tau_m with the circuit's tau_m draw (the same draw a rate neuron on that
 *   circuit sees); tau_syn_E and tau_syn_I with the preset's tau_m distribution and sigma
 *   (assumption: the spec lists one sigma for time constants); v_rest offset with the circuit's
 *   offset draw and v_thresh offset with its own draw, both scaled by MV_PER_UNIT (an offset of
 *   0.05 rate units is 1 mV); on chips with shared thresholds (Spikey) one v_thresh draw per block.
 * - Temporal noise: the preset's membrane noise (rate units per sqrt(ms)) x MV_PER_UNIT.
 * - Membrane ADC: 10 bits on fixed-weight chips over the network's voltage span, exact on float chips.
 * - Times: biological; the chip's speedup converts them to hardware us in recordings.
 */
import type { ChipImage, ImagePopulation } from '../../chip/image-model.js';
import type { ChipSpecT, MismatchEntryT } from '../../chip/spec.js';
import { pointerKey, UserError, type Diagnostic } from '../../common/diagnostics.js';
import { Rng } from '../../common/random.js';
import type { ChipConfig } from '../chip-interface.js';
import { blockGain, circuitDeviations, effectiveMismatch } from '../instance.js';
import { buildLifModel, type LifNetworkSpec, type LifPopulationSpec, type PynnName, type SourcePopulationSpec } from './build.js';
import type { LifModel, MembraneAdc } from './model.js';

/** mV per rate unit: how the presets' offset sigma and membrane noise (given in rate units) read for lif circuits. */
export const MV_PER_UNIT = 20;
/** Bits of the membrane ADC on hardware presets (BrainScaleS-2's 10-bit membrane ADC, RESEARCH.md §2). */
export const MEMBRANE_ADC_BITS = 10;
/** Chips whose blocks share one threshold (RESEARCH.md §2: Spikey's shared thresholds). */
export const SHARED_THRESHOLD_CHIPS: ReadonlySet<string> = new Set(['spikey']);
/** Synaptic time constant ranges in hardware us where the chip differs from its tau_m range (RESEARCH.md §2). */
export const TAU_SYN_RANGE_US: Readonly<Record<string, [number, number]>> = { bss2: [0.1, 100] };

/** True when every non-input population of the image is lif (the images this engine runs). */
export function isLifImage(image: ChipImage): boolean {
  const pops = image.manifest.populations.filter((p) => p.model !== 'input');
  return pops.length > 0 && pops.every((p) => p.model === 'lif');
}

/** Relative (lognormal / normal) or absolute deviations of one circuit parameter on one core. */
function deviations(chipSeed: number, purpose: string, count: number, m: MismatchEntryT, relative: boolean): Float64Array {
  const out = new Float64Array(count).fill(relative ? 1 : 0);
  if (m.sigma === 0) return out;
  const rng = new Rng(chipSeed, purpose);
  for (let c = 0; c < count; c++) {
    const z = rng.normal();
    if (!relative) out[c] = m.sigma * z;
    else out[c] = m.distribution === 'lognormal' ? Math.exp(m.sigma * z) : Math.max(1 + m.sigma * z, 0.01);
  }
  return out;
}

/** The network's voltage span read by the membrane ADC: lowest reversal / reset / rest to the highest threshold, 5 % margin. */
export function membraneAdcRange(pops: readonly ImagePopulation[], bits = MEMBRANE_ADC_BITS): MembraneAdc {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of pops) {
    if (p.model !== 'lif' || !p.lif) continue;
    lo = Math.min(lo, p.lif.e_rev_I, p.lif.v_reset, p.lif.v_rest);
    hi = Math.max(hi, p.lif.v_thresh);
  }
  const margin = 0.05 * (hi - lo);
  return { bits, lo_mV: lo - margin, hi_mV: hi + margin };
}

function checkConstraints(chip: ChipSpecT, pops: readonly ImagePopulation[]): void {
  const diags: Diagnostic[] = [];
  const where = (p: ImagePopulation, param: string) => `/populations/${pointerKey(p.name)}/neuron/${param}`;
  const num = (x: number) => String(Number(x.toPrecision(6)));
  // Spikey: one threshold per block, so the lif populations on one core must ask for the same one.
  if (SHARED_THRESHOLD_CHIPS.has(chip.name)) {
    const byCore = new Map<number, ImagePopulation>();
    for (const p of pops) {
      if (p.model !== 'lif' || !p.lif) continue;
      for (const core of new Set(p.columns.map((c) => c.core))) {
        const first = byCore.get(core);
        if (!first) byCore.set(core, p);
        else if (first.lif!.v_thresh !== p.lif.v_thresh) {
          diags.push({
            pointer: where(p, 'v_thresh'),
            message:
              `${chip.name} shares one threshold per block: ${p.name} asks for v_thresh ${num(p.lif.v_thresh)} mV but ${first.name}, ` +
              `placed on the same block (core ${core}), has ${num(first.lif!.v_thresh)} mV; use one v_thresh or place them on different blocks`,
          });
        }
      }
    }
  }
  const us2ms = chip.speedup / 1000;
  const [lo, hi] = TAU_SYN_RANGE_US[chip.name] ?? [chip.parameters.tau_m.min_us, chip.parameters.tau_m.max_us];
  for (const p of pops) {
    if (p.model !== 'lif' || !p.lif) continue;
    for (const k of ['tau_syn_E', 'tau_syn_I'] as const) {
      const us = p.lif[k] / us2ms;
      if (us < lo || us > hi) {
        diags.push({
          pointer: where(p, k),
          message: `${k} ${num(p.lif[k])} ms (${num(us)} us on ${chip.name} at speedup ${num(chip.speedup)}) is outside the chip's synaptic range ${num(lo)}-${num(hi)} us (${num(lo * us2ms)}-${num(hi * us2ms)} ms biological)`,
        });
      }
    }
  }
  if (diags.length) throw new UserError(diags);
}

/** The LifModel of a lif image on the chip instance config.chipSeed names. */
export function realiseLifModel(image: ChipImage, config: ChipConfig = {}, options: { fixedRows?: boolean } = {}): LifModel {
  return buildLifModel({ ...realiseLifSpec(image, config), fixedRows: options.fixedRows });
}

/** The gain of the block holding each weight of a projection on this chip instance, [post][pre] (0 where no forward block holds it). */
export function projectionGains(image: ChipImage, config: ChipConfig, projection: number): Float64Array {
  const m = image.manifest;
  const j = m.projections[projection];
  const mm = effectiveMismatch(m.chip, config);
  const out = new Float64Array(j.pre_size * j.post_size);
  for (const b of m.blocks) {
    if (b.kind !== 'forward' || b.projection !== projection) continue;
    const g = blockGain(config.chipSeed ?? 0, b.core, b.row0, b.col0, mm.synapse_gain);
    for (let s = 0; s < b.signals; s++) for (let c = 0; c < b.cols; c++) out[(b.neuron0 + c) * j.pre_size + b.sig0 + s] = g;
  }
  return out;
}

/** The weights a synapse array stores for a projection, [post][pre] uS: codes x block scale (the gains act on top, unreadable). */
export function storedLifWeights(image: ChipImage, projection: number): Float64Array {
  const m = image.manifest;
  const j = m.projections[projection];
  const out = new Float64Array(j.pre_size * j.post_size);
  for (const b of m.blocks) {
    if (b.kind !== 'forward' || b.projection !== projection || !b.section) continue;
    const codes = image.sections.get(b.section)!;
    for (let s = 0; s < b.signals; s++) for (let c = 0; c < b.cols; c++) out[(b.neuron0 + c) * j.pre_size + b.sig0 + s] = codes[s * b.cols + c] * b.scale;
  }
  return out;
}

/** Weights [post][pre] as a write leaves them on the array: per block, round(w / scale) clamped to the chip's codes, x scale (float chips: w). */
export function quantiseLifWeights(image: ChipImage, projection: number, w: ArrayLike<number>): Float64Array {
  const m = image.manifest;
  const chip = m.chip;
  const j = m.projections[projection];
  const isFloat = chip.weights.kind === 'float32';
  const qmax = chip.weights.sign === 'per_row' ? 2 ** chip.weights.bits - 1 : 2 ** (chip.weights.bits - 1) - 1;
  const out = new Float64Array(j.pre_size * j.post_size);
  for (const b of m.blocks) {
    if (b.kind !== 'forward' || b.projection !== projection) continue;
    for (let s = 0; s < b.signals; s++) {
      for (let c = 0; c < b.cols; c++) {
        const k = (b.neuron0 + c) * j.pre_size + b.sig0 + s;
        if (isFloat) out[k] = Math.fround(w[k] / b.scale) * b.scale;
        else {
          const q = w[k] / b.scale;
          out[k] = Math.max(-qmax, Math.min(qmax, q < 0 ? -Math.round(-q) : Math.round(q))) * b.scale;
        }
      }
    }
  }
  return out;
}

/** The builder spec of a lif image on the chip instance config.chipSeed names (realiseLifModel builds it). */
export function realiseLifSpec(image: ChipImage, config: ChipConfig = {}): LifNetworkSpec {
  const m = image.manifest;
  const chip = m.chip;
  for (const p of m.populations) {
    if (p.model !== 'input' && p.model !== 'lif') {
      throw new UserError({
        pointer: `/populations/${pointerKey(p.name)}/neuron/model`,
        message: `population ${p.name} is a ${p.model} (rate) population in a network of lif (spiking) populations; one network runs either rate or spiking neurons`,
      });
    }
    if (p.model === 'input' && p.source === undefined) {
      throw new UserError({
        pointer: `/populations/${pointerKey(p.name)}`,
        message: `input population ${p.name} of a spiking network needs a "source": { "kind": "spike_times", "times": [[ms, ...], ...] } or { "kind": "poisson", "rate_hz": ..., "seed": ... }`,
      });
    }
  }
  checkConstraints(chip, m.populations);
  const seed = config.seed ?? 1;
  const chipSeed = config.chipSeed ?? 0;
  const mm = effectiveMismatch(chip, config);
  const us2ms = chip.speedup / 1000;
  const shared = SHARED_THRESHOLD_CHIPS.has(chip.name);

  const pops: (LifPopulationSpec | SourcePopulationSpec)[] = m.populations.map((p) => {
    if (p.model === 'input') {
      const src = p.source as { kind: 'spike_times'; times: number[][] } | { kind: 'poisson'; rate_hz: number; seed?: number };
      if (src.kind === 'spike_times') {
        if (src.times.length !== p.size) {
          throw new UserError({
            pointer: `/populations/${pointerKey(p.name)}/source/times`,
            message: `must have size=${p.size} lists of spike times (one per neuron); got ${src.times.length}`,
          });
        }
        return { kind: 'source', name: p.name, size: p.size, spike_times: src.times };
      }
      return { kind: 'source', name: p.name, size: p.size, poisson: { rate_hz: src.rate_hz, seed: src.seed ?? seed } };
    }
    const lif = p.lif!;
    const bias = p.bias_section ? image.sections.get(p.bias_section) : undefined;
    const arr = (k: PynnName) => new Float64Array(p.size).fill(lif[k]);
    const params = {
      cm: arr('cm'), tau_m: arr('tau_m'), v_rest: arr('v_rest'), v_reset: arr('v_reset'), v_thresh: arr('v_thresh'),
      e_rev_E: arr('e_rev_E'), e_rev_I: arr('e_rev_I'), tau_syn_E: arr('tau_syn_E'), tau_syn_I: arr('tau_syn_I'),
      tau_refrac: arr('tau_refrac'), i_offset: arr('i_offset'),
    };
    if (bias) for (let i = 0; i < p.size; i++) params.v_rest[i] += bias[i];
    const [mLo, mHi] = [chip.parameters.tau_m.min_us * us2ms, chip.parameters.tau_m.max_us * us2ms];
    for (const cr of p.columns) {
      if (cr.chunk !== 0) continue;
      const N = chip.core.neurons;
      const dTau = circuitDeviations(chipSeed, cr.core, N, 'tau_m', mm.tau_m);
      const dOff = circuitDeviations(chipSeed, cr.core, N, 'offset', mm.offset);
      const dSynE = deviations(chipSeed, `circuit:tau_syn_E:core${cr.core}`, N, mm.tau_m, true);
      const dSynI = deviations(chipSeed, `circuit:tau_syn_I:core${cr.core}`, N, mm.tau_m, true);
      const dTh = shared
        ? new Float64Array(N).fill(deviations(chipSeed, `block:v_thresh:core${cr.core}`, 1, mm.offset, false)[0])
        : deviations(chipSeed, `circuit:v_thresh:core${cr.core}`, N, mm.offset, false);
      for (let k = 0; k < cr.count; k++) {
        const i = cr.neuron0 + k;
        const c = cr.col0 + k;
        params.tau_m[i] = Math.min(mHi, Math.max(mLo, params.tau_m[i] * dTau[c]));
        params.tau_syn_E[i] *= dSynE[c];
        params.tau_syn_I[i] *= dSynI[c];
        params.v_rest[i] += MV_PER_UNIT * dOff[c];
        params.v_thresh[i] += MV_PER_UNIT * dTh[c];
      }
    }
    return { kind: 'lif', name: p.name, size: p.size, role: p.role === 'output' ? 'output' : 'hidden', params };
  });

  // Effective weights [post][pre] per projection: code x scale x block gain.
  const weights = m.projections.map((j) => new Float64Array(j.pre_size * j.post_size));
  for (const b of m.blocks) {
    if (b.kind !== 'forward' || !b.section) continue;
    const codes = image.sections.get(b.section);
    if (!codes) throw new UserError({ message: `image has no section '${b.section}' that its manifest refers to` });
    const j = m.projections[b.projection];
    const g = blockGain(chipSeed, b.core, b.row0, b.col0, mm.synapse_gain) * b.scale;
    const w = weights[b.projection];
    for (let s = 0; s < b.signals; s++) {
      for (let c = 0; c < b.cols; c++) w[(b.neuron0 + c) * j.pre_size + b.sig0 + s] = codes[s * b.cols + c] * g;
    }
  }
  const noise = config.noise?.membrane ?? chip.noise.membrane;
  return {
    dt_ms: config.dtMs ?? m.timing.dt_ms,
    speedup: chip.speedup,
    seed,
    noise_mV_per_sqrt_ms: noise * MV_PER_UNIT,
    membrane_adc: chip.weights.kind === 'float32' ? null : membraneAdcRange(m.populations),
    populations: pops,
    projections: m.projections.map((j) => ({ from: j.from, to: j.to, weights_uS: weights[j.index] })),
  };
}
