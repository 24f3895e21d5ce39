import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../common/diagnostics.js';
import { loadChip } from '../../chip/presets.js';
import type { ChipSpecT } from '../../chip/spec.js';
import type { Timed } from '../../compiler/ir.js';
import { lower } from '../../compiler/lower.js';
import { place } from '../../compiler/place.js';
import { quantise } from '../../compiler/quantise.js';
import { bioMsToHwUs, hwUsToBioMs, timescale } from '../../compiler/timescale.js';
import { validateNetworkObject } from '../../compiler/validate.js';
import { desc, diagnosticsOf, le } from './helpers.js';

function timed(h1: Record<string, unknown>, out: Record<string, unknown>, chip: ChipSpecT, presentation?: Record<string, unknown>): Timed {
  const d = desc({ in: { size: 2 }, h1: { size: 2, neuron: h1 }, out: { size: 1, role: 'output', neuron: out } }, [
    { from: 'in', to: 'h1' },
    { from: 'h1', to: 'out' },
  ], presentation ? { presentation } : {});
  return timescale(quantise(place(lower(validateNetworkObject(d, { file: 'net.json' }), chip), 'auto')));
}

describe('timescale', () => {
  it('t_hw = t_bio / speedup: ms · 1000 / speedup = us', () => {
    expect(bioMsToHwUs(20, 1000)).toBe(20);
    expect(bioMsToHwUs(20, 10_000)).toBe(2);
    expect(hwUsToBioMs(2, 10_000)).toBe(20);
  });

  it('bss2 (speedup 1000): 20 ms → 20 us, 18 ms → 18 us, dt 0.05 ms → 0.05 us, T_pres 2 ms → 2 us', () => {
    const t = timed(le(20, { tau_r: 18 }), le(30), loadChip('bss2'), { dt: 0.05, t_pres: 2 });
    expect(t.speedup).toBe(1000);
    expect(t.tau_us).toEqual({ in: { tau_m_us: 0, tau_r_us: 0 }, h1: { tau_m_us: 20, tau_r_us: 18 }, out: { tau_m_us: 30, tau_r_us: 30 } });
    expect([t.dt_ms, t.dt_hw_us, t.t_pres_ms, t.t_pres_hw_us]).toEqual([0.05, 0.05, 2, 2]);
  });

  it('spikey (speedup 10^4): 20 ms → 2 us, dt 0.01 ms → 0.001 us, T_pres 1 ms → 0.1 us', () => {
    const t = timed(le(20), le(50, { tau_r: 10 }), loadChip('spikey'));
    expect(t.tau_us.h1).toEqual({ tau_m_us: 2, tau_r_us: 2 });
    expect(t.tau_us.out).toEqual({ tau_m_us: 5, tau_r_us: 1 });
    expect(t.dt_hw_us).toBeCloseTo(0.001, 15);
    expect(t.t_pres_hw_us).toBeCloseTo(0.1, 15);
  });

  it('bss2: a tau_m outside 0.1-2000 us is named with both units and the range in both', () => {
    const d = diagnosticsOf(() => timed(le(5000), le(20), loadChip('bss2')));
    expect(d.map(formatDiagnostic)).toEqual([
      "net.json: /populations/h1/neuron/tau_m: 5000 ms (5000 us on bss2 at speedup 1000) is outside the chip's range 0.1-2000 us (0.1-2000 ms biological)",
    ]);
  });

  it('spikey: every out-of-range time constant at once, tau_r at its own pointer', () => {
    // Range 0.2-20 us = 2-200 ms biological at 10^4.
    const d = diagnosticsOf(() => timed(le(500), le(20, { tau_r: 1 }), loadChip('spikey')));
    expect(d.map(formatDiagnostic)).toEqual([
      "net.json: /populations/h1/neuron/tau_m: 500 ms (50 us on spikey at speedup 10000) is outside the chip's range 0.2-20 us (2-200 ms biological)",
      "net.json: /populations/out/neuron/tau_r: 1 ms (0.1 us on spikey at speedup 10000) is outside the chip's range 0.2-20 us (2-200 ms biological)",
    ]);
  });

  it('the range is inclusive: spikey takes exactly 2 ms and 200 ms', () => {
    const t = timed(le(200), le(2), loadChip('spikey'));
    expect(t.tau_us.h1.tau_m_us).toBe(20);
    expect(t.tau_us.out.tau_m_us).toBe(0.2);
  });

  it('a defaulted tau_r is reported only when its range differs from tau_m', () => {
    const base = loadChip('bss2');
    const chip: ChipSpecT = { ...base, parameters: { ...base.parameters, tau_r: { min_us: 0.1, max_us: 100 } } };
    const d = diagnosticsOf(() => timed(le(500), le(20), chip));
    expect(d.map(formatDiagnostic)).toEqual([
      "net.json: /populations/h1/neuron/tau_m: tau_r (defaults to tau_m) = 500 ms (500 us on bss2 at speedup 1000) is outside the chip's range 0.1-100 us (0.1-100 ms biological)",
    ]);
  });

  it('lif: its default tau_m (20 ms) is checked at the neuron, and it has no tau_r (0) to check', () => {
    const base = loadChip('spikey');
    const chip: ChipSpecT = { ...base, parameters: { ...base.parameters, tau_m: { min_us: 5, max_us: 10 }, tau_r: { min_us: 5, max_us: 10 } } };
    const d = diagnosticsOf(() => timed({ model: 'lif' }, le(60), chip));
    expect(d.map(formatDiagnostic)).toEqual([
      "net.json: /populations/h1/neuron: tau_m (default) = 20 ms (2 us on spikey at speedup 10000) is outside the chip's range 5-10 us (50-100 ms biological)",
    ]);
    const t = timed({ model: 'lif', tau_m: 70 }, le(60), chip);
    expect(t.tau_us.h1).toEqual({ tau_m_us: 7, tau_r_us: 0 });
  });
});
