/**
 * The WASM engine: an EmulatorModel laid out in the kernels' linear memory and stepped there by a
 * step program (kernels/program.ts) in exactly the order of emulator/reference.ts, many steps per
 * call. Float32 throughout; weights in the hardware layout [pre][post] with rows padded to a
 * multiple of 4 floats; every buffer 16-byte aligned, padding lanes kept finite and inert.
 */
import { streamKey, xoshiroState } from '../common/random.js';
import { ACTIVATION_CODE, type EmulatorModel, type ModelPopulation } from './model.js';
import { filterOn, lowpassFactor, populationDepths, targetFactor } from './synaptic-filter.js';
import { KernelMemory, OP_BYTES, RNG_BYTES, pad4 } from './wasm.js';

// Op codes and flags of kernels/program.ts.
const OP_COPY = 1;
const OP_BASAL = 2;
const OP_FORWARD = 3;
const OP_NOISE = 4;
const OP_NEURON = 5;
const OP_ERROR_INIT = 6;
const OP_FEEDBACK_T = 7;
const OP_FEEDBACK_R = 8;
const OP_BIAS_LEARN = 9;
const OP_PLASTIC = 10;
const OP_LOWPASS = 11;
const OP_TAU_DELTA = 12;
const OP_TAU_APPLY = 13;
/** Largest code magnitude the int8 kernels hold. */
export const Q8_MAX = 127;
const FLAG_LEARN = 1;
const FLAG_NUDGE = 2;
const FLAG_UNFUSED = 4;
const MODEL_CODE = { le: 0, li: 1 } as const;
/** Words of the presentation record before its segments (kernels/program.ts present_samples). */
const PRES_HEADER_WORDS = 9;
/** Staging for present(): about this many floats per chunk of samples (4 MiB). */
const PRES_CHUNK_FLOATS = 1 << 20;
const PRES_MAX_CHUNK = 1024;

/** Where one population's buffers live (byte addresses; 0 = absent). */
export interface PopLayout {
  size: number;
  n4: number;
  /** r (x for inputs), r', e and their *_prev copies. */
  r: number;
  rp: number;
  e: number;
  rPrev: number;
  rpPrev: number;
  ePrev: number;
  u: number;
  basal: number;
  diff: number;
  tauM: number;
  tauR: number;
  gain: number;
  offset: number;
  bias: number;
  /** Target of an output population and its "target set" flag word. */
  y: number;
  flag: number;
  noiseU: number;
  noiseR: number;
  rngU: number;
  rngR: number;
  /** Synaptic filtering: low-passed r (x for inputs) and its previous copy, the raw errors before
   * their low-pass, and the low-passed target (0 = absent). */
  rbar: number;
  rbarPrev: number;
  eRaw: number;
  ybar: number;
  /** Tau adaptation's per-step change of tau_m. */
  tauDelta: number;
}

export interface ProjLayout {
  nPre: number;
  nPost: number;
  /** Weights [pre][stride], stride = post padded to 4. */
  W: number;
  stride: number;
  idx: number;
  /** Random feedback [post][pre padded], its scratch and index list. */
  B: number;
  scratch: number;
  idxB: number;
  /**
   * Quantised weights (EngineOptions.quantised): codes [pre][cstride bytes], per row a pointer to
   * its unit vector, and the flag (i32) that has the FORWARD and FEEDBACK_T ops run on the codes.
   */
  q?: { C: number; cstride: number; U: number; unitOf: Uint32Array; flag: number };
}

/**
 * The fixed-point format of a projection's weights, for the kernels on quantised weights
 * (kernels/quantised.ts): every weight is fround(code x unit) with an integer code of at most
 * 127 in magnitude and the unit of its row block and column (block scale x synaptic gain). The
 * engine derives the codes from the float weights whenever they are written, and runs the int8
 * kernels only while every weight is exactly code x unit (bit-identical results); otherwise, and
 * once its own update kernel learns the projection, it runs the float kernels.
 */
export interface QuantisedFormat {
  /** Unit vectors, `post` floats each, one after another. */
  units: Float32Array;
  /** Per presynaptic row, the index of its unit vector. */
  unitOfRow: Int32Array;
}

export interface EngineOptions {
  /** Fuse each step's weight update into the next forward pass (default true; same results). */
  fused?: boolean;
  /** Creates the kernel memory (default: a private memory of build/kernels.wasm); emulator/threads/ passes a shared one. */
  memory?: (estimatedBytes: number) => KernelMemory;
  /**
   * Vectors and weight rows padded to a multiple of this many floats (default 4, one v128; the
   * parallel engine uses 16 so that slices of threads start on cache lines). Padding lanes are
   * inert, so the results do not depend on it.
   */
  padFloats?: number;
  /** Projections (by index) whose forward and transposed products run on int8 codes (QuantisedFormat). */
  quantised?: ReadonlyMap<number, QuantisedFormat>;
}

export interface StepOptions {
  /** Plasticity on (default false). */
  learn?: boolean;
  /** Output nudging toward targets that are set (default true). */
  nudge?: boolean;
}

