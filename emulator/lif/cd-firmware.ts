/**
 * Contrastive-divergence training of spiking Boltzmann samplers by the plasticity processor
 * (firmware-models/cd.s) instead of the host (sampling.ts's trainCd).
 *
 * The processor sees the sampler's networks as one core (LifSamplerBus, a ProcessorBus):
 * - columns: the N = n x networks sampling neurons; observable 6 (`z`, vadc) is a neuron's binary
 *   state as neural sampling reads it: 1 from its spike at grid time T through T + tau_refrac
 *   (nref + 1 samples, the convention of sampling.ts's StateCounter), 0 otherwise. This is the
 *   refractory flag BrainScaleS-2's neurons expose digitally; other observables read 0;
 * - rows: the recurrent rows, 2g excitatory and 2g + 1 inhibitory for neuron g's spikes, holding
 *   6-bit magnitudes (bss2: sign per row) of one weight step (uS per code) for every column, the
 *   ensemble's fixed noise synapses included (the sampler rounds them to the step; the firmware
 *   only rewrites its networks' own columns, reading the rest back unchanged);
 * - parameter 0 (`bias`, vldp/vstp): the bias DAC code of a neuron's leak potential, v_rest =
 *   u0 + code x lsb (bss2: 10-bit DAC, +-2 rate units x MV_PER_UNIT = +-40 mV, 0.078 mV a code).
 * The host measures the activation function (u0, alpha) and the translation constants, writes
 * cd.s's table with the target's moments (exact, enumerated) and the starting parameters, and runs
 * the processor with the sampler under ideal processor timing: the firmware samples z every
 * `waitSteps` steps and updates at no time cost after its last sample of an iteration.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadChip } from '../../chip/presets.js';
import { biasCodeRange, biasLsb } from '../../chip/parameter-dac.js';
import type { ChipSpecT } from '../../chip/spec.js';
import { projectRoot } from '../../common/paths.js';
import { assemble, type AssembledProgram } from '../../isa/assembler.js';
import { adcCode, adcLaneCode } from '../../isa/lanes.js';
import type { CdParams, CdRule } from '../../firmware-models/cd-reference.js';
import type { ProcessorBus } from '../processor/bus.js';
import { Processor } from '../processor/interpreter.js';
import { boltzmannDistribution, klDivergence, moments, normalise, type Boltzmann } from './boltzmann.js';
import type { SpikeEvents } from './model.js';
import { MV_PER_UNIT } from './realise.js';
import { StateCounter, translateBoltzmann, type Activation, type SpikingSampler } from './sampling.js';

/** cd.s's table: header bytes, lanes per 16-bit vector, the z observable. */
export const CD = { HEADER_BYTES: 96, LANES: 64, VBYTES: 128, OBS_Z: 6, Q: 65536 } as const;

let cached: AssembledProgram | undefined;

/** cd.s assembled (once per process). */
export function assembleCd(): AssembledProgram {
  cached ??= assemble(readFileSync(join(projectRoot(), 'firmware-models', 'cd.s'), 'utf8'), { file: 'firmware-models/cd.s' });
  return cached;
}

/** Everything cd.s's table holds. */
export interface CdTable {
  rule: CdRule;
  /** Analog steps between samples. */
  waitSteps: number;
  /** Iterations to run (0: until the host stops). */
  iterations: number;
  /** ADC code (16-bit lanes) between z = 0 and z = 1. */
  zThreshold: number;
  /** Target moments: <z_i> [n], <z_i z_j> [n n]. */
  data: { mean: ArrayLike<number>; pair: ArrayLike<number> };
  /** Starting parameters per network. */
  initial: CdParams;
}

/** Addresses of the table and its arrays in processor memory. */
export interface CdLayout {
  table: number;
  data: number;
  params: number;
  count: number;
  bcode: number;
  end: number;
  chunks: number;
  columns: number;
}

const q16 = (x: number) => Math.round(x * CD.Q);

export function cdLayout(prog: AssembledProgram, n: number, networks: number): CdLayout {
  const table = prog.symbols.cd_table;
  const columns = n * networks;
  const chunks = Math.ceil(columns / CD.LANES);
  const data = table + CD.HEADER_BYTES;
  const params = data + 4 * n * n;
  const count = Math.ceil((params + 4 * columns * n) / 16) * 16;
  const bcode = count + chunks * n * CD.VBYTES;
  return { table, data, params, count, bcode, end: bcode + chunks * CD.VBYTES, chunks, columns };
}

