/**
 * Neural sampling with lif neurons (Buesing et al. 2011; Petrovici et al. 2016, "Stochastic
 * inference with spiking neurons in the high-conductance state"; Dold et al. for ensembles).
 *
 * A neuron is read as a binary state z_k = 1 while it is refractory, sampled on the grid of dt: a
 * spike at t_s makes z_k = 1 at the grid times t_s .. t_s + tau_refrac, the samples at which its
 * membrane is clamped at v_reset (nref + 1 samples, nref = tau_refrac / dt). The endpoint is
 * included because on the grid a neuron that keeps firing fires again one step after its
 * refractory period ends; so a bursting neuron reads as z = 1 throughout, as in continuous time. Under strong synaptic background (the high-conductance state) its
 * probability of being refractory against its leak potential is close to a logistic,
 * p(z_k = 1) = sigma((v_rest_k - u0) / alpha), so a Boltzmann bias b_k is the leak potential
 * v_rest_k = u0 + alpha b_k, and a Boltzmann weight W_kj is the synaptic weight whose
 * postsynaptic potential, averaged over the refractory window tau_refrac, shifts the effective
 * membrane as much as alpha W_kj of leak potential does (translateBoltzmann).
 *
 * Background: each neuron's own Poisson sources (`poisson`), or, in an `ensemble`, the spikes of
 * neurons of the other networks through fixed random synapses, so the ensemble needs no source
 * of noise at all. Everything is one LifModel stepped by the WASM engine; contrastive
 * divergence (trainCd) updates W and b on the host in float64 and writes the translated weights
 * and leak potentials back between sampling phases, as firmware would.
 */
import { Rng } from '../../common/random.js';
import { boltzmannDistribution, klDivergence, moments, normalise, type Boltzmann } from './boltzmann.js';
import { buildLifModel, type PynnName } from './build.js';
import { LifEngine } from './engine.js';
import { RECEPTOR_E, RECEPTOR_I, type LifModel, type SpikeEvents } from './model.js';

/** Parameters of a sampling neuron (PyNN names and units). */
export type SamplingNeuron = Record<Exclude<PynnName, 'v_rest' | 'i_offset'>, number>;

/** Our sampling neuron: fast membrane, tau_syn = tau_refrac = 10 ms, reset just below threshold. */
export const SAMPLING_NEURON: SamplingNeuron = {
  cm: 0.2,
  tau_m: 1,
  v_thresh: -50,
  v_reset: -50.01,
  e_rev_E: 0,
  e_rev_I: -90,
  tau_syn_E: 10,
  tau_syn_I: 10,
  tau_refrac: 10,
};

/** Poisson background per neuron: `sources` excitatory and `sources` inhibitory sources, each at rate_hz. */
export interface PoissonBackground {
  kind: 'poisson';
  sources: number;
  rate_hz: number;
  w_exc_uS: number;
  w_inh_uS: number;
}

/** Background from the other networks of an ensemble: each neuron gets `inputs` excitatory and `inputs` inhibitory synapses from random neurons of other networks. */
export interface EnsembleBackground {
  kind: 'ensemble';
  inputs: number;
  w_exc_uS: number;
  w_inh_uS: number;
}

/** Weight of the one starting spike each ensemble neuron receives (uS). */
export const ENSEMBLE_KICK_US = 0.2;

/** Our Poisson background: 4 excitatory and 4 inhibitory sources at 1 kHz per neuron, 2 nS each. */
export const POISSON_BACKGROUND: PoissonBackground = { kind: 'poisson', sources: 4, rate_hz: 1000, w_exc_uS: 0.002, w_inh_uS: 0.002 };

/**
 * Our ensemble: 60 networks; each neuron gets 15 excitatory (15 nS) and 15 inhibitory (22.5 nS)
 * synapses from random neurons of other networks. Inhibition-dominated and sparse, so the
 * ensemble's activity is irregular; smaller or denser ensembles tend to freeze into fixed points
 * (neurons permanently on or off), which no training can undo.
 */
export const ENSEMBLE_BACKGROUND: EnsembleBackground = { kind: 'ensemble', inputs: 15, w_exc_uS: 0.015, w_inh_uS: 0.0225 };
export const ENSEMBLE_NETWORKS = 60;

