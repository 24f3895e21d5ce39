/**
 * The translated processor's fast bus: tables in the engine's memory that kernels/bus.ts reads, so
 * translated firmware moves synapse rows, ADC reads, row drivers and biases without leaving
 * WebAssembly. The table of a core maps each array row to the engine's weights (float chips) and
 * each column to its neuron's observables and bias, exactly as emulator/core-bus.ts's CoreBus maps
 * them; whatever the kernels do not serve (fixed-weight codes, writes to transpose feedback rows,
 * trims, parameter DAC codes, ADC reads with read noise) goes through the CoreBus as on the generic
 * path. Also: MatrixBus, a ProcessorBus over a float matrix in kernel memory with the same table
 * (tests and benchmarks of the fast path without an image).
 */
import type binaryen from 'binaryen';
import type { ChipImage } from '../../chip/image-model.js';
import type { ChipSpecT } from '../../chip/spec.js';
import type { ChipConfig } from '../chip-interface.js';
import type { Engine } from '../engine.js';
import type { KernelMemory } from '../wasm.js';
import type { DecodedInstruction } from '../../isa/types.js';
import type { ProcessorBus } from './bus.js';
import { Processor, type ProcessorOptions } from './interpreter.js';
import type { EmitContext } from './translator-emit.js';
import { addFusedLast, countDropped, fusedLoop, fusedPathCounts, fusedRowUpdate, gatherer, HEADER_BYTES, ROW_KIND } from './fused-update.js';
import { addFusedNest, fusedNest, NEST_TABLE } from './fused-nest.js';
import type { BusLink } from './translator-module.js';
import {
  AUTO_TRANSLATE_AFTER, translatable, translatedStateBytes, TranslatedProcessor, type FirmwareProcessor, type KernelBusLink, type ProcessorMode, type TranslatedOptions,
} from './translator.js';

type E = binaryen.ExpressionRef;

export { fusedPathCounts, ROW_KIND };

/** Record sizes of kernels/bus.ts (row kinds and the header: fused-update.ts). */
const ROW_BYTES = 32;
const COL_BYTES = 32;
/** Row and column record +28: the run of consecutive addresses from the record on (kernels/bus.ts RUN). */
const RUN = 28;

/** One array row of a table. */
export interface RowRecord {
  kind: number;
  /** Address of the value at column bcol0 (float rows). */
  base: number;
  bcol0: number;
  bcols: number;
  /** Bytes from one column's value to the next. */
  step: number;
  /** Address of the row driver value (0: the row reads 0). */
  driver: number;
}

/** One column of a table: addresses of r, u, r', e, diff, basal and bias (0: none). */
export interface ColumnRecord {
  obs: number[];
  bias: number;
}

/** Bytes a table of `rows` x `columns` takes. */
export function busTableBytes(rows: number, columns: number): number {
  return HEADER_BYTES + rows * ROW_BYTES + columns * COL_BYTES;
}

