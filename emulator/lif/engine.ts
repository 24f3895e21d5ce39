/**
 * The WASM engine of the spiking substrate: a LifModel laid out in the kernels' linear memory and
 * stepped by kernels/lif.ts (lif_run), many steps per call. It computes exactly what
 * emulator/lif/reference.ts computes (same float32 operations, same random streams, same order of
 * row arrivals), so spike times and membranes agree bit for bit.
 */
import { streamKey, xoshiroState } from '../../common/random.js';
import { KernelMemory, RNG_BYTES, pad4 } from '../wasm.js';
import {
  checkModel, lifConstants, listEvents, poissonThreshold, ringLength, rowsBySignal,
  type LifConstants, type LifModel, type LifNeuronArrays, type SpikeEvents,
} from './model.js';
import { NOISE_PURPOSE } from './reference.js';

/** The functions of kernels/lif.ts. */
interface LifKernels {
  lif_run(ctl: number, nSteps: number): number;
  lif_exp_vec(x: number, out: number, nVec: number): void;
}

// Control-record word offsets of kernels/lif.ts.
const C = {
  N: 0, NVEC: 1, NSRC: 2, SRCVEC: 3, STEP: 4, RING: 5, SLOTCAP: 6, STRIDE: 7,
  V: 8, GE: 9, GI: 10, REF: 11, GL: 12, C0: 13, EE: 14, EI: 15, KDT: 17, VTH: 18, VRESET: 19,
  NREF: 20, DECE: 21, DECI: 22, NOISE: 23, NOISE_RNG: 24, NOISE_SCALE: 26,
  W: 28, ROW_REC: 29, ROW_DELAY: 30, SIG_START: 31, SIG_ROWS: 32, SLOT_COUNT: 33, SLOT_ROWS: 34,
  SRC_STATE: 35, SRC_THR: 36, EV_STEP: 37, EV_SRC: 38, NEV: 39, EV_POS: 40,
  SPK_TIME: 41, SPK_SIG: 42, SPK_COUNT: 43, SPK_CAP: 44, SIG_LIST: 45, FLAGS: 46,
} as const;
const CTL_BYTES = 192;
/** Spike record capacity in spikes per signal: a call runs at least this many steps between drains. */
const SPIKE_STEPS = 256;

export interface LifEngineOptions {
  /** Also record the spikes of the sources (default false). */
  recordSources?: boolean;
}

/** A LifModel running in WASM. */
export class LifEngine {
  readonly model: LifModel;
  readonly mem: KernelMemory;
  private readonly k: LifKernels;
  private c: LifConstants;
  private readonly ctl: number;
  private readonly n4: number;
  private readonly src4: number;
  private readonly ptrs: Record<string, number> = {};
  private readonly spikeCap: number;
  private chunksTime: Int32Array[] = [];
  private chunksSig: Int32Array[] = [];

