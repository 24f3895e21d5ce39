/**
 * LifModel: the realised spiking network that both the plain TypeScript reference
 * (emulator/lif/reference.ts) and the WASM engine (emulator/lif/engine.ts) step, bit for bit.
 * Units are PyNN's: ms, mV, nF, uS, nA (uS x mV = nA, nF / ms = uS).
 *
 * Per neuron i (conductance-based leaky integrate-and-fire, IF_cond_exp):
 *   cm dV/dt   = gL (v_rest - V) + gE (e_rev_E - V) + gI (e_rev_I - V) + i_offset,  gL = cm / tau_m
 *   dgE/dt     = -gE / tau_syn_E,  dgI/dt = -gI / tau_syn_I
 *   a spike arriving on a row adds the row's weight (uS, >= 0) to gE (excitatory row) or gI
 *   V >= v_thresh: spike, V = v_reset, held for tau_refrac
 * Presynaptic signals are the sources (spike-time lists and Poisson sources), then the neurons.
 * A row belongs to one signal, feeds one receptor (E or I) of every column with its weight, and
 * carries that signal's spikes with a delay of delay_steps >= 1 steps.
 */

/** Receptor codes of a row: which conductance (and so which time constant and reversal potential) it feeds. */
export const RECEPTOR_E = 0;
export const RECEPTOR_I = 1;

/** A population of the model: lif neurons (columns) or spike sources (signals before the neurons). */
export interface LifPopulationInfo {
  name: string;
  kind: 'lif' | 'source';
  /** First neuron (kind lif) or first source (kind source) of the population. */
  offset: number;
  size: number;
  role: 'input' | 'hidden' | 'output';
}

/** Per-neuron parameters in PyNN units, realised (mismatch applied) and float64. */
export interface LifNeuronArrays {
  cm_nF: Float64Array;
  tau_m_ms: Float64Array;
  v_rest_mV: Float64Array;
  v_reset_mV: Float64Array;
  v_thresh_mV: Float64Array;
  e_rev_E_mV: Float64Array;
  e_rev_I_mV: Float64Array;
  tau_syn_E_ms: Float64Array;
  tau_syn_I_ms: Float64Array;
  tau_refrac_ms: Float64Array;
  i_offset_nA: Float64Array;
}

/** Names of the per-neuron parameters. */
export const LIF_PARAMETER_NAMES: readonly (keyof LifNeuronArrays)[] = [
  'cm_nF', 'tau_m_ms', 'v_rest_mV', 'v_reset_mV', 'v_thresh_mV', 'e_rev_E_mV', 'e_rev_I_mV',
  'tau_syn_E_ms', 'tau_syn_I_ms', 'tau_refrac_ms', 'i_offset_nA',
];

/** One spike source: Bernoulli-per-step Poisson (rate > 0) or a list of spike times. */
export interface LifSource {
  /** Poisson rate in Hz (0 for list sources). Each step spikes with probability rate * dt. */
  rate_hz: number;
  /** Seed and stream purpose of this source's own generator (independent per source). */
  seed: number;
  purpose: string;
  /** Spike times in ms (list sources), each put on the nearest grid point of dt. */
  times_ms?: readonly number[];
}

/** The synapse rows: row r carries signal[r]'s spikes to every neuron with weights[r * neurons + i] (uS). */
export interface LifRows {
  signal: Int32Array;
  receptor: Uint8Array;
  delay_steps: Int32Array;
  /** [rows][neurons], uS, non-negative (the receptor gives the sign). */
  weights: Float32Array;
}

/** The membrane ADC through which membranes are recorded: bits over [lo, hi] mV, or exact. */
export interface MembraneAdc {
  bits: number;
  lo_mV: number;
  hi_mV: number;
}

/** A realised spiking network, ready to be stepped. */
export interface LifModel {
  dt_ms: number;
  /** t_hw = t_bio / speedup. */
  speedup: number;
  /** Seed of the run's own draws (membrane noise). */
  seed: number;
  neurons: number;
  populations: LifPopulationInfo[];
  params: LifNeuronArrays;
  sources: LifSource[];
  rows: LifRows;
  /** Temporal membrane noise: V += sigma sqrt(dt) N(0, 1) each step, mV per sqrt(ms). */
  noise_mV_per_sqrt_ms: number;
  /** null: membranes are recorded exactly. */
  membrane_adc: MembraneAdc | null;
}

/** Float32 constants of the update, per neuron, derived once from the realised parameters. */
export interface LifConstants {
  gL: Float32Array;
  /** gL v_rest + i_offset (nA): the constant part of the numerator of V_inf. */
  c0: Float32Array;
  eE: Float32Array;
  eI: Float32Array;
  /** -dt / cm (1/uS): the membrane factor is exp(kdt * gtot). */
  kdt: Float32Array;
  vth: Float32Array;
  vreset: Float32Array;
  /** exp(-dt / tau_syn): exact decay of the conductances over one step. */
  decE: Float32Array;
  decI: Float32Array;
  /** Refractory steps, round(tau_refrac / dt). */
  nref: Int32Array;
  /** Initial membrane (v_rest). */
  v0: Float32Array;
}

