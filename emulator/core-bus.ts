/**
 * The plasticity processor's view of its core (emulator/processor/bus.ts's ProcessorBus) on the
 * WASM engine: one CoreBus per core maps the core's physical synapse array (chip.core.rows ×
 * chip.core.neurons) onto the engine's matrices through the image's synapse blocks.
 *
 * Rows. A forward block's array row row0 + s·rows_per_signal (+1 for the inhibitory row of a
 * per_row-sign chip) carries signal sig0 + s of the projection's pre population; its column
 * col0 + c is post neuron neuron0 + c. A feedback block's rows carry the post population's signals
 * (diff = ubrm − basal, the errors' source) and its columns are pre neurons. On a core every row
 * belongs to at most one block; rows outside blocks read 0 and ignore writes, and so do a row's
 * columns outside its block.
 *
 * Storage. Float chips: a row segment reads and writes the engine's weights directly (transpose
 * feedback B = W^T reads the forward weights). Fixed chips: the array holds codes. With sign per
 * row each signal has an excitatory and an inhibitory row, each holding a magnitude 0..2^bits − 1
 * (initialised from the image's signed codes: exc = max(code, 0), inh = max(−code, 0)); with sign per
 * synapse one row of signed codes. The engine's effective weight is (exc − inh) · block scale ·
 * block gain, updated on every write. A transpose feedback block has no storage of its own on the
 * emulator: it reads the forward codes transposed, and writes to it are dropped (counted in
 * `droppedWrites`), since the engine's feedback reads W itself (firmware-models/README.md says
 * what le.s does about it).
 *
 * Row drivers: what drove the row in the last analog step (r^{t-1} of a neuron population, the
 * input x^t of an input population, low-passed with synaptic filtering; for feedback rows the
 * post population's diff). Observables: r, u, r', e, diff, basal of the column's neuron (any chunk).
 * Parameters: the soma column (chunk 0) of a neuron holds its bias and trims (emulator/parameter-dac.ts).
 */
import type { ChipImage, ImageBlock } from '../chip/image-model.js';
import { biasCodeRange, biasLsb, trimLaneRange, trimLsb, valueToCode } from '../chip/parameter-dac.js';
import type { ChipSpecT, MismatchParameter } from '../chip/spec.js';
import type { ChipConfig } from './chip-interface.js';
import type { Engine, EngineParameters } from './engine.js';
import { calibrationTrims, synapseGainOf } from './instance.js';
import type { ProcessorBus } from './processor/bus.js';
import { trimValue } from './trims.js';

/** The analog step counter the buses of a chip share (it counts steps run while the processors run). */
export interface StepCounter {
  steps: number;
}

/** One stored block's codes (fixed chips): magnitudes per row of the pair, or signed codes. */
interface CodeBlock {
  block: ImageBlock;
  /** [signals][cols]: excitatory magnitudes (per_row) or signed codes (per_synapse). */
  exc: Int32Array;
  /** [signals][cols]: inhibitory magnitudes (per_row only). */
  inh: Int32Array | null;
  /** Effective weight of one code per column: block scale × the column's synaptic-input gain on this instance. */
  unit: Float32Array;
  /** Engine storage this block writes: weights [row k][stride] (forward) or B [row i][stride] (random feedback). */
  view: Float32Array;
  stride: number;
  forward: boolean;
}

/**
 * The synapse codes of a whole chip (fixed-weight chips): every stored block's codes, and per
 * projection a lookup from matrix element to its forward block (transpose feedback reads it).
 */
export class SynapseStore {
  readonly blocks = new Map<number, CodeBlock>();
  /** Per projection: forward block id of each element [pre][post] (-1: none). */
  private readonly owner = new Map<number, Int32Array>();
  private readonly posts = new Map<number, number>();
  readonly perRow: boolean;