/** Writes a table at `at` (busTableBytes bytes of kernel memory). */
export function writeBusTable(memory: WebAssembly.Memory, at: number, t: { rows: RowRecord[]; columns: ColumnRecord[]; adc: { bits: number; min: number; max: number } }): void {
  const dv = new DataView(memory.buffer);
  const rowsAt = at + HEADER_BYTES, colsAt = rowsAt + t.rows.length * ROW_BYTES;
  dv.setInt32(at, t.rows.length, true);
  dv.setInt32(at + 4, t.columns.length, true);
  dv.setUint32(at + 8, rowsAt, true);
  dv.setUint32(at + 12, colsAt, true);
  dv.setInt32(at + 16, t.adc.bits, true);
  dv.setFloat64(at + 24, t.adc.min, true);
  dv.setFloat64(at + 32, t.adc.max, true);
  t.rows.forEach((r, i) => {
    const o = rowsAt + i * ROW_BYTES;
    [r.kind, r.base, r.bcol0, r.bcols, r.step, r.driver].forEach((v, k) => dv.setUint32(o + 4 * k, v >>> 0, true));
    const full = (r.kind === ROW_KIND.float && r.step === 4) || r.kind === ROW_KIND.floatRead;
    dv.setInt32(o + NEST_TABLE.fullEnd, full ? Math.max(0, Math.min(r.bcols, t.columns.length - r.bcol0)) : 0, true);
  });
  // For the exchanged loops of fused-nest.ts: whether the float rows' weights are pairwise disjoint
  // and outside the table, and their span.
  const spans = t.rows.filter((r) => r.kind === ROW_KIND.float && r.step === 4 && r.bcols > 0).map((r) => [r.base, r.base + 4 * r.bcols]).sort((a, b) => a[0] - b[0]);
  const tableEnd = at + busTableBytes(t.rows.length, t.columns.length);
  const disjoint = spans.every(([lo, hi], i) => (i === 0 || spans[i - 1][1] <= lo) && (hi <= at || lo >= tableEnd));
  dv.setInt32(at + NEST_TABLE.disjoint, disjoint ? 1 : 0, true);
  dv.setUint32(at + NEST_TABLE.lo, spans.length ? spans[0][0] : 0, true);
  dv.setUint32(at + NEST_TABLE.hi, spans.length ? Math.max(...spans.map((x) => x[1])) : 0, true);
  t.columns.forEach((c, i) => {
    const o = colsAt + i * COL_BYTES;
    for (let k = 0; k < 6; k++) dv.setUint32(o + 4 * k, c.obs[k] >>> 0, true);
    dv.setUint32(o + 24, c.bias >>> 0, true);
  });
  // Runs (+28 of a row and a column record): how many records from this one on have their
  // addresses one float apart, so that a whole vector read or write is one copy (kernels/bus.ts).
  const next = (a: number, b: number) => (a === 0 ? b === 0 : b === a + 4);
  for (let i = t.rows.length - 1, run = 0; i >= 0; i--) {
    const d = t.rows[i].driver;
    run = d === 0 ? 0 : i + 1 < t.rows.length && t.rows[i + 1].driver === d + 4 ? run + 1 : 1;
    dv.setInt32(rowsAt + i * ROW_BYTES + RUN, run, true);
  }
  for (let i = t.columns.length - 1, run = 0; i >= 0; i--) {
    const c = t.columns[i], d = t.columns[i + 1];
    const joins = d !== undefined && c.obs.slice(0, 6).every((a, k) => next(a >>> 0, d.obs[k] >>> 0)) && next(c.bias >>> 0, d.bias >>> 0);
    run = joins ? run + 1 : 1;
    dv.setInt32(colsAt + i * COL_BYTES + RUN, run, true);
  }
}

/** Allocates from kernel memory only if it needs no growth (growing would detach the views the engine and its buses hold). */
export function allocWithoutGrowth(mem: KernelMemory, bytes: number): number | null {
  const end = Math.ceil(mem.usedBytes / 16) * 16 + Math.ceil(bytes / 16) * 16;
  if (end > mem.memory.buffer.byteLength) return null;
  return mem.alloc(bytes);
}

const addr = (view: Float32Array, index: number) => view.byteOffset + 4 * index;

/**
 * The table of one core of an image on an engine: rows and columns as CoreBus maps them (see the
 * file comment of emulator/core-bus.ts).
 */