/** The bytes of the data segment: cd.s's .data with the table and its arrays at cd_table. */
export function encodeCdData(prog: AssembledProgram, t: CdTable): Uint8Array {
  const { n, networks } = t.rule;
  const L = cdLayout(prog, n, networks);
  const at = (addr: number) => addr - prog.dataBase;
  const bytes = new Uint8Array(at(L.end));
  bytes.set(prog.data.subarray(0, Math.min(prog.data.length, at(L.table))));
  const w = new DataView(bytes.buffer);
  const r = t.rule;
  if (!(r.samples >= 1 && r.samples <= 32767)) throw new Error(`cd firmware: ${r.samples} samples per iteration; the 16-bit counters hold 1..32767`);
  const eta = q16(r.eta);
  if (eta * Math.max(1, r.decay) >= 2 ** 32) throw new Error('cd firmware: eta x decay does not fit 32 bits');
  const header = [
    1, L.columns, n, networks, L.chunks, r.samples, t.waitSteps, t.iterations, eta, r.decay, q16(r.mE), q16(r.mI), q16(r.mB),
    r.bMin, r.bMax, r.wMax, t.zThreshold, 0, L.data, L.params, L.count, L.bcode,
  ];
  header.forEach((v, i) => w.setInt32(at(L.table) + 4 * i, v | 0, true));
  for (let i = 0; i < n; i++) {
    for (let d = 0; i + d < n; d++) w.setInt32(at(L.data) + 4 * (i * n + d), q16(d === 0 ? t.data.mean[i] : t.data.pair[i * n + i + d]), true);
  }
  writeParams(w, at(L.params), t.initial, n, networks);
  return bytes;
}

function writeParams(w: DataView, at: number, p: CdParams, n: number, networks: number): void {
  for (let k = 0; k < networks; k++) {
    for (let i = 0; i < n; i++) {
      const g = k * n + i;
      for (let d = 0; i + d < n; d++) w.setInt32(at + 4 * (g * n + d), q16(d === 0 ? p.b[k][i] : p.W[k][i * n + i + d]), true);
    }
  }
}

/** The parameters in processor memory (Q16 -> float), per network. */
export function readCdParams(mem: Uint8Array, prog: AssembledProgram, n: number, networks: number): CdParams {
  const L = cdLayout(prog, n, networks);
  const w = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  const W: Float64Array[] = [];
  const b: Float64Array[] = [];
  for (let k = 0; k < networks; k++) {
    const Wk = new Float64Array(n * n);
    const bk = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const g = k * n + i;
      bk[i] = w.getInt32(L.params + 4 * g * n, true) / CD.Q;
      for (let d = 1; i + d < n; d++) Wk[i * n + i + d] = Wk[(i + d) * n + i] = w.getInt32(L.params + 4 * (g * n + d), true) / CD.Q;
    }
    W.push(Wk);
    b.push(bk);
  }
  return { W, b };
}

/** The counters in processor memory: samples with z_i = 1 and with z_i z_j = 1, per network. */
export function readCdCounts(mem: Uint8Array, prog: AssembledProgram, n: number, networks: number): { mean: Float64Array[]; pair: Float64Array[] } {
  const L = cdLayout(prog, n, networks);
  const w = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  const at = (g: number, d: number) => L.count + ((g >> 6) * n + d) * CD.VBYTES + 2 * (g & 63);
  const mean: Float64Array[] = [];
  const pair: Float64Array[] = [];
  for (let k = 0; k < networks; k++) {
    const m = new Float64Array(n);
    const p = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      m[i] = w.getUint16(at(k * n + i, 0), true);
      for (let d = 1; i + d < n; d++) p[i * n + i + d] = p[(i + d) * n + i] = w.getUint16(at(k * n + i, d), true);
    }
    mean.push(m);
    pair.push(p);
  }
  return { mean, pair };
}

/** Iterations the firmware has completed (the table's done word). */
export function cdIterationsDone(mem: Uint8Array, prog: AssembledProgram): number {
  return new DataView(mem.buffer, mem.byteOffset, mem.byteLength).getInt32(prog.symbols.cd_table + 68, true);
}

