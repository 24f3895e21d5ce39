import { describe, expect, it } from 'vitest';
import { loadChip } from '../../chip/presets.js';
import { compile, dumpStage, PASSES, passProducing, runPasses, STAGE_NAMES } from '../../compiler/compile.js';
import { chipLike, desc, diagnosticsOf, le, text } from './helpers.js';

const small = () =>
  desc(
    { in: { size: 3 }, h: { size: 2, neuron: le(20, { activation: 'relu' }) }, out: { size: 2, role: 'output', neuron: le() } },
    [
      { from: 'in', to: 'h', weights: [[0.1, 0.2, 0.3], [-0.1, -0.2, -0.3]] },
      { from: 'h', to: 'out', weights: [[1, 0], [0, -1]] },
    ],
  );

describe('compile', () => {
  it('registers the passes in pipeline order, each with a one-line description', () => {
    expect(PASSES.map((p) => p.name)).toEqual(['validate', 'lower', 'place', 'quantise', 'timescale', 'link', 'emit']);
    for (const p of PASSES) {
      expect(p.description.length).toBeGreaterThan(20);
      expect(p.description).not.toContain('\n');
    }
    expect(STAGE_NAMES.map(passProducing)).toEqual(['validate', 'lower', 'place', 'quantise', 'timescale', 'link']);
  });

  it('returns the image, every stage, and the warnings; stages chain one into the next', () => {
    const r = compile(text(small()), { file: 'n.json', chip: loadChip('bss2'), seed: 4 });
    expect(r.stages.lowered.network).toBe(r.stages.ir);
    expect(r.stages.placed.lowered).toBe(r.stages.lowered);
    expect(r.stages.quantised.placed).toBe(r.stages.placed);
    expect(r.stages.timed.quantised).toBe(r.stages.quantised);
    expect(r.image.manifest.seed).toBe(4);
    expect(r.stages.placed.system_cores).toBe(2); // bss2's default_cores
    expect(r.warnings).toEqual([]);
  });

  it('passes on the zeroing warning', () => {
    const d = small();
    (d.projections as any[])[0].weights = [[1, 0.01, 0.01], [0.01, 0.01, 0.01]];
    const r = compile(text(d), { chip: loadChip('spikey') });
    expect(r.warnings).toEqual(["quantisation to 4 bits zeroes 83 % of projection in→h's weights; consider a wider weight init or a chip with more bits"]);
    expect(r.image.manifest.warnings).toEqual(r.warnings);
  });

  it('stops after a named pass, so --emit ir works for a network that does not place', () => {
    const tiny = chipLike('bss2', { core: { rows: 2, neurons: 2 }, default_cores: 1 });
    expect(diagnosticsOf(() => compile(text(small()), { chip: tiny }))[0].pointer).toBe('/populations/h');
    const r = runPasses(text(small()), { chip: tiny }, 'lower');
    expect(Object.keys(r.stages)).toEqual(['ir', 'lowered']);
    expect(r.image).toBeUndefined();
  });

  it('dumps each stage as plain JSON with nested arrays', () => {
    const { stages } = compile(text(small()), { chip: loadChip('bss2') });
    for (const name of STAGE_NAMES) {
      const dump = dumpStage(name, stages);
      expect(JSON.parse(JSON.stringify(dump))).toEqual(dump);
    }
    const ir = dumpStage('ir', stages) as any;
    expect(ir).toMatchObject({ stage: 'ir', pass: 'validate', description: PASSES[0].description });
    expect(ir.projections[0].weights).toEqual([[0.1, 0.2, 0.3], [-0.1, -0.2, -0.3]]);
    expect(ir.populations[1].bias).toEqual([0, 0]);
    const lowered = dumpStage('lowered', stages) as any;
    expect(lowered.matrices.map((m: any) => [m.kind, m.signals, m.neurons])).toEqual([
      ['forward', 3, 2],
      ['forward', 2, 2],
      ['feedback', 2, 2],
    ]);
    expect(lowered.matrices[2].weights).toMatch(/^transpose/);
    const placed = dumpStage('placed', stages) as any;
    expect(placed).toMatchObject({ chip: 'bss2', system_cores: 2, cores_used: 1, chips: 1 });
    const q = dumpStage('quantised', stages) as any;
    // in→h on 6 bits with sign per row: scale 0.3/63; codes [signals][cols] = w^T / scale.
    expect(q.blocks[0].codes).toEqual([[21, -21], [42, -42], [63, -63]]);
    expect(q.reports[0]).toMatchObject({ projection: 0, from: 'in', to: 'h' });
    const timed = dumpStage('timed', stages) as any;
    expect(timed.tau_us.h).toEqual({ tau_m_us: 20, tau_r_us: 20 });
  });

  it('the whole compiler is deterministic: same text and seed, same image', () => {
    const d = desc({ in: { size: 20 }, h: { size: 10, neuron: le() }, out: { size: 3, role: 'output', neuron: le() } }, [
      { from: 'in', to: 'h' },
      { from: 'h', to: 'out', init: { kind: 'uniform', scale: 0.5 } },
    ], { learning: { rule: 'le', feedback: 'random' } });
    const a = compile(text(d), { chip: loadChip('bss2'), seed: 8 }).image;
    const b = compile(text(d), { chip: loadChip('bss2'), seed: 8 }).image;
    const c = compile(text(d), { chip: loadChip('bss2'), seed: 9 }).image;
    expect(b.manifest).toEqual(a.manifest);
    expect([...b.sections]).toEqual([...a.sections]);
    expect([...c.sections]).not.toEqual([...a.sections]);
  });
});