export interface SamplerOptions {
  /** Units per network. */
  n: number;
  /** Networks sampled side by side (independent ones with Poisson background; an ensemble otherwise). */
  networks: number;
  background: PoissonBackground | EnsembleBackground;
  neuron?: SamplingNeuron;
  dt_ms?: number;
  seed?: number;
  /**
   * Synapse weight step (uS) of a chip with fixed-point weights: the ensemble's noise weights are
   * rounded to multiples of it (firmware training, emulator/lif/cd-firmware.ts, stores every
   * recurrent synapse as a code of this step). 0 (default): float weights.
   */
  weightStep_uS?: number;
}

/** Logistic activation p = sigma((v_rest - u0) / alpha), in mV. */
export interface Activation {
  u0_mV: number;
  alpha_mV: number;
}

/** Counts of the grid samples spent in each of the 2^n states of each network. */
export class StateCounter {
  readonly counts: Float64Array[];
  /** Grid index of the next sample to count. */
  private next: number;
  private readonly until: Int32Array;
  private pendTime: number[] = [];
  private pendNeuron: number[] = [];

  constructor(
    readonly n: number,
    readonly networks: number,
    readonly nref: number,
    /** Signal index of neuron 0 (the number of sources). */
    readonly signal0: number,
    start: number,
  ) {
    if (n > 24) throw new Error(`StateCounter: 2^${n} states are too many`);
    this.counts = Array.from({ length: networks }, () => new Float64Array(1 << n));
    this.next = start;
    this.until = new Int32Array(n * networks).fill(-1);
  }

  /** Takes the spikes of a run (in time order). */
  feed(ev: SpikeEvents): void {
    for (let e = 0; e < ev.signal.length; e++) {
      const i = ev.signal[e] - this.signal0;
      if (i < 0 || i >= this.n * this.networks) continue;
      this.pendTime.push(ev.time_index[e]);
      this.pendNeuron.push(i);
    }
  }

  /**
   * Counts the samples before grid index `end` (z_k = 1 at grid times t_s .. t_{s + nref} after a
   * spike at t_s), segment by segment: the state of a network only changes at its spikes and when
   * an on-period ends, so each segment adds its length to one state's count.
   */
  countTo(end: number): void {
    const { n, networks, until, nref } = this;
    const start = this.next;
    if (end <= start) return;
    const T = this.pendTime;
    const N = this.pendNeuron;
    // Spikes of this window, per network, in time order; later ones stay pending.
    const perNet: number[][] = Array.from({ length: networks }, () => []);
    const keepT: number[] = [];
    const keepN: number[] = [];
    for (let q = 0; q < T.length; q++) {
      if (T[q] < end) perNet[Math.floor(N[q] / n)].push(q);
      else {
        keepT.push(T[q]);
        keepN.push(N[q]);
      }
    }
    for (let k = 0; k < networks; k++) {
      const ev = perNet[k];
      const counts = this.counts[k];
      let e = 0;
      for (let cur = start; cur < end; ) {
        while (e < ev.length && T[ev[e]] <= cur) {
          until[N[ev[e]]] = T[ev[e]] + nref + 1;
          e++;
        }
        let state = 0;
        let next = e < ev.length ? Math.min(end, T[ev[e]]) : end;
        for (let i = 0; i < n; i++) {
          const u = until[k * n + i];
          if (u > cur) {
            state |= 1 << i;
            if (u < next) next = u;
          }
        }
        counts[state] += next - cur;
        cur = next;
      }
    }
    this.pendTime = keepT;
    this.pendNeuron = keepN;
    this.next = end;
  }

  /** Forgets the counts so far (keeps the state of the neurons). */
  clear(): void {
    for (const c of this.counts) c.fill(0);
  }
}

/** Spiking sampler: N networks of n lif neurons with their background, running in the WASM engine. */
export class SpikingSampler {
  readonly opts: Required<SamplerOptions>;
  readonly model: LifModel;
  readonly engine: LifEngine;
  readonly nref: number;
  /** Index of the first recurrent row (rows of neuron j: E at rec0 + 2j, I at rec0 + 2j + 1). */
  private readonly rec0: number;
  /** Fixed background weights of the recurrent rows (ensemble noise), [2 N n][N n]. */
  private readonly noiseRows: Float32Array;
  private readonly counter: StateCounter | null;