export interface EnginePresentOptions {
  /** count rows of the concatenated input populations' values (population order). */
  inputs: Float32Array;
  /** count rows of the concatenated output populations' targets, or null/undefined for none. */
  targets?: Float32Array | null;
  count: number;
  stepsPerSample: number;
  learn?: boolean;
  /** Default: true when targets are given. */
  nudge?: boolean;
  /** Population whose r at the last step of each sample is returned. */
  readout: number | string;
  /** Called after each chunk of samples with the number done so far. */
  onProgress?: (done: number) => void;
}

/** Circuit parameters of one population, per neuron. */
export interface EngineParameters {
  tau_m_ms: Float32Array;
  tau_r_ms: Float32Array;
  gain: Float32Array;
  offset: Float32Array;
  bias: Float32Array;
}

export type StateName = 'u' | 'r' | 'rp' | 'e' | 'rbar';

/** An EmulatorModel running in WASM. */
export class Engine {
  readonly model: EmulatorModel;
  readonly mem: KernelMemory;
  protected readonly pops: PopLayout[];
  protected readonly projs: ProjLayout[];
  protected readonly prog: number;
  protected readonly nOps: number;
  private readonly padFloats: number;
  private readonly fused: boolean;
  private readonly stateBlock: { ptr: number; bytes: number; prev: number };
  private readonly inputPops: number[];
  private readonly outputPops: number[];
  private readonly inputSize: number;
  private readonly targetSize: number;
  private readonly pres: { rec: number; chunk: number; inputs: number; targets: number; out: number };
  private stepCount = 0;
  private readonly filtered: boolean;
  /** Per population: its tau adaptation op records (absent for inputs). */
  private readonly tauOps = new Map<number, { delta: Op; apply: Op }>();
  /** Byte and word views of the whole memory (remade if the memory grew; it does not after construction). */
  private memViews?: { bytes: Int8Array; words: Int32Array };

  constructor(model: EmulatorModel, options: EngineOptions = {}) {
    this.model = model;
    this.fused = options.fused ?? true;
    this.padFloats = options.padFloats ?? 4;
    if (!Number.isInteger(this.padFloats) || this.padFloats < 4 || this.padFloats % 4 !== 0) throw new Error(`padFloats ${this.padFloats} is not a multiple of 4`);
    const pad = (n: number) => this.pad(n);
    const mem = (this.mem = options.memory ? options.memory(estimateBytes(model)) : new KernelMemory(estimateBytes(model)));
    // Room for n values and the padding lanes the kernels touch.
    const allocVec = (n: number) => mem.alloc(pad(n) * 4);
    const f32 = (ptr: number, values: ArrayLike<number>) => mem.f32(ptr, values.length).set(values);

    // State block: r, r', e (and rbar when filtering) of every population, contiguous so that one
    // copy saves them all.
    this.filtered = filterOn(model);
    const slots = this.filtered ? 4 : 3;
    const slot = model.populations.map((p) => pad(p.size) * 4);
    const stateBytes = slot.reduce((a, b) => a + slots * b, 0);
    const statePtr = mem.alloc(stateBytes);
    const prevPtr = mem.alloc(stateBytes);
    this.stateBlock = { ptr: statePtr, bytes: stateBytes, prev: prevPtr };
    let off = 0;
    this.pops = model.populations.map((p, pi) => {
      const n4 = pad(p.size);
      const at = (k: number) => off + k * slot[pi];
      const L: PopLayout = {
        size: p.size, n4,
        r: statePtr + at(0), rp: statePtr + at(1), e: statePtr + at(2),
        rPrev: prevPtr + at(0), rpPrev: prevPtr + at(1), ePrev: prevPtr + at(2),
        u: 0, basal: 0, diff: 0, tauM: 0, tauR: 0, gain: 0, offset: 0, bias: 0,
        y: 0, flag: 0, noiseU: 0, noiseR: 0, rngU: 0, rngR: 0,
        rbar: this.filtered ? statePtr + at(3) : 0, rbarPrev: this.filtered ? prevPtr + at(3) : 0,
        eRaw: 0, ybar: 0, tauDelta: 0,
      };
      off += slots * slot[pi];
      if (p.model === 'input') return L;
      checkLengths(p);
      for (const k of ['u', 'basal', 'diff', 'tauM', 'tauR', 'gain', 'offset', 'bias'] as const) L[k] = allocVec(p.size);
      // Padding lanes: tau_m = 1 keeps du finite; gain and offset 0 make r' and diff zero there.
      mem.f32(L.tauM, n4).fill(1);
      f32(L.tauM, p.tau_m_ms);
      f32(L.tauR, p.tau_r_ms);
      f32(L.gain, p.gain);
      f32(L.offset, p.offset);
      f32(L.bias, p.bias);
      if (p.role === 'output') {
        L.y = allocVec(p.size);
        L.flag = mem.alloc(16);
        if (this.filtered && model.filter!.targets) L.ybar = allocVec(p.size);
      }
      if (this.filtered && model.filter!.errors) L.eRaw = allocVec(p.size);
      L.tauDelta = allocVec(p.size);
      if (model.noise.membrane > 0) {
        L.noiseU = allocVec(p.size);
        L.rngU = mem.alloc(RNG_BYTES);
      }
      if (model.noise.rate > 0) {
        L.noiseR = allocVec(p.size);
        L.rngR = mem.alloc(RNG_BYTES);
      }
      return L;
    });
    this.seedNoise(model.seed);

    this.projs = model.projections.map((j) => {
      const nPre = model.populations[j.pre].size;
      const nPost = model.populations[j.post].size;
      if (j.weights.length !== nPre * nPost) {
        throw new Error(`projection ${j.index}: ${j.weights.length} weights for ${nPre} x ${nPost}`);
      }
      const stride = pad(nPost);
      const L: ProjLayout = {
        nPre, nPost, W: mem.alloc(nPre * stride * 4), stride, idx: mem.alloc(nPre * 4),
        B: 0, scratch: 0, idxB: 0,
      };
      const format = options.quantised?.get(j.index);
      if (format) L.q = this.allocQuantised(j.index, nPre, nPost, stride, format);
      if (j.feedback === 'random') {
        if (!j.feedbackWeights || j.feedbackWeights.length !== nPre * nPost) {
          throw new Error(`projection ${j.index}: random feedback needs ${nPost} x ${nPre} feedbackWeights`);
        }
        L.B = mem.alloc(nPost * pad(nPre) * 4);
        L.scratch = mem.alloc(pad(nPre) * 4);
        L.idxB = mem.alloc(nPost * 4);
        const B = mem.f32(L.B, nPost * pad(nPre));
        for (let i = 0; i < nPost; i++) B.set(j.feedbackWeights.subarray(i * nPre, (i + 1) * nPre), i * pad(nPre));
      }
      return L;
    });
    model.projections.forEach((j, ji) => this.writeHardwareWeights(ji, j.weights));

    const ops = this.buildProgram();
    this.nOps = ops.length;
    this.prog = mem.alloc(ops.length * OP_BYTES);
    this.writeProgram(ops);

    this.inputPops = model.populations.filter((p) => p.model === 'input').map((p) => p.index);
    this.outputPops = model.populations.filter((p) => p.role === 'output' && p.model !== 'input').map((p) => p.index);
    this.inputSize = this.inputPops.reduce((a, pi) => a + model.populations[pi].size, 0);
    this.targetSize = this.outputPops.reduce((a, pi) => a + model.populations[pi].size, 0);
    const maxReadout = Math.max(...model.populations.map((p) => p.size));
    const perSample = this.inputSize + this.targetSize + maxReadout;
    const chunk = Math.max(1, Math.min(PRES_MAX_CHUNK, Math.floor(PRES_CHUNK_FLOATS / perSample)));
    this.pres = {
      rec: mem.alloc((PRES_HEADER_WORDS + 3 * this.inputPops.length + 4 * this.outputPops.length) * 4),
      chunk,
      inputs: mem.alloc(chunk * this.inputSize * 4),
      targets: mem.alloc(chunk * this.targetSize * 4),
      out: mem.alloc(chunk * maxReadout * 4),
    };
    // Memory never grows after this point, so views handed out stay valid.
  }

