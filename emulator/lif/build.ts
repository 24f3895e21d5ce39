/**
 * Builds a LifModel from populations and projections given in PyNN units (the shape the image
 * loader, the tests, the benchmark and the sampling experiments all use). Signed weights become
 * rows: one excitatory row (positive weights) and one inhibitory row (magnitudes of the negative
 * ones) per presynaptic signal, only where they hold a non-zero weight; projections from the same
 * signal with the same delay share its rows, as a row driver spans the whole array.
 */
import { LIF_DEFAULTS } from '../../compiler/validate.js';
import {
  LIF_PARAMETER_NAMES, RECEPTOR_E, RECEPTOR_I,
  type LifModel, type LifNeuronArrays, type LifPopulationInfo, type LifSource, type MembraneAdc,
} from './model.js';

/** PyNN parameter names of IF_cond_exp and the model's per-neuron arrays they fill. */
export const PYNN_TO_ARRAY: Readonly<Record<keyof typeof LIF_DEFAULTS, keyof LifNeuronArrays>> = {
  cm: 'cm_nF',
  tau_m: 'tau_m_ms',
  v_rest: 'v_rest_mV',
  v_reset: 'v_reset_mV',
  v_thresh: 'v_thresh_mV',
  e_rev_E: 'e_rev_E_mV',
  e_rev_I: 'e_rev_I_mV',
  tau_syn_E: 'tau_syn_E_ms',
  tau_syn_I: 'tau_syn_I_ms',
  tau_refrac: 'tau_refrac_ms',
  i_offset: 'i_offset_nA',
};

export type PynnName = keyof typeof LIF_DEFAULTS;

/** A lif population: parameters by PyNN name, one value for all or one per neuron (defaults: CONTRACT.md's). */
export interface LifPopulationSpec {
  kind: 'lif';
  name: string;
  size: number;
  role?: 'hidden' | 'output';
  params?: Partial<Record<PynnName, number | ArrayLike<number>>>;
}

/** A source population: Poisson (rate, seed) or spike-time lists (ms, one list per source). */
export interface SourcePopulationSpec {
  kind: 'source';
  name: string;
  size: number;
  poisson?: { rate_hz: number | ArrayLike<number>; seed?: number };
  spike_times?: readonly (readonly number[])[];
}

export interface LifProjectionSpec {
  from: string;
  to: string;
  /** [post][pre] row-major, uS; negative = inhibitory of that magnitude. */
  weights_uS: ArrayLike<number>;
  /** Delay in steps of dt, >= 1 (default 1). */
  delay_steps?: number;
}

export interface LifNetworkSpec {
  dt_ms: number;
  speedup?: number;
  /** Seed of the run's own draws: membrane noise and Poisson sources without a seed (default 1). */
  seed?: number;
  noise_mV_per_sqrt_ms?: number;
  membrane_adc?: MembraneAdc | null;
  /** Give every presynaptic signal of every projection both rows, even where its weights are zero,
   * so that weights written later (of either sign) map onto the same rows (default false). */
  fixedRows?: boolean;
  populations: (LifPopulationSpec | SourcePopulationSpec)[];
  projections: LifProjectionSpec[];
}

/** Purpose string of the generator of Poisson source k of a population. */
export function poissonPurpose(population: string, k: number): string {
  return `poisson:${population}:${k}`;
}