  constructor(options: SamplerOptions) {
    this.opts = { neuron: SAMPLING_NEURON, dt_ms: 0.1, seed: 1, weightStep_uS: 0, ...options };
    const { n, networks, background: bg, neuron, dt_ms, seed } = this.opts;
    const N = n * networks;
    const populations: Parameters<typeof buildLifModel>[0]['populations'] = [];
    const projections: Parameters<typeof buildLifModel>[0]['projections'] = [];
    if (bg.kind === 'poisson') {
      const K = bg.sources;
      populations.push({ kind: 'source', name: 'bg', size: 2 * K * N, poisson: { rate_hz: bg.rate_hz, seed } });
      const w = new Float64Array(N * 2 * K * N);
      for (let i = 0; i < N; i++) {
        for (let k = 0; k < K; k++) {
          w[i * 2 * K * N + 2 * K * i + k] = bg.w_exc_uS;
          w[i * 2 * K * N + 2 * K * i + K + k] = -bg.w_inh_uS;
        }
      }
      projections.push({ from: 'bg', to: 'z', weights_uS: w });
    }
    if (bg.kind === 'ensemble') {
      // The ensemble's silent state is a fixed point too: one excitatory spike into every neuron at a
      // random time in the first 20 ms starts its activity, which then sustains itself.
      const rng = new Rng(seed, 'sampling:ensemble-kick');
      populations.push({ kind: 'source', name: 'kick', size: N, spike_times: Array.from({ length: N }, () => [20 * rng.uniform()]) });
      const w = new Float64Array(N * N);
      for (let i = 0; i < N; i++) w[i * N + i] = ENSEMBLE_KICK_US;
      projections.push({ from: 'kick', to: 'z', weights_uS: w });
    }
    populations.push({ kind: 'lif', name: 'z', size: N, params: { ...neuron } });
    const base = buildLifModel({ dt_ms, seed, populations, projections });
    // Two recurrent rows per neuron (E and I), present even while their weights are zero, so that
    // weights can change sign during training.
    const nSrc = base.sources.length;
    const R0 = base.rows.signal.length;
    this.rec0 = R0;
    const R = R0 + 2 * N;
    const weights = new Float32Array(R * N);
    weights.set(base.rows.weights);
    this.noiseRows = new Float32Array(2 * N * N);
    if (bg.kind === 'ensemble') {
      if (networks < 2) throw new Error('sampling: an ensemble needs at least two networks');
      const rng = new Rng(seed, 'sampling:ensemble-noise');
      const others = N - n;
      if (bg.inputs > others) throw new Error(`sampling: ${bg.inputs} noise inputs per neuron, but only ${others} neurons in other networks`);
      for (let post = 0; post < N; post++) {
        const net = Math.floor(post / n);
        // Distinct presynaptic neurons outside the own network: the first 2 x inputs of a shuffle
        // (excitatory ones, then inhibitory ones; a neuron is drawn at most once for each kind).
        const pool = Int32Array.from({ length: others }, (_, k) => (k < net * n ? k : k + n));
        rng.shuffle(pool);
        for (let q = 0; q < bg.inputs; q++) this.noiseRows[2 * pool[q] * N + post] += bg.w_exc_uS;
        rng.shuffle(pool);
        for (let q = 0; q < bg.inputs; q++) this.noiseRows[(2 * pool[q] + 1) * N + post] += bg.w_inh_uS;
      }
    }
    const step = this.opts.weightStep_uS;
    if (step > 0) for (let i = 0; i < this.noiseRows.length; i++) this.noiseRows[i] = Math.round(this.noiseRows[i] / step) * step;
    weights.set(this.noiseRows, R0 * N);
    this.model = {
      ...base,
      rows: {
        signal: Int32Array.from({ length: R }, (_, r) => (r < R0 ? base.rows.signal[r] : nSrc + ((r - R0) >> 1))),
        receptor: Uint8Array.from({ length: R }, (_, r) => (r < R0 ? base.rows.receptor[r] : (r - R0) & 1 ? RECEPTOR_I : RECEPTOR_E)),
        delay_steps: Int32Array.from({ length: R }, (_, r) => (r < R0 ? base.rows.delay_steps[r] : 1)),
        weights,
      },
    };
    this.engine = new LifEngine(this.model);
    this.nref = Math.round(neuron.tau_refrac / dt_ms);
    this.counter = n <= 16 ? new StateCounter(n, networks, this.nref, nSrc, 0) : null;
    this.onTime = new StateCounter(1, N, this.nref, nSrc, 0);
  }

