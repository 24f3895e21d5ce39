import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChipImage, SectionData } from '../../chip/image-model.js';
import { loadChip } from '../../chip/presets.js';
import { compile } from '../../compiler/compile.js';
import { desc, le, mnistDescription, text } from './helpers.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/le-small.json', import.meta.url), 'utf8'));

/** The golden 4-6-5-3 LE network (test/fixtures/le-small.json) as a description. */
function leSmall(feedback = 'transpose'): Record<string, unknown> {
  const [n0, n1, n2, n3] = fixture.sizes as number[];
  const names = ['in', 'l1', 'l2', 'out'];
  const neuron = (k: number) => ({ model: 'le', tau_m: fixture.tau_m[k], tau_r: fixture.tau_r[k], activation: fixture.activation[k] });
  return desc(
    {
      in: { size: n0 },
      l1: { size: n1, neuron: neuron(0), bias: fixture.initial.b[0] },
      l2: { size: n2, neuron: neuron(1), bias: fixture.initial.b[1] },
      out: { size: n3, role: 'output', neuron: neuron(2), bias: fixture.initial.b[2] },
    },
    [0, 1, 2].map((k) => ({ from: names[k], to: names[k + 1], weights: fixture.initial.W[k], eta_scale: fixture.eta_scale[k] })),
    { learning: { rule: 'le', beta: fixture.beta, eta: fixture.eta, feedback }, presentation: { t_pres: fixture.t_pres, dt: fixture.dt } },
  );
}

/** Rebuilds a forward projection's [post][pre] weights from the image alone (code x scale per block). */
function weightsFromImage(img: ChipImage, projection: number): number[][] {
  const p = img.manifest.projections[projection];
  const w = Array.from({ length: p.post_size }, () => new Array<number>(p.pre_size).fill(NaN));
  for (const b of img.manifest.blocks.filter((x) => x.projection === projection && x.kind === 'forward')) {
    const codes = img.sections.get(b.section!)!;
    for (let s = 0; s < b.signals; s++) for (let c = 0; c < b.cols; c++) w[b.neuron0 + c][b.sig0 + s] = codes[s * b.cols + c] * b.scale;
  }
  return w;
}

function expectConsistent(img: ChipImage): void {
  const m = img.manifest;
  // The sections list is the map, in order, with the right kinds, types and lengths.
  expect(m.sections.map((s) => s.name)).toEqual([...img.sections.keys()]);
  const dtype = (d: SectionData) => (d instanceof Float32Array ? 'f32' : d instanceof Int8Array ? 'i8' : d instanceof Uint8Array ? 'u8' : 'u32');
  for (const s of m.sections) {
    const data = img.sections.get(s.name)!;
    expect(data.length, s.name).toBe(s.length);
    expect(dtype(data), s.name).toBe(s.dtype);
  }
  for (const p of m.populations) {
    if (p.role === 'input') {
      expect(p.bias_section).toBeUndefined();
      expect(p.columns).toEqual([]);
    } else {
      expect(p.bias_section).toBe(`bias:${p.name}`);
      expect(img.sections.get(p.bias_section!)!.length).toBe(p.size);
      expect(m.sections.find((s) => s.name === p.bias_section)!.kind).toBe('bias');
    }
  }
  const fixed = m.chip.weights.kind === 'fixed';
  for (const b of m.blocks) {
    const transposeFeedback = b.kind === 'feedback' && m.learning.feedback === 'transpose';
    if (transposeFeedback) {
      expect(b.section).toBeUndefined();
      continue;
    }
    expect(b.section).toBe(`block:${b.id}`);
    const info = m.sections.find((s) => s.name === b.section)!;
    expect(info).toMatchObject({ kind: 'synapse_block', dtype: fixed ? 'i8' : 'f32', length: b.signals * b.cols });
  }
  // Every section is referenced by exactly one population, block or firmware part.
  const fw = m.firmware;
  const firmwareSections = fw ? [fw.text_section, fw.symbols_section, ...(fw.cores ?? []).map((c) => c.data_section)] : [];
  const referenced = [...m.populations.map((p) => p.bias_section), ...m.blocks.map((b) => b.section), ...firmwareSections].filter(Boolean);
  expect(referenced.sort()).toEqual([...img.sections.keys()].sort());
}

