/**
 * The tau adaptation run by the plasticity processors (firmware-models/tau-adapt.s) on the tau_m
 * trim DACs of a chip instance: the host assembles the program, writes each core's table (one
 * record per adapted population's columns on that core, with the rate constant K), and runs the
 * protocol of firmware-models/tau-adapt-reference.ts layer by layer over the samples, the analog
 * core stepping with the processors (emulator/firmware-runtime.ts) and no nudging or weight
 * learning. The trims the firmware leaves are read back as DAC codes into a calibration, as
 * emulator/tau-adapt.ts does for the engine's ideal-timing rule.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChipImage } from '../chip/image-model.js';
import { projectRoot } from '../common/paths.js';
import { assemble, type AssembledProgram } from '../isa/assembler.js';
import { adcCode, adcLaneCode, floatToBits } from '../isa/lanes.js';
import { adaptationOrder, meanAbsGap, type TauAdaptOptions, type TauAdaptPass } from '../firmware-models/tau-adapt-reference.js';
import type { Calibration } from './calibration/format.js';
import type { ChipConfig } from './chip-interface.js';
import { Engine } from './engine.js';
import { FirmwareRuntime, type ProcessorTiming } from './firmware-runtime.js';
import { realiseModel } from './instance.js';
import { adaptTauOnChip, type TauAdaptResult } from './tau-adapt.js';
import { codeFor } from './trims.js';

/** Table layout of tau-adapt.s. */
export const TA = { HEADER_BYTES: 32, RECORD_BYTES: 16, MODE_FLOAT: 0, MODE_FIXED: 1 } as const;
/** r' above this is the activation's linear region (r' = gain there, 0 outside). */
export const RP_THRESHOLD = 0.5;

let cached: AssembledProgram | undefined;

/** tau-adapt.s assembled (once per process). */
export function assembleTauAdapt(): AssembledProgram {
  cached ??= assemble(readFileSync(join(projectRoot(), 'firmware-models', 'tau-adapt.s'), 'utf8'), { file: 'firmware-models/tau-adapt.s' });
  return cached;
}

/** One record: columns [col0, col0 + cols) of a core, rate K (float: eta / tau^2; fixed: Q0.15 with shift S). */
export interface TaRecord {
  col0: number;
  cols: number;
  k: number;
  s: number;
}

/**
 * The fixed-point rate of a population: an update changes the trim code by
 * eta L^2 dr db / (tau^2 lsb) for ADC code differences dr, db (L: the ADC's step, lsb: the trim's),
 * which tau-adapt.s computes as dr db K / 2^(16 + S); the largest S <= 15 with K <= 32767 keeps most bits.
 */
export function fixedRate(chip: ChipImage['manifest']['chip'], eta: number, tauMs: number): { k: number; s: number } {
  const L = (chip.adc.max - chip.adc.min) / (2 ** chip.adc.bits - 1);
  const lsb = chip.parameters.trim_range / 2 ** (chip.parameters.dac_bits - 1);
  const c = (eta * L * L) / (tauMs * tauMs * lsb);
  for (let s = 15; s >= 0; s--) {
    const k = Math.round(c * 2 ** (16 + s));
    if (k <= 32767) return { k: Math.max(k, 0), s };
  }
  return { k: 32767, s: 0 };
}

/** Records of population pi on each core (its chunk-0 column ranges). */
export function recordsOf(image: ChipImage, pi: number, eta: number): Map<number, TaRecord[]> {
  const chip = image.manifest.chip;
  const p = image.manifest.populations[pi];
  const tau = p.tau_m_ms;
  const out = new Map<number, TaRecord[]>();
  for (const cr of p.columns) {
    if (cr.chunk !== 0) continue;
    const rate = chip.weights.kind === 'float32' ? { k: floatToBits(eta / (tau * tau)), s: 0 } : fixedRate(chip, eta, tau);
    out.set(cr.core, [...(out.get(cr.core) ?? []), { col0: cr.col0, cols: cr.count, ...rate }]);
  }
  return out;
}