  /** Lays out a projection's codes, unit vectors and row unit pointers (kernels/quantised.ts). */
  private allocQuantised(proj: number, nPre: number, nPost: number, stride: number, f: QuantisedFormat): NonNullable<ProjLayout['q']> {
    const nUnits = f.units.length / nPost;
    if (!Number.isInteger(nUnits) || f.unitOfRow.length !== nPre) {
      throw new Error(`projection ${proj}: quantised format needs unit vectors of ${nPost} floats and ${nPre} row indices`);
    }
    const cstride = Math.ceil(nPost / 8) * 8;
    const C = this.mem.alloc(nPre * cstride);
    const vecs = this.mem.alloc(nUnits * stride * 4);
    const table = this.mem.f32(vecs, nUnits * stride);
    for (let v = 0; v < nUnits; v++) table.set(f.units.subarray(v * nPost, (v + 1) * nPost), v * stride);
    const U = this.mem.alloc(nPre * 4);
    const unitOf = Uint32Array.from(f.unitOfRow, (v, k) => {
      if (!(v >= 0 && v < nUnits)) throw new Error(`projection ${proj}: row ${k} names unit vector ${v} of ${nUnits}`);
      return vecs + v * stride * 4;
    });
    this.mem.u32(U, nPre).set(unitOf);
    return { C, cstride, U, unitOf, flag: this.mem.alloc(16) };
  }

  /**
   * Derives a quantised projection's codes from its float weights; true when every weight is
   * exactly fround(code x unit) with |code| <= 127, so the int8 kernels give the same results.
   */
  private requantise(proj: number): boolean {
    const L = this.proj(proj);
    const q = L.q!;
    const W = this.mem.f32(L.W, L.nPre * L.stride);
    const codes = new Int8Array(this.mem.memory.buffer, q.C, L.nPre * q.cstride);
    const f = Math.fround;
    for (let k = 0; k < L.nPre; k++) {
      const u = this.mem.f32(q.unitOf[k], L.nPost);
      for (let i = 0; i < L.nPost; i++) {
        const w = W[k * L.stride + i];
        const c = u[i] === 0 ? 0 : Math.round(w / u[i]);
        if (!(Math.abs(c) <= Q8_MAX) || !Object.is(f(c * u[i]), w)) return false;
        codes[k * q.cstride + i] = c;
      }
    }
    return true;
  }