describe('emit', () => {
  it('le-small on ideal: manifest complete, sections consistent, weights and biases exact in float32', () => {
    const src = text(leSmall());
    const { image } = compile(src, { file: 'le-small.json', chip: loadChip('ideal'), seed: 3, toolVersion: '9.9.9' });
    const m = image.manifest;
    expect(m.format).toBe('lechip/image@1');
    expect(m.tool_version).toBe('9.9.9');
    expect(m.network.name).toBe('test');
    expect(m.network.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.seed).toBe(3);
    expect(m.chip).toEqual(loadChip('ideal'));
    expect(m.system).toEqual({ cores: 1, cores_used: 1, chips: 1 });
    expect(m.timing).toEqual({ speedup: 10_000, dt_ms: 0.01, dt_hw_us: 0.001, t_pres_ms: 1, t_pres_hw_us: 0.1 });
    expect(m.learning).toEqual({ rule: 'le', beta: 0.1, eta: 0.5, feedback: 'transpose', feedback_seed: 3 });
    expect(m.populations.map((p) => [p.name, p.role, p.model, p.activation, p.tau_m_ms, p.tau_r_ms, p.tau_m_us, p.tau_r_us])).toEqual([
      ['in', 'input', 'input', 'linear', 0, 0, 0, 0],
      ['l1', 'hidden', 'le', 'tanh', 20, 20, 2, 2],
      ['l2', 'hidden', 'le', 'hardsigmoid', 20, 18, 2, 1.8],
      ['out', 'output', 'le', 'linear', 20, 20, 2, 2],
    ]);
    expect(m.projections.map((p) => [p.from, p.to, p.pre_size, p.post_size, p.eta_scale, p.feedback])).toEqual([
      ['in', 'l1', 4, 6, 1, 'none'],
      ['l1', 'l2', 6, 5, 0.2, 'transpose'],
      ['l2', 'out', 5, 3, 0.1, 'transpose'],
    ]);
    expectConsistent(image);
    for (let k = 0; k < 3; k++) {
      expect(weightsFromImage(image, k)).toEqual(fixture.initial.W[k].map((row: number[]) => row.map(Math.fround)));
      expect(m.projections[k].quantisation.max_abs_error).toBeLessThan(1e-7);
    }
    expect(Array.from(image.sections.get('bias:l2')!)).toEqual(fixture.initial.b[1].map(Math.fround));
    expect(m.warnings).toEqual([]);
  });

  it('le-small on bss2 with random feedback: int8 blocks, feedback sections, weights within half a step', () => {
    const { image } = compile(text(leSmall('random')), { chip: loadChip('bss2') });
    const m = image.manifest;
    expect(m.system).toEqual({ cores: 2, cores_used: 1, chips: 1 });
    expectConsistent(image);
    expect(m.blocks.filter((b) => b.kind === 'feedback').every((b) => b.section !== undefined)).toBe(true);
    for (let k = 0; k < 3; k++) {
      const w = weightsFromImage(image, k);
      const scale = m.projections[k].quantisation.scale_max;
      fixture.initial.W[k].forEach((row: number[], i: number) =>
        row.forEach((x, j) => expect(Math.abs(w[i][j] - x)).toBeLessThanOrEqual(scale / 2 + 1e-12)),
      );
    }
  });

  it('MNIST on bss2 with auto cores: 18 cores = 9 chips; every block section is there', () => {
    const { image } = compile(text(mnistDescription()), { chip: loadChip('bss2'), cores: 'auto' });
    expect(image.manifest.system).toEqual({ cores: 18, cores_used: 18, chips: 9 });
    expectConsistent(image);
    const stored = image.manifest.blocks.filter((b) => b.section).reduce((s, b) => s + b.signals * b.cols, 0);
    expect(stored).toBe(784 * 300 + 300 * 100 + 100 * 10); // forward only: feedback is transpose
  });

  it('lif populations carry their parameters; input spike sources are kept', () => {
    const d = desc(
      { in: { size: 2, source: { kind: 'poisson', rate_hz: 20, seed: 4 } }, s: { size: 2, role: 'output', neuron: { model: 'lif', v_thresh: -55 } } },
      [{ from: 'in', to: 's', weights: [[0.01, 0.02], [0.03, -0.04]] }],
      { learning: { rule: 'none' } },
    );
    const { image } = compile(text(d), { chip: loadChip('bss2') });
    const [pin, ps] = image.manifest.populations;
    expect(pin.source).toEqual({ kind: 'poisson', rate_hz: 20, seed: 4 });
    expect(ps.model).toBe('lif');
    expect(ps.lif!.v_thresh).toBe(-55);
    expect(ps.tau_m_us).toBe(20);
    expectConsistent(image);
  });

  it('the embedded chip is a copy: mutating the image does not touch the caller chip', () => {
    const chip = loadChip('bss2');
    const { image } = compile(text(desc({ in: { size: 1 }, o: { size: 1, role: 'output', neuron: le() } }, [{ from: 'in', to: 'o' }])), { chip });
    image.manifest.chip.speedup = 1;
    expect(chip.speedup).toBe(1000);
  });
});