  constructor(image: ChipImage, private readonly engine: Engine, config: ChipConfig) {
    const m = image.manifest;
    this.perRow = m.chip.weights.sign === 'per_row';
    const gainOf = synapseGainOf(m, config);
    for (const b of m.blocks) {
      if (!b.section) continue;
      const codes = image.sections.get(b.section);
      if (!codes) throw new Error(`image has no section ${b.section}`);
      const storage = b.kind === 'forward' ? engine.weightsView(b.projection) : engine.feedbackView(b.projection);
      // Random feedback of a projection whose pre is an input (or with learning off) is not in the engine.
      if (!storage) continue;
      const n = b.signals * b.cols;
      const exc = new Int32Array(n);
      const inh = this.perRow ? new Int32Array(n) : null;
      for (let i = 0; i < n; i++) {
        const c = codes[i];
        if (inh) {
          exc[i] = c > 0 ? c : 0;
          inh[i] = c < 0 ? -c : 0;
        } else exc[i] = c;
      }
      // The same float32 unit as instance.ts's realiseModel, so unchanged codes give unchanged weights.
      const unit = Float32Array.from({ length: b.cols }, (_, c) => gainOf(b.core, b.col0 + c) * b.scale);
      this.blocks.set(b.id, { block: b, exc, inh, unit, view: storage.view, stride: storage.stride, forward: b.kind === 'forward' });
      if (b.kind === 'forward') {
        const j = m.projections[b.projection];
        let own = this.owner.get(b.projection);
        if (!own) {
          own = new Int32Array(j.pre_size * j.post_size).fill(-1);
          this.owner.set(b.projection, own);
          this.posts.set(b.projection, j.post_size);
        }
        for (let s = 0; s < b.signals; s++) for (let c = 0; c < b.cols; c++) own[(b.sig0 + s) * j.post_size + b.neuron0 + c] = b.id;
      }
    }
  }

  /** Code magnitude (part 0 exc / 1 inh) or signed code of element (s, c) of a stored block. */
  code(cb: CodeBlock, idx: number, part: number): number {
    return part === 0 ? cb.exc[idx] : cb.inh![idx];
  }

  /** Sets a code and the engine's effective weight of that synapse. */
  setCode(cb: CodeBlock, s: number, c: number, part: number, value: number): void {
    const idx = s * cb.block.cols + c;
    if (part === 0) cb.exc[idx] = value;
    else cb.inh![idx] = value;
    const code = cb.inh ? cb.exc[idx] - cb.inh[idx] : cb.exc[idx];
    const b = cb.block;
    // Forward: W [pre signal][post neuron]; random feedback: B [post signal][pre neuron]: both row = signal.
    cb.view[(b.sig0 + s) * cb.stride + b.neuron0 + c] = code * cb.unit[c];
    if (cb.forward) this.engine.writeCode(b.projection, b.sig0 + s, b.neuron0 + c, code);
  }

  /** The forward block and element index holding W[k][i] of a projection (transpose reads), or null. */
  forwardElement(projection: number, k: number, i: number): { cb: CodeBlock; idx: number } | null {
    const own = this.owner.get(projection);
    if (!own) return null;
    const id = own[k * this.posts.get(projection)! + i];
    if (id < 0) return null;
    const cb = this.blocks.get(id)!;
    return { cb, idx: (k - cb.block.sig0) * cb.block.cols + (i - cb.block.neuron0) };
  }

  /** Re-reads the codes of a projection's forward blocks from the engine's weights (after a host write). */
  resync(projection: number): void {
    for (const cb of this.blocks.values()) {
      if (!cb.forward || cb.block.projection !== projection) continue;
      const b = cb.block;
      for (let s = 0; s < b.signals; s++) {
        for (let c = 0; c < b.cols; c++) {
          const q = cb.view[(b.sig0 + s) * cb.stride + b.neuron0 + c] / cb.unit[c];
          const code = q < 0 ? -Math.round(-q) : Math.round(q);
          const idx = s * b.cols + c;
          if (cb.inh) {
            cb.exc[idx] = code > 0 ? code : 0;
            cb.inh[idx] = code < 0 ? -code : 0;
          } else cb.exc[idx] = code;
        }
      }
    }
  }
}

/** What one row of a core's array is. */
interface RowInfo {
  block: ImageBlock;
  /** Signal index within the block. */
  s: number;
  /** 0: excitatory (or the only) row of the signal, 1: inhibitory row. */
  part: number;
  /** The row driver values this row reads (the pre population's drive, or the post population's diff). */
  driver: Float32Array;
  /** Float chips: engine storage; fixed chips: the block's codes (null for transpose feedback). */
  view: Float32Array | null;
  stride: number;
  codes: CodeBlock | null;
  transpose: boolean;
}

/** Per column: the neuron it computes for and the population's live views. */
interface ColumnInfo {
  pop: number;
  neuron: number;
  soma: boolean;
  /** r, u, r', e, diff, basal. */
  obs: Float32Array[];
}