  private views(): { bytes: Int8Array; words: Int32Array } {
    const buffer = this.mem.memory.buffer;
    if (this.memViews?.bytes.buffer !== buffer) this.memViews = { bytes: new Int8Array(buffer), words: new Int32Array(buffer) };
    return this.memViews;
  }

  /** Whether a projection's products run on its int8 codes now (false: float kernels). */
  quantisedKernels(proj: number): boolean {
    const q = this.proj(proj).q;
    return !!q && this.views().words[q.flag >> 2] !== 0;
  }

  /** Selects the int8 or the float kernels for a quantised projection's products (the flag its ops read). */
  private selectKernels(proj: number, int8: boolean): void {
    const q = this.proj(proj).q;
    if (q) this.views().words[q.flag >> 2] = int8 ? 1 : 0;
  }

  /**
   * Sets the code of weight (k, i) of a projection whose products run on int8 codes (the
   * processors' writes to a fixed-point array, emulator/core-bus.ts); the caller writes the float
   * weight, fround(code x unit), itself. Ignored while the projection runs on float kernels.
   */
  writeCode(proj: number, k: number, i: number, code: number): void {
    if (!this.quantisedKernels(proj)) return;
    const L = this.proj(proj);
    if (!(Math.abs(code) <= Q8_MAX) || !Number.isInteger(code)) {
      this.selectKernels(proj, false);
      return;
    }
    this.views().bytes[L.q!.C + k * L.q!.cstride + i] = code;
  }

  /** The engine's own update kernel learns float weights: quantised plastic projections return to float kernels first. */
  private beforeLearning(): void {
    if (this.model.learningRule !== 'le') return;
    this.projs.forEach((L, proj) => {
      if (L.q && this.model.projections[proj].plastic) this.selectKernels(proj, false);
    });
  }

  /** After a host write of a quantised projection's weights: int8 kernels while they are exactly code x unit. */
  private afterWeightWrite(proj: number): void {
    const L = this.proj(proj);
    if (L.q) this.selectKernels(proj, this.requantise(proj));
  }

  /** Biological time since construction or the last reset, ms. */
  get t_ms(): number {
    return this.stepCount * this.model.dt_ms;
  }

  /** Steps since construction or the last reset. */
  get steps(): number {
    return this.stepCount;
  }

  /** Index of a population given by name or index. */
  popIndex(pop: number | string): number {
    const pi = typeof pop === 'number' ? pop : this.model.populations.findIndex((p) => p.name === pop);
    if (pi < 0 || pi >= this.model.populations.length) throw new Error(`no population ${pop}`);
    return pi;
  }

  /** Sets the current input x of an input population. */
  setInput(pop: number | string, values: ArrayLike<number>): void {
    const pi = this.popIndex(pop);
    const p = this.model.populations[pi];
    if (p.model !== 'input') throw new Error(`${p.name} is not an input population`);
    if (values.length !== p.size) throw new Error(`${p.name}: ${values.length} values for ${p.size} neurons`);
    this.mem.f32(this.pops[pi].r, p.size).set(values);
  }

  /** Sets the target of an output population (null: no target, so no nudging). */
  setTarget(pop: number | string, values: ArrayLike<number> | null): void {
    const pi = this.popIndex(pop);
    const L = this.pops[pi];
    const p = this.model.populations[pi];
    if (!L.flag) throw new Error(`${p.name} is not an output population`);
    if (values === null) {
      this.mem.i32(L.flag, 1)[0] = 0;
      return;
    }
    if (values.length !== p.size) throw new Error(`${p.name}: ${values.length} target values for ${p.size} neurons`);
    this.mem.f32(L.y, p.size).set(values);
    this.mem.i32(L.flag, 1)[0] = 1;
  }

  /** Advances n Euler steps in one call into WASM. */
  step(n: number, options: StepOptions = {}): void {
    if (!Number.isInteger(n) || n < 0) throw new Error(`step count ${n} is not a non-negative integer`);
    if (n === 0) return;
    if (options.learn) this.beforeLearning();
    this.runSteps(n, this.flags(options.learn ?? false, options.nudge ?? true));
    this.stepCount += n;
  }

  /** Runs n steps of the program in WASM (emulator/threads/ runs them on several threads). */
  protected runSteps(n: number, flags: number): void {
    this.mem.k.run_steps(this.prog, this.nOps, n, flags);
  }

  /** Presents count samples of the presentation record in WASM (emulator/threads/ overrides it). */
  protected runPresent(rec: number, count: number, stepsPerSample: number, flags: number): void {
    this.mem.k.present_samples(this.prog, this.nOps, rec, count, stepsPerSample, flags);
  }

  /** n rounded up to the padding of vectors and weight rows. */
  private pad(n: number): number {
    return Math.ceil(n / this.padFloats) * this.padFloats;
  }

  /** A live view of u, r, r' or e of a population (size values; inputs: r is x). */
  view(pop: number | string, name: StateName): Float32Array {
    const pi = this.popIndex(pop);
    const L = this.pops[pi];
    const ptr = name === 'u' ? L.u : name === 'r' ? L.r : name === 'rp' ? L.rp : name === 'rbar' ? L.rbar : L.e;
    if (!ptr) throw new Error(`${this.model.populations[pi].name} has no ${name}`);
    return this.mem.f32(ptr, L.size);
  }

