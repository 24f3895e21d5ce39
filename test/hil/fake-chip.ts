/**
 * A small deterministic Chip for the HIL tests: leaky tanh units over the image's projections,
 * weights drawn from the chip seed, noise from the run seed, a delta rule when learning. It is not
 * the emulator; it exists so the protocol can be tested against a Chip whose every output depends
 * on every argument, and it can be slowed down (delayMs) to test clients that leave mid-run.
 */
import { decodeImage } from '../../chip/image.js';
import type { ImageManifest } from '../../chip/image-model.js';
import { fail } from '../../common/diagnostics.js';
import { Rng } from '../../common/random.js';
import type { Chip, ChipConfig, CircuitParameters, PresentOptions, Recording, RunOptions, Schedule } from '../../emulator/chip-interface.js';

export interface FakeChipOptions {
  /** Wall-clock delay of every run and present, ms (to catch a client leaving mid-run). */
  delayMs?: number;
  /** Busy-waits this long in every run, blocking the event loop as a long emulation does, ms. */
  blockMs?: number;
  /** Called when the chip is closed. */
  onClose?: () => void;
}

export class FakeChip implements Chip {
  private m: ImageManifest | undefined;
  private cfg: ChipConfig = {};
  private W: Float32Array[] = [];
  private params = new Map<string, CircuitParameters>();
  private u = new Map<string, Float64Array>();
  private r = new Map<string, Float64Array>();
  private inputs: Record<string, Schedule> = {};
  private targets: Record<string, Schedule> = {};
  private t = 0;
  private noise = new Rng(1, 'fake-noise');
  closed = false;

  constructor(private readonly opts: FakeChipOptions = {}) {}

  private get manifest(): ImageManifest {
    if (!this.m) fail('no image loaded');
    return this.m;
  }

  async load(image: Uint8Array): Promise<ImageManifest> {
    this.m = decodeImage(image).manifest;
    await this.configure({});
    return this.m;
  }

  async configure(config: ChipConfig): Promise<void> {
    const m = this.manifest;
    this.cfg = config;
    const chipSeed = config.chipSeed ?? 0;
    const scale = config.mismatchScale ?? 1;
    this.W = m.projections.map((p) => {
      const rng = new Rng(chipSeed, `fake-w${p.index}`);
      return Float32Array.from({ length: p.post_size * p.pre_size }, () => (0.5 * rng.normal()) / Math.sqrt(p.pre_size));
    });
    this.params.clear();
    for (const pop of m.populations) {
      const rng = new Rng(chipSeed, `fake-p${pop.index}`);
      const n = pop.size;
      const f = (base: number, s: number) => Float32Array.from({ length: n }, () => base * (1 + s * scale * rng.normal()));
      this.params.set(pop.name, { tau_m_us: f(Math.max(pop.tau_m_us, 1), 0.1), tau_r_us: f(Math.max(pop.tau_r_us, 1), 0.1), gain: f(1, 0.05), offset: f(0.01, 1), bias: new Float32Array(n) });
    }
    this.noise = new Rng(config.seed ?? 1, 'fake-noise');
    await this.reset();
  }

  async writeInputs(inputs: Record<string, Schedule>, targets?: Record<string, Schedule>): Promise<void> {
    const m = this.manifest;
    for (const [name, s] of Object.entries({ ...inputs, ...(targets ?? {}) })) {
      const pop = m.populations.find((p) => p.name === name);
      if (!pop) fail(`unknown population '${name}'`, { pointer: `/inputs/${name}` });
      for (const [k, e] of s.entries()) {
        if (e.value.length !== pop.size) fail(`expected ${pop.size} values, got ${e.value.length}`, { pointer: `/inputs/${name}/${k}/value` });
      }
    }
    this.inputs = Object.fromEntries(Object.entries(inputs).map(([k, s]) => [k, s.map((e) => ({ t: e.t, value: Array.from(e.value) }))]));
    this.targets = Object.fromEntries(Object.entries(targets ?? {}).map(([k, s]) => [k, s.map((e) => ({ t: e.t, value: Array.from(e.value) }))]));
  }

  private valueAt(s: Schedule | undefined, t: number): ArrayLike<number> | undefined {
    let v: ArrayLike<number> | undefined;
    for (const e of s ?? []) if (e.t <= t + 1e-12) v = e.value;
    return v;
  }

  private step(dt: number, learn: boolean, nudge: boolean): void {
    const m = this.manifest;
    for (const pop of m.populations) {
      if (pop.role !== 'input') continue;
      const v = this.valueAt(this.inputs[pop.name], this.t);
      const r = this.r.get(pop.name)!;
      for (let i = 0; i < r.length; i++) r[i] = v ? v[i] : 0;
    }
    for (const pop of m.populations) {
      if (pop.role === 'input') continue;
      const u = this.u.get(pop.name)!;
      const r = this.r.get(pop.name)!;
      const prm = this.params.get(pop.name)!;
      const drive = new Float64Array(pop.size);
      for (const p of m.projections.filter((q) => q.to === pop.name)) {
        const pre = this.r.get(p.from)!;
        const w = this.W[p.index];
        for (let i = 0; i < p.post_size; i++) for (let j = 0; j < p.pre_size; j++) drive[i] += w[i * p.pre_size + j] * pre[j];
      }
      const target = nudge ? this.valueAt(this.targets[pop.name], this.t) : undefined;
      for (let i = 0; i < pop.size; i++) {
        const tau_ms = (prm.tau_m_us[i] * m.timing.speedup) / 1000;
        const e = target ? 0.1 * (target[i] - r[i]) : 0;
        u[i] += (dt / tau_ms) * (-u[i] + drive[i] + prm.bias[i] + e) + 0.001 * this.noise.normal();
        r[i] = Math.fround(Math.tanh(prm.gain[i] * u[i] + prm.offset[i]));
        u[i] = Math.fround(u[i]);
      }
      if (learn && target) {
        for (const p of m.projections.filter((q) => q.to === pop.name && q.plastic)) {
          const pre = this.r.get(p.from)!;
          const w = this.W[p.index];
          for (let i = 0; i < p.post_size; i++) for (let j = 0; j < p.pre_size; j++) w[i * p.pre_size + j] += 0.05 * dt * (target[i] - r[i]) * pre[j];
        }
      }
    }
    this.t += dt;
  }