/** The five parameter kinds of vldp/vstp, in selector order: engine key and trim parameter. */
const PARAM_KEYS: (keyof EngineParameters)[] = ['bias', 'tau_m_ms', 'tau_r_ms', 'gain', 'offset'];
const TRIM_PARAM: (MismatchParameter | null)[] = [null, 'tau_m', 'tau_r', 'gain', 'offset'];

/** Trim state of one neuron parameter of a population: the untrimmed value and the trim t in force, per neuron. */
export interface TrimState {
  base: Float64Array;
  t: Float64Array;
  view: Float32Array;
}

/** The trims of a chip: per `population:kind`, created on first use from the calibration in force. */
export class TrimTable {
  private readonly states = new Map<string, TrimState>();
  private readonly calibration: ReturnType<typeof calibrationTrims>;

  constructor(private readonly image: ChipImage, private readonly engine: Engine, config: ChipConfig) {
    this.calibration = calibrationTrims(image.manifest, config);
  }

  /** The state of parameter `kind` (1..4) of population `pop`. */
  get(pop: number, kind: number): TrimState {
    const key = `${pop}:${kind}`;
    let st = this.states.get(key);
    if (st) return st;
    const view = this.engine.parameterView(pop, PARAM_KEYS[kind]);
    const param = TRIM_PARAM[kind]!;
    const t = new Float64Array(view.length);
    // The calibration's trim of each neuron's soma column is in force at the start.
    const chip = this.image.manifest.chip;
    for (const cr of this.image.manifest.populations[pop].columns) {
      const codes = this.calibration?.get(cr.core)?.[param];
      if (!codes || cr.chunk !== 0) continue;
      for (let n = 0; n < cr.count; n++) t[cr.neuron0 + n] = trimValue(chip, codes[cr.col0 + n]);
    }
    const base = Float64Array.from(view, (v, i) => (param === 'offset' ? v - t[i] : v / (1 + t[i])));
    st = { base, t, view };
    this.states.set(key, st);
    return st;
  }

  /** The trims in force, per `population:kind` (checkpoints). */
  save(): Record<string, { base: Float64Array; t: Float64Array }> {
    return Object.fromEntries([...this.states].map(([k, v]) => [k, { base: v.base.slice(), t: v.t.slice() }]));
  }

  /** Puts saved trims back (the engine's parameter values are restored with its memory). */
  restore(saved: Record<string, { base: Float64Array; t: Float64Array }>): void {
    this.states.clear();
    for (const [key, v] of Object.entries(saved)) {
      const [pop, kind] = key.split(':').map(Number);
      this.states.set(key, { base: Float64Array.from(v.base), t: Float64Array.from(v.t), view: this.engine.parameterView(pop, PARAM_KEYS[kind]) });
    }
  }
}

/** The ProcessorBus of one core on the engine. */
export class CoreBus implements ProcessorBus {
  readonly rows: number;
  readonly columns: number;
  /** Writes to transpose feedback rows, which the emulator drops (B is W^T by construction). */
  droppedWrites = 0;
  /** Called by advanceAnalog (runToHalt-style hosts); the co-simulation runs the core itself. */
  onAdvance?: (steps: number) => void;

  private readonly rowInfo: (RowInfo | null)[];
  private readonly colInfo: (ColumnInfo | null)[];
  private readonly fixed: boolean;
  private readonly chip: ChipSpecT;
  private readonly tauRangeMs: { tau_m_ms: [number, number]; tau_r_ms: [number, number] };