  u(pop: number | string): Float32Array {
    return this.view(pop, 'u');
  }
  r(pop: number | string): Float32Array {
    return this.view(pop, 'r');
  }
  rp(pop: number | string): Float32Array {
    return this.view(pop, 'rp');
  }
  e(pop: number | string): Float32Array {
    return this.view(pop, 'e');
  }

  /** Weights of a projection as [post][pre] (unpadded copy). */
  readWeights(proj: number): Float32Array {
    const L = this.proj(proj);
    const W = this.mem.f32(L.W, L.nPre * L.stride);
    const out = new Float32Array(L.nPost * L.nPre);
    for (let k = 0; k < L.nPre; k++) for (let i = 0; i < L.nPost; i++) out[i * L.nPre + k] = W[k * L.stride + i];
    return out;
  }

  /** Writes the weights of a projection given as [post][pre]. */
  writeWeights(proj: number, wPostPre: ArrayLike<number>): void {
    const L = this.proj(proj);
    if (wPostPre.length !== L.nPre * L.nPost) throw new Error(`projection ${proj}: ${wPostPre.length} weights for ${L.nPost} x ${L.nPre}`);
    const W = this.mem.f32(L.W, L.nPre * L.stride);
    for (let k = 0; k < L.nPre; k++) for (let i = 0; i < L.nPost; i++) W[k * L.stride + i] = wPostPre[i * L.nPre + k];
    this.afterWeightWrite(proj);
  }

  /** Weights of a projection in the hardware layout [pre][post] (unpadded copy). */
  readHardwareWeights(proj: number): Float32Array {
    const L = this.proj(proj);
    const W = this.mem.f32(L.W, L.nPre * L.stride);
    const out = new Float32Array(L.nPre * L.nPost);
    for (let k = 0; k < L.nPre; k++) out.set(W.subarray(k * L.stride, k * L.stride + L.nPost), k * L.nPost);
    return out;
  }

  /** Writes weights given in the hardware layout [pre][post]. */
  writeHardwareWeights(proj: number, wPrePost: ArrayLike<number>): void {
    const L = this.proj(proj);
    if (wPrePost.length !== L.nPre * L.nPost) throw new Error(`projection ${proj}: ${wPrePost.length} weights for ${L.nPre} x ${L.nPost}`);
    const W = this.mem.f32(L.W, L.nPre * L.stride);
    for (let k = 0; k < L.nPre; k++) {
      for (let i = 0; i < L.nPost; i++) W[k * L.stride + i] = wPrePost[k * L.nPost + i];
    }
    this.afterWeightWrite(proj);
  }

  /** The circuit parameters and bias of a non-input population (copies). */
  readParameters(pop: number | string): EngineParameters {
    const L = this.neuronPop(pop);
    const copy = (ptr: number) => Float32Array.from(this.mem.f32(ptr, L.size));
    return { tau_m_ms: copy(L.tauM), tau_r_ms: copy(L.tauR), gain: copy(L.gain), offset: copy(L.offset), bias: copy(L.bias) };
  }

  /** Overwrites some circuit parameters or the bias of a non-input population. */
  writeParameters(pop: number | string, params: Partial<EngineParameters>): void {
    const L = this.neuronPop(pop);
    const target = { tau_m_ms: L.tauM, tau_r_ms: L.tauR, gain: L.gain, offset: L.offset, bias: L.bias };
    for (const key of Object.keys(target) as (keyof EngineParameters)[]) {
      const v = params[key];
      if (v === undefined) continue;
      if (v.length !== L.size) throw new Error(`${key}: ${v.length} values for ${L.size} neurons`);
      this.mem.f32(target[key], L.size).set(v);
    }
  }

  /**
   * Turns the tau adaptation rule on (eta > 0) or off (eta = 0) for a non-input population: each
   * step, tau_m += eta (u + tau_r du - basal) du (RESEARCH.md §1, no dt factor), clamped to
   * [loMs, hiMs]. Off by default.
   */
  setTauAdaptation(pop: number | string, eta: number, loMs = 1e-6, hiMs = 1e9): void {
    this.neuronPop(pop);
    const ops = this.tauOps.get(this.popIndex(pop))!;
    const on = eta !== 0 ? 1 : 0;
    const d = ops.delta.addr!;
    const a = ops.apply.addr!;
    this.mem.f32(d + 8, 1)[0] = eta;
    this.mem.i32(d + 36, 1)[0] = on;
    this.mem.f32(a + 12, 2).set([loMs, hiMs]);
    this.mem.i32(a + 24, 1)[0] = on;
  }

  /** Bias of a population (copy). */
  readBias(pop: number | string): Float32Array {
    return this.readParameters(pop).bias;
  }

  /** Sets the bias of a population. */
  writeBias(pop: number | string, values: ArrayLike<number>): void {
    this.writeParameters(pop, { bias: Float32Array.from(values) });
  }

  /** Dynamic state (u, r, r', e and their previous copies) and time back to zero; weights, biases, inputs and targets stay. */
  reset(): void {
    for (let pi = 0; pi < this.pops.length; pi++) {
      const L = this.pops[pi];
      const zero = (ptr: number) => ptr && this.mem.f32(ptr, L.n4).fill(0);
      zero(L.rPrev);
      zero(L.rbar);
      zero(L.rbarPrev);
      if (this.model.populations[pi].model === 'input') continue;
      for (const ptr of [L.r, L.rp, L.e, L.rpPrev, L.ePrev, L.u, L.basal, L.diff, L.noiseU, L.noiseR, L.eRaw, L.ybar, L.tauDelta]) zero(ptr);
    }
    this.stepCount = 0;
  }