  private readonly onTime: StateCounter;

  /** Index of the first recurrent row: neuron j's spikes drive rows recurrentRow0 + 2j (excitatory) and + 2j + 1 (inhibitory). */
  get recurrentRow0(): number {
    return this.rec0;
  }

  /** The fixed background weights on the recurrent rows (ensemble noise; zero with Poisson background), [2 N][N] uS. */
  get noiseWeights(): Float32Array {
    return this.noiseRows;
  }

  /** Runs `ms` and returns, per neuron of all networks, the fraction of grid samples with z = 1. */
  onFraction(ms: number): number[] {
    const steps = Math.round(ms / this.opts.dt_ms);
    this.onTime.clear();
    const chunk = 100_000;
    for (let done = 0; done < steps; ) {
      const k = Math.min(chunk, steps - done);
      this.engine.run(k);
      done += k;
      this.track(this.engine.takeSpikes());
    }
    return this.onTime.counts.map((c) => c[1] / (c[0] + c[1]));
  }

  /** Sets leak potentials (mV, one per neuron of all networks) and recurrent weights within each network ([net][post][pre] uS, n x n per network). */
  setParameters(v_rest_mV: ArrayLike<number>, weights_uS: ArrayLike<number>[]): void {
    const { n, networks } = this.opts;
    const N = n * networks;
    this.engine.writeParameters({ v_rest_mV: Float64Array.from(v_rest_mV) });
    const w = this.model.rows.weights;
    w.set(this.noiseRows, this.rec0 * N);
    for (let k = 0; k < networks; k++) {
      const Wk = weights_uS[k];
      for (let post = 0; post < n; post++) {
        for (let pre = 0; pre < n; pre++) {
          const x = Wk[post * n + pre];
          if (pre === post || x === 0) continue;
          const row = this.rec0 + 2 * (k * n + pre) + (x > 0 ? 0 : 1);
          w[row * N + k * n + post] += Math.abs(x);
        }
      }
    }
    this.engine.writeRowWeights(w);
  }

  /**
   * Takes the spikes of engine steps run outside sample / onFraction (by another host loop, e.g.
   * firmware training), so that the state counters stay in step with the engine.
   */
  track(ev: SpikeEvents): void {
    for (const c of [this.counter, this.onTime]) {
      if (!c) continue;
      c.feed(ev);
      c.countTo(this.engine.step);
    }
  }

  /** Runs `ms` of biological time and returns, per network, the counts of grid samples in each state. */
  sample(ms: number): Float64Array[] {
    const counter = this.counter;
    if (!counter) throw new Error(`sampling: ${this.opts.n} units per network are too many states to count; use onFraction`);
    const steps = Math.round(ms / this.opts.dt_ms);
    counter.clear();
    // Chunks keep the pending spike lists short.
    const chunk = 100_000;
    for (let done = 0; done < steps; ) {
      const k = Math.min(chunk, steps - done);
      this.engine.run(k);
      done += k;
      this.track(this.engine.takeSpikes());
    }
    return counter.counts.map((c) => c.slice());
  }
}

