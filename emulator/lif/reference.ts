/**
 * The plain TypeScript reference of the spiking substrate: the step of kernels/lif.ts written as
 * ordinary loops over neurons and rows, every float32 operation rounded with Math.fround in the
 * kernel's order, so spike times and membranes agree with the WASM engine exactly.
 *
 * One step s (t_s = s dt to t_{s+1}):
 *   1. rows queued for step s add their weights to gE / gI (in the order they were queued)
 *   2. Poisson sources draw in source order (spike iff next u32 < round(rate dt 2^32)), then the
 *      spike-time events of step s; each spiking source queues its rows for step s + delay
 *   3. exponential Euler of every neuron (see kernels/lif.ts), threshold, reset, refractoriness
 *      (V held at v_reset), exact decay of the conductances
 *   4. neurons that spiked (at t_{s+1}) queue their rows for step s + 1 + delay
 */
import { Rng } from '../../common/random.js';
import { exp32 } from './f32-math.js';
import {
  checkModel, lifConstants, listEvents, poissonThreshold, RECEPTOR_E, ringLength, rowsBySignal,
  type LifConstants, type LifModel, type LifNeuronArrays, type SpikeEvents,
} from './model.js';

const f = Math.fround;

/** Purpose of the membrane noise stream (shared with the engine). */
export const NOISE_PURPOSE = 'lif:membrane-noise';

/** The reference simulator of one LifModel. */
export class LifReference {
  readonly model: LifModel;
  c: LifConstants;
  readonly v: Float32Array;
  readonly gE: Float32Array;
  readonly gI: Float32Array;
  readonly ref: Int32Array;
  step = 0;
  private readonly recordSources: boolean;
  private readonly csr: { start: Int32Array; list: Int32Array };
  private readonly ring: number[][];
  private readonly events: { step: Int32Array; source: Int32Array };
  private evPos = 0;
  private readonly thr: Float64Array;
  private rngs: Rng[] = [];
  private noiseRng!: Rng;
  private readonly noiseScale: number;
  private spkTime: number[] = [];
  private spkSig: number[] = [];

  constructor(model: LifModel, options: { recordSources?: boolean } = {}) {
    checkModel(model);
    this.model = model;
    this.c = lifConstants(model);
    const n = model.neurons;
    this.v = new Float32Array(n);
    this.gE = new Float32Array(n);
    this.gI = new Float32Array(n);
    this.ref = new Int32Array(n);
    this.recordSources = options.recordSources ?? false;
    this.csr = rowsBySignal(model);
    this.ring = Array.from({ length: ringLength(model) }, () => []);
    this.events = listEvents(model);
    this.thr = Float64Array.from(model.sources, (s) => poissonThreshold(s.rate_hz, model.dt_ms));
    this.noiseScale = model.noise_mV_per_sqrt_ms * Math.sqrt(model.dt_ms);
    this.reset();
  }

  /** Back to t = 0: V = v_rest, no conductance, no queued spikes, every stream reseeded. */
  reset(): void {
    this.v.set(this.c.v0);
    this.gE.fill(0);
    this.gI.fill(0);
    this.ref.fill(0);
    for (const slot of this.ring) slot.length = 0;
    this.step = 0;
    this.evPos = 0;
    this.rngs = this.model.sources.map((s) => new Rng(s.seed, s.purpose));
    this.noiseRng = new Rng(this.model.seed, NOISE_PURPOSE);
    this.spkTime = [];
    this.spkSig = [];
  }

  private queue(sig: number, at: number): void {
    const { start, list } = this.csr;
    const D = this.ring.length;
    for (let k = start[sig]; k < start[sig + 1]; k++) {
      const r = list[k];
      this.ring[(at + this.model.rows.delay_steps[r]) % D].push(r);
    }
  }

  /** Advances n steps. */
  run(nSteps: number): void {
    for (let q = 0; q < nSteps; q++) this.oneStep();
  }