  async run(o: RunOptions): Promise<Recording> {
    const m = this.manifest;
    if (this.opts.delayMs) await new Promise((r) => setTimeout(r, this.opts.delayMs));
    if (this.opts.blockMs) for (const t0 = Date.now(); Date.now() - t0 < this.opts.blockMs; );
    const dt = this.cfg.dtMs ?? m.timing.dt_ms;
    const steps = Math.round(o.durationMs / dt);
    const every = Math.max(1, Math.round((o.sampleEveryMs ?? dt) / dt));
    const record = o.record ?? m.populations.filter((p) => p.role === 'output').map((p) => p.name);
    for (const name of record) if (!this.u.has(name)) fail(`RUN: unknown population '${name}'`, { pointer: '/record' });
    const rec: Recording = { t_bio_ms: [], t_hw_us: [], record: Object.fromEntries(record.map((n) => [n, { r: [], u: [] }])), hw_us: (o.durationMs * 1000) / m.timing.speedup, steps };
    const nudge = o.nudge ?? Object.keys(this.targets).length > 0;
    for (let s = 1; s <= steps; s++) {
      this.step(dt, o.learn ?? false, nudge);
      if (s % every === 0) {
        rec.t_bio_ms.push(this.t);
        rec.t_hw_us.push((this.t * 1000) / m.timing.speedup);
        for (const n of record) {
          rec.record[n].r.push(Array.from(this.r.get(n)!));
          rec.record[n].u.push(Array.from(this.u.get(n)!));
        }
      }
    }
    return rec;
  }

  async present(o: PresentOptions): Promise<Float32Array> {
    const m = this.manifest;
    if (this.opts.delayMs) await new Promise((r) => setTimeout(r, this.opts.delayMs));
    const input = m.populations.find((p) => p.role === 'input')!;
    const output = m.populations.find((p) => p.name === o.readout);
    if (!output) fail(`PRESENT: unknown readout population '${o.readout}'`, { pointer: '/readout' });
    if (o.inputs.length !== o.count * o.inputSize) fail(`PRESENT: inputs hold ${o.inputs.length} values, expected count x input size = ${o.count * o.inputSize}`);
    const out = new Float32Array(o.count * output.size);
    const dt = this.cfg.dtMs ?? m.timing.dt_ms;
    for (let k = 0; k < o.count; k++) {
      this.inputs = { [input.name]: [{ t: 0, value: Array.from(o.inputs.subarray(k * o.inputSize, (k + 1) * o.inputSize)) }] };
      const tgtSize = o.targets ? o.targets.length / o.count : 0;
      this.targets = o.targets ? { [o.readout]: [{ t: 0, value: Array.from(o.targets.subarray(k * tgtSize, (k + 1) * tgtSize)) }] } : {};
      const steps = Math.round(o.tPresMs / dt);
      for (let s = 0; s < steps; s++) this.step(dt, o.learn, o.learn);
      out.set(this.r.get(output.name)!, k * output.size);
      if (o.onProgress && o.progressEvery && (k + 1) % o.progressEvery === 0) o.onProgress(k + 1);
    }
    return out;
  }

  async readWeights(projection: number): Promise<Float32Array> {
    const w = this.W[projection];
    if (!w) fail(`no projection ${projection}; the image has ${this.manifest.projections.length}`);
    return Float32Array.from(w);
  }

  async writeWeights(projection: number, weights: ArrayLike<number>): Promise<void> {
    const w = this.W[projection];
    if (!w) fail(`no projection ${projection}; the image has ${this.manifest.projections.length}`);
    if (weights.length !== w.length) fail(`projection ${projection} holds ${w.length} weights, got ${weights.length}`);
    for (let i = 0; i < w.length; i++) w[i] = Math.round(weights[i] * 64) / 64; // a 'resolution', as a chip has
  }

  async readParameters(population: string): Promise<CircuitParameters> {
    const p = this.params.get(population);
    if (!p) fail(`unknown population '${population}'`);
    return { tau_m_us: p.tau_m_us.slice(), tau_r_us: p.tau_r_us.slice(), gain: p.gain.slice(), offset: p.offset.slice(), bias: p.bias.slice() };
  }

  async writeParameters(population: string, params: Partial<CircuitParameters>): Promise<void> {
    const p = this.params.get(population);
    if (!p) fail(`unknown population '${population}'`);
    for (const [k, v] of Object.entries(params) as [keyof CircuitParameters, Float32Array][]) p[k].set(v);
  }

  async reset(): Promise<void> {
    for (const pop of this.manifest.populations) {
      this.u.set(pop.name, new Float64Array(pop.size));
      this.r.set(pop.name, new Float64Array(pop.size));
    }
    this.t = 0;
  }

  time(): { t_bio_ms: number; t_hw_us: number } {
    const speedup = this.m?.timing.speedup ?? 1;
    return { t_bio_ms: this.t, t_hw_us: (this.t * 1000) / speedup };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.opts.onClose?.();
  }
}