  constructor(model: LifModel, options: LifEngineOptions = {}) {
    checkModel(model);
    this.model = model;
    const n = model.neurons;
    const nSrc = model.sources.length;
    const nSig = n + nSrc;
    const R = model.rows.signal.length;
    const n4 = (this.n4 = pad4(n));
    const src4 = (this.src4 = pad4(nSrc));
    const D = ringLength(model);
    const ev = listEvents(model);
    const slotCap = Math.max(1, R * Math.max(1, ev.maxPerStep));
    this.spikeCap = nSig * SPIKE_STEPS;
    const bytes = R * n4 * 4 + D * slotCap * 4 + this.spikeCap * 8 + 24 * n4 * 4 + 6 * src4 * 4 + 8 * ev.step.length + 4 * (nSig + 1 + 3 * R);
    const mem = (this.mem = new KernelMemory(bytes));
    this.k = mem.k as unknown as LifKernels;
    if (typeof this.k.lif_run !== 'function') {
      throw new Error('build/kernels.wasm has no lif_run: kernels/index.ts must export kernels/lif.ts; rebuild with `npm run build:kernels`');
    }
    const ctl = (this.ctl = mem.alloc(CTL_BYTES));
    const P = this.ptrs;
    for (const name of ['V', 'GE', 'GI', 'REF', 'GL', 'C0', 'EE', 'EI', 'KDT', 'VTH', 'VRESET', 'NREF', 'DECE', 'DECI'] as const) {
      P[name] = mem.alloc(n4 * 4);
    }
    P.NOISE = model.noise_mV_per_sqrt_ms > 0 ? mem.alloc(n4 * 4) : 0;
    P.NOISE_RNG = mem.alloc(RNG_BYTES);
    P.W = mem.alloc(R * n4 * 4);
    P.ROW_REC = mem.alloc(R * 4);
    P.ROW_DELAY = mem.alloc(R * 4);
    P.SIG_START = mem.alloc((nSig + 1) * 4);
    P.SIG_ROWS = mem.alloc(R * 4);
    P.SLOT_COUNT = mem.alloc(D * 4);
    P.SLOT_ROWS = mem.alloc(D * slotCap * 4);
    P.SRC_STATE = mem.alloc(4 * src4 * 4);
    P.SRC_THR = mem.alloc(src4 * 4);
    P.EV_STEP = mem.alloc(ev.step.length * 4);
    P.EV_SRC = mem.alloc(ev.step.length * 4);
    P.SPK_TIME = mem.alloc(this.spikeCap * 4);
    P.SPK_SIG = mem.alloc(this.spikeCap * 4);
    P.SIG_LIST = mem.alloc(Math.max(n4, src4) * 4);

    const w = mem.i32(ctl, CTL_BYTES / 4);
    w[C.N] = n;
    w[C.NVEC] = n4 / 4;
    w[C.NSRC] = nSrc;
    w[C.SRCVEC] = src4 / 4;
    w[C.RING] = D;
    w[C.SLOTCAP] = slotCap;
    w[C.STRIDE] = n4;
    for (const [name, p] of Object.entries(P)) w[C[name as keyof typeof C]] = p;
    w[C.NEV] = ev.step.length;
    w[C.SPK_CAP] = this.spikeCap;
    w[C.FLAGS] = options.recordSources ? 1 : 0;
    mem.f64(ctl + C.NOISE_SCALE * 4, 1)[0] = model.noise_mV_per_sqrt_ms * Math.sqrt(model.dt_ms);

    // Rows: weights padded to the stride with zeros, receptor and delay per row, rows of each signal.
    this.writeRowWeights(model.rows.weights);
    mem.i32(P.ROW_REC, R).set(model.rows.receptor);
    mem.i32(P.ROW_DELAY, R).set(model.rows.delay_steps);
    const csr = rowsBySignal(model);
    mem.i32(P.SIG_START, nSig + 1).set(csr.start);
    mem.i32(P.SIG_ROWS, R).set(csr.list);
    mem.u32(P.SRC_THR, nSrc).set(Float64Array.from(model.sources, (s) => poissonThreshold(s.rate_hz, model.dt_ms)));
    mem.i32(P.EV_STEP, ev.step.length).set(ev.step);
    mem.i32(P.EV_SRC, ev.step.length).set(ev.source);

    this.c = lifConstants(model);
    this.writeConstants();
    this.reset();
  }

  /** Writes the per-neuron constants; padding lanes get gL = 1, kdt = 0 and an unreachable threshold. */
  private writeConstants(): void {
    const { mem, n4, c } = this;
    const P = this.ptrs;
    const put = (p: number, a: Float32Array | Int32Array, pad: number) => {
      const view = a instanceof Int32Array ? mem.i32(p, n4) : mem.f32(p, n4);
      view.fill(pad);
      view.set(a);
    };
    put(P.GL, c.gL, 1);
    put(P.C0, c.c0, 0);
    put(P.EE, c.eE, 0);
    put(P.EI, c.eI, 0);
    put(P.KDT, c.kdt, 0);
    put(P.VTH, c.vth, 3.4e38);
    put(P.VRESET, c.vreset, 0);
    put(P.NREF, c.nref, 0);
    put(P.DECE, c.decE, 0);
    put(P.DECI, c.decI, 0);
  }