/** The z threshold word: the ADC code of 0.5 in 16-bit lanes. */
export function zThresholdWord(chip: Pick<ChipSpecT, 'adc'>): number {
  return adcLaneCode(adcCode(0.5, chip.adc), chip.adc.bits, 16);
}

/** The processor's view of a SpikingSampler (see the file comment). */
export class LifSamplerBus implements ProcessorBus {
  readonly rows: number;
  readonly columns: number;
  /** Synapse code magnitudes [2N][N]: row 2g excitatory, 2g + 1 inhibitory for neuron g's spikes. */
  readonly codes: Int32Array;
  /** Bias DAC codes [N]. */
  readonly biasCodes: Int32Array;
  /** Leak potential at bias code 0, per neuron (mV). */
  readonly vRestBase: Float64Array;
  readonly biasLsb_mV: number;
  private readonly biasRange: { min: number; max: number };
  private readonly lastSpike: Int32Array;
  private readonly dirtyRows = new Set<number>();
  private dirtyBias = false;
  private readonly nref: number;
  private readonly signal0: number;
  private readonly wMax: number;

  constructor(
    readonly sampler: SpikingSampler,
    /** uS per synapse code (the sampler's weightStep_uS). */
    readonly step_uS: number,
    chip: Pick<ChipSpecT, 'weights' | 'parameters'>,
    vRestBase_mV: ArrayLike<number>,
  ) {
    const N = sampler.opts.n * sampler.opts.networks;
    this.columns = N;
    this.rows = 2 * N;
    this.wMax = 2 ** chip.weights.bits - 1;
    this.codes = new Int32Array(2 * N * N);
    const noise = sampler.noiseWeights;
    for (let i = 0; i < noise.length; i++) {
      const c = Math.round(noise[i] / step_uS);
      if (c > this.wMax || Math.abs(c * step_uS - noise[i]) > 1e-6 * step_uS + 1e-12) {
        throw new Error(`LifSamplerBus: noise weight ${noise[i]} uS is not a code of ${step_uS} uS within 0..${this.wMax}`);
      }
      this.codes[i] = c;
    }
    this.biasCodes = new Int32Array(N);
    this.vRestBase = Float64Array.from(vRestBase_mV);
    this.biasLsb_mV = biasLsb(chip) * MV_PER_UNIT;
    this.biasRange = biasCodeRange(chip);
    this.lastSpike = new Int32Array(N).fill(-(2 ** 30));
    this.nref = sampler.nref;
    this.signal0 = sampler.model.sources.length;
    for (let r = 0; r < this.rows; r++) this.dirtyRows.add(r);
    this.dirtyBias = true;
    this.flush();
  }

  get analogSteps(): number {
    return this.sampler.engine.step;
  }

  advanceAnalog(): void {
    throw new Error('LifSamplerBus: the host runs the sampler');
  }

  /** Takes the spikes of the last run (time order): they set z. */
  feed(ev: SpikeEvents): void {
    const N = this.columns;
    for (let e = 0; e < ev.signal.length; e++) {
      const g = ev.signal[e] - this.signal0;
      if (g >= 0 && g < N) this.lastSpike[g] = ev.time_index[e];
    }
  }

  /** Writes what the processor changed into the engine (before it runs again). */
  flush(): void {
    const { sampler, columns: N } = this;
    const engine = sampler.engine;
    const row = new Float32Array(N);
    for (const r of this.dirtyRows) {
      for (let c = 0; c < N; c++) row[c] = this.codes[r * N + c] * this.step_uS;
      engine.writeRow(sampler.recurrentRow0 + r, row);
    }
    this.dirtyRows.clear();
    if (this.dirtyBias) {
      engine.writeParameters({ v_rest_mV: Float64Array.from(this.vRestBase, (v, g) => v + this.biasCodes[g] * this.biasLsb_mV) });
      this.dirtyBias = false;
    }
  }

  readSynapseRow(row: number, col0: number, out: Int32Array | Float32Array, lanes: number): void {
    const N = this.columns;
    for (let i = 0; i < lanes; i++) out[i] = out instanceof Float32Array ? this.codes[row * N + col0 + i] * this.step_uS : this.codes[row * N + col0 + i];
  }