  /** Re-seeds the membrane and rate noise streams of every population from `seed`. */
  seedNoise(seed: number): void {
    this.model.populations.forEach((p, pi) => {
      const L = this.pops[pi];
      if (L.rngU) this.writeRng(L.rngU, streamKey(seed, `membrane-noise/${p.name}`));
      if (L.rngR) this.writeRng(L.rngR, streamKey(seed, `rate-noise/${p.name}`));
    });
  }

  /**
   * Presents count samples one after another (stepsPerSample steps each, state carried over) and
   * returns the readout population's r (rbar when synaptic filtering is on) at the last step of each
   * sample, [count][readout size].
   * One WASM call per chunk of samples.
   */
  present(o: EnginePresentOptions): Float32Array {
    const ri = this.popIndex(o.readout);
    const readoutSize = this.model.populations[ri].size;
    if (o.inputs.length < o.count * this.inputSize) throw new Error(`present: ${o.inputs.length} input values for ${o.count} x ${this.inputSize}`);
    const targets = o.targets ?? null;
    if (targets && targets.length < o.count * this.targetSize) throw new Error(`present: ${targets.length} target values for ${o.count} x ${this.targetSize}`);
    const flags = this.flags(o.learn ?? false, o.nudge ?? targets !== null);
    if (o.learn) this.beforeLearning();
    const out = new Float32Array(o.count * readoutSize);
    const P = this.pres;
    const rec = this.mem.i32(P.rec, PRES_HEADER_WORDS + 3 * this.inputPops.length + 4 * this.outputPops.length);
    rec[0] = P.inputs;
    rec[1] = this.inputSize;
    rec[2] = targets ? P.targets : 0;
    rec[3] = this.targetSize;
    // With synaptic filtering the readout sees the output through a synapse, as a layer above would.
    rec[4] = this.filtered ? this.pops[ri].rbar : this.pops[ri].r;
    rec[5] = readoutSize;
    rec[6] = P.out;
    rec[7] = this.inputPops.length;
    rec[8] = this.outputPops.length;
    let w = PRES_HEADER_WORDS;
    let offset = 0;
    for (const pi of this.inputPops) {
      rec.set([this.pops[pi].r, offset, this.pops[pi].size], w);
      offset += this.pops[pi].size;
      w += 3;
    }
    offset = 0;
    for (const pi of this.outputPops) {
      rec.set([this.pops[pi].y, offset, this.pops[pi].size, this.pops[pi].flag], w);
      offset += this.pops[pi].size;
      w += 4;
    }
    for (let done = 0; done < o.count; ) {
      const n = Math.min(P.chunk, o.count - done);
      this.mem.f32(P.inputs, n * this.inputSize).set(o.inputs.subarray(done * this.inputSize, (done + n) * this.inputSize));
      if (targets) {
        this.mem.f32(P.targets, n * this.targetSize).set(targets.subarray(done * this.targetSize, (done + n) * this.targetSize));
      }
      this.runPresent(P.rec, n, o.stepsPerSample, flags);
      out.set(this.mem.f32(P.out, n * readoutSize), done * readoutSize);
      done += n;
      this.stepCount += n * o.stepsPerSample;
      o.onProgress?.(done);
    }
    return out;
  }

  // ------------------------------------------------------------ live views for the plasticity processor's bus
  // (emulator/core-bus.ts): the processor reads and writes single row segments, so it works on the
  // engine's memory in place. Memory never grows after construction, so the views stay valid.

  /** Live view of a projection's weights in the hardware layout, row k (presynaptic signal) at k * stride. */
  weightsView(proj: number): { view: Float32Array; stride: number } {
    const L = this.proj(proj);
    return { view: this.mem.f32(L.W, L.nPre * L.stride), stride: L.stride };
  }

  /** Live view of a projection's random feedback weights B, row i (post neuron) at i * stride; null without random feedback. */
  feedbackView(proj: number): { view: Float32Array; stride: number } | null {
    const L = this.proj(proj);
    if (!L.B) return null;
    const stride = this.pad(L.nPre);
    return { view: this.mem.f32(L.B, L.nPost * stride), stride };
  }

  /**
   * Live view of what a population drove onto its rows in the last step ('drive': r^{t-1} of a
   * neuron population or the input x^t, low-passed when synaptic filtering is on), or of its
   * last step's 'diff' (ubrm − basal) or 'basal'.
   */
  signalView(pop: number | string, name: 'drive' | 'diff' | 'basal'): Float32Array {
    const pi = this.popIndex(pop);
    const L = this.pops[pi];
    const ptr = name === 'drive' ? (this.filtered ? L.rbarPrev : L.rPrev) : name === 'diff' ? L.diff : L.basal;
    if (!ptr) throw new Error(`${this.model.populations[pi].name} has no ${name}`);
    return this.mem.f32(ptr, L.size);
  }

