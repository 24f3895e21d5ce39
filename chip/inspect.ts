/**
 * What an image holds, summarised for people (`lechip inspect`) and scripts (`--json`): the network,
 * the chip and its resources in use, both time bases, each population and projection with its
 * quantisation error, the warnings and the sections.
 */
import { DTYPE_BYTES } from './image.js';
import type { ChipImage } from './image-model.js';

/** The JSON form of `lechip inspect`. */
export interface InspectReport {
  network: { name: string; sha256: string };
  tool_version: string;
  seed: number;
  chip: { name: string; speedup: number; core: { neurons: number; rows: number }; cores_per_chip: number };
  system: { cores_used: number; cores: number; chips: number };
  neurons_used: number;
  columns_used: number;
  synapses_used: number;
  weights: { kind: string; bits: number; sign: string };
  timing: { speedup: number; dt_ms: number; dt_hw_us: number; t_pres_ms: number; t_pres_hw_us: number; steps_per_sample: number };
  learning: ChipImage['manifest']['learning'];
  populations: {
    name: string;
    role: string;
    size: number;
    model: string;
    activation: string;
    tau_m_ms: number;
    tau_r_ms: number;
    tau_m_us: number;
    tau_r_us: number;
    columns: number;
    column_ranges: { core: number; col0: number; count: number; neuron0: number; chunk: number }[];
  }[];
  projections: {
    index: number;
    from: string;
    to: string;
    shape: [number, number];
    plastic: boolean;
    eta_scale: number;
    feedback: string;
    blocks: number;
    synapses: number;
    quantisation: { relative_rms_error: number; rms_error: number; max_abs_error: number; zeroed_fraction: number; scale_min: number; scale_max: number };
  }[];
  firmware: { name: string; entry: number; text_bytes: number; data_bytes: number } | null;
  warnings: string[];
  sections: { name: string; kind: string; dtype: string; length: number; bytes: number }[];
  section_bytes: number;
}

/** Summarises an image as a JSON-ready object. */
export function inspectImage(img: ChipImage): InspectReport {
  const m = img.manifest;
  const sectionBytes = (name?: string) => {
    const s = name === undefined ? undefined : m.sections.find((x) => x.name === name);
    return s ? s.length * DTYPE_BYTES[s.dtype] : 0;
  };
  const sections = m.sections.map((s) => ({ name: s.name, kind: s.kind, dtype: s.dtype, length: s.length, bytes: s.length * DTYPE_BYTES[s.dtype] }));
  return {
    network: { name: m.network.name, sha256: m.network.sha256 },
    tool_version: m.tool_version,
    seed: m.seed,
    chip: { name: m.chip.name, speedup: m.chip.speedup, core: { ...m.chip.core }, cores_per_chip: m.chip.cores_per_chip },
    system: { cores_used: m.system.cores_used, cores: m.system.cores, chips: m.system.chips },
    neurons_used: m.populations.filter((p) => p.role !== 'input').reduce((a, p) => a + p.size, 0),
    columns_used: m.populations.reduce((a, p) => a + p.columns.reduce((b, c) => b + c.count, 0), 0),
    synapses_used: m.blocks.reduce((a, b) => a + b.rows * b.cols, 0),
    weights: { kind: m.chip.weights.kind, bits: m.chip.weights.bits, sign: m.chip.weights.sign },
    timing: {
      speedup: m.timing.speedup,
      dt_ms: m.timing.dt_ms,
      dt_hw_us: m.timing.dt_hw_us,
      t_pres_ms: m.timing.t_pres_ms,
      t_pres_hw_us: m.timing.t_pres_hw_us,
      steps_per_sample: Math.round(m.timing.t_pres_ms / m.timing.dt_ms),
    },
    learning: { ...m.learning },
    populations: m.populations.map((p) => ({
      name: p.name,
      role: p.role,
      size: p.size,
      model: p.model,
      activation: p.activation,
      tau_m_ms: p.tau_m_ms,
      tau_r_ms: p.tau_r_ms,
      tau_m_us: p.tau_m_us,
      tau_r_us: p.tau_r_us,
      columns: p.columns.reduce((a, c) => a + c.count, 0),
      column_ranges: p.columns.map((c) => ({ ...c })),
    })),
    projections: m.projections.map((p) => {
      const blocks = m.blocks.filter((b) => b.projection === p.index);
      const q = p.quantisation;
      return {
        index: p.index,
        from: p.from,
        to: p.to,
        shape: [p.post_size, p.pre_size] as [number, number],
        plastic: p.plastic,
        eta_scale: p.eta_scale,
        feedback: p.feedback,
        blocks: blocks.length,
        synapses: blocks.reduce((a, b) => a + b.rows * b.cols, 0),
        quantisation: {
          relative_rms_error: q.relative_rms_error,
          rms_error: q.rms_error,
          max_abs_error: q.max_abs_error,
          zeroed_fraction: q.zeroed_fraction,
          scale_min: q.scale_min,
          scale_max: q.scale_max,
        },
      };
    }),
    firmware: m.firmware
      ? { name: m.firmware.name, entry: m.firmware.entry, text_bytes: sectionBytes(m.firmware.text_section), data_bytes: sectionBytes(m.firmware.data_section) }
      : null,
    warnings: [...m.warnings],
    sections,
    section_bytes: sections.reduce((a, s) => a + s.bytes, 0),
  };
}

