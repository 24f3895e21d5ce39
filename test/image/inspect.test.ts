import { describe, expect, it } from 'vitest';
import { fmt, formatInspect, inspectImage } from '../../chip/inspect.js';
import { decodeImage, encodeImage } from '../../chip/image.js';
import { syntheticImage } from './synthetic-image.js';

describe('inspect', () => {
  it('counts the resources of the synthetic image (hand-computed)', () => {
    const r = inspectImage(decodeImage(encodeImage(syntheticImage('bss2'))));
    expect(r.network).toEqual({ name: 'synthetic', sha256: 'ab'.repeat(32) });
    expect(r.chip.name).toBe('bss2');
    expect(r.chip.speedup).toBe(1000);
    expect(r.system).toEqual({ cores_used: 1, cores: 1, chips: 1 });
    expect(r.neurons_used).toBe(3 + 2); // inputs take no columns
    expect(r.columns_used).toBe(5);
    expect(r.synapses_used).toBe(2 * 3 + 3 * 2 + 2 * 3); // both forward blocks and the feedback block
    expect(r.weights).toEqual({ kind: 'fixed', bits: 6, sign: 'per_row' });
    expect(r.timing.steps_per_sample).toBe(100);
    expect(r.timing.dt_hw_us).toBeCloseTo(0.01, 12); // 0.01 ms / 1000 = 10 ns
    const h = r.populations.find((p) => p.name === 'h')!;
    expect(h).toMatchObject({ size: 3, model: 'le', activation: 'hardsigmoid', tau_m_ms: 20, tau_r_ms: 18, tau_m_us: 20, tau_r_us: 18, columns: 3 });
    expect(r.projections[1]).toMatchObject({ from: 'h', to: 'out', shape: [2, 3], plastic: false, blocks: 2, synapses: 12 });
    expect(r.projections[1].quantisation).toMatchObject({ relative_rms_error: 0.05, zeroed_fraction: 0.25, scale_min: 0.1, scale_max: 0.2 });
    expect(r.firmware).toEqual({ name: 'le-sgd', entry: 0, text_bytes: 12, data_bytes: 5 });
    expect(r.sections.map((s) => s.bytes)).toEqual([24, 6, 12, 8, 12, 5]);
    expect(r.section_bytes).toBe(67);
    expect(r.warnings).toHaveLength(1);
  });

  it('formats a readable text with both time bases, the quantisation and the warnings', () => {
    const text = formatInspect(inspectImage(syntheticImage('bss2')));
    expect(text).toContain('chip      bss2  speedup 1000');
    expect(text).toContain('cores     1 used of 1 in the system (1 chip)');
    expect(text).toContain('synapses  18  weights 6-bit, sign per_row');
    expect(text).toContain('dt        0.01 ms bio = 0.01 us hw');
    expect(text).toContain('T_pres    1 ms bio = 1 us hw (100 steps)');
    expect(text).toMatch(/h\s+hidden\s+3\s+le\s+hardsigmoid\s+20\s+18\s+20\s+18\s+3/);
    expect(text).toMatch(/h -> out\s+2x3\s+no\s+0\.2\s+transpose\s+12\s+5 %\s+25 %\s+0\.1\.\.0\.2/);
    expect(text).toContain('  projection h -> out: 25 % of the non-zero weights quantise to zero');
    expect(text).toContain('sections  6, 67 bytes');
  });

  it('formats numbers to 4 significant digits', () => {
    expect(fmt(0.1 + 0.2)).toBe('0.3');
    expect(fmt(12345.678)).toBe('12350');
    expect(fmt(2e-6)).toBe('2e-6');
    expect(fmt(0)).toBe('0');
  });
});