  /** Live view of one circuit parameter (or the bias) of a non-input population. */
  parameterView(pop: number | string, key: keyof EngineParameters): Float32Array {
    const L = this.neuronPop(pop);
    const ptr = { tau_m_ms: L.tauM, tau_r_ms: L.tauR, gain: L.gain, offset: L.offset, bias: L.bias }[key];
    return this.mem.f32(ptr, L.size);
  }

  /**
   * The engine's whole layout (weights, parameters, dynamic state, noise generators, step program)
   * and its step counter, for checkpoints: restoring it into an engine of the same model continues
   * bit for bit. The presentation staging buffers are left out.
   */
  saveMemory(): { bytes: Uint8Array; steps: number } {
    return { bytes: new Uint8Array(this.mem.memory.buffer, 0, this.pres.rec).slice(), steps: this.stepCount };
  }

  /** Restores a saveMemory() image taken from an engine of the same model and options. */
  restoreMemory(saved: { bytes: Uint8Array; steps: number }): void {
    if (saved.bytes.length !== this.pres.rec) throw new Error(`engine memory image of ${saved.bytes.length} bytes; this layout has ${this.pres.rec}`);
    new Uint8Array(this.mem.memory.buffer, 0, this.pres.rec).set(saved.bytes);
    this.stepCount = saved.steps;
  }

  private flags(learn: boolean, nudge: boolean): number {
    return (learn ? FLAG_LEARN : 0) | (nudge ? FLAG_NUDGE : 0) | (this.fused ? 0 : FLAG_UNFUSED);
  }

  private proj(j: number): ProjLayout {
    const L = this.projs[j];
    if (!L) throw new Error(`no projection ${j}`);
    return L;
  }

  private neuronPop(pop: number | string): PopLayout {
    const pi = this.popIndex(pop);
    if (this.model.populations[pi].model === 'input') throw new Error(`${this.model.populations[pi].name} is an input population`);
    return this.pops[pi];
  }

  private writeRng(ptr: number, key: number): void {
    this.mem.u32(ptr, 4).set(xoshiroState(key));
    this.mem.i32(ptr + 24, 1)[0] = 0;
  }

  /** The step program, in the order of emulator/reference.ts (see kernels/program.ts). */
  private buildProgram(): Op[] {
    const m = this.model;
    const ops: Op[] = [];
    const neuronPops = m.populations.filter((p) => p.model !== 'input');
    const P = (pi: number) => this.pops[pi];
    const filt = this.filtered;
    const k = filt ? lowpassFactor(m.dt_ms, m.filter!.tau_s_ms) : 1;
    const lowpass = (ybar: number, x: number, n4: number, factor: number, flag = 0): Op =>
      ({ code: OP_LOWPASS, i: [ybar, x, 0, n4 / 4, flag], f32: [[3, factor]] });
    // 0. synaptic filter of the inputs: the first layer sees xbar^t
    if (filt) for (const p of m.populations) if (p.model === 'input') ops.push(lowpass(P(p.index).rbar, P(p.index).r, P(p.index).n4, k));
    // A. basal = bias + sum W s
    for (const p of neuronPops) ops.push({ code: OP_BASAL, i: [P(p.index).basal, P(p.index).bias, P(p.index).n4 * 4] });
    const fwd: Op[] = m.projections.map((j, ji) => {
      const L = this.projs[ji];
      const rate = m.learningRule === 'le' ? m.eta * j.eta_scale * m.dt_ms : 0;
      const pre = P(j.pre);
      return {
        code: OP_FORWARD,
        i: [L.W, L.stride, L.nPre, filt ? pre.rbar : pre.r, P(j.post).basal, filt ? pre.rbarPrev : pre.rPrev, P(j.post).e],
        f32: [[8, rate]],
        i2: [[9, L.idx], ...quantisedWords(L)],
      };
    });
    ops.push(...fwd);
    // Save r, r', e (and inputs) as the previous step's values.
    const S = this.stateBlock;
    ops.push({ code: OP_COPY, i: [S.prev, S.ptr, S.bytes] });
    // B. neurons
    for (const p of neuronPops) {
      const L = P(p.index);
      if (L.noiseU) ops.push({ code: OP_NOISE, i: [L.rngU, L.noiseU, p.size], f64: m.noise.membrane * Math.sqrt(m.dt_ms) });
      if (L.noiseR) ops.push({ code: OP_NOISE, i: [L.rngR, L.noiseR, p.size], f64: m.noise.rate });
      const model = MODEL_CODE[p.model as 'le' | 'li'];
      if (model === undefined) throw new Error(`population ${p.name}: neuron model ${p.model} is not a rate model`);
      // Tau adaptation (off until setTauAdaptation): its delta from the old u and tau_m, applied after the update.
      const delta: Op = { code: OP_TAU_DELTA, i: [L.n4 / 4, 0, L.u, L.basal, L.ePrev, L.tauM, L.tauR, L.tauDelta, 0], f32: [[2, 0]] };
      const apply: Op = { code: OP_TAU_APPLY, i: [L.tauM, L.tauDelta, 0, 0, L.n4 / 4, 0], f32: [[3, 0], [4, 0]] };
      this.tauOps.set(p.index, { delta, apply });
      ops.push(delta);
      ops.push({
        code: OP_NEURON,
        i: [L.n4 / 4, model, ACTIVATION_CODE[p.activation], 0, L.u, L.basal, L.ePrev, L.tauM, L.tauR, L.gain, L.offset, L.r, L.rp, L.diff, L.noiseU, L.noiseR],
        f32: [[4, m.dt_ms]],
      });
      ops.push(apply);
      if (filt) ops.push(lowpass(L.rbar, L.r, L.n4, k));
    }
    // C. errors: nudging (or zero), then feedback per projection in order; with filtered errors
    // they are computed into eRaw and low-passed into e
    const eOut = (pi: number) => P(pi).eRaw || P(pi).e;
    const depths = populationDepths(m);
    for (const p of neuronPops) {
      const L = P(p.index);
      if (L.ybar) ops.push(lowpass(L.ybar, L.y, L.n4, targetFactor(m, depths, p.index), L.flag));
      ops.push({ code: OP_ERROR_INIT, i: [eOut(p.index), L.n4 / 4, L.rpPrev, L.rPrev, L.ybar || L.y, 0, L.flag], f32: [[6, m.beta]] });
    }
    m.projections.forEach((j, ji) => {
      const L = this.projs[ji];
      if (j.feedback === 'transpose') {
        ops.push({ code: OP_FEEDBACK_T, i: [L.W, L.stride, L.nPre, P(j.post).diff, P(j.pre).rpPrev, eOut(j.pre)], i2: quantisedWords(L) });
      } else if (j.feedback === 'random') {
        const n4 = P(j.pre).n4;
        ops.push({ code: OP_FEEDBACK_R, i: [L.B, n4, L.nPost, P(j.post).diff, P(j.pre).rpPrev, eOut(j.pre), L.scratch, n4 / 4, L.idxB] });
      }
    });
    for (const p of neuronPops) {
      const L = P(p.index);
      if (L.eRaw) ops.push(lowpass(L.e, L.eRaw, L.n4, k));
    }
    // D. plasticity: biases with the first plastic projection's rate into each population, weights
    // marked for the fused update
    if (m.learningRule === 'le') {
      const biasDone = new Set<number>();
      m.projections.forEach((j, ji) => {
        if (!j.plastic) return;
        if (!biasDone.has(j.post)) {
          biasDone.add(j.post);
          const L = P(j.post);
          ops.push({ code: OP_BIAS_LEARN, i: [L.bias, L.e, L.n4 / 4, 0], f32: [[4, m.eta * j.eta_scale * m.dt_ms]] });
        }
        ops.push({ code: OP_PLASTIC, i: [], fwdOf: fwd[ji] });
      });
    }
    return ops;
  }

