/**
 * Pass 6, link: Timed → Linked. Assembles the built-in plasticity firmware (firmware-models/le.s)
 * once and writes, per core, the data table it runs on: the core's plastic forward blocks, the
 * transpose feedback blocks that must follow W^T, and the neuron columns whose biases learn, each
 * with its learning-rate constant eta · eta_scale · dt as float32 bits (float chips) or as a
 * fixed-point multiplier for ADC codes with the block scale folded in (fixed chips). The table's
 * byte layout is firmware-models/README.md's; le.s reads it, firmware-models/le-reference.ts and
 * the tests decode it with decodeTable.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../common/diagnostics.js';
import { projectRoot } from '../common/paths.js';
import type { ChipSpecT } from '../chip/spec.js';
import { biasLsb } from '../chip/parameter-dac.js';
import { assemble, type AssembledProgram } from '../isa/assembler.js';
import { adcCode, adcLaneCode, floatToBits } from '../isa/lanes.js';
import type { QuantisedBlock, Timed } from './ir.js';

/** Name of the built-in LE firmware and its source. */
export const LE_FIRMWARE = 'le';
/** Path of le.s in the package. */
export function leSourcePath(): string {
  return join(projectRoot(), 'firmware-models', 'le.s');
}

/** Table modes (le.s T_MODE). */
export const MODE = { float: 0, fixedPerSynapse: 1, fixedPerRow: 2 } as const;
/** Bytes of the table header, a block record and a bias record (le.s). */
export const HEADER_BYTES = 32;
export const BLOCK_BYTES = 48;
export const BIAS_BYTES = 32;
/** Block flags (le.s B_FLAGS). */
export const FLAG_INPUT_ROWS = 1;
export const FLAG_MIRROR = 2;
/** Largest number of analog steps one update may stand for (le.s's n is a 16-bit count in the table's units). */
export const NMAX = 65535;
/** Largest Q0.15 multiplier and shift of the fixed-point update. */
const KMAX = 32767;
const SMAX = 15;
/** Bytes kept free below the top of memory (le.s uses no stack; a margin for calls into C). */
const STACK_RESERVE = 64;

/** One synapse block as the firmware's table lists it. */
export interface TableBlock {
  /** Image block id. */
  block: number;
  projection: number;
  /** forward: W += rate e s^T; mirror: a transpose feedback block following W^T. */
  role: 'forward' | 'mirror';
  row0: number;
  signals: number;
  rows_per_signal: number;
  col0: number;
  cols: number;
  /** The rows carry an input population (its current input x). */
  input_rows: boolean;
  /** Observable the columns are read through: 3 = e (forward), 0 = r (mirror). */
  obs: 0 | 3;
  /** eta · eta_scale · dt, the weight change per unit of e · s in one step. */
  rate: number;
  /** Weight of one code: the block scale (1 on float chips). */
  unit: number;
  /** Float chips: float32 bits of rate. */
  rate_bits?: number;
  /** Fixed chips: codes per unit of (ADC code difference of the column) × (of the row) in one step, and its Q0.15 form. */
  codes_per_product?: number;
  k?: number;
  shift?: number;
  /** Analog steps one update may stand for at most (le.s B_NMAX: n is capped at it). */
  max_steps: number;
}

/** Columns of one population on the core whose biases learn. */
export interface TableBias {
  population: string;
  col0: number;
  cols: number;
  neuron0: number;
  /** eta · eta_scale · dt of the population's first plastic incoming projection. */
  rate: number;
  rate_bits?: number;
  /** Fixed chips: bias DAC codes per unit of ADC code difference of e in one step, and its fixed-point form. */
  codes_per_unit?: number;
  k?: number;
  shift?: number;
  preshift?: number;
  /** Analog steps one update may stand for at most (le.s BI_NMAX). */
  max_steps: number;
}