  private oneStep(): void {
    const m = this.model;
    const n = m.neurons;
    const c = this.c;
    const s = this.step;
    const nSrc = m.sources.length;
    // 1. arrivals
    const slot = this.ring[s % this.ring.length];
    for (const r of slot) {
      const g = m.rows.receptor[r] === RECEPTOR_E ? this.gE : this.gI;
      const base = r * n;
      for (let i = 0; i < n; i++) g[i] = f(g[i] + m.rows.weights[base + i]);
    }
    slot.length = 0;
    // 2. sources
    for (let k = 0; k < nSrc; k++) {
      const u = this.rngs[k].nextU32();
      if (u < this.thr[k]) this.sourceSpike(k, s);
    }
    const ev = this.events;
    while (this.evPos < ev.step.length && ev.step[this.evPos] <= s) {
      if (ev.step[this.evPos] === s) this.sourceSpike(ev.source[this.evPos], s);
      this.evPos++;
    }
    // 3. neurons
    const noise = this.noiseScale > 0 ? new Float32Array(n) : null;
    if (noise) for (let i = 0; i < n; i++) noise[i] = f(this.noiseScale * this.noiseRng.normal());
    const spiking: number[] = [];
    for (let i = 0; i < n; i++) {
      const gE = this.gE[i];
      const gI = this.gI[i];
      const gtot = f(f(c.gL[i] + gE) + gI);
      const num = f(f(c.c0[i] + f(gE * c.eE[i])) + f(gI * c.eI[i]));
      const vinf = f(num / gtot);
      const decay = exp32(f(c.kdt[i] * gtot));
      let vnew = f(vinf + f(f(this.v[i] - vinf) * decay));
      if (noise) vnew = f(vnew + noise[i]);
      const active = this.ref[i] === 0;
      const spike = active && vnew >= c.vth[i];
      if (spike) {
        this.v[i] = c.vreset[i];
        this.ref[i] = c.nref[i];
        spiking.push(i);
      } else {
        // Refractory: held at v_reset.
        this.v[i] = active ? vnew : c.vreset[i];
        this.ref[i] = Math.max(this.ref[i] - 1, 0);
      }
      this.gE[i] = f(gE * c.decE[i]);
      this.gI[i] = f(gI * c.decI[i]);
    }
    // 4. neuron spikes at t_{s+1}
    for (const i of spiking) {
      this.spkTime.push(s + 1);
      this.spkSig.push(nSrc + i);
      this.queue(nSrc + i, s + 1);
    }
    this.step = s + 1;
  }

  private sourceSpike(k: number, s: number): void {
    if (this.recordSources) {
      this.spkTime.push(s);
      this.spkSig.push(k);
    }
    this.queue(k, s);
  }

  /** The spikes recorded since the last call (and forgets them). */
  takeSpikes(): SpikeEvents {
    const out = { time_index: Int32Array.from(this.spkTime), signal: Int32Array.from(this.spkSig) };
    this.spkTime = [];
    this.spkSig = [];
    return out;
  }

  /** Current membranes (a copy), mV. */
  membranes(): Float32Array {
    return this.v.slice();
  }

  /** Current conductances (copies), uS. */
  conductances(): { gE: Float32Array; gI: Float32Array } {
    return { gE: this.gE.slice(), gI: this.gI.slice() };
  }

  /** Replaces every row's weights ([rows][neurons], uS, >= 0). */
  writeRowWeights(weights: ArrayLike<number>): void {
    if (weights.length !== this.model.rows.weights.length) throw new Error(`lif reference: ${weights.length} weights for ${this.model.rows.weights.length}`);
    if (weights !== this.model.rows.weights) this.model.rows.weights.set(weights);
  }

  /** Changes per-neuron parameters (e.g. v_rest for biases); the state is kept. */
  writeParameters(params: Partial<LifNeuronArrays>): void {
    for (const [k, v] of Object.entries(params)) this.model.params[k as keyof LifNeuronArrays].set(v as Float64Array);
    this.c = lifConstants(this.model);
  }
}