  private writeProgram(ops: Op[]): void {
    const words = OP_BYTES / 4;
    const I = this.mem.i32(this.prog, ops.length * words);
    const F = this.mem.f32(this.prog, ops.length * words);
    const D = new DataView(this.mem.memory.buffer, this.prog, ops.length * OP_BYTES);
    ops.forEach((op, n) => {
      const base = n * words;
      op.addr = this.prog + n * OP_BYTES;
      I[base] = op.code;
      op.i.forEach((v, w) => (I[base + 1 + w] = v));
      for (const [w, v] of op.i2 ?? []) I[base + w] = v;
      for (const [w, v] of op.f32 ?? []) F[base + w] = v;
      if (op.f64 !== undefined) D.setFloat64(n * OP_BYTES + 16, op.f64, true);
    });
    ops.forEach((op, n) => {
      if (op.fwdOf) I[n * words + 1] = op.fwdOf.addr!;
    });
  }
}

/** One op record before it is written: words 1.. from i, then word/value overrides. */
interface Op {
  code: number;
  i: number[];
  i2?: [number, number][];
  f32?: [number, number][];
  f64?: number;
  fwdOf?: Op;
  addr?: number;
}

/** Words 13-17 of FORWARD and FEEDBACK_T records (kernels/program.ts): codes, code row bytes, row unit pointers, int8 flag, unit offset. */
function quantisedWords(L: ProjLayout): [number, number][] {
  return L.q ? [[13, L.q.C], [14, L.q.cstride], [15, L.q.U], [16, L.q.flag], [17, 0]] : [];
}

function checkLengths(p: ModelPopulation): void {
  for (const k of ['tau_m_ms', 'tau_r_ms', 'gain', 'offset', 'bias'] as const) {
    if (p[k].length !== p.size) throw new Error(`population ${p.name}: ${k} has ${p[k].length} values for ${p.size} neurons`);
  }
}

/** A generous estimate of the layout's size, so memory is allocated once. */
function estimateBytes(m: EmulatorModel): number {
  let bytes = 1 << 16;
  for (const p of m.populations) bytes += 24 * (pad4(p.size) * 4 + 16) + 2 * RNG_BYTES;
  for (const j of m.projections) {
    const nPre = m.populations[j.pre].size;
    const nPost = m.populations[j.post].size;
    bytes += nPre * pad4(nPost) * 4 + nPre * 4 + 64;
    if (j.feedback === 'random') bytes += nPost * pad4(nPre) * 4 + pad4(nPre) * 4 + nPost * 4 + 64;
  }
  return bytes + (m.populations.length * 12 + m.projections.length * 4 + 8) * OP_BYTES + PRES_CHUNK_FLOATS * 4 * 2;
}