/** One core's table and where it sits in processor memory. */
export interface CoreTable {
  core: number;
  mode: number;
  /** ADC code of 0.0 in 16-bit lanes (fixed chips), and the value of one lane code. */
  adc_zero: number;
  adc_lsb: number;
  blocks: TableBlock[];
  biases: TableBias[];
  table_address: number;
  scratch_address: number;
  scratch_bytes: number;
  /** End of the memory the firmware uses (stack reserve below the top of memory not included). */
  memory_end: number;
}

/** The linked firmware: one text for every core, one data image per core with work to do. */
export interface LinkedFirmware {
  name: string;
  /** The Euler step the rates are per, biological ms. */
  dt_ms: number;
  text: Uint32Array;
  entry: number;
  data_base: number;
  symbols: Record<string, number>;
  cores: CoreTable[];
  /** Per core in `cores`: the bytes loaded at data_base (the program's .data with the table). */
  data: Uint8Array[];
}

export interface Linked {
  timed: Timed;
  /** Null when nothing learns (no LE rule or no plastic projection). */
  firmware: LinkedFirmware | null;
  warnings: string[];
}

let cached: AssembledProgram | undefined;

/** le.s assembled (once per process). Both its float and its fixed-point paths are kept; the table's mode selects one. */
export function assembleLe(): AssembledProgram {
  cached ??= assemble(readFileSync(leSourcePath(), 'utf8'), { file: 'firmware-models/le.s' });
  return cached;
}

/** ADC constants of the fixed-point update: the 16-bit lane code of 0.0, the value of one lane code, the largest |code − zero|. */
export function adcLane(chip: ChipSpecT): { zero: number; lsb: number; maxDelta: number } {
  const adc = chip.adc;
  const shift = Math.max(adc.bits - 16, 0);
  const lsb = ((adc.max - adc.min) / (2 ** adc.bits - 1)) * 2 ** shift;
  const zero = adcLaneCode(adcCode(0, adc), adc.bits, 16);
  const top = adcLaneCode(2 ** adc.bits - 1, adc.bits, 16);
  return { zero, lsb, maxDelta: Math.max(zero, top - zero) };
}

/**
 * The Q0.15 multiplier K and shift S with ((P · 2^preshift) · K >> 15) >> S ≈ c · P: the largest S
 * (most fraction bits) whose K fits 15 bits. `saturated`: even S = 0 needs a larger K (K is capped);
 * `vanishing`: K rounds to 0 at the finest S.
 */
export function fixedPoint(c: number, preshift = 0): { k: number; shift: number; saturated: boolean; vanishing: boolean } {
  for (let s = SMAX; s >= 0; s--) {
    const k = Math.round(c * 2 ** (s + 15 - preshift));
    if (k <= KMAX) return { k, shift: s, saturated: false, vanishing: s === SMAX && k === 0 };
  }
  return { k: KMAX, shift: 0, saturated: true, vanishing: false };
}

/**
 * The most analog steps one update of le.s may stand for: its n (steps since the record's last
 * update) is capped at this, so no update is larger than the one the network makes per presented
 * sample, eta · eta_scale · T_pres: the per-sample step of the exact-backprop reference (batch-1 SGD),
 * the step the network's learning rate is set for.
 *
 * Why: under cycle timing a processor that needs more analog time for a pass than a sample lasts
 * (bss2 on the MNIST MLP: one pass per ~2 700 steps = 27 samples) would otherwise apply one
 * instant's gradient, of one sample, with the weight of all the samples that passed: a step 27 times
 * the per-sample step, beyond batch-1 SGD's stable range, and learning diverges. Capped, every update
 * is a stable SGD step and a processor making p < 1 passes per sample learns with the fraction p of
 * the budget (effective rate p · eta). docs/on-chip-learning.md has the measured sweep of the cap.
 * Under ideal timing n = 1 and the cap never binds; it binds only when a pass takes longer than a
 * presentation. The chip enters through dt (its Euler step).
 */
