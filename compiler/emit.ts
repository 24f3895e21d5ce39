/**
 * Pass 6, emit: Timed → ChipImage. Writes the manifest (everything the emulator and `inspect`
 * need, in both biological and hardware units) and one typed section per bias vector and per
 * stored synapse block. chip/image.ts serialises the result; this pass touches no file.
 */
import type { ChipImage, ImageBlock, ImageManifest, ImagePopulation, ImageProjection, SectionData, SectionInfo } from '../chip/image-model.js';
import type { Timed } from './ir.js';
import type { LinkedFirmware } from './link.js';

export interface EmitOptions {
  /** lechip's version, written into the manifest. */
  toolVersion: string;
  /** The linked plasticity firmware (compiler/link.ts), if anything learns. */
  firmware?: LinkedFirmware | null;
  /** Warnings of passes after quantise (link). */
  warnings?: string[];
}

/** Section names of the firmware: its text, its symbols, and one data section per core. */
export const FIRMWARE_TEXT_SECTION = 'firmware_text';
export const FIRMWARE_SYMBOLS_SECTION = 'symbols';
export function firmwareDataSection(core: number): string {
  return `firmware_data:${core}`;
}

/** Section name of a population's float32 bias vector. */
export function biasSection(population: string): string {
  return `bias:${population}`;
}

/** Section name of a synapse block's codes. */
export function blockSection(id: number): string {
  return `block:${id}`;
}

/** Builds the chip image (manifest and sections) of a compiled network. */
export function emit(t: Timed, opts: EmitOptions): ChipImage {
  const q = t.quantised;
  const p = q.placed;
  const l = p.lowered;
  const { chip, network: net } = l;
  const sections = new Map<string, SectionData>();
  const infos: SectionInfo[] = [];
  const add = (name: string, kind: SectionInfo['kind'], data: SectionData) => {
    if (sections.has(name)) throw new Error(`emit: duplicate section ${name}`);
    sections.set(name, data);
    infos.push({ name, kind, dtype: dtypeOf(data), length: data.length });
  };

  const populations: ImagePopulation[] = net.populations.map((pop) => {
    const tau = t.tau_us[pop.name];
    const out: ImagePopulation = {
      name: pop.name,
      index: pop.index,
      size: pop.size,
      role: pop.role,
      model: pop.model,
      activation: pop.activation,
      tau_m_ms: pop.tau_m_ms,
      tau_r_ms: pop.tau_r_ms,
      tau_m_us: tau.tau_m_us,
      tau_r_us: tau.tau_r_us,
      columns: p.columns[pop.name] ?? [],
    };
    if (pop.role !== 'input') {
      out.bias_section = biasSection(pop.name);
      add(out.bias_section, 'bias', Float32Array.from(pop.bias));
    }
    if (pop.lif) out.lif = { ...pop.lif };
    if (pop.source !== undefined) out.source = pop.source;
    return out;
  });

  const hasFeedback = new Set(l.matrices.filter((m) => m.kind === 'feedback').map((m) => m.projection));
  const projections: ImageProjection[] = net.projections.map((pr) => ({
    index: pr.index,
    from: pr.from,
    to: pr.to,
    pre_size: pr.pre_size,
    post_size: pr.post_size,
    plastic: pr.plastic,
    eta_scale: pr.eta_scale,
    feedback: hasFeedback.has(pr.index) ? net.learning.feedback : 'none',
    quantisation: q.reports[pr.index],
  }));

  const blocks: ImageBlock[] = q.blocks.map((b) => {
    const out: ImageBlock = {
      id: b.id,
      projection: b.projection,
      kind: b.kind,
      core: b.core,
      row0: b.row0,
      rows: b.rows,
      col0: b.col0,
      cols: b.cols,
      sig0: b.sig0,
      signals: b.signals,
      neuron0: b.neuron0,
      rows_per_signal: b.rows_per_signal,
      scale: b.scale,
    };
    if (b.codes) {
      out.section = blockSection(b.id);
      add(out.section, 'synapse_block', b.codes);
    }
    return out;
  });

  let firmware: ImageManifest['firmware'];
  const fw = opts.firmware;
  if (fw) {
    add(FIRMWARE_TEXT_SECTION, 'firmware_text', Uint32Array.from(fw.text));
    // Symbols as UTF-8 JSON ({ name: address }), for disassembly and the host's reports.
    add(FIRMWARE_SYMBOLS_SECTION, 'symbols', new TextEncoder().encode(JSON.stringify(fw.symbols)));
    fw.cores.forEach((t, n) => add(firmwareDataSection(t.core), 'firmware_data', fw.data[n]));
    firmware = {
      name: fw.name,
      dt_ms: fw.dt_ms,
      entry: fw.entry,
      text_section: FIRMWARE_TEXT_SECTION,
      symbols_section: FIRMWARE_SYMBOLS_SECTION,
      data_base: fw.data_base,
      cores: fw.cores.map((t) => ({ core: t.core, data_section: firmwareDataSection(t.core) })),
    };
  }

  const manifest: ImageManifest = {
    format: 'lechip/image@1',
    tool_version: opts.toolVersion,
    network: { name: net.name, sha256: net.sha256 },
    seed: net.seed,
    chip: structuredClone(chip),
    system: { cores: p.system_cores, cores_used: p.cores_used, chips: Math.ceil(p.system_cores / chip.cores_per_chip) },
    timing: { speedup: t.speedup, dt_ms: t.dt_ms, dt_hw_us: t.dt_hw_us, t_pres_ms: t.t_pres_ms, t_pres_hw_us: t.t_pres_hw_us },
    learning: { ...net.learning },
    populations,
    projections,
    blocks,
    ...(firmware ? { firmware } : {}),
    warnings: [...q.warnings, ...(opts.warnings ?? [])],
    sections: infos,
  };
  return { manifest, sections };
}

function dtypeOf(d: SectionData): SectionInfo['dtype'] {
  if (d instanceof Float32Array) return 'f32';
  if (d instanceof Int8Array) return 'i8';
  if (d instanceof Uint8Array) return 'u8';
  return 'u32';
}