  /** Back to t = 0: V = v_rest, no conductance, nothing queued, every stream reseeded, spikes dropped. */
  reset(): void {
    const { mem, model, n4, src4 } = this;
    const P = this.ptrs;
    const w = mem.i32(this.ctl, CTL_BYTES / 4);
    mem.f32(P.V, n4).fill(0).set(this.c.v0);
    mem.f32(P.GE, n4).fill(0);
    mem.f32(P.GI, n4).fill(0);
    mem.i32(P.REF, n4).fill(0);
    mem.i32(P.SLOT_COUNT, w[C.RING]).fill(0);
    const st = mem.u32(P.SRC_STATE, 4 * src4).fill(0);
    model.sources.forEach((s, k) => {
      const x = xoshiroState(streamKey(s.seed, s.purpose));
      for (let q = 0; q < 4; q++) st[q * src4 + k] = x[q];
    });
    // Padding lanes need some non-zero state (their draws are never used).
    for (let k = model.sources.length; k < src4; k++) st[k] = 1;
    const rng = mem.u32(P.NOISE_RNG, RNG_BYTES / 4).fill(0);
    rng.set(xoshiroState(streamKey(model.seed, NOISE_PURPOSE)));
    w[C.STEP] = 0;
    w[C.EV_POS] = 0;
    w[C.SPK_COUNT] = 0;
    this.chunksTime = [];
    this.chunksSig = [];
  }

  /** Steps since construction or the last reset. */
  get step(): number {
    return this.mem.i32(this.ctl, CTL_BYTES / 4)[C.STEP];
  }

  /** Advances n steps (in calls of as many steps as the spike record allows). */
  run(nSteps: number): void {
    if (!Number.isInteger(nSteps) || nSteps < 0) throw new Error(`step count ${nSteps} is not a non-negative integer`);
    let left = nSteps;
    while (left > 0) {
      const done = this.k.lif_run(this.ctl, left);
      left -= done;
      this.drain();
    }
  }

  private drain(): void {
    const w = this.mem.i32(this.ctl, CTL_BYTES / 4);
    const count = w[C.SPK_COUNT];
    if (count === 0) return;
    this.chunksTime.push(this.mem.i32(this.ptrs.SPK_TIME, count).slice());
    this.chunksSig.push(this.mem.i32(this.ptrs.SPK_SIG, count).slice());
    w[C.SPK_COUNT] = 0;
  }

  /** The spikes recorded since the last call (and forgets them). */
  takeSpikes(): SpikeEvents {
    this.drain();
    const out = { time_index: concat(this.chunksTime), signal: concat(this.chunksSig) };
    this.chunksTime = [];
    this.chunksSig = [];
    return out;
  }

  /** Current membranes (a copy), mV. */
  membranes(): Float32Array {
    return this.mem.f32(this.ptrs.V, this.model.neurons).slice();
  }

  /** Current conductances (copies), uS. */
  conductances(): { gE: Float32Array; gI: Float32Array } {
    return { gE: this.mem.f32(this.ptrs.GE, this.model.neurons).slice(), gI: this.mem.f32(this.ptrs.GI, this.model.neurons).slice() };
  }

  /** Replaces every row's weights ([rows][neurons], uS, >= 0); the model's rows take the new values. */
  writeRowWeights(weights: ArrayLike<number>): void {
    const { model, n4 } = this;
    const n = model.neurons;
    const R = model.rows.signal.length;
    if (weights.length !== R * n) throw new Error(`lif engine: ${weights.length} weights for ${R} rows x ${n} neurons`);
    if (weights !== model.rows.weights) model.rows.weights.set(weights);
    const W = this.mem.f32(this.ptrs.W, R * n4);
    W.fill(0);
    for (let r = 0; r < R; r++) W.set(model.rows.weights.subarray(r * n, (r + 1) * n), r * n4);
  }

  /** Replaces the weights of row r ([neurons], uS, >= 0), as writeRowWeights does for all rows. */
  writeRow(r: number, weights: ArrayLike<number>): void {
    const { model, n4 } = this;
    const n = model.neurons;
    if (!(r >= 0 && r < model.rows.signal.length) || weights.length !== n) throw new Error(`lif engine: row ${r} with ${weights.length} weights for ${n} neurons`);
    model.rows.weights.set(weights, r * n);
    this.mem.f32(this.ptrs.W + r * n4 * 4, n).set(model.rows.weights.subarray(r * n, (r + 1) * n));
  }

  /** Changes per-neuron parameters (e.g. v_rest for biases); the state is kept. */
  writeParameters(params: Partial<LifNeuronArrays>): void {
    for (const [k, v] of Object.entries(params)) this.model.params[k as keyof LifNeuronArrays].set(v as Float64Array);
    this.c = lifConstants(this.model);
    this.writeConstants();
  }
}

function concat(parts: Int32Array[]): Int32Array {
  if (parts.length === 1) return parts[0];
  const out = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