/** Least-squares fit of p = sigma((x - u0) / alpha) (logit regression to start, then Gauss-Newton). */
export function fitLogistic(x: ArrayLike<number>, p: ArrayLike<number>): Activation {
  // Start: linear regression of logit(p) on x over the points away from 0 and 1.
  let sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
  for (let i = 0; i < x.length; i++) {
    if (p[i] < 0.03 || p[i] > 0.97) continue;
    const y = Math.log(p[i] / (1 - p[i]));
    sx += x[i];
    sy += y;
    sxx += x[i] * x[i];
    sxy += x[i] * y;
    m++;
  }
  if (m < 2) throw new Error('fitLogistic: fewer than two points between 3 % and 97 %');
  const slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  let a = slope; // 1 / alpha
  let c = (sy - slope * sx) / m; // -u0 / alpha
  for (let it = 0; it < 50; it++) {
    // Gauss-Newton on r_i = sigma(a x_i + c) - p_i.
    let h11 = 0, h12 = 0, h22 = 0, g1 = 0, g2 = 0;
    for (let i = 0; i < x.length; i++) {
      const s = 1 / (1 + Math.exp(-(a * x[i] + c)));
      const d = s * (1 - s);
      const r = s - p[i];
      h11 += d * d * x[i] * x[i];
      h12 += d * d * x[i];
      h22 += d * d;
      g1 += r * d * x[i];
      g2 += r * d;
    }
    const det = h11 * h22 - h12 * h12;
    const da = (h22 * g1 - h12 * g2) / det;
    const dc = (h11 * g2 - h12 * g1) / det;
    a -= da;
    c -= dc;
    if (Math.abs(da) < 1e-12 * Math.abs(a) && Math.abs(dc) < 1e-12 * (1 + Math.abs(c))) break;
  }
  return { u0_mV: -c / a, alpha_mV: 1 / a };
}

/** The activation function measured on the sampler itself: no recurrent weights, leak potentials swept over [lo, hi] across all neurons. */
export function measureActivation(
  sampler: SpikingSampler,
  lo_mV: number,
  hi_mV: number,
  ms: number,
): { v_rest_mV: number[]; p_on: number[]; fit: Activation } {
  const { n, networks } = sampler.opts;
  const N = n * networks;
  // Spread the sweep so that neighbours in one network differ (the order within the sweep is shuffled by a fixed stride).
  const stride = coprimeStride(N);
  const v = Array.from({ length: N }, (_, i) => lo_mV + ((hi_mV - lo_mV) * ((i * stride) % N)) / Math.max(1, N - 1));
  sampler.setParameters(v, Array.from({ length: networks }, () => new Float64Array(n * n)));
  sampler.onFraction(Math.min(ms / 10, 500)); // burn-in
  const p_on = sampler.onFraction(ms);
  return { v_rest_mV: v, p_on, fit: fitLogistic(v, p_on) };
}

function coprimeStride(N: number): number {
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  let s = Math.max(1, Math.round(N * 0.618));
  while (gcd(s, N) !== 1) s++;
  return s;
}

/** Mean conductances (uS) a neuron sees from its background and its neighbours' mean activity. */
export function meanBackground(opts: Required<SamplerOptions>, meanRateHz = 0): { gE: number; gI: number } {
  const bg = opts.background;
  const { tau_syn_E, tau_syn_I } = opts.neuron;
  // rate (1/ms) x weight x tau: the mean of an exponential shot noise.
  if (bg.kind === 'poisson') {
    const r = (bg.sources * bg.rate_hz) / 1000;
    return { gE: r * bg.w_exc_uS * tau_syn_E, gI: r * bg.w_inh_uS * tau_syn_I };
  }
  const r = (bg.inputs * meanRateHz) / 1000;
  return { gE: r * bg.w_exc_uS * tau_syn_E, gI: r * bg.w_inh_uS * tau_syn_I };
}

/**
 * Boltzmann (W, b) -> leak potentials and synaptic weights (Petrovici et al. 2016): v_rest_k = u0 +
 * alpha b_k, and w_kj such that the PSP of neuron j on k, linearised around the effective potential
 * u_eff with tau_eff = cm / <g_tot>, averaged over tau_refrac, equals the shift alpha W_kj of the leak
 * potential causes, alpha W_kj gL / <g_tot>:
 *   w_kj = W_kj alpha gL tau_refrac / ((E_rev - u_eff) K),
 *   K = tau_syn / (tau_syn - tau_eff) [tau_syn (1 - e^{-tau_refrac/tau_syn}) - tau_eff (1 - e^{-tau_refrac/tau_eff})],
 * E_rev = e_rev_E for W_kj > 0 (excitatory), e_rev_I for W_kj < 0 (w_kj is then negative: inhibitory).
 */