  writeSynapseRow(row: number, col0: number, values: Int32Array | Float32Array, lanes: number): void {
    const N = this.columns;
    for (let i = 0; i < lanes; i++) {
      // A row of a sign pair holds a magnitude: a negative write leaves 0.
      const v = values instanceof Float32Array ? Math.round(values[i] / this.step_uS) : values[i];
      const c = Math.max(0, Math.min(this.wMax, v));
      if (this.codes[row * N + col0 + i] !== c) {
        this.codes[row * N + col0 + i] = c;
        this.dirtyRows.add(row);
      }
    }
  }

  readObservable(kind: number, col0: number, out: Float32Array, lanes: number): void {
    const now = this.sampler.engine.step;
    for (let i = 0; i < lanes; i++) out[i] = kind === CD.OBS_Z && now <= this.lastSpike[col0 + i] + this.nref ? 1 : 0;
  }

  readRowDrivers(_row0: number, out: Float32Array, lanes: number): void {
    out.fill(0, 0, lanes);
  }

  readParameter(kind: number, col0: number, out: Int32Array | Float32Array, lanes: number): void {
    for (let i = 0; i < lanes; i++) {
      const c = kind === 0 ? this.biasCodes[col0 + i] : 0;
      // Float lanes: the bias in rate units, as on rate cores.
      out[i] = out instanceof Float32Array ? (c * this.biasLsb_mV) / MV_PER_UNIT : c;
    }
  }

  writeParameter(kind: number, col0: number, values: Int32Array | Float32Array, lanes: number): void {
    if (kind !== 0) return;
    const { min, max } = this.biasRange;
    for (let i = 0; i < lanes; i++) {
      const v = values instanceof Float32Array ? Math.round((values[i] * MV_PER_UNIT) / this.biasLsb_mV) : values[i];
      const c = Math.max(min, Math.min(max, v));
      if (this.biasCodes[col0 + i] !== c) {
        this.biasCodes[col0 + i] = c;
        this.dirtyBias = true;
      }
    }
  }
}

/** Synapse weight (uS) per unit of W, excitatory (W > 0) and inhibitory (W < 0), from the translation. */
export function translationGains(act: Activation, sampler: SpikingSampler, g: { gE: number; gI: number }): { cE: number; cI: number } {
  const one = (w: number) => translateBoltzmann({ n: 2, W: Float64Array.of(0, w, w, 0), b: new Float64Array(2) }, act, sampler.opts.neuron, g).weights_uS[1];
  return { cE: one(1), cI: -one(-1) };
}

export interface FirmwareCdOptions {
  iterations: number;
  /** Biological ms per iteration. */
  sampleMs: number;
  /** Analog steps between two samples of z (default 10: 1 ms at dt 0.1 ms). */
  waitSteps?: number;
  eta: number;
  etaDecay?: number;
  /** The chip whose processor, ADC, weight bits and bias DAC are used (default bss2). */
  chip?: ChipSpecT;
  /** Processor seeds (hardware random generators, ADC read noise). */
  chipSeed?: number;
  seed?: number;
  /** Called after each iteration with each network's DKL(target || sampled) from that iteration's grid samples. */
  onIteration?: (it: number, dkl: number[]) => void;
}

export interface FirmwareCdResult {
  /** Trained parameters as the firmware holds them, per network. */
  networks: Boltzmann[];
  /** DKL per iteration and network. */
  curve: number[][];
  rule: CdRule;
  /** Moments of the last iteration: from the firmware's counters (z every waitSteps) and from the host's count of every grid sample, per network. */
  lastMoments: { firmware: { mean: Float64Array; pair: Float64Array }[]; host: { mean: Float64Array; pair: Float64Array }[] };
  processor: { instructions: number; cycles: number; busy_hw_us: number; text_bytes: number; data_bytes: number; memory_bytes: number };
}

/**
 * Trains every network of the sampler by cd.s on its processor. The sampler must have been built
 * with weightStep_uS (the synapse code step); `act` and `g` are the measured activation function
 * and mean background conductances (sampling-experiment.ts measures them); the networks start from
 * the target's parameters, as trainCd's do.
 */
