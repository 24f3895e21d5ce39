/**
 * The emulated chip: emulator/chip-interface.ts's Chip on the WASM Engine. An image is loaded,
 * realised on a chip instance (emulator/instance.ts: mismatch from the chip seed), and stepped
 * with piecewise-constant inputs and targets. Times given by the user are biological ms; hardware
 * time is t_bio / speedup, reported in us.
 *
 * Schedules (writeInputs): entry times are ms from the moment writeInputs is called (the chip's
 * time then); reset() restarts them from their beginning. Before its first entry a population's
 * input is zero and an output has no target (no nudging). Populations not named keep their
 * schedules; configure() clears them all.
 */
import { decodeImage } from '../chip/image.js';
import type { ChipImage, ImageManifest } from '../chip/image-model.js';
import { UserError, pointerKey } from '../common/diagnostics.js';
import type {
  Chip, ChipConfig, CircuitParameters, PopulationRecording, PresentOptions, ProcessorReport, Recording, RunOptions, Schedule,
} from './chip-interface.js';
import { Engine } from './engine.js';
import { MAX_THREADS } from './threads/control.js';
import { ParallelEngine } from './threads/parallel-engine.js';
import { FirmwareRuntime, type ProcessorFactory, type RuntimeState } from './firmware-runtime.js';
import { loadTranslator, translatable, translatorLoaded } from './processor/translator.js';
import { engineProcessorFactory } from './processor/wasm-bus.js';
import { filterOn } from './synaptic-filter.js';
import { packState, unpackState } from './state-pack.js';
import { realiseModel, synapseGainOf } from './instance.js';
import { quantisedFormats } from './quantised-format.js';
import { withLifRouting } from './lif/chip.js';
import type { EmulatorModel } from './model.js';

/** A schedule in steps: entry k holds from engine step base + steps[k] until base + steps[k + 1]. */
interface StepSchedule {
  pop: number;
  kind: 'input' | 'target';
  /** Engine step at which the schedule was written (0 again after a reset). */
  base: number;
  steps: number[];
  values: Float32Array[];
  /** Index of the entry last applied (-1: before the first, -2: nothing applied yet). */
  applied: number;
}

/** Format name of EmulatedChip.saveState's container. */
const CHIP_STATE_FORMAT = 'lechip/chip-state@1';

/** A report's counters accumulated between two reports (before, after). */
function reportDelta(after: ProcessorReport, before: ProcessorReport): ProcessorReport {
  return {
    ...after,
    learning_steps: after.learning_steps - before.learning_steps,
    cycles: after.cycles - before.cycles,
    instructions: after.instructions - before.instructions,
    ...busy(after.busy_hw_us.map((b, i) => b - (before.busy_hw_us[i] ?? 0))),
    passes: after.passes.map((p, i) => (p === null || before.passes[i] === null || before.passes[i] === undefined ? p : p - before.passes[i]!)),
  };
}

/** Per-processor busy times with their largest value and mean. */
function busy(us: number[]): Pick<ProcessorReport, 'busy_hw_us' | 'busy_hw_us_max' | 'busy_hw_us_mean'> {
  return { busy_hw_us: us, busy_hw_us_max: us.length ? Math.max(...us) : 0, busy_hw_us_mean: us.length ? us.reduce((a, b) => a + b, 0) / us.length : 0 };
}

/** Creates an emulated chip (the WASM kernels are loaded on first configure); images of lif (spiking) networks run on the lif engine. */
export async function createEmulatedChip(): Promise<Chip> {
  return withLifRouting(new EmulatedChip());
}

/** Steps of dt in a duration: round(duration / dt), the tiny slack absorbing float error such as 0.3 / 0.1. */
export function stepsIn(durationMs: number, dtMs: number): number {
  return Math.round(durationMs / dtMs + 1e-9);
}