export function updateCap(tPresMs: number, dtMs: number): number {
  return Math.max(1, Math.min(NMAX, Math.round(tPresMs / dtMs)));
}

/**
 * Runs the link pass; `dtMs` overrides the description's dt for the per-step rates (a run at another
 * dt), `tPresMs` its T_pres for the cap on n (updateCap), `maxSteps` sets the cap itself.
 */
export function link(t: Timed, opts: { dtMs?: number; tPresMs?: number; maxSteps?: number } = {}): Linked {
  const q = t.quantised;
  const l = q.placed.lowered;
  const { chip, network: net } = l;
  const warnings: string[] = [];
  const plastic = net.projections.filter((p) => p.plastic);
  if (net.learning.rule !== 'le' || plastic.length === 0) return { timed: t, firmware: null, warnings };

  const prog = assembleLe();
  const tableAt = prog.symbols.le_table;
  if (tableAt === undefined || prog.symbols.le_passes === undefined) throw new Error('link: le.s lacks le_table or le_passes');
  const isFloat = chip.weights.kind === 'float32';
  const mode = isFloat ? MODE.float : chip.weights.sign === 'per_row' ? MODE.fixedPerRow : MODE.fixedPerSynapse;
  const adc = adcLane(chip);
  const byName = new Map(net.populations.map((p) => [p.name, p]));
  const dtMs = opts.dtMs ?? t.dt_ms;
  const maxSteps = opts.maxSteps ?? updateCap(opts.tPresMs ?? t.t_pres_ms, dtMs);
  if (!(Number.isInteger(maxSteps) && maxSteps >= 1 && maxSteps <= NMAX)) throw new Error(`link: maxSteps must be an integer from 1 to ${NMAX} (got ${maxSteps})`);
  // The same product, in the same order, as the engine's kernel rate (emulator/engine.ts).
  const rateOf = (eta_scale: number) => net.learning.eta * eta_scale * dtMs;
  const blocks = q.blocks;
  // A transpose feedback block follows W^T with the forward blocks' code scale.
  const forwardScale = new Map<number, number>();
  for (const b of blocks) if (b.kind === 'forward' && !forwardScale.has(b.projection)) forwardScale.set(b.projection, b.scale);
  const noted = new Set<string>();
  const note = (key: string, text: string) => {
    if (!noted.has(key)) warnings.push(text);
    noted.add(key);
  };

  const tableBlock = (b: QuantisedBlock, role: TableBlock['role']): TableBlock => {
    const pr = net.projections[b.projection];
    const rate = rateOf(pr.eta_scale);
    const unit = role === 'forward' ? b.scale : forwardScale.get(b.projection) ?? 1;
    if (isFloat && b.rows_per_signal !== 1) throw new Error(`link: float chip block ${b.id} has ${b.rows_per_signal} rows per signal`);
    const out: TableBlock = {
      block: b.id, projection: b.projection, role,
      row0: b.row0, signals: b.signals, rows_per_signal: b.rows_per_signal, col0: b.col0, cols: b.cols,
      input_rows: role === 'forward' && byName.get(pr.from)!.role === 'input',
      obs: role === 'forward' ? 3 : 0,
      rate, unit, max_steps: maxSteps,
    };
    if (isFloat) out.rate_bits = floatToBits(rate);
    else {
      const c = (rate * adc.lsb * adc.lsb) / unit;
      const fp = fixedPoint(c);
      Object.assign(out, { codes_per_product: c, k: fp.k, shift: fp.shift });
      const what = `projection ${pr.from}→${pr.to}`;
      if (fp.saturated) note(`sat${b.projection}`, `${what}: the firmware's weight change per step (${c.toPrecision(3)} codes per ADC code product) exceeds its fixed-point range; updates saturate (lower eta or raise the block scale)`);
      if (fp.vanishing) note(`van${b.projection}`, `${what}: the firmware's weight change per step (${c.toPrecision(3)} codes per ADC code product) is below its fixed-point resolution; the weights will not learn`);
    }
    return out;
  };

  // Biases learn with the rate of their population's first plastic incoming projection (as the engine's kernel).
  const biasRate = new Map<string, number>();
  for (const p of plastic) if (!biasRate.has(p.to)) biasRate.set(p.to, rateOf(p.eta_scale));

  const cores: CoreTable[] = [];
  const data: Uint8Array[] = [];
  const memoryBytes = chip.processor.memory_kib * 1024;
  for (let core = 0; core < q.placed.system_cores; core++) {
    const tb: TableBlock[] = [];
    for (const b of blocks) {
      if (b.core !== core) continue;
      const pr = net.projections[b.projection];
      if (!pr.plastic) continue;
      if (b.kind === 'forward') tb.push(tableBlock(b, 'forward'));
      else if (net.learning.feedback === 'transpose') tb.push(tableBlock(b, 'mirror'));
    }
    const biases: TableBias[] = [];
    for (const [name, rate] of biasRate) {
      for (const cr of q.placed.columns[name] ?? []) {
        if (cr.core !== core || cr.chunk !== 0) continue;
        const bias: TableBias = { population: name, col0: cr.col0, cols: cr.count, neuron0: cr.neuron0, rate, max_steps: maxSteps };
        if (isFloat) bias.rate_bits = floatToBits(rate);
        else {
          const c = (rate * adc.lsb) / biasLsb(chip);
          let preshift = 0;
          while (preshift < 15 && adc.maxDelta * 2 ** (preshift + 1) <= KMAX) preshift++;
          const fp = fixedPoint(c, preshift);
          Object.assign(bias, { codes_per_unit: c, k: fp.k, shift: fp.shift, preshift });
          if (fp.saturated) note(`bsat${name}`, `population ${name}: the firmware's bias change per step exceeds its fixed-point range; updates saturate`);
          if (fp.vanishing) note(`bvan${name}`, `population ${name}: the firmware's bias change per step is below the bias DAC's resolution; biases will not learn`);
        }
        biases.push(bias);
      }
    }
    if (tb.length === 0 && biases.length === 0) continue;
    const headerAt = tableAt;
    const recordsEnd = headerAt + HEADER_BYTES + tb.length * BLOCK_BYTES + biases.length * BIAS_BYTES;
    const scratch = Math.ceil(recordsEnd / 16) * 16;
    const scratchBytes = Math.max(0, ...tb.map((b) => scratchNeed(b, isFloat)));
    const table: CoreTable = {
      core, mode, adc_zero: isFloat ? 0 : adc.zero, adc_lsb: isFloat ? 0 : adc.lsb, blocks: tb, biases,
      table_address: headerAt, scratch_address: scratch, scratch_bytes: scratchBytes, memory_end: scratch + scratchBytes,
    };
    if (table.memory_end + STACK_RESERVE > memoryBytes) {
      fail(
        `core ${core}: the plasticity firmware needs ${table.memory_end + STACK_RESERVE} bytes of processor memory (program ${prog.text.length * 4}, ` +
          `table ${recordsEnd - headerAt}, scratch ${scratchBytes} for its widest block, stack ${STACK_RESERVE}); the processor has ${memoryBytes} (memory_kib ${chip.processor.memory_kib})`,
        { file: net.file, pointer: '/projections' },
      );
    }
    cores.push(table);
    data.push(encodeTable(table, prog));
  }
  return {
    timed: t,
    firmware: { name: LE_FIRMWARE, dt_ms: dtMs, text: prog.text, entry: prog.entry, data_base: prog.dataBase, symbols: { ...prog.symbols }, cores, data },
    warnings,
  };
}