export function trainCdFirmware(sampler: SpikingSampler, target: Boltzmann, act: Activation, g: { gE: number; gI: number }, o: FirmwareCdOptions): FirmwareCdResult {
  const { n, networks, dt_ms, weightStep_uS: step } = sampler.opts;
  if (!(step > 0)) throw new Error('trainCdFirmware: the sampler needs weightStep_uS (the chip stores synapse codes)');
  const chip = o.chip ?? loadChip('bss2');
  if (!(Number.isInteger(o.iterations) && o.iterations >= 1)) throw new Error(`trainCdFirmware: ${o.iterations} iterations; at least 1`);
  const wait = o.waitSteps ?? 10;
  const stepsPerIt = Math.round(o.sampleMs / dt_ms);
  if (stepsPerIt % wait !== 0) throw new Error(`trainCdFirmware: ${stepsPerIt} steps per iteration are not a multiple of ${wait}`);
  const { cE, cI } = translationGains(act, sampler, g);
  const range = biasCodeRange(chip);
  const rule: CdRule = {
    n, networks, samples: stepsPerIt / wait, eta: o.eta, decay: o.etaDecay ?? 0,
    mE: cE / step, mI: cI / step, mB: act.alpha_mV / (biasLsb(chip) * MV_PER_UNIT),
    bMin: range.min, bMax: range.max, wMax: 2 ** chip.weights.bits - 1,
  };
  const p = boltzmannDistribution(target);
  const tm = moments(p, n);
  const prog = assembleCd();
  const data = encodeCdData(prog, {
    rule, waitSteps: wait, iterations: o.iterations, zThreshold: zThresholdWord(chip), data: tm,
    initial: { W: Array.from({ length: networks }, () => target.W.slice()), b: Array.from({ length: networks }, () => target.b.slice()) },
  });
  const memBytes = chip.processor.memory_kib * 1024;
  if (prog.dataBase + data.length > memBytes - 256) throw new Error(`cd firmware: ${networks} networks of ${n} need ${prog.dataBase + data.length} bytes of the processor's ${memBytes} (and a stack)`);
  const N = n * networks;
  const bus = new LifSamplerBus(sampler, step, chip, new Float64Array(N).fill(act.u0_mV));
  const proc = new Processor({ chip, bus, rngSeed: o.chipSeed ?? 0, core: 0, adcNoiseLsb: chip.noise.adc_lsb, noiseSeed: o.seed ?? 1 });
  proc.load({
    segments: [
      { addr: 0, bytes: new Uint8Array(prog.text.buffer, prog.text.byteOffset, prog.text.byteLength) },
      { addr: prog.dataBase, bytes: data },
    ],
    entry: prog.entry,
    symbols: prog.symbols,
    lines: prog.lines,
    file: 'firmware-models/cd.s',
  });
  const engine = sampler.engine;
  const counter = new StateCounter(n, networks, sampler.nref, sampler.model.sources.length, engine.step);
  const curve: number[][] = [];
  const start = engine.step;
  let it = 0;
  let lastHost: { mean: Float64Array; pair: Float64Array }[] = [];
  for (;;) {
    const r = proc.run(1e9);
    if (r.reason === 'halt') break;
    if (r.reason !== 'wait') throw new Error(`cd firmware stopped: ${r.reason}`);
    bus.flush();
    engine.run(r.waitSteps);
    const ev = engine.takeSpikes();
    bus.feed(ev);
    sampler.track(ev);
    counter.feed(ev);
    if ((engine.step - start) % stepsPerIt === 0) {
      counter.countTo(engine.step);
      const dkl = counter.counts.map((c) => klDivergence(p, normalise(c)));
      lastHost = counter.counts.map((c) => moments(normalise(c), n));
      counter.clear();
      curve.push(dkl);
      o.onIteration?.(it, dkl);
      it++;
    }
  }
  bus.flush();
  const fw = readCdParams(proc.mem, prog, n, networks);
  const fc = readCdCounts(proc.mem, prog, n, networks);
  const S = rule.samples;
  const firmware = fc.mean.map((m, k) => ({ mean: m.map((x) => x / S), pair: fc.pair[k].map((x, ij) => (Math.floor(ij / n) === ij % n ? m[ij % n] : x) / S) }));
  return {
    lastMoments: { firmware, host: lastHost },
    networks: fw.W.map((W, k) => ({ n, W, b: fw.b[k] })),
    curve,
    rule,
    processor: {
      instructions: proc.instructions,
      cycles: proc.cycles,
      busy_hw_us: proc.cycles / chip.processor.clock_mhz,
      text_bytes: prog.text.byteLength,
      data_bytes: data.length,
      memory_bytes: memBytes,
    },
  };
}