class EmulatedChip implements Chip {
  private image?: ChipImage;
  private config: ChipConfig = {};
  private model?: EmulatorModel;
  private engine?: Engine;
  private schedules = new Map<string, StepSchedule>();
  /** The plasticity processors when the firmware applies the plasticity (emulator/firmware-runtime.ts). */
  private runtime?: FirmwareRuntime;
  /** Steps the engine's update kernel learned (plasticity 'kernel', or an image without firmware). */
  private kernelLearningSteps = 0;

  async load(bytes: Uint8Array): Promise<ImageManifest> {
    this.image = decodeImage(bytes);
    await this.closeEngine();
    this.model = undefined;
    this.engine = undefined;
    this.schedules.clear();
    return this.image.manifest;
  }

  async configure(config: ChipConfig): Promise<void> {
    this.requireImage();
    if (config.dtMs !== undefined && !(Number.isFinite(config.dtMs) && config.dtMs > 0)) {
      throw new UserError({ message: `dt must be a number of biological ms greater than 0 (got ${config.dtMs})` });
    }
    const threads = config.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
      throw new UserError({ message: `threads must be an integer from 1 to ${MAX_THREADS} (got ${config.threads})` });
    }
    const processor = config.processor ?? 'auto';
    if (processor !== 'interpret' && processor !== 'translate' && processor !== 'auto') {
      throw new UserError({ message: `processor must be 'interpret', 'translate' or 'auto' (got ${JSON.stringify(config.processor)})` });
    }
    if (processor !== 'interpret' && this.image?.manifest.firmware) await loadTranslator();
    await this.closeEngine();
    this.config = { ...config };
    const { engine } = this.realise();
    // The worker threads must run before the first step (a starting worker needs this event loop).
    if (engine instanceof ParallelEngine) await engine.started;
  }

  async writeInputs(inputs: Record<string, Schedule>, targets: Record<string, Schedule> = {}): Promise<void> {
    const { engine, model } = this.ready();
    const checked: StepSchedule[] = [];
    const errors: { pointer: string; message: string }[] = [];
    const check = (section: 'inputs' | 'targets', name: string, schedule: Schedule) => {
      const at = `/${section}/${pointerKey(name)}`;
      const pi = model.populations.findIndex((p) => p.name === name);
      if (pi < 0) {
        errors.push({ pointer: at, message: `unknown population '${name}'; the image has ${model.populations.map((p) => p.name).join(', ')}` });
        return;
      }
      const p = model.populations[pi];
      if (section === 'inputs' && p.model !== 'input') {
        errors.push({ pointer: at, message: `population '${name}' is not an input population; inputs drive input populations only` });
        return;
      }
      if (section === 'targets' && !(p.role === 'output' && p.model !== 'input')) {
        errors.push({ pointer: at, message: `population '${name}' is not an output population; targets are given for output populations only` });
        return;
      }
      if (!Array.isArray(schedule) || schedule.length === 0) {
        errors.push({ pointer: at, message: 'a schedule is a non-empty list of { "t": ms, "value": [...] } entries' });
        return;
      }
      const s: StepSchedule = { pop: pi, kind: section === 'inputs' ? 'input' : 'target', base: engine.steps, steps: [], values: [], applied: -2 };
      schedule.forEach((entry, k) => {
        const ptr = `${at}/${k}`;
        if (!(typeof entry?.t === 'number' && Number.isFinite(entry.t) && entry.t >= 0)) {
          errors.push({ pointer: `${ptr}/t`, message: `t must be a time in biological ms >= 0 (got ${JSON.stringify(entry?.t)})` });
          return;
        }
        if (k > 0 && !(entry.t > schedule[k - 1].t)) {
          errors.push({ pointer: `${ptr}/t`, message: `schedule times must increase (t = ${entry.t} ms follows t = ${schedule[k - 1].t} ms)` });
          return;
        }
        const v = entry.value;
        if (!v || typeof v.length !== 'number' || v.length !== p.size) {
          errors.push({ pointer: `${ptr}/value`, message: `population '${name}' has ${p.size} neurons; value must list ${p.size} numbers (got ${v?.length ?? 'none'})` });
          return;
        }
        for (let i = 0; i < v.length; i++) {
          if (typeof v[i] !== 'number' || !Number.isFinite(v[i])) {
            errors.push({ pointer: `${ptr}/value/${i}`, message: `must be a finite number (got ${JSON.stringify(v[i])})` });
            return;
          }
        }
        s.steps.push(stepsIn(entry.t, model.dt_ms));
        s.values.push(Float32Array.from(v));
      });
      checked.push(s);
    };
    for (const [name, s] of Object.entries(inputs ?? {})) check('inputs', name, s);
    for (const [name, s] of Object.entries(targets ?? {})) check('targets', name, s);
    if (errors.length) throw new UserError(errors);
    for (const s of checked) this.schedules.set(`${s.kind}:${s.pop}`, s);
    this.applySchedules();
  }

  async run(options: RunOptions): Promise<Recording> {
    const { engine, model } = this.ready();
    const dt = model.dt_ms;
    if (!(Number.isFinite(options.durationMs) && options.durationMs > 0)) {
      throw new UserError({ message: `duration must be a number of biological ms greater than 0 (got ${options.durationMs})` });
    }
    const steps = stepsIn(options.durationMs, dt);
    if (steps < 1) throw new UserError({ message: `duration ${options.durationMs} ms is shorter than one step (dt = ${dt} ms)` });
    const every = options.sampleEveryMs ?? dt;
    if (!(Number.isFinite(every) && every > 0)) {
      throw new UserError({ message: `sampling interval must be a number of biological ms greater than 0 (got ${every})` });
    }
    const sampleSteps = stepsIn(every, dt);
    if (sampleSteps < 1 || Math.abs(sampleSteps * dt - every) > 1e-6 * Math.max(every, dt)) {
      throw new UserError({ message: `sampling interval ${every} ms must be a whole number of steps (dt = ${dt} ms)` });
    }
    const record = options.record ?? [];
    const recorded = record.map((name) => {
      const pi = model.populations.findIndex((p) => p.name === name);
      if (pi < 0) {
        throw new UserError({ message: `cannot record unknown population '${name}'; the image has ${model.populations.map((p) => p.name).join(', ')}` });
      }
      return pi;
    });
    const out: Recording = { t_bio_ms: [], t_hw_us: [], record: {}, hw_us: (steps * dt * 1000) / model.speedup, steps };
    const recs: PopulationRecording[] = record.map((name) => (out.record[name] = { r: [], u: [] }));
    const learn = options.learn ?? false;
    const nudge = options.nudge ?? true;
    const before = this.processorReport();
    const start = engine.steps;
    const end = start + steps;
    let nextSample = start + sampleSteps;
    while (engine.steps < end) {
      this.applySchedules();
      const upTo = Math.min(end, nextSample, this.nextChange());
      this.advance(upTo - engine.steps, learn, nudge);
      if (engine.steps === nextSample) {
        const t = engine.steps * dt;
        out.t_bio_ms.push(t);
        out.t_hw_us.push((t * 1000) / model.speedup);
        recorded.forEach((pi, n) => {
          const input = model.populations[pi].model === 'input';
          // An input population has no membrane: both its r and its u are its input.
          recs[n].r.push(Array.from(engine.view(pi, 'r')));
          recs[n].u.push(Array.from(engine.view(pi, input ? 'r' : 'u')));
        });
        nextSample += sampleSteps;
      }
    }
    out.processor = reportDelta(this.processorReport(), before);
    return out;
  }

  async present(o: PresentOptions): Promise<Float32Array> {
    const { engine, model } = this.ready();
    const inputSize = model.populations.filter((p) => p.model === 'input').reduce((a, p) => a + p.size, 0);
    const targetSize = model.populations.filter((p) => p.role === 'output' && p.model !== 'input').reduce((a, p) => a + p.size, 0);
    if (o.inputSize !== inputSize) {
      throw new UserError({ message: `samples have ${o.inputSize} input values but the network's input populations take ${inputSize}` });
    }
    if (!Number.isInteger(o.count) || o.count < 0) throw new UserError({ message: `sample count must be a whole number >= 0 (got ${o.count})` });
    if (o.inputs.length < o.count * inputSize) {
      throw new UserError({ message: `${o.inputs.length} input values are fewer than ${o.count} samples x ${inputSize}` });
    }
    if (o.targets && o.targets.length < o.count * targetSize) {
      throw new UserError({ message: `${o.targets.length} target values are fewer than ${o.count} samples x ${targetSize} output neurons` });
    }
    const stepsPerSample = stepsIn(o.tPresMs, model.dt_ms);
    if (!(Number.isFinite(o.tPresMs) && stepsPerSample >= 1)) {
      throw new UserError({ message: `T_pres must be at least one step of dt = ${model.dt_ms} ms (got ${o.tPresMs} ms)` });
    }
    const readout = model.populations.findIndex((p) => p.name === o.readout);
    if (readout < 0) throw new UserError({ message: `unknown readout population '${o.readout}'; the image has ${model.populations.map((p) => p.name).join(', ')}` });
    const readoutSize = model.populations[readout].size;
    const out = new Float32Array(o.count * readoutSize);
    const block = o.onProgress && o.progressEvery && o.progressEvery > 0 ? Math.floor(o.progressEvery) : o.count;
    if (o.learn && this.runtime) {
      this.presentWithFirmware(o, stepsPerSample, readout, out, block);
      for (const s of this.schedules.values()) s.applied = -2;
      return out;
    }
    if (o.learn) this.kernelLearningSteps += o.count * stepsPerSample;
    for (let done = 0; done < o.count; ) {
      const n = Math.min(block, o.count - done);
      const part = engine.present({
        inputs: o.inputs.subarray(done * inputSize, (done + n) * inputSize),
        targets: o.targets ? o.targets.subarray(done * targetSize, (done + n) * targetSize) : null,
        count: n,
        stepsPerSample,
        learn: o.learn,
        readout,
      });
      out.set(part, done * readoutSize);
      done += n;
      o.onProgress?.(done);
    }
    // present() leaves the last sample's input and target in force; schedules apply again on run().
    for (const s of this.schedules.values()) s.applied = -2;
    return out;
  }

  async readWeights(projection: number): Promise<Float32Array> {
    const { engine } = this.ready();
    this.checkProjection(projection);
    // What the synapse array stores (codes x block scale), as on hardware: the synaptic-input gains
    // of this chip instance act on the currents, they are not readable, so they are divided out here.
    const w = engine.readWeights(projection);
    forEachForwardWeight(this.requireImage(), this.config, projection, (index, gain) => {
      w[index] /= gain;
    });
    return w;
  }

  async writeWeights(projection: number, weights: ArrayLike<number>): Promise<void> {
    const { engine } = this.ready();
    const image = this.requireImage();
    const j = this.checkProjection(projection);
    const n = j.pre_size * j.post_size;
    if (!weights || weights.length !== n) {
      throw new UserError({ message: `projection ${projection} (${j.from} -> ${j.to}) has ${j.post_size} x ${j.pre_size} weights; got ${weights?.length ?? 'none'} values` });
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(weights[i])) throw new UserError({ message: `projection ${projection}: weight ${i} is not a finite number (${weights[i]})` });
    }
    engine.writeWeights(projection, storedWeights(image, this.config, projection, weights));
    // The array's codes follow what the host wrote.
    this.runtime?.resync(projection);
  }

  async readParameters(population: string): Promise<CircuitParameters> {
    const { engine, model } = this.ready();
    const pi = this.neuronPopulation(population);
    const p = engine.readParameters(pi);
    const us = (ms: Float32Array) => ms.map((v) => (v * 1000) / model.speedup);
    return { tau_m_us: us(p.tau_m_ms), tau_r_us: us(p.tau_r_ms), gain: p.gain, offset: p.offset, bias: p.bias };
  }

  async writeParameters(population: string, params: Partial<CircuitParameters>): Promise<void> {
    const { engine, model } = this.ready();
    const pi = this.neuronPopulation(population);
    const size = model.populations[pi].size;
    const ms = (us: ArrayLike<number>) => Float32Array.from(us, (v) => (v * model.speedup) / 1000);
    const out: Parameters<Engine['writeParameters']>[1] = {};
    for (const key of ['tau_m_us', 'tau_r_us', 'gain', 'offset', 'bias'] as const) {
      const v = params[key];
      if (v === undefined) continue;
      if (v.length !== size) throw new UserError({ message: `${population}.${key}: ${v.length} values for ${size} neurons` });
      for (let i = 0; i < v.length; i++) {
        const ok = Number.isFinite(v[i]) && (key.startsWith('tau') ? v[i] > 0 : true);
        if (!ok) throw new UserError({ message: `${population}.${key}[${i}] = ${v[i]}: must be a finite number${key.startsWith('tau') ? ' of us greater than 0' : ''}` });
      }
    }
    if (params.tau_m_us) out.tau_m_ms = ms(params.tau_m_us);
    if (params.tau_r_us) out.tau_r_ms = ms(params.tau_r_us);
    if (params.gain) out.gain = Float32Array.from(params.gain);
    if (params.offset) out.offset = Float32Array.from(params.offset);
    if (params.bias) out.bias = Float32Array.from(params.bias);
    engine.writeParameters(pi, out);
  }

  async reset(): Promise<void> {
    const { engine } = this.ready();
    engine.reset();
    // Schedules restart from their beginning with the chip's time.
    for (const s of this.schedules.values()) {
      s.base = 0;
      s.applied = -2;
    }
    this.applySchedules();
  }

  time(): { t_bio_ms: number; t_hw_us: number } {
    if (!this.engine || !this.model) return { t_bio_ms: 0, t_hw_us: 0 };
    const t = this.engine.t_ms;
    return { t_bio_ms: t, t_hw_us: (t * 1000) / this.model.speedup };
  }

  processorReport(): ProcessorReport {
    const image = this.requireImage();
    const timing = this.config.processorTiming ?? image.manifest.chip.processor.timing;
    if (this.runtime) {
      const s = this.runtime.statistics();
      return {
        plasticity: 'firmware', timing: s.timing, processors: s.processors, learning_steps: s.steps, cycles: s.cycles, instructions: s.instructions,
        ...busy(s.busy_hw_us), passes: s.passes,
      };
    }
    const learns = image.manifest.learning.rule === 'le' && image.manifest.projections.some((p) => p.plastic);
    return {
      plasticity: learns ? 'kernel' : 'none', timing, processors: 0, learning_steps: this.kernelLearningSteps, cycles: 0, instructions: 0,
      ...busy([]), passes: [],
    };
  }

  async saveState(): Promise<Uint8Array> {
    const { engine } = this.ready();
    return packState({
      format: CHIP_STATE_FORMAT,
      engine: engine.saveMemory(),
      kernel_learning_steps: this.kernelLearningSteps,
      runtime: this.runtime ? this.runtime.snapshot() : null,
      trims: this.runtime ? this.runtime.trims.save() : null,
    });
  }

  async restoreState(bytes: Uint8Array): Promise<void> {
    const { engine } = this.ready();
    const st = unpackState(bytes) as {
      format: string; engine: { bytes: Uint8Array; steps: number }; kernel_learning_steps: number;
      runtime: RuntimeState | null; trims: Parameters<FirmwareRuntime['trims']['restore']>[0] | null;
    };
    if (st?.format !== CHIP_STATE_FORMAT) throw new UserError({ message: `saved chip state has format ${JSON.stringify(st?.format)}, expected ${CHIP_STATE_FORMAT}` });
    if (st.engine.bytes.length !== engine.saveMemory().bytes.length || !!st.runtime !== !!this.runtime) {
      throw new UserError({ message: 'saved chip state belongs to another network layout or configuration (noise, filtering, plasticity mode, threads, weight kernels); configure the chip as when it was saved' });
    }
    engine.restoreMemory(st.engine);
    this.kernelLearningSteps = st.kernel_learning_steps;
    if (this.runtime && st.runtime) {
      this.runtime.restore(st.runtime);
      if (st.trims) this.runtime.trims.restore(st.trims);
      for (const j of this.requireImage().manifest.projections) this.runtime.resync(j.index);
    }
  }

  async close(): Promise<void> {
    await this.closeEngine();
    this.runtime = undefined;
    this.engine = undefined;
    this.model = undefined;
    this.image = undefined;
    this.schedules.clear();
  }

  private requireImage(): ChipImage {
    if (!this.image) throw new UserError({ message: 'no image loaded: load a compiled image (.lechip) first' });
    return this.image;
  }

  /** Realises the loaded image on the configured chip instance in a new engine. */
  private realise(): { engine: Engine; model: EmulatorModel } {
    const image = this.requireImage();
    for (const p of image.manifest.populations) {
      if (p.model === 'lif') {
        throw new UserError({
          pointer: `/populations/${pointerKey(p.name)}/neuron/model`,
          message: `population '${p.name}' has lif (spiking) neurons; spiking neurons are not supported by the rate emulator yet (it runs le and li neurons)`,
        });
      }
      if (p.role === 'input' && p.source !== undefined) {
        throw new UserError({
          pointer: `/populations/${pointerKey(p.name)}/source`,
          message: `input population '${p.name}' has a spike source; the rate emulator drives inputs with rate schedules (run input "inputs"), not spikes`,
        });
      }
    }
    const model = realiseModel(image, this.config);
    const threads = this.config.threads ?? 1;
    // Firmware learning under ideal timing stays on one thread: see firmwareOnOneThread.
    const quantised = quantisedFormats(image, this.config, !this.firmwareLearns(image));
    const engine = threads > 1 && !this.firmwareOnOneThread(image) ? new ParallelEngine(model, { threads, quantised }) : new Engine(model, { quantised });
    this.model = model;
    this.engine = engine;
    this.schedules.clear();
    this.runtime = this.makeRuntime(image, engine, model);
    this.kernelLearningSteps = 0;
    return { engine, model };
  }

  /** Ends the worker threads of a parallel engine. */
  private async closeEngine(): Promise<void> {
    if (this.engine instanceof ParallelEngine) await this.engine.close();
  }

  /** The plasticity processors, when the image has firmware and the configuration lets it learn. */
  private makeRuntime(image: ChipImage, engine: Engine, model: EmulatorModel): FirmwareRuntime | undefined {
    const { plasticity, processorTiming } = this.config;
    if (plasticity !== undefined && plasticity !== 'firmware' && plasticity !== 'kernel') {
      throw new UserError({ message: `plasticity must be 'firmware' or 'kernel' (got ${JSON.stringify(plasticity)})` });
    }
    if (processorTiming !== undefined && processorTiming !== 'cycle' && processorTiming !== 'ideal') {
      throw new UserError({ message: `processor timing must be 'cycle' or 'ideal' (got ${JSON.stringify(processorTiming)})` });
    }
    if (!this.firmwareLearns(image)) return undefined;
    const timing = processorTiming ?? image.manifest.chip.processor.timing;
    return new FirmwareRuntime(image, engine, this.config, { timing: processorTiming, dtMs: model.dt_ms, makeProcessor: this.processorFactory(image, engine, timing) });
  }

  /**
   * Whether the chip runs on one thread whatever `threads` says: firmware learning with translated
   * processors under ideal timing, where the processors' passes after every step are most of the
   * work and follow the step one after the other. Splitting the step over threads
   * (ParallelEngine) then measured 4.5x slower than one thread, and running the processors' passes
   * on two threads 2.4x slower (docs/threads.md): the weights every pass writes move between the
   * two cores' caches at every step.
   */
  private firmwareOnOneThread(image: ChipImage): boolean {
    const chip = image.manifest.chip;
    return this.firmwareLearns(image) && (this.config.processor ?? 'auto') !== 'interpret' && translatorLoaded() && translatable(chip)
      && (this.config.processorTiming ?? chip.processor.timing) === 'ideal';
  }

  /** Whether the image's firmware does the learning in this configuration (a FirmwareRuntime runs it). */
  private firmwareLearns(image: ChipImage): boolean {
    return !!image.manifest.firmware && this.config.plasticity !== 'kernel' && image.manifest.learning.rule === 'le';
  }

  /**
   * The processors' implementation (ChipConfig.processor): translated firmware on the engine's
   * memory and the kernels' bus where it pays (ideal timing), else the reference interpreter. A
   * chip used before configure (no translator loaded) interprets.
   */
  private processorFactory(image: ChipImage, engine: Engine, timing: 'cycle' | 'ideal'): ProcessorFactory | undefined {
    const mode = this.config.processor ?? 'auto';
    if (mode === 'interpret' || !translatorLoaded()) return undefined;
    if (mode === 'auto' && timing === 'cycle') return undefined;
    return engineProcessorFactory(image, engine, this.config, mode);
  }

  /** Advances n steps: with learning on, through the processors' firmware when it runs, else by the engine's kernel. */
  private advance(n: number, learn: boolean, nudge: boolean): void {
    const engine = this.engine!;
    if (!learn || !this.runtime) {
      engine.step(n, { learn, nudge });
      if (learn) this.kernelLearningSteps += n;
      return;
    }
    this.checkFirmwareDt();
    this.runtime.advance(n, (k) => engine.step(k, { learn: false, nudge }));
  }

  /** The firmware's rates are per step of the dt it was linked for. */
  private checkFirmwareDt(): void {
    const fw = this.requireImage().manifest.firmware!;
    const dt = this.model!.dt_ms;
    if (fw.dt_ms !== undefined && Math.abs(fw.dt_ms - dt) > 1e-9 * dt) {
      throw new UserError({
        message: `the image's plasticity firmware was linked for dt = ${fw.dt_ms} ms, but this run steps dt = ${dt} ms; ` +
          `compile with "presentation": { "dt": ${dt} } (train does this for --dt), or use --plasticity kernel`,
      });
    }
  }

  /** present() with learning by the firmware: sample by sample, the processors stepping with the analog core. */
  private presentWithFirmware(o: PresentOptions, stepsPerSample: number, readout: number, out: Float32Array, block: number): void {
    const engine = this.engine!;
    const model = this.model!;
    this.checkFirmwareDt();
    const inputs = model.populations.filter((p) => p.model === 'input');
    const outputs = model.populations.filter((p) => p.role === 'output' && p.model !== 'input');
    const inputSize = inputs.reduce((a, p) => a + p.size, 0);
    const targetSize = outputs.reduce((a, p) => a + p.size, 0);
    const nudge = o.targets !== undefined && o.targets !== null;
    // As the engine's present(): with synaptic filtering the readout sees the output through a synapse.
    const view = engine.view(readout, filterOn(model) ? 'rbar' : 'r');
    const size = view.length;
    const step = (k: number) => engine.step(k, { learn: false, nudge });
    for (let n = 0; n < o.count; n++) {
      let off = n * inputSize;
      for (const p of inputs) {
        engine.setInput(p.index, o.inputs.subarray(off, off + p.size));
        off += p.size;
      }
      if (nudge) {
        let t = n * targetSize;
        for (const p of outputs) {
          engine.setTarget(p.index, o.targets!.subarray(t, t + p.size));
          t += p.size;
        }
      }
      this.runtime!.advance(stepsPerSample, step);
      out.set(view, n * size);
      if ((n + 1) % block === 0 || n + 1 === o.count) o.onProgress?.(n + 1);
    }
  }

  /** The engine, configuring the chip with defaults (chip seed 0, seed 1) if configure was never called. */
  private ready(): { engine: Engine; model: EmulatorModel } {
    if (!this.engine || !this.model) return this.realise();
    return { engine: this.engine, model: this.model };
  }

  private checkProjection(projection: number) {
    const projs = this.requireImage().manifest.projections;
    if (!Number.isInteger(projection) || projection < 0 || projection >= projs.length) {
      throw new UserError({ message: `no projection ${projection}; the image has projections 0..${projs.length - 1}` });
    }
    return projs[projection];
  }

  private neuronPopulation(name: string): number {
    const { model } = this.ready();
    const pi = model.populations.findIndex((p) => p.name === name);
    if (pi < 0) throw new UserError({ message: `unknown population '${name}'; the image has ${model.populations.map((p) => p.name).join(', ')}` });
    if (model.populations[pi].model === 'input') throw new UserError({ message: `population '${name}' is an input population; it has no neuron circuits` });
    return pi;
  }

  /** Puts every schedule's value in force at the engine's current step into the engine. */
  private applySchedules(): void {
    const engine = this.engine!;
    const now = engine.steps;
    for (const s of this.schedules.values()) {
      let k = -1;
      while (k + 1 < s.steps.length && s.base + s.steps[k + 1] <= now) k++;
      if (k === s.applied) continue;
      s.applied = k;
      const pop = s.pop;
      if (s.kind === 'input') engine.setInput(pop, k >= 0 ? s.values[k] : new Float32Array(engine.model.populations[pop].size));
      else engine.setTarget(pop, k >= 0 ? s.values[k] : null);
    }
  }

  /** The next step at which some schedule changes value (Infinity: none). */
  private nextChange(): number {
    const now = this.engine!.steps;
    let next = Infinity;
    for (const s of this.schedules.values()) {
      for (const k of s.steps) {
        if (s.base + k > now) {
          next = Math.min(next, s.base + k);
          break;
        }
      }
    }
    return next;
  }
}