  constructor(
    readonly core: number,
    image: ChipImage,
    private readonly engine: Engine,
    private readonly store: SynapseStore | null,
    private readonly counter: StepCounter,
    /** Trim state shared by all cores (a population may span cores). */
    private readonly trims: TrimTable,
  ) {
    const m = image.manifest;
    this.chip = m.chip;
    this.rows = m.chip.core.rows;
    this.columns = m.chip.core.neurons;
    this.fixed = m.chip.weights.kind !== 'float32';
    const us2ms = m.chip.speedup / 1000;
    this.tauRangeMs = {
      tau_m_ms: [m.chip.parameters.tau_m.min_us * us2ms, m.chip.parameters.tau_m.max_us * us2ms],
      tau_r_ms: [m.chip.parameters.tau_r.min_us * us2ms, m.chip.parameters.tau_r.max_us * us2ms],
    };
    const popIndex = new Map(m.populations.map((p) => [p.name, p.index]));

    this.rowInfo = new Array(this.rows).fill(null);
    for (const b of m.blocks) {
      if (b.core !== core) continue;
      const j = m.projections[b.projection];
      const pre = popIndex.get(j.from)!;
      const post = popIndex.get(j.to)!;
      const forward = b.kind === 'forward';
      const transpose = !forward && j.feedback === 'transpose';
      let view: Float32Array | null = null;
      let stride = 0;
      let codes: CodeBlock | null = null;
      if (this.fixed) codes = this.store?.blocks.get(b.id) ?? null;
      else {
        const st = forward || transpose ? engine.weightsView(b.projection) : engine.feedbackView(b.projection);
        if (st) ({ view, stride } = st);
      }
      // The compiler makes feedback blocks only for projections whose feedback the engine runs.
      if (!this.fixed && !view) throw new Error(`block ${b.id}: the engine holds no ${b.kind} weights for projection ${b.projection}`);
      const driver = forward ? engine.signalView(pre, 'drive') : engine.signalView(post, 'diff');
      for (let s = 0; s < b.signals; s++) {
        for (let part = 0; part < b.rows_per_signal; part++) {
          const row = b.row0 + s * b.rows_per_signal + part;
          if (row >= this.rows) throw new Error(`block ${b.id}: row ${row} outside the core's ${this.rows} rows`);
          this.rowInfo[row] = { block: b, s, part, driver, view, stride, codes, transpose };
        }
      }
    }

    this.colInfo = new Array(this.columns).fill(null);
    for (const p of m.populations) {
      if (p.role === 'input') continue;
      const obs = [engine.view(p.index, 'r'), engine.view(p.index, 'u'), engine.view(p.index, 'rp'), engine.view(p.index, 'e'), engine.signalView(p.index, 'diff'), engine.signalView(p.index, 'basal')];
      for (const cr of p.columns) {
        if (cr.core !== core) continue;
        for (let n = 0; n < cr.count; n++) this.colInfo[cr.col0 + n] = { pop: p.index, neuron: cr.neuron0 + n, soma: cr.chunk === 0, obs };
      }
    }
  }

  get analogSteps(): number {
    return this.counter.steps;
  }

  readSynapseRow(row: number, col0: number, out: Int32Array | Float32Array, lanes: number): void {
    const info = this.rowInfo[row];
    out.fill(0, 0, lanes);
    if (!info) return;
    const b = info.block;
    const [c0, c1] = overlap(col0, lanes, b.col0, b.cols);
    const sig = b.sig0 + info.s;
    for (let col = c0; col < c1; col++) {
      const c = col - b.col0;
      const nrn = b.neuron0 + c;
      let v: number;
      if (!this.fixed) {
        // Forward and random feedback: [signal][neuron]; transpose feedback: W[pre neuron][post signal].
        v = info.transpose ? info.view![nrn * info.stride + sig] : info.view![sig * info.stride + nrn];
      } else if (info.transpose) {
        const el = this.store!.forwardElement(b.projection, nrn, sig);
        v = el ? this.store!.code(el.cb, el.idx, info.part) : 0;
      } else {
        v = info.codes ? this.store!.code(info.codes, info.s * b.cols + c, info.part) : 0;
      }
      out[col - col0] = v;
    }
  }

  writeSynapseRow(row: number, col0: number, values: Int32Array | Float32Array, lanes: number): void {
    const info = this.rowInfo[row];
    if (!info) return;
    const b = info.block;
    const [c0, c1] = overlap(col0, lanes, b.col0, b.cols);
    if (info.transpose) {
      this.droppedWrites += c1 > c0 ? 1 : 0;
      return;
    }
    const sig = b.sig0 + info.s;
    const perRowMagnitude = this.fixed && this.store!.perRow;
    for (let col = c0; col < c1; col++) {
      const c = col - b.col0;
      if (!this.fixed) {
        info.view![sig * info.stride + b.neuron0 + c] = values[col - col0];
      } else if (info.codes) {
        // A row of a sign pair holds a magnitude: a negative write leaves 0.
        let v = values[col - col0];
        if (perRowMagnitude && v < 0) v = 0;
        this.store!.setCode(info.codes, info.s, c, info.part, v);
      }
    }
  }