export function coreBusTable(image: ChipImage, engine: Engine, core: number): { rows: RowRecord[]; columns: ColumnRecord[] } {
  const m = image.manifest;
  const fixed = m.chip.weights.kind !== 'float32';
  const popIndex = new Map(m.populations.map((p) => [p.name, p.index]));
  const rows: RowRecord[] = Array.from({ length: m.chip.core.rows }, () => ({ kind: ROW_KIND.none, base: 0, bcol0: 0, bcols: 0, step: 0, driver: 0 }));
  for (const b of m.blocks) {
    if (b.core !== core) continue;
    const j = m.projections[b.projection];
    const pre = popIndex.get(j.from)!;
    const post = popIndex.get(j.to)!;
    const forward = b.kind === 'forward';
    const transpose = !forward && j.feedback === 'transpose';
    const driver = forward ? engine.signalView(pre, 'drive') : engine.signalView(post, 'diff');
    const st = fixed ? null : forward || transpose ? engine.weightsView(b.projection) : engine.feedbackView(b.projection);
    if (!fixed && !st) throw new Error(`block ${b.id}: the engine holds no ${b.kind} weights for projection ${b.projection}`);
    for (let s = 0; s < b.signals; s++) {
      const sig = b.sig0 + s;
      for (let part = 0; part < b.rows_per_signal; part++) {
        const row = b.row0 + s * b.rows_per_signal + part;
        const r: RowRecord = { kind: ROW_KIND.host, base: 0, bcol0: b.col0, bcols: b.cols, step: 4, driver: addr(driver, sig) };
        if (st && transpose) Object.assign(r, { kind: ROW_KIND.floatRead, base: addr(st.view, b.neuron0 * st.stride + sig), step: 4 * st.stride });
        else if (st) Object.assign(r, { kind: ROW_KIND.float, base: addr(st.view, sig * st.stride + b.neuron0) });
        rows[row] = r;
      }
    }
  }
  const columns: ColumnRecord[] = Array.from({ length: m.chip.core.neurons }, () => ({ obs: [0, 0, 0, 0, 0, 0], bias: 0 }));
  for (const p of m.populations) {
    if (p.role === 'input') continue;
    const obs = [engine.view(p.index, 'r'), engine.view(p.index, 'u'), engine.view(p.index, 'rp'), engine.view(p.index, 'e'), engine.signalView(p.index, 'diff'), engine.signalView(p.index, 'basal')];
    const bias = engine.parameterView(p.index, 'bias');
    for (const cr of p.columns) {
      if (cr.core !== core) continue;
      for (let n = 0; n < cr.count; n++) {
        const neuron = cr.neuron0 + n;
        columns[cr.col0 + n] = { obs: obs.map((v) => addr(v, neuron)), bias: cr.chunk === 0 ? addr(bias, neuron) : 0 };
      }
    }
  }
  return { rows, columns };
}

/** The kernel functions the translated module imports (name, parameter count; all i32, results i32 or none). */
const KERNEL_IMPORTS: { name: string; params: number; returns: boolean }[] = [
  { name: 'pbus_lds_f', params: 5, returns: true },
  { name: 'pbus_sts_f', params: 5, returns: true },
  { name: 'pbus_adc_f', params: 5, returns: false },
  { name: 'pbus_adc_i', params: 6, returns: false },
  { name: 'pbus_rowd_f', params: 4, returns: false },
  { name: 'pbus_rowd_i', params: 5, returns: false },
  { name: 'pbus_ldp_f', params: 5, returns: true },
  { name: 'pbus_stp_f', params: 5, returns: true },
];

/**
 * The link of a translated module to the kernels' bus functions for the table at `table`:
 * float-lane rows, ADC reads (integer lanes only without read noise), row drivers and biases.
 */
