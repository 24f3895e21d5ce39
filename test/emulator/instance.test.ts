import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MISMATCH_PARAMETERS, RELATIVE_PARAMETERS, type ChipSpecT } from '../../chip/spec.js';
import { blockGain, circuitDeviations, effectiveMismatch } from '../../emulator/instance.js';

const bss2: ChipSpecT = JSON.parse(readFileSync(new URL('../../chip/presets/bss2.json', import.meta.url), 'utf8'));

function spread(v: Float64Array, relative: boolean): number {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
  return relative ? sd / mean : sd;
}

describe('chip instance (fixed-pattern draw)', () => {
  it('the same chip seed gives the same bytes, another seed another draw', () => {
    const m = effectiveMismatch(bss2, {});
    for (const p of MISMATCH_PARAMETERS) {
      if (p === 'synapse_gain') continue;
      const a = circuitDeviations(7, 0, 256, p, m[p]);
      const b = circuitDeviations(7, 0, 256, p, m[p]);
      const c = circuitDeviations(8, 0, 256, p, m[p]);
      const d = circuitDeviations(7, 1, 256, p, m[p]);
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
      expect(Buffer.from(a.buffer).equals(Buffer.from(d.buffer))).toBe(false);
    }
    expect(blockGain(7, 0, 0, 0, m.synapse_gain)).toBe(blockGain(7, 0, 0, 0, m.synapse_gain));
    expect(blockGain(7, 0, 0, 0, m.synapse_gain)).not.toBe(blockGain(8, 0, 0, 0, m.synapse_gain));
  });

  it("over 10 000 circuits each parameter's measured spread is within 10 % of the preset's sigma", () => {
    const m = effectiveMismatch(bss2, {});
    for (const p of MISMATCH_PARAMETERS) {
      let v: Float64Array;
      if (p === 'synapse_gain') {
        v = new Float64Array(10_000);
        for (let i = 0; i < 10_000; i++) v[i] = blockGain(3, i % 100, Math.floor(i / 100), 0, m[p]);
      } else {
        // 40 cores of 256 columns = 10 240 circuits
        v = new Float64Array(40 * 256);
        for (let core = 0; core < 40; core++) v.set(circuitDeviations(3, core, 256, p, m[p]), core * 256);
      }
      const s = spread(v, RELATIVE_PARAMETERS.has(p));
      expect(Math.abs(s - bss2.mismatch[p].sigma) / bss2.mismatch[p].sigma, p).toBeLessThan(0.1);
    }
  });

  it('--mismatch-scale multiplies every sigma, --mismatch sets one, N(1, s) selectable for time constants', () => {
    const m = effectiveMismatch(bss2, { mismatchScale: 2, mismatch: { tau_r: 0.3 }, tauDistribution: 'normal' });
    expect(m.tau_m.sigma).toBeCloseTo(0.3, 12);
    expect(m.tau_m.distribution).toBe('normal');
    expect(m.tau_r.sigma).toBe(0.3);
    expect(m.gain.sigma).toBeCloseTo(0.2, 12);
    const v = circuitDeviations(1, 0, 10_000, 'tau_m', m.tau_m);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    expect(Math.abs(mean - 1)).toBeLessThan(0.02); // N(1, s) has mean 1
    expect(Math.abs(spread(v, false) - 0.3)).toBeLessThan(0.03);
  });

  it('sigma 0 (the ideal chip) gives exactly nominal circuits', () => {
    const v = circuitDeviations(1, 0, 100, 'tau_m', { distribution: 'lognormal', sigma: 0 });
    expect([...v].every((x) => x === 1)).toBe(true);
  });
});