/** Scratch bytes one block's pass needs: its row-driver values and its column values, 128 bytes per vector (float: and the list of rows that carried a value, 8 bytes each). */
function scratchNeed(b: TableBlock, isFloat: boolean): number {
  if (isFloat) return Math.ceil(b.signals / 32) * 128 + Math.ceil(b.cols / 32) * 128 + 8 * b.signals;
  return Math.ceil((b.signals * b.rows_per_signal) / 64) * 128 + Math.ceil(b.cols / 64) * 128;
}

/** The bytes loaded at the program's data base for one core: le.s's own .data with the table at le_table. */
export function encodeTable(t: CoreTable, prog: Pick<AssembledProgram, 'data' | 'dataBase'>): Uint8Array {
  const start = t.table_address - prog.dataBase;
  const bytes = new Uint8Array(start + HEADER_BYTES + t.blocks.length * BLOCK_BYTES + t.biases.length * BIAS_BYTES);
  bytes.set(prog.data.subarray(0, Math.min(prog.data.length, start)));
  const w = new DataView(bytes.buffer);
  const blocksAt = t.table_address + HEADER_BYTES;
  const biasAt = blocksAt + t.blocks.length * BLOCK_BYTES;
  const head = [1, t.mode, t.blocks.length, blocksAt, t.biases.length, biasAt, t.scratch_address, t.adc_zero];
  head.forEach((v, i) => w.setInt32(start + 4 * i, v, true));
  t.blocks.forEach((b, n) => {
    const o = start + HEADER_BYTES + n * BLOCK_BYTES;
    const flags = (b.input_rows ? FLAG_INPUT_ROWS : 0) | (b.role === 'mirror' ? FLAG_MIRROR : 0);
    const rate = t.mode === MODE.float ? b.rate_bits! : b.k!;
    [b.row0, b.signals, b.rows_per_signal, b.col0, b.cols, rate, b.shift ?? 0, b.obs, flags, 0, 0, b.max_steps].forEach((v, i) => w.setInt32(o + 4 * i, v, true));
  });
  t.biases.forEach((b, n) => {
    const o = biasAt - t.table_address + start + n * BIAS_BYTES;
    const rate = t.mode === MODE.float ? b.rate_bits! : b.k!;
    [b.col0, b.cols, rate, b.shift ?? 0, 0, b.preshift ?? 0, b.max_steps].forEach((v, i) => w.setInt32(o + 4 * i, v, true));
  });
  return bytes;
}