/** The LifModel of a spec (our bug if the spec is inconsistent: users' mistakes are caught before). */
export function buildLifModel(spec: LifNetworkSpec): LifModel {
  const seed = spec.seed ?? 1;
  const pops: LifPopulationInfo[] = [];
  let nNeurons = 0;
  let nSources = 0;
  for (const p of spec.populations) {
    if (pops.some((q) => q.name === p.name)) throw new Error(`lif spec: duplicate population ${p.name}`);
    if (p.kind === 'lif') {
      pops.push({ name: p.name, kind: 'lif', offset: nNeurons, size: p.size, role: p.role ?? 'hidden' });
      nNeurons += p.size;
    } else {
      pops.push({ name: p.name, kind: 'source', offset: nSources, size: p.size, role: 'input' });
      nSources += p.size;
    }
  }
  const params = {} as LifNeuronArrays;
  for (const k of LIF_PARAMETER_NAMES) params[k] = new Float64Array(nNeurons);
  const sources: LifSource[] = [];
  spec.populations.forEach((p, pi) => {
    const info = pops[pi];
    if (p.kind === 'lif') {
      for (const [name, key] of Object.entries(PYNN_TO_ARRAY) as [PynnName, keyof LifNeuronArrays][]) {
        const given = p.params?.[name];
        for (let i = 0; i < p.size; i++) {
          params[key][info.offset + i] = given === undefined ? LIF_DEFAULTS[name] : typeof given === 'number' ? given : given[i];
        }
      }
      return;
    }
    if (p.spike_times && p.spike_times.length !== p.size) throw new Error(`lif spec: ${p.name} has ${p.spike_times.length} spike lists for ${p.size} sources`);
    for (let k = 0; k < p.size; k++) {
      const rate = p.poisson ? (typeof p.poisson.rate_hz === 'number' ? p.poisson.rate_hz : p.poisson.rate_hz[k]) : 0;
      sources.push({
        rate_hz: rate,
        seed: p.poisson?.seed ?? seed,
        purpose: poissonPurpose(p.name, k),
        ...(p.spike_times ? { times_ms: p.spike_times[k] } : {}),
      });
    }
  });

  // Rows keyed by (signal, receptor, delay), in that order.
  const byName = new Map(pops.map((p) => [p.name, p]));
  const rowMap = new Map<string, { signal: number; receptor: number; delay: number; w: Float32Array }>();
  const signalOf = (p: LifPopulationInfo, k: number) => (p.kind === 'source' ? p.offset + k : nSources + p.offset + k);
  for (const q of spec.projections) {
    const pre = byName.get(q.from);
    const post = byName.get(q.to);
    if (!pre || !post || post.kind !== 'lif') throw new Error(`lif spec: bad projection ${q.from} -> ${q.to}`);
    if (q.weights_uS.length !== pre.size * post.size) throw new Error(`lif spec: ${q.from} -> ${q.to} has ${q.weights_uS.length} weights for ${post.size} x ${pre.size}`);
    const delay = q.delay_steps ?? 1;
    for (let k = 0; k < pre.size; k++) {
      for (const receptor of [RECEPTOR_E, RECEPTOR_I]) {
        let row: Float32Array | undefined;
        for (let i = 0; i < post.size; i++) {
          const x = q.weights_uS[i * pre.size + k];
          const mag = receptor === RECEPTOR_E ? (x > 0 ? x : 0) : x < 0 ? -x : 0;
          if (mag === 0 && !spec.fixedRows) continue;
          if (!row) {
            const key = `${signalOf(pre, k)}:${receptor}:${delay}`;
            let entry = rowMap.get(key);
            if (!entry) rowMap.set(key, (entry = { signal: signalOf(pre, k), receptor, delay, w: new Float32Array(nNeurons) }));
            row = entry.w;
          }
          row[post.offset + i] += mag;
        }
      }
    }
  }
  const rows = [...rowMap.values()].sort((a, b) => a.signal - b.signal || a.receptor - b.receptor || a.delay - b.delay);
  const weights = new Float32Array(rows.length * nNeurons);
  rows.forEach((r, i) => weights.set(r.w, i * nNeurons));
  return {
    dt_ms: spec.dt_ms,
    speedup: spec.speedup ?? 1,
    seed,
    neurons: nNeurons,
    populations: pops,
    params,
    sources,
    rows: {
      signal: Int32Array.from(rows, (r) => r.signal),
      receptor: Uint8Array.from(rows, (r) => r.receptor),
      delay_steps: Int32Array.from(rows, (r) => r.delay),
      weights,
    },
    noise_mV_per_sqrt_ms: spec.noise_mV_per_sqrt_ms ?? 0,
    membrane_adc: spec.membrane_adc ?? null,
  };
}