export function kernelBusLink(
  kernelExports: Record<string, unknown>, table: number,
  opts: { adcNoise: boolean; memory?: WebAssembly.Memory; bus?: ProcessorBus; countFusedPaths?: boolean },
): KernelBusLink {
  for (const f of KERNEL_IMPORTS) {
    if (typeof kernelExports[f.name] !== 'function') throw new Error(`kernels.wasm has no ${f.name}: rebuild the kernels (npm run build:kernels)`);
  }
  const link: BusLink & { kind: 'kernel' } = {
    kind: 'kernel',
    imports: KERNEL_IMPORTS.map((f) => ({ name: f.name, params: f.params, returns: f.returns })),
    emit: (c: EmitContext, d, host) => {
      const m = c.m, i32 = c.B.i32, none = c.B.none;
      const [base, sfx] = d.def.mnemonic.split('.');
      const float = sfx === 'f';
      const w = sfx === 'b' ? 8 : sfx === 'h' ? 16 : 32;
      const lanes = m.i32.const((c.vbytes * 8) / w);
      const vreg = m.i32.const(c.L.vregs + d.rd * c.vbytes);
      const T = m.i32.const(table);
      const call = (name: string, args: E[], returns: boolean) => m.call(name, [T, ...args], returns ? i32 : none);
      // A kernel that returns 1 left the instruction to the host.
      const orHost = (e: E) => [m.if(e, host())];
      // Kernels read a source register from, and write a destination register into, the register file in memory.
      const reads = (code: E[]) => [...c.vflush(d.rd), ...code];
      const writes = (code: E[]) => [...code, ...c.vreload(d.rd)];
      switch (base) {
        case 'vlds':
          return float ? rowAccess(c, d, table, false, writes(orHost(call('pbus_lds_f', [c.x(d.rs1), c.x(d.rs2), lanes, vreg], true)))) : null;
        case 'vsts':
          return float ? rowAccess(c, d, table, true, reads(orHost(call('pbus_sts_f', [c.x(d.rs1), c.x(d.rs2), lanes, vreg], true)))) : null;
        case 'vadc':
          // z (6), a lif neuron's refractory state, is not in the rate columns' tables: the host path reads it.
          if (d.rs1 >= 6) return null;
          if (float) return writes([call('pbus_adc_f', [m.i32.const(d.rs1), c.x(d.rs2), lanes, vreg], false)]);
          return opts.adcNoise ? null : writes([call('pbus_adc_i', [m.i32.const(d.rs1), c.x(d.rs2), lanes, vreg, m.i32.const(w)], false)]);
        case 'vrowd':
          if (float) return writes([call('pbus_rowd_f', [c.x(d.rs1), lanes, vreg], false)]);
          return opts.adcNoise ? null : writes([call('pbus_rowd_i', [c.x(d.rs1), lanes, vreg, m.i32.const(w)], false)]);
        case 'vldp':
          return float ? writes(orHost(call('pbus_ldp_f', [m.i32.const(d.rs1), c.x(d.rs2), lanes, vreg], true))) : null;
        case 'vstp':
          return float ? reads(orHost(call('pbus_stp_f', [m.i32.const(d.rs1), c.x(d.rs2), lanes, vreg], true))) : null;
        default:
          return null;
      }
    },
  };
  // LECHIP_TRANSLATOR_NO_FUSE / _NO_LOOP / _NO_NEST turn the fused update / the fused row loop / the exchanged loops off (A/B runs).
  const count = opts.countFusedPaths ?? false;
  if (!process.env.LECHIP_TRANSLATOR_NO_FUSE) {
    link.fuseRowUpdate = (c, ds, unfused, pending) => fusedRowUpdate(c, ds, table, unfused, pending, count);
    if (!process.env.LECHIP_TRANSLATOR_NO_LOOP) {
      link.fusedLoop = (c, ds, frame) => fusedLoop(c, ds, frame, table, count);
      link.addFusedLast = addFusedLast;
      if (!process.env.LECHIP_TRANSLATOR_NO_NEST) {
        link.fusedNest = (c, n, frame) => fusedNest(c, n, frame, table);
        link.addFusedNest = (Bn, m, L, n, o) => addFusedNest(Bn, m, L, n, table, o);
      }
    }
  }
  // Writes the kernels dropped on transpose feedback rows go to the bus's counter, as CoreBus counts its own.
  const counted = opts.bus as (ProcessorBus & { droppedWrites?: number }) | undefined;
  let u = new Uint32Array(0);
  const sync = opts.memory && counted && typeof counted.droppedWrites === 'number'
    ? () => {
        if (u.length === 0) u = new Uint32Array(opts.memory!.buffer, table + 48, 1); // first use, or the memory grew
        if (u[0] !== 0) {
          counted.droppedWrites! += u[0];
          u[0] = 0;
        }
      }
    : undefined;
  const mem = opts.memory;
  const counts = opts.countFusedPaths && mem ? () => fusedPathCounts(mem, table) : undefined;
  return { exports: kernelExports, link, sync, fusedPathCounts: counts };
}

/**
 * vlds.f / vsts.f inline, for the rows kernels/bus.ts serves on its common paths, doing exactly what
 * pbus_lds_f / pbus_sts_f do there. With n the lanes the row's block and the array hold from col0
 * on (a multiple of 4, at least 4, col0 inside the block):
 *   float rows (4 bytes per column)  chunks below n load from / store to the weights directly,
 *                                    chunks past them read 0 (stores leave them);
 *   transpose feedback rows          loads gather the strided column, chunks past n read 0;
 *                                    stores are dropped and counted at header + 48.
 * Anything else runs `slow` (the kernel call). The row and column were checked against the array before.
 */