export function translateBoltzmann(
  bm: Boltzmann,
  act: Activation,
  neuron: SamplingNeuron,
  g: { gE: number; gI: number },
): { v_rest_mV: Float64Array; weights_uS: Float64Array } {
  const { n } = bm;
  const gL = neuron.cm / neuron.tau_m;
  const gtot = gL + g.gE + g.gI;
  const uEff = (gL * act.u0_mV + g.gE * neuron.e_rev_E + g.gI * neuron.e_rev_I) / gtot;
  const tauEff = neuron.cm / gtot;
  const kernel = (tauSyn: number) => {
    const T = neuron.tau_refrac;
    return (tauSyn / (tauSyn - tauEff)) * (tauSyn * (1 - Math.exp(-T / tauSyn)) - tauEff * (1 - Math.exp(-T / tauEff)));
  };
  const kE = kernel(neuron.tau_syn_E);
  const kI = kernel(neuron.tau_syn_I);
  const weights = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const W = bm.W[k * n + j];
      if (k === j || W === 0) continue;
      const exc = W > 0;
      const drive = (exc ? neuron.e_rev_E : neuron.e_rev_I) - uEff;
      const mag = (Math.abs(W) * act.alpha_mV * gL * neuron.tau_refrac) / (Math.abs(drive) * (exc ? kE : kI));
      weights[k * n + j] = exc ? mag : -mag;
    }
  }
  return { v_rest_mV: Float64Array.from(bm.b, (b) => act.u0_mV + act.alpha_mV * b), weights_uS: weights };
}

/** The distribution a network sampled (counts -> probabilities) and its DKL from the target. */
export function sampledKl(target: ArrayLike<number>, counts: ArrayLike<number>): number {
  return klDivergence(target, normalise(counts));
}

export interface CdOptions {
  /** Training iterations. */
  iterations: number;
  /** Biological ms sampled per iteration. */
  sampleMs: number;
  /** Learning rate (Boltzmann units per iteration), optionally decaying: eta_t = eta / (1 + t / decay). */
  eta: number;
  etaDecay?: number;
  /** Called after each iteration with the DKL of each network estimated from that iteration's samples. */
  onIteration?: (it: number, dkl: number[]) => void;
}

/**
 * Contrastive divergence on the sampler, as a host-side float64 reference of the on-chip rule:
 * every network starts from the target's (W, b); each iteration samples `sampleMs` and moves
 *   W_ij += eta (<z_i z_j>_target - <z_i z_j>_sampled)  (i != j, symmetric),  b_i += eta (<z_i>_target - <z_i>_sampled),
 * translating the network's (W, b) into weights and leak potentials after every update.
 * Returns each network's trained Boltzmann parameters and the DKL curve (per iteration, per network).
 */
export function trainCd(
  sampler: SpikingSampler,
  target: Boltzmann,
  translate: (bm: Boltzmann) => { v_rest_mV: Float64Array; weights_uS: Float64Array },
  opts: CdOptions,
): { networks: Boltzmann[]; curve: number[][] } {
  const { n, networks } = sampler.opts;
  const p = boltzmannDistribution(target);
  const tm = moments(p, n);
  const nets: Boltzmann[] = Array.from({ length: networks }, () => ({ n, W: target.W.slice(), b: target.b.slice() }));
  const apply = () => {
    const v: number[] = [];
    const ws: Float64Array[] = [];
    for (const bm of nets) {
      const t = translate(bm);
      v.push(...t.v_rest_mV);
      ws.push(t.weights_uS);
    }
    sampler.setParameters(v, ws);
  };
  apply();
  const curve: number[][] = [];
  for (let it = 0; it < opts.iterations; it++) {
    const counts = sampler.sample(opts.sampleMs);
    const eta = opts.eta / (1 + (opts.etaDecay ? it / opts.etaDecay : 0));
    const dkl: number[] = [];
    counts.forEach((c, k) => {
      const q = normalise(c);
      dkl.push(klDivergence(p, q));
      const sm = moments(q, n);
      const bm = nets[k];
      for (let i = 0; i < n; i++) {
        bm.b[i] += eta * (tm.mean[i] - sm.mean[i]);
        for (let j = i + 1; j < n; j++) {
          const d = eta * (tm.pair[i * n + j] - sm.pair[i * n + j]);
          bm.W[i * n + j] += d;
          bm.W[j * n + i] += d;
        }
      }
    });
    curve.push(dkl);
    opts.onIteration?.(it, dkl);
    apply();
  }
  return { networks: nets, curve };
}
