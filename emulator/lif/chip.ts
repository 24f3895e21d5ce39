/**
 * The Chip interface (emulator/chip-interface.ts) for images of spiking networks: the lif engine
 * behind load / configure / run / weights / parameters, so `lechip run` runs lif images as it runs
 * rate ones. withLifRouting wraps the rate chip and hands an image whose neuron populations are
 * all lif to a LifChip instead (emulator/emulated-chip.ts's createEmulatedChip uses it).
 *
 * What differs from rate networks: inputs come from the sources the description gives (spike-time
 * lists, Poisson), so writeInputs takes no schedules for them and no targets; `run` records, per
 * population, `spikes` (per neuron, spike times in ms) and, for lif populations, `v` (mV, through
 * the chip's membrane ADC), with `r` and `u` left empty; `present` (sample-by-sample training) is
 * for rate networks. Parameters: tau_m_us and bias (mV added to v_rest) are readable and writable.
 */
import { decodeImage } from '../../chip/image.js';
import type { ChipImage, ImageManifest } from '../../chip/image-model.js';
import { UserError } from '../../common/diagnostics.js';
import type {
  Chip, ChipConfig, CircuitParameters, PopulationRecording, PresentOptions, Recording, RunOptions, Schedule,
} from '../chip-interface.js';
import { buildLifModel, type LifNetworkSpec, type LifPopulationSpec } from './build.js';
import { LifEngine } from './engine.js';
import { isLifImage, projectionGains, quantiseLifWeights, realiseLifSpec, storedLifWeights } from './realise.js';
import { recordRun } from './record.js';

/** A lif population's recording as `run` returns it (r and u stay empty: they are rate observables). */
export type LifPopulationRecordingOut = PopulationRecording & { spikes: number[][]; v?: number[][] };

/** Runs images of lif networks on the lif engine. */
export class LifChip implements Chip {
  private image?: ChipImage;
  private config: ChipConfig = {};
  private spec?: LifNetworkSpec;
  private engine?: LifEngine;
  /** What each projection's synapses store (codes x scale, [post][pre] uS). */
  private stored: Float64Array[] = [];
  /** Per lif population, the bias (mV) added to the leak potential of each neuron on top of the image's. */
  private extraBias = new Map<string, Float64Array>();

  async load(bytes: Uint8Array): Promise<ImageManifest> {
    return this.loadImage(decodeImage(bytes));
  }

  /** Loads an already decoded image. */
  loadImage(image: ChipImage): ImageManifest {
    if (!isLifImage(image)) throw new UserError({ message: 'this image has rate (le / li) neuron populations; the lif engine runs spiking networks only' });
    this.image = image;
    this.engine = undefined;
    this.spec = undefined;
    return image.manifest;
  }

  async configure(config: ChipConfig): Promise<void> {
    const image = this.requireImage();
    if (config.dtMs !== undefined && !(Number.isFinite(config.dtMs) && config.dtMs > 0)) {
      throw new UserError({ message: `dt must be a number of biological ms greater than 0 (got ${config.dtMs})` });
    }
    this.config = { ...config };
    this.realise(image);
  }

  async writeInputs(inputs: Record<string, Schedule>, targets: Record<string, Schedule> = {}): Promise<void> {
    this.ready();
    const names = [...Object.keys(inputs ?? {}), ...Object.keys(targets ?? {})];
    if (names.length) {
      throw new UserError({
        pointer: `/${Object.keys(inputs ?? {}).length ? 'inputs' : 'targets'}/${names[0]}`,
        message: `population '${names[0]}': a spiking network takes its inputs from the sources in its description (spike_times, poisson) and has no targets; leave "inputs" and "targets" out`,
      });
    }
  }