function rowAccess(c: EmitContext, d: DecodedInstruction, table: number, store: boolean, slow: E[]): E[] {
  const m = c.m, i32 = c.B.i32;
  const lanes = c.vbytes / 4;
  const rec = c.ti(1), off = c.ti(2), at = c.ti(3), n = c.ti(4), kind = c.ti(5), ok = c.ti(6);
  const get = (i: number) => m.local.get(i, i32);
  const field = (o: number) => m.i32.load(o, 4, get(rec));
  const k32 = (v: number) => m.i32.const(v);
  const zero = () => m.v128.const(new Array(16).fill(0));
  const full = () => m.i32.eq(get(n), k32(lanes));
  // Chunk by chunk: `inside` for chunks below n, `outside` (may be null) for the rest; one straight path when n covers the register.
  const chunked = (inside: (k: number) => E, outside: ((k: number) => E) | null): E => {
    const all: E[] = [], part: E[] = [];
    for (let k = 0; k < c.chunks; k++) {
      all.push(inside(k));
      const test = m.i32.lt_s(k32(4 * k), get(n));
      part.push(outside ? m.if(test, inside(k), outside(k)) : m.if(test, inside(k)));
    }
    return m.if(full(), m.block(null, all), m.block(null, part));
  };
  let floatRow: E, feedbackRow: E;
  if (store) {
    floatRow = chunked((k) => m.v128.store(16 * k, 4, get(at), c.vget(d.rd, k)), null);
    feedbackRow = countDropped(c, table);
  } else {
    floatRow = chunked((k) => c.vset(d.rd, k, m.v128.load(16 * k, 4, get(at))), (k) => c.vset(d.rd, k, zero()));
    const g = gatherer(c, at, c.ti(7), c.ti(0));
    feedbackRow = m.block(null, [g.start(rec, get(off)), chunked((k) => c.vset(d.rd, k, g.chunk()), (k) => c.vset(d.rd, k, zero()))]);
  }
  const clampN = (b: () => E) => m.local.set(n, m.select(m.i32.lt_s(get(n), b()), get(n), b()));
  return [
    m.local.set(rec, m.i32.add(k32(table + HEADER_BYTES), m.i32.shl(c.x(d.rs1), k32(5)))),
    m.local.set(kind, field(0)),
    m.local.set(off, m.i32.sub(c.x(d.rs2), field(8))),
    // n = min(lanes, bcols - off, columns - col0)
    m.local.set(n, m.i32.sub(field(12), get(off))),
    clampN(() => k32(lanes)),
    clampN(() => m.i32.sub(k32(c.columns), c.x(d.rs2))),
    m.local.set(ok, m.i32.and(m.i32.and(m.i32.ge_s(get(off), k32(0)), m.i32.gt_s(get(n), k32(0))), m.i32.eqz(m.i32.and(get(n), k32(3))))),
    m.if(
      m.i32.and(get(ok), m.i32.and(m.i32.eq(get(kind), k32(ROW_KIND.float)), m.i32.eq(field(16), k32(4)))),
      m.block(null, [m.local.set(at, m.i32.add(field(4), m.i32.shl(get(off), k32(2)))), floatRow]),
      m.if(m.i32.and(get(ok), m.i32.eq(get(kind), k32(ROW_KIND.floatRead))), feedbackRow, m.block(null, slow)),
    ),
  ];
}

/**
 * A processor factory for FirmwareRuntime (its makeProcessor) on an engine: translated processors
 * keep their state in the engine's memory and use the kernels' bus on a table of their core. Where
 * the engine's memory has no room left without growing, or the chip cannot be translated, the
 * processor falls back to its own memory and the generic bus (or to the interpreter). 'auto'
 * translates after AUTO_TRANSLATE_AFTER instructions; call loadTranslator() first.
 */
export function engineProcessorFactory(
  image: ChipImage, engine: Engine, config: ChipConfig, mode: ProcessorMode, extra: Partial<TranslatedOptions> = {},
  diagnostics: { countFusedPaths?: boolean } = {},
): (opts: ProcessorOptions) => FirmwareProcessor {
  void config;
  return (opts) => {
    const translateAfter = extra.translateAfter ?? (mode === 'translate' ? 0 : AUTO_TRANSLATE_AFTER);
    const fallback = (): FirmwareProcessor => new TranslatedProcessor({ ...opts, ...extra, translateAfter });
    if (mode === 'interpret' || !translatable(opts.chip)) return mode === 'translate' ? fallback() : fallbackInterpreter(opts);
    const core = opts.core ?? 0;
    const chip = opts.chip as ChipSpecT;
    const mem = engine.mem;
    const tableBytes = busTableBytes(chip.core.rows, chip.core.neurons);
    const stateBase = allocWithoutGrowth(mem, translatedStateBytes(chip));
    const table = stateBase === null ? null : allocWithoutGrowth(mem, tableBytes);
    if (stateBase === null || table === null) return fallback();
    writeBusTable(mem.memory, table, { ...coreBusTable(image, engine, core), adc: chip.adc });
    const kernels = kernelBusLink(mem.k as unknown as Record<string, unknown>, table, { adcNoise: (opts.adcNoiseLsb ?? 0) > 0, memory: mem.memory, bus: opts.bus, ...diagnostics });
    return new TranslatedProcessor({ ...opts, ...extra, translateAfter, memory: { memory: mem.memory, base: stateBase }, kernels });
  };
}