/** The bytes of one core's data: tau-adapt.s's .data with the table at ta_table. */
export function encodeTaTable(prog: AssembledProgram, mode: number, threshold: number, records: TaRecord[]): Uint8Array {
  const at = prog.symbols.ta_table - prog.dataBase;
  const bytes = new Uint8Array(at + TA.HEADER_BYTES + records.length * TA.RECORD_BYTES);
  bytes.set(prog.data.subarray(0, Math.min(prog.data.length, at)));
  const w = new DataView(bytes.buffer);
  const recs = prog.symbols.ta_table + TA.HEADER_BYTES;
  [mode, records.length, recs, threshold, 0, 0].forEach((v, i) => w.setInt32(at + 4 * i, v, true));
  records.forEach((r, n) => [r.col0, r.cols, r.k, r.s].forEach((v, i) => w.setInt32(at + TA.HEADER_BYTES + n * TA.RECORD_BYTES + 4 * i, v, true)));
  return bytes;
}

/** The r' threshold as the table holds it: float32 bits, or the ADC code of RP_THRESHOLD in 16-bit lanes. */
export function thresholdWord(chip: ChipImage['manifest']['chip']): number {
  if (chip.weights.kind === 'float32') return floatToBits(RP_THRESHOLD);
  return adcLaneCode(adcCode(RP_THRESHOLD, chip.adc), chip.adc.bits, 16);
}

/** A copy of the image whose firmware is tau-adapt.s with the given per-core records. */
export function tauAdaptImage(image: ChipImage, records: Map<number, TaRecord[]>, dtMs: number): ChipImage {
  const prog = assembleTauAdapt();
  const chip = image.manifest.chip;
  const mode = chip.weights.kind === 'float32' ? TA.MODE_FLOAT : TA.MODE_FIXED;
  const sections = new Map(image.sections);
  sections.set('tau_adapt_text', Uint32Array.from(prog.text));
  sections.set('tau_adapt_symbols', new TextEncoder().encode(JSON.stringify(prog.symbols)));
  const cores: { core: number; data_section: string }[] = [];
  for (let core = 0; core < image.manifest.system.cores; core++) {
    const name = `tau_adapt_data:${core}`;
    sections.set(name, encodeTaTable(prog, mode, thresholdWord(chip), records.get(core) ?? []));
    cores.push({ core, data_section: name });
  }
  return {
    manifest: {
      ...image.manifest,
      firmware: { name: 'tau-adapt', entry: prog.entry, text_section: 'tau_adapt_text', symbols_section: 'tau_adapt_symbols', dt_ms: dtMs, data_base: prog.dataBase, cores },
    },
    sections,
  };
}

export interface FirmwareTauAdaptOptions extends TauAdaptOptions {
  /** Processor timing (default ideal: an update after every step). */
  timing?: ProcessorTiming;
}

/**
 * Runs the protocol with the processors' firmware on the chip instance `config` names; returns its
 * calibration with the tau_m codes the firmware left (other codes as in config.calibration, or 0).
 */