/** A number for reading: up to 4 significant digits, no exponent for everyday magnitudes. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e7) return String(Number(x.toPrecision(4)));
  return x.toExponential(3).replace(/\.?0+e/, 'e');
}

function pct(x: number): string {
  return `${fmt(x * 100)} %`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => '  ' + r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Formats an inspect report as readable text (ends with a newline). */
export function formatInspect(r: InspectReport): string {
  const out: string[] = [];
  const t = r.timing;
  out.push(`network   ${r.network.name}  sha256 ${r.network.sha256}`);
  out.push(`compiled  lechip ${r.tool_version}, seed ${r.seed}`);
  out.push(`chip      ${r.chip.name}  speedup ${fmt(r.chip.speedup)}  (${r.chip.core.neurons} neurons x ${r.chip.core.rows} rows per core, ${r.chip.cores_per_chip} core${r.chip.cores_per_chip === 1 ? '' : 's'} per chip)`);
  out.push(`cores     ${r.system.cores_used} used of ${r.system.cores} in the system (${r.system.chips} chip${r.system.chips === 1 ? '' : 's'})`);
  out.push(`neurons   ${r.neurons_used} (${r.columns_used} columns)`);
  out.push(`synapses  ${r.synapses_used}  weights ${r.weights.kind === 'float32' ? 'float32' : `${r.weights.bits}-bit`}, sign ${r.weights.sign}`);
  out.push(`dt        ${fmt(t.dt_ms)} ms bio = ${fmt(t.dt_hw_us)} us hw`);
  out.push(`T_pres    ${fmt(t.t_pres_ms)} ms bio = ${fmt(t.t_pres_hw_us)} us hw (${t.steps_per_sample} steps)`);
  const l = r.learning;
  out.push(`learning  ${l.rule}${l.rule === 'le' ? `  eta ${fmt(l.eta)} /ms  beta ${fmt(l.beta)}  feedback ${l.feedback}` : ''}`);
  out.push('');
  out.push('populations');
  out.push(
    ...table(
      ['name', 'role', 'size', 'model', 'activation', 'tau_m ms', 'tau_r ms', 'tau_m us', 'tau_r us', 'columns'],
      r.populations.map((p) => {
        const input = p.role === 'input';
        return [
          p.name, p.role, String(p.size), p.model, input ? '-' : p.activation,
          input ? '-' : fmt(p.tau_m_ms), input ? '-' : fmt(p.tau_r_ms), input ? '-' : fmt(p.tau_m_us), input ? '-' : fmt(p.tau_r_us),
          String(p.columns),
        ];
      }),
    ),
  );
  out.push('');
  out.push('projections');
  out.push(
    ...table(
      ['from -> to', 'shape', 'plastic', 'eta x', 'feedback', 'synapses', 'q rel rms', 'zeroed', 'scale range'],
      r.projections.map((p) => {
        const q = p.quantisation;
        return [
          `${p.from} -> ${p.to}`, `${p.shape[0]}x${p.shape[1]}`, p.plastic ? 'yes' : 'no', fmt(p.eta_scale), p.feedback,
          String(p.synapses), pct(q.relative_rms_error), pct(q.zeroed_fraction),
          q.scale_min === q.scale_max ? fmt(q.scale_min) : `${fmt(q.scale_min)}..${fmt(q.scale_max)}`,
        ];
      }),
    ),
  );
  if (r.firmware) {
    out.push('');
    out.push(`firmware  ${r.firmware.name}  entry ${r.firmware.entry}  text ${r.firmware.text_bytes} B  data ${r.firmware.data_bytes} B`);
  }
  out.push('');
  out.push(`warnings  ${r.warnings.length === 0 ? 'none' : ''}`.trimEnd());
  for (const w of r.warnings) out.push(`  ${w}`);
  out.push('');
  out.push(`sections  ${r.sections.length}, ${r.section_bytes} bytes`);
  out.push(...table(['name', 'kind', 'dtype', 'length', 'bytes'], r.sections.map((s) => [s.name, s.kind, s.dtype, String(s.length), String(s.bytes)])));
  return out.join('\n') + '\n';
}