  async run(options: RunOptions): Promise<Recording> {
    const engine = this.ready();
    const m = engine.model;
    if (!(Number.isFinite(options.durationMs) && options.durationMs > 0)) {
      throw new UserError({ message: `duration must be a number of biological ms greater than 0 (got ${options.durationMs})` });
    }
    if (Math.round(options.durationMs / m.dt_ms + 1e-9) < 1) throw new UserError({ message: `duration ${options.durationMs} ms is shorter than one step (dt = ${m.dt_ms} ms)` });
    const names = m.populations.map((p) => p.name);
    for (const r of options.record ?? []) {
      if (!names.includes(r)) throw new UserError({ message: `cannot record unknown population '${r}'; the image has ${names.join(', ')}` });
    }
    const record = options.record ?? [];
    const lifPops = record.filter((r) => m.populations.find((p) => p.name === r)!.kind === 'lif');
    const every = options.sampleEveryMs ?? m.dt_ms;
    const rec = recordRun(engine, options.durationMs, { membranes: lifPops, sampleEveryMs: every });
    const out: Recording = { t_bio_ms: rec.t_bio_ms, t_hw_us: rec.t_hw_us, record: {}, hw_us: rec.hw_us, steps: rec.steps };
    for (const name of record) {
      const r = rec.record[name];
      const pop: LifPopulationRecordingOut = { r: [], u: [], spikes: r.spikes, ...(r.v ? { v: r.v } : {}) };
      out.record[name] = pop;
    }
    return out;
  }

  async present(_o: PresentOptions): Promise<Float32Array> {
    throw new UserError({ message: 'present (training on samples) runs rate networks; a spiking network runs with `run`' });
  }

  async readWeights(projection: number): Promise<Float32Array> {
    this.ready();
    this.checkProjection(projection);
    return Float32Array.from(this.stored[projection]);
  }

  async writeWeights(projection: number, weights: ArrayLike<number>): Promise<void> {
    const engine = this.ready();
    const image = this.requireImage();
    const j = this.checkProjection(projection);
    const n = j.pre_size * j.post_size;
    if (!weights || weights.length !== n) {
      throw new UserError({ message: `projection ${projection} (${j.from} -> ${j.to}) has ${j.post_size} x ${j.pre_size} weights (uS); got ${weights?.length ?? 'none'} values` });
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(weights[i])) throw new UserError({ message: `projection ${projection}: weight ${i} is not a finite number (${weights[i]})` });
    }
    this.stored[projection] = quantiseLifWeights(image, projection, weights);
    const gains = projectionGains(image, this.config, projection);
    const spec = this.spec!;
    spec.projections[projection] = { ...spec.projections[projection], weights_uS: this.stored[projection].map((w, k) => w * gains[k]) };
    // Rows were built for every signal and both signs, so the rebuilt rows line up with the engine's.
    engine.writeRowWeights(buildLifModel({ ...spec, fixedRows: true }).rows.weights);
  }

  async readParameters(population: string): Promise<CircuitParameters> {
    const engine = this.ready();
    const p = this.lifPopulation(population);
    const m = engine.model;
    const tau = m.params.tau_m_ms.subarray(p.offset, p.offset + p.size);
    const image = this.requireImage().manifest.populations.find((q) => q.name === population)!;
    const section = image.bias_section ? this.requireImage().sections.get(image.bias_section) : undefined;
    const extra = this.extraBias.get(population);
    return {
      tau_m_us: Float32Array.from(tau, (v) => (v * 1000) / m.speedup),
      tau_r_us: new Float32Array(p.size),
      gain: new Float32Array(p.size).fill(1),
      offset: new Float32Array(p.size),
      bias: Float32Array.from({ length: p.size }, (_, i) => (section ? section[i] : 0) + (extra ? extra[i] : 0)),
    };
  }

  async writeParameters(population: string, params: Partial<CircuitParameters>): Promise<void> {
    const engine = this.ready();
    const p = this.lifPopulation(population);
    const m = engine.model;
    for (const key of ['tau_r_us', 'gain', 'offset'] as const) {
      if (params[key] !== undefined) throw new UserError({ message: `${population}.${key}: lif neurons have no ${key}; write tau_m_us or bias (mV added to v_rest)` });
    }
    const check = (key: 'tau_m_us' | 'bias', v: ArrayLike<number>) => {
      if (v.length !== p.size) throw new UserError({ message: `${population}.${key}: ${v.length} values for ${p.size} neurons` });
      for (let i = 0; i < v.length; i++) {
        if (!Number.isFinite(v[i]) || (key === 'tau_m_us' && v[i] <= 0)) throw new UserError({ message: `${population}.${key}[${i}] = ${v[i]}: must be a finite number${key === 'tau_m_us' ? ' of us greater than 0' : ''}` });
      }
    };
    const tau = m.params.tau_m_ms.slice();
    const vr = m.params.v_rest_mV.slice();
    if (params.tau_m_us) {
      check('tau_m_us', params.tau_m_us);
      for (let i = 0; i < p.size; i++) tau[p.offset + i] = (params.tau_m_us[i] * m.speedup) / 1000;
    }
    if (params.bias) {
      check('bias', params.bias);
      const before = await this.readParameters(population);
      const extra = this.extraBias.get(population) ?? new Float64Array(p.size);
      for (let i = 0; i < p.size; i++) {
        const d = params.bias[i] - before.bias[i];
        extra[i] += d;
        vr[p.offset + i] += d;
      }
      this.extraBias.set(population, extra);
    }
    engine.writeParameters({ tau_m_ms: tau, v_rest_mV: vr });
    // Keep the spec in step, so that later weight writes rebuild the same neurons.
    const sp = this.spec!.populations.find((q) => q.name === population) as LifPopulationSpec;
    sp.params = { ...sp.params, tau_m: tau.slice(p.offset, p.offset + p.size), v_rest: vr.slice(p.offset, p.offset + p.size) };
  }

  async reset(): Promise<void> {
    this.ready().reset();
  }

  time(): { t_bio_ms: number; t_hw_us: number } {
    if (!this.engine) return { t_bio_ms: 0, t_hw_us: 0 };
    const t = this.engine.step * this.engine.model.dt_ms;
    return { t_bio_ms: t, t_hw_us: (t * 1000) / this.engine.model.speedup };
  }

  async close(): Promise<void> {
    this.engine = undefined;
    this.image = undefined;
    this.spec = undefined;
  }

  private requireImage(): ChipImage {
    if (!this.image) throw new UserError({ message: 'no image loaded: load a compiled image (.lechip) first' });
    return this.image;
  }

  /** The engine, configured with defaults (chip seed 0, seed 1) if configure was never called. */
  private ready(): LifEngine {
    return this.engine ?? this.realise(this.requireImage());
  }

  /** The image on the configured chip instance, in a new engine (weights and biases as the image has them). */
  private realise(image: ChipImage): LifEngine {
    this.spec = realiseLifSpec(image, this.config);
    this.stored = image.manifest.projections.map((j) => storedLifWeights(image, j.index));
    this.extraBias.clear();
    // Both rows for every signal, so that weights written later, of either sign, have their rows.
    this.engine = new LifEngine(buildLifModel({ ...this.spec, fixedRows: true }), { recordSources: true });
    return this.engine;
  }

  private checkProjection(projection: number) {
    const projs = this.requireImage().manifest.projections;
    if (!Number.isInteger(projection) || projection < 0 || projection >= projs.length) {
      throw new UserError({ message: `no projection ${projection}; the image has projections 0..${projs.length - 1}` });
    }
    return projs[projection];
  }

  private lifPopulation(name: string) {
    const m = this.ready().model;
    const p = m.populations.find((q) => q.name === name);
    if (!p) throw new UserError({ message: `unknown population '${name}'; the image has ${m.populations.map((q) => q.name).join(', ')}` });
    if (p.kind !== 'lif') throw new UserError({ message: `population '${name}' is an input (spike source) population; it has no neuron circuits` });
    return p;
  }
}