  readObservable(kind: number, col0: number, out: Float32Array, lanes: number): void {
    for (let i = 0; i < lanes; i++) {
      const ci = this.colInfo[col0 + i];
      // Rate neurons have no refractory state: z (6) reads 0.
      out[i] = ci && kind < ci.obs.length ? ci.obs[kind][ci.neuron] : 0;
    }
  }

  readRowDrivers(row0: number, out: Float32Array, lanes: number): void {
    for (let i = 0; i < lanes; i++) {
      const info = this.rowInfo[row0 + i];
      out[i] = info ? info.driver[info.block.sig0 + info.s] : 0;
    }
  }

  readParameter(kind: number, col0: number, out: Int32Array | Float32Array, lanes: number): void {
    const codes = out instanceof Int32Array;
    for (let i = 0; i < lanes; i++) {
      const ci = this.colInfo[col0 + i];
      if (!ci || !ci.soma) {
        out[i] = 0;
        continue;
      }
      const value = kind === 0 ? this.engine.parameterView(ci.pop, 'bias')[ci.neuron] : this.trims.get(ci.pop, kind).t[ci.neuron];
      out[i] = codes ? valueToCode(value, this.lsb(kind), this.range(kind)) : value;
    }
  }

  writeParameter(kind: number, col0: number, values: Int32Array | Float32Array, lanes: number): void {
    const codes = values instanceof Int32Array;
    const lsb = this.lsb(kind);
    const range = this.range(kind);
    const tMax = this.chip.parameters.trim_range;
    for (let i = 0; i < lanes; i++) {
      const ci = this.colInfo[col0 + i];
      if (!ci || !ci.soma) continue;
      const bias = kind === 0 ? this.engine.parameterView(ci.pop, 'bias') : null;
      const st = kind === 0 ? null : this.trims.get(ci.pop, kind);
      const current = bias ? bias[ci.neuron] : st!.t[ci.neuron];
      let value: number;
      if (codes) {
        const code = Math.max(range.min, Math.min(range.max, values[i]));
        // A DAC cell written with the code it already holds keeps its value.
        if (code === valueToCode(current, lsb, range)) continue;
        value = code * lsb;
      } else {
        value = values[i];
        if (st) value = Math.max(-tMax, Math.min(tMax, value));
      }
      if (bias) bias[ci.neuron] = value;
      else this.setTrim(st!, kind, ci.neuron, value);
    }
  }

  private lsb(kind: number): number {
    return kind === 0 ? biasLsb(this.chip) : trimLsb(this.chip);
  }

  private range(kind: number): { min: number; max: number } {
    return kind === 0 ? biasCodeRange(this.chip) : trimLaneRange(this.chip);
  }

  advanceAnalog(steps: number): void {
    if (!this.onAdvance) throw new Error('CoreBus.advanceAnalog: the co-simulation advances the core; no host callback is set');
    this.onAdvance(steps);
  }

  private setTrim(t: TrimState, kind: number, neuron: number, x: number): void {
    t.t[neuron] = x;
    const key = PARAM_KEYS[kind];
    let v = key === 'offset' ? t.base[neuron] + x : t.base[neuron] * (1 + x);
    if (key === 'tau_m_ms' || key === 'tau_r_ms') {
      const [lo, hi] = this.tauRangeMs[key];
      v = Math.max(lo, Math.min(hi, v));
    }
    t.view[neuron] = v;
  }
}

/** Columns [c0, c1) of a block that a lanes-wide access from col0 touches. */
function overlap(col0: number, lanes: number, bcol0: number, bcols: number): [number, number] {
  return [Math.max(col0, bcol0), Math.min(col0 + lanes, bcol0 + bcols)];
}

/** The buses of every core of an image on one engine, sharing codes, trims and the step counter. */
export function createCoreBuses(image: ChipImage, engine: Engine, config: ChipConfig, counter: StepCounter): { buses: CoreBus[]; store: SynapseStore | null; trims: TrimTable } {
  const m = image.manifest;
  const store = m.chip.weights.kind === 'float32' ? null : new SynapseStore(image, engine, config);
  const trims = new TrimTable(image, engine, config);
  const buses: CoreBus[] = [];
  for (let core = 0; core < m.system.cores; core++) buses.push(new CoreBus(core, image, engine, store, counter, trims));
  return { buses, store, trims };
}