/**
 * The weights a write leaves on the chip, [post][pre]: per forward block, codes round(w / scale)
 * (half away from zero) clamped to the chip's code range, times the block's scale and the synaptic
 * gain of each column on this chip instance; float chips store w times that gain.
 */
/** Calls fn(index into [post][pre], synaptic gain) for every weight of a projection's forward blocks. */
function forEachForwardWeight(image: ChipImage, config: ChipConfig, projection: number, fn: (index: number, gain: number) => void): void {
  const m = image.manifest;
  const pre = m.projections[projection].pre_size;
  const gainOf = synapseGainOf(m, config);
  for (const b of m.blocks) {
    if (b.projection !== projection || b.kind !== 'forward') continue;
    for (let c = 0; c < b.cols; c++) {
      const gain = gainOf(b.core, b.col0 + c);
      for (let s = 0; s < b.signals; s++) fn((b.neuron0 + c) * pre + b.sig0 + s, gain);
    }
  }
}

export function storedWeights(image: ChipImage, config: ChipConfig, projection: number, wPostPre: ArrayLike<number>): Float32Array {
  const m = image.manifest;
  const chip = m.chip;
  const j = m.projections[projection];
  const gainOf = synapseGainOf(m, config);
  const isFloat = chip.weights.kind === 'float32';
  const qmax = chip.weights.sign === 'per_row' ? 2 ** chip.weights.bits - 1 : 2 ** (chip.weights.bits - 1) - 1;
  const out = new Float32Array(j.pre_size * j.post_size);
  for (const b of m.blocks) {
    if (b.projection !== projection || b.kind !== 'forward') continue;
    for (let s = 0; s < b.signals; s++) {
      const k = b.sig0 + s;
      for (let c = 0; c < b.cols; c++) {
        const gain = gainOf(b.core, b.col0 + c);
        const i = b.neuron0 + c;
        const w = wPostPre[i * j.pre_size + k];
        if (isFloat) out[i * j.pre_size + k] = w * b.scale * gain;
        else {
          const q = w / b.scale;
          const code = Math.max(-qmax, Math.min(qmax, q < 0 ? -Math.round(-q) : Math.round(q)));
          // As realiseModel: the code times the array's float32 unit, gain x scale.
          out[i * j.pre_size + k] = code * Math.fround(gain * b.scale);
        }
      }
    }
  }
  return out;
}