/** A Chip that runs lif images on a LifChip and every other image on `rate`. */
export function withLifRouting(rate: Chip): Chip {
  let lif: LifChip | undefined;
  const current = (): Chip => lif ?? rate;
  return {
    async load(bytes) {
      const image = decodeImage(bytes);
      if (isLifImage(image)) {
        lif = new LifChip();
        return lif.loadImage(image);
      }
      lif = undefined;
      return rate.load(bytes);
    },
    configure: (c) => current().configure(c),
    writeInputs: (i, t) => current().writeInputs(i, t),
    run: (o) => current().run(o),
    present: (o) => current().present(o),
    readWeights: (p) => current().readWeights(p),
    writeWeights: (p, w) => current().writeWeights(p, w),
    readParameters: (p) => current().readParameters(p),
    writeParameters: (p, v) => current().writeParameters(p, v),
    reset: () => current().reset(),
    time: () => current().time(),
    // Optional members exist when the chip in use has them (the rate chip's processors and state).
    get processorReport() {
      const c = current();
      return c.processorReport?.bind(c);
    },
    get saveState() {
      const c = current();
      return c.saveState?.bind(c);
    },
    get restoreState() {
      const c = current();
      return c.restoreState?.bind(c);
    },
    async close() {
      await lif?.close();
      await rate.close();
    },
  };
}
