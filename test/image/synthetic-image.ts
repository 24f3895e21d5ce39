/**
 * A small hand-built ChipImage (2-3-2 network on the ideal chip) with a section of every dtype, for
 * the image-format and inspect tests and the CLI's corrupt-image tests. Independent of the compiler.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChipImage, ImageManifest, SectionData } from '../../chip/image-model.js';
import type { ChipSpecT } from '../../chip/spec.js';

const root = join(import.meta.dirname, '..', '..');

/** The preset as a plain object. */
export function presetSpec(name: string): ChipSpecT {
  return JSON.parse(readFileSync(join(root, 'chip', 'presets', `${name}.json`), 'utf8'));
}

/** Builds the synthetic image; `chip` picks the preset written into the manifest. */
export function syntheticImage(chip = 'ideal'): ChipImage {
  const spec = presetSpec(chip);
  const w1 = new Float32Array([0.5, -0.25, 1, 0.125, -2, 0.75]); // [3][2]
  const w2 = new Int8Array([7, -7, 0, 3, -1, 2]); // [2][3] codes
  const sections = new Map<string, SectionData>([
    ['block:0', w1],
    ['block:1', w2],
    ['bias:h', new Float32Array([0.1, -0.2, 0.3])],
    ['bias:out', new Float32Array([0, 0.5])],
    ['firmware:text', new Uint32Array([0x00000013, 0xdeadbeef, 0x12345678])],
    ['firmware:data', new Uint8Array([1, 2, 3, 4, 5])],
  ]);
  const speedup = spec.speedup;
  const manifest: ImageManifest = {
    format: 'lechip/image@1',
    tool_version: '0.1.0',
    network: { name: 'synthetic', sha256: 'ab'.repeat(32) },
    seed: 1,
    chip: spec,
    system: { cores: 1, cores_used: 1, chips: 1 },
    timing: { speedup, dt_ms: 0.01, dt_hw_us: (0.01 * 1000) / speedup, t_pres_ms: 1, t_pres_hw_us: 1000 / speedup },
    learning: { rule: 'le', beta: 0.1, eta: 0.5, feedback: 'transpose', feedback_seed: 0 },
    populations: [
      { name: 'in', index: 0, size: 2, role: 'input', model: 'input', activation: 'linear', tau_m_ms: 0, tau_r_ms: 0, tau_m_us: 0, tau_r_us: 0, columns: [] },
      {
        name: 'h', index: 1, size: 3, role: 'hidden', model: 'le', activation: 'hardsigmoid',
        tau_m_ms: 20, tau_r_ms: 18, tau_m_us: (20 * 1000) / speedup, tau_r_us: (18 * 1000) / speedup,
        bias_section: 'bias:h', columns: [{ core: 0, col0: 0, count: 3, neuron0: 0, chunk: 0 }],
      },
      {
        name: 'out', index: 2, size: 2, role: 'output', model: 'le', activation: 'linear',
        tau_m_ms: 10, tau_r_ms: 10, tau_m_us: (10 * 1000) / speedup, tau_r_us: (10 * 1000) / speedup,
        bias_section: 'bias:out', columns: [{ core: 0, col0: 3, count: 2, neuron0: 0, chunk: 0 }],
      },
    ],
    projections: [
      {
        index: 0, from: 'in', to: 'h', pre_size: 2, post_size: 3, plastic: true, eta_scale: 1, feedback: 'none',
        quantisation: { rms_error: 0, relative_rms_error: 0, max_abs_error: 0, zeroed_fraction: 0, scale_min: 1, scale_max: 1 },
      },
      {
        index: 1, from: 'h', to: 'out', pre_size: 3, post_size: 2, plastic: false, eta_scale: 0.2, feedback: 'transpose',
        quantisation: { rms_error: 0.01, relative_rms_error: 0.05, max_abs_error: 0.02, zeroed_fraction: 0.25, scale_min: 0.1, scale_max: 0.2 },
      },
    ],
    blocks: [
      { id: 0, projection: 0, kind: 'forward', core: 0, row0: 0, rows: 2, col0: 0, cols: 3, sig0: 0, signals: 2, neuron0: 0, rows_per_signal: 1, scale: 1, section: 'block:0' },
      { id: 1, projection: 1, kind: 'forward', core: 0, row0: 2, rows: 3, col0: 3, cols: 2, sig0: 0, signals: 3, neuron0: 0, rows_per_signal: 1, scale: 0.1, section: 'block:1' },
      { id: 2, projection: 1, kind: 'feedback', core: 0, row0: 5, rows: 2, col0: 0, cols: 3, sig0: 0, signals: 2, neuron0: 0, rows_per_signal: 1, scale: 0.1 },
    ],
    firmware: { name: 'le-sgd', entry: 0, text_section: 'firmware:text', data_section: 'firmware:data' },
    warnings: ['projection h -> out: 25 % of the non-zero weights quantise to zero'],
    sections: [
      { name: 'block:0', kind: 'synapse_block', dtype: 'f32', length: 6 },
      { name: 'block:1', kind: 'synapse_block', dtype: 'i8', length: 6 },
      { name: 'bias:h', kind: 'bias', dtype: 'f32', length: 3 },
      { name: 'bias:out', kind: 'bias', dtype: 'f32', length: 2 },
      { name: 'firmware:text', kind: 'firmware_text', dtype: 'u32', length: 3 },
      { name: 'firmware:data', kind: 'firmware_data', dtype: 'u8', length: 5 },
    ],
  };
  return { manifest, sections };
}