export function adaptTauWithFirmware(image: ChipImage, config: ChipConfig, inputs: Float32Array, count: number, o: FirmwareTauAdaptOptions): TauAdaptResult & { updates: number } {
  const model = realiseModel(image, config);
  const E = new Engine(model);
  const prog = assembleTauAdapt();
  const order = adaptationOrder(model);
  const all = new Map<number, Map<number, TaRecord[]>>(order.map((pi) => [pi, recordsOf(image, pi, o.eta)]));
  const fwImage = tauAdaptImage(image, new Map(), model.dt_ms);
  const rt = new FirmwareRuntime(fwImage, E, config, { timing: o.timing ?? 'ideal', dtMs: model.dt_ms });
  const inputPops = model.populations.filter((p) => p.model === 'input');
  const inputSize = inputPops.reduce((a, p) => a + p.size, 0);
  const mode = image.manifest.chip.weights.kind === 'float32' ? TA.MODE_FLOAT : TA.MODE_FIXED;
  const passes: TauAdaptPass[] = [];
  const before: Record<string, number> = {};
  const after: Record<string, number> = {};
  const tableAt = prog.symbols.ta_table;
  // A layer's records go into each core's table in processor memory while the processors wait.
  const writeTables = (pi: number | null) => {
    for (const core of rt.cores) {
      const recs = pi === null ? [] : (all.get(pi)!.get(core) ?? []);
      const bytes = encodeTaTable(prog, mode, thresholdWord(image.manifest.chip), recs);
      const mem = rt.processor(core)!.mem;
      const at = tableAt - prog.dataBase;
      // Keep the firmware's own state words (last step, updates) across tables.
      const keep = mem.slice(tableAt + 16, tableAt + 24);
      mem.set(bytes.subarray(at), tableAt);
      mem.set(keep, tableAt + 16);
    }
  };
  const step = (n: number) => E.step(n, { learn: false, nudge: false });
  for (const pi of order) {
    const p = model.populations[pi];
    before[p.name] = meanAbsGap(E.readParameters(pi).tau_m_ms, p.tau_r_ms);
    writeTables(pi);
    let last = before[p.name];
    for (let pass = 1; pass <= o.maxPasses; pass++) {
      for (let n = 0; n < count; n++) {
        let off = n * inputSize;
        for (const q of inputPops) {
          E.setInput(q.index, inputs.subarray(off, off + q.size));
          off += q.size;
        }
        rt.advance(o.stepsPerSample, step);
      }
      const gap = meanAbsGap(E.readParameters(pi).tau_m_ms, p.tau_r_ms);
      passes.push({ population: p.name, pass, mean_abs_gap_ms: gap });
      const change = Math.abs(gap - last);
      last = gap;
      if (change < o.tolMs) break;
    }
    after[p.name] = last;
  }
  writeTables(null);
  // The codes the firmware left, read from the trim DACs as the processor reads them.
  const chip = image.manifest.chip;
  const tauCodes = new Map<string, number>();
  for (const pi of order) {
    for (const cr of image.manifest.populations[pi].columns) {
      if (cr.chunk !== 0) continue;
      const bus = rt.buses[cr.core];
      if (chip.weights.kind === 'float32') {
        const v = new Float32Array(cr.count);
        bus.readParameter(1, cr.col0, v, cr.count);
        v.forEach((t, n) => tauCodes.set(`${cr.core}:${cr.col0 + n}`, codeFor(chip, 'tau_m', 1 + t).code));
      } else {
        const v = new Int32Array(cr.count);
        bus.readParameter(1, cr.col0, v, cr.count);
        v.forEach((c, n) => tauCodes.set(`${cr.core}:${cr.col0 + n}`, c));
      }
    }
  }
  const updates = rt.cores.reduce((a, core) => {
    const mem = rt.processor(core)!.mem;
    return a + new DataView(mem.buffer, mem.byteOffset).getInt32(tableAt + 20, true);
  }, 0);
  // The calibration: the engine path's with no pass run (the codes in force, its structure), with
  // the tau_m codes the firmware set.
  const base = adaptTauOnChip(image, config, inputs, 0, { ...o, maxPasses: 0 });
  const calibration: Calibration = { ...base.calibration, trims: base.calibration.trims.map((t) => ({ ...t, tau_m: t.tau_m.map((c, col) => tauCodes.get(`${t.core}:${col}`) ?? c) })) };
  calibration.tau_adaptation = { ...calibration.tau_adaptation!, samples: count, passes, mean_abs_gap_ms_before: before, mean_abs_gap_ms_after: after };
  return { calibration, passes, before, after, updates };
}