function fallbackInterpreter(opts: ProcessorOptions): FirmwareProcessor {
  return new Processor(opts);
}

/**
 * A ProcessorBus over a float32 weight matrix [rows][columns] (float lanes) in kernel memory, with row drivers
 * and observables there too, and the kernels' table of it: the same bus for the interpreter
 * (TypeScript methods) and for translated code (kernels), for tests and benchmarks.
 */
export class MatrixBus implements ProcessorBus {
  readonly weights: Float32Array;
  readonly rowDrivers: Float32Array;
  /** [6][columns]: r, u, r', e, diff, basal. */
  readonly observables: Float32Array;
  readonly bias: Float32Array;
  /** Address of the kernels' table of this bus. */
  readonly table: number;
  steps = 0;

  constructor(readonly mem: KernelMemory, readonly rows: number, readonly columns: number, adc: { bits: number; min: number; max: number }) {
    const w = mem.allocF32(rows * columns), d = mem.allocF32(rows), o = mem.allocF32(6 * columns), b = mem.allocF32(columns);
    this.table = mem.alloc(busTableBytes(rows, columns));
    this.weights = mem.f32(w, rows * columns);
    this.rowDrivers = mem.f32(d, rows);
    this.observables = mem.f32(o, 6 * columns);
    this.bias = mem.f32(b, columns);
    writeBusTable(mem.memory, this.table, {
      rows: Array.from({ length: rows }, (_, r) => ({ kind: ROW_KIND.float, base: w + 4 * r * columns, bcol0: 0, bcols: columns, step: 4, driver: d + 4 * r })),
      columns: Array.from({ length: columns }, (_, c) => ({ obs: [0, 1, 2, 3, 4, 5].map((k) => o + 4 * (k * columns + c)), bias: b + 4 * c })),
      adc,
    });
  }

  get analogSteps(): number {
    return this.steps;
  }
  // Float lanes are copied as bits (TypedArray set), as the kernels copy them: an element-wise copy
  // through JavaScript numbers may quiet a signalling NaN, depending on V8's tier.
  readSynapseRow(row: number, col0: number, out: Int32Array | Float32Array, lanes: number): void {
    const at = row * this.columns + col0;
    if (out instanceof Float32Array) out.set(this.weights.subarray(at, at + lanes));
    else for (let i = 0; i < lanes; i++) out[i] = this.weights[at + i];
  }
  writeSynapseRow(row: number, col0: number, values: Int32Array | Float32Array, lanes: number): void {
    const at = row * this.columns + col0;
    if (values instanceof Float32Array) this.weights.set(values.subarray(0, lanes), at);
    else for (let i = 0; i < lanes; i++) this.weights[at + i] = values[i];
  }
  readObservable(kind: number, col0: number, out: Float32Array, lanes: number): void {
    // z (6): no lif neurons here, reads 0.
    for (let i = 0; i < lanes; i++) out[i] = kind < 6 ? this.observables[kind * this.columns + col0 + i] : 0;
  }
  readRowDrivers(row0: number, out: Float32Array, lanes: number): void {
    for (let i = 0; i < lanes; i++) out[i] = this.rowDrivers[row0 + i];
  }
  readParameter(kind: number, col0: number, out: Int32Array | Float32Array, lanes: number): void {
    for (let i = 0; i < lanes; i++) out[i] = kind === 0 ? this.bias[col0 + i] : 0;
  }
  writeParameter(kind: number, col0: number, values: Int32Array | Float32Array, lanes: number): void {
    if (kind !== 0) return;
    if (values instanceof Float32Array) this.bias.set(values.subarray(0, lanes), col0);
    else for (let i = 0; i < lanes; i++) this.bias[col0 + i] = values[i];
  }
  advanceAnalog(steps: number): void {
    this.steps += steps;
  }
}