/** The per-neuron float32 constants both the reference and the kernel use. */
export function lifConstants(m: LifModel): LifConstants {
  const n = m.neurons;
  const p = m.params;
  const f = () => new Float32Array(n);
  const c: LifConstants = {
    gL: f(), c0: f(), eE: f(), eI: f(), kdt: f(), vth: f(), vreset: f(), decE: f(), decI: f(),
    nref: new Int32Array(n), v0: f(),
  };
  for (let i = 0; i < n; i++) {
    const gL = p.cm_nF[i] / p.tau_m_ms[i];
    c.gL[i] = gL;
    c.c0[i] = gL * p.v_rest_mV[i] + p.i_offset_nA[i];
    c.eE[i] = p.e_rev_E_mV[i];
    c.eI[i] = p.e_rev_I_mV[i];
    c.kdt[i] = -m.dt_ms / p.cm_nF[i];
    c.vth[i] = p.v_thresh_mV[i];
    c.vreset[i] = p.v_reset_mV[i];
    c.decE[i] = Math.exp(-m.dt_ms / p.tau_syn_E_ms[i]);
    c.decI[i] = Math.exp(-m.dt_ms / p.tau_syn_I_ms[i]);
    c.nref[i] = Math.round(p.tau_refrac_ms[i] / m.dt_ms);
    c.v0[i] = p.v_rest_mV[i];
  }
  return c;
}

/** Grid step of a spike time: the nearest multiple of dt (ties up, as Math.round). */
export function gridStep(t_ms: number, dt_ms: number): number {
  return Math.round(t_ms / dt_ms);
}

/** Threshold of the per-step Bernoulli draw: a source spikes when its next u32 is below it. */
export function poissonThreshold(rate_hz: number, dt_ms: number): number {
  const p = (rate_hz * dt_ms) / 1000;
  return Math.max(0, Math.min(4294967295, Math.round(p * 4294967296)));
}

/** List-source events (step, source) sorted by step then source, and the most events one source has in one step. */
export function listEvents(m: LifModel): { step: Int32Array; source: Int32Array; maxPerStep: number } {
  const ev: [number, number][] = [];
  m.sources.forEach((s, k) => {
    if (!s.times_ms) return;
    for (const t of s.times_ms) ev.push([gridStep(t, m.dt_ms), k]);
  });
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let maxPerStep = ev.length ? 1 : 0;
  for (let i = 1, run = 1; i < ev.length; i++) {
    run = ev[i][0] === ev[i - 1][0] && ev[i][1] === ev[i - 1][1] ? run + 1 : 1;
    maxPerStep = Math.max(maxPerStep, run);
  }
  return { step: Int32Array.from(ev, (e) => e[0]), source: Int32Array.from(ev, (e) => e[1]), maxPerStep };
}

/** Rows of each signal as CSR: rows of signal s are list[start[s] .. start[s+1]). */
export function rowsBySignal(m: LifModel): { start: Int32Array; list: Int32Array } {
  const nSig = m.sources.length + m.neurons;
  const count = new Int32Array(nSig + 1);
  for (const s of m.rows.signal) count[s + 1]++;
  for (let s = 0; s < nSig; s++) count[s + 1] += count[s];
  const list = new Int32Array(m.rows.signal.length);
  const fill = count.slice(0, nSig);
  m.rows.signal.forEach((s, r) => (list[fill[s]++] = r));
  return { start: count, list };
}

/** Length of the delay ring: arrivals are at most max delay + 1 steps ahead. */
export function ringLength(m: LifModel): number {
  let d = 1;
  for (const x of m.rows.delay_steps) d = Math.max(d, x);
  return d + 2;
}

/** Checks the model's own consistency (our bug if it fails: models are built by code). */
export function checkModel(m: LifModel): void {
  const n = m.neurons;
  for (const k of LIF_PARAMETER_NAMES) if (m.params[k].length !== n) throw new Error(`lif model: ${k} has ${m.params[k].length} values for ${n} neurons`);
  const R = m.rows.signal.length;
  if (m.rows.receptor.length !== R || m.rows.delay_steps.length !== R || m.rows.weights.length !== R * n) {
    throw new Error(`lif model: rows arrays disagree (${R} rows, ${n} neurons)`);
  }
  const nSig = m.sources.length + n;
  for (let r = 0; r < R; r++) {
    if (m.rows.signal[r] < 0 || m.rows.signal[r] >= nSig) throw new Error(`lif model: row ${r} has signal ${m.rows.signal[r]} of ${nSig}`);
    if (!(m.rows.delay_steps[r] >= 1)) throw new Error(`lif model: row ${r} has delay ${m.rows.delay_steps[r]} steps (at least 1)`);
  }
  for (let i = 0; i < m.rows.weights.length; i++) if (!(m.rows.weights[i] >= 0)) throw new Error(`lif model: negative or NaN row weight at ${i}`);
  for (let i = 0; i < n; i++) {
    if (!(m.params.cm_nF[i] > 0 && m.params.tau_m_ms[i] > 0 && m.params.tau_syn_E_ms[i] > 0 && m.params.tau_syn_I_ms[i] > 0)) {
      throw new Error(`lif model: neuron ${i} has a non-positive cm or time constant`);
    }
  }
}

/** Spikes of a run: signal index (sources first, then neurons) and grid time index (time = index * dt). */
export interface SpikeEvents {
  time_index: Int32Array;
  signal: Int32Array;
}