/** The raw words of a core's table as le.s reads them (for tests and `inspect`). */
export interface DecodedTable {
  version: number;
  mode: number;
  scratch: number;
  adc_zero: number;
  blocks: { row0: number; signals: number; rps: number; col0: number; cols: number; rate: number; shift: number; obs: number; flags: number; last: number; nmax: number }[];
  biases: { col0: number; cols: number; rate: number; shift: number; last: number; preshift: number; nmax: number }[];
}

/** Reads a table back from processor memory (or from data bytes loaded at dataBase). */
export function decodeTable(mem: Uint8Array, tableAddress: number, base = 0): DecodedTable {
  const w = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  const at = (addr: number) => w.getInt32(addr - base, true);
  const t = tableAddress;
  const nBlocks = at(t + 8), blocksAt = at(t + 12), nBias = at(t + 16), biasAt = at(t + 20);
  const blocks = Array.from({ length: nBlocks }, (_, n) => {
    const o = blocksAt + n * BLOCK_BYTES;
    return { row0: at(o), signals: at(o + 4), rps: at(o + 8), col0: at(o + 12), cols: at(o + 16), rate: at(o + 20), shift: at(o + 24), obs: at(o + 28), flags: at(o + 32), last: at(o + 36), nmax: at(o + 44) };
  });
  const biases = Array.from({ length: nBias }, (_, n) => {
    const o = biasAt + n * BIAS_BYTES;
    return { col0: at(o), cols: at(o + 4), rate: at(o + 8), shift: at(o + 12), last: at(o + 16), preshift: at(o + 20), nmax: at(o + 24) };
  });
  return { version: at(t), mode: at(t + 4), scratch: at(t + 24), adc_zero: at(t + 28), blocks, biases };
}
