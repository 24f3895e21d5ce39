/**
 * Trim DAC arithmetic (emulator/trims.ts) against hand-computed codes, the calibration file's
 * checks (shape, code ranges, and the instance it belongs to), the pure fits of the experiments
 * against synthetic Euler trajectories, and the rule that calibration code never reaches the
 * hidden draw.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadChip } from '../../chip/presets.js';
import { UserError } from '../../common/diagnostics.js';
import { fitLeadSlope, fitTauM, linearFit, spread } from '../../emulator/calibration/fit.js';
import { CALIBRATION_FORMAT, checkCalibration, checkCalibrationFor, chipSha256, type Calibration } from '../../emulator/calibration/format.js';
import { effectiveMismatch } from '../../emulator/mismatch.js';
import { applyTrim, codeFor, trimCodeRange, trimValue } from '../../emulator/trims.js';
import { circuitDeviations, realiseCircuits } from '../../emulator/instance.js';
import { calibrationNetwork } from '../../emulator/calibration/network.js';

const bss2 = loadChip('bss2');

describe('trim DACs', () => {
  it('10-bit signed codes over +-60 %: LSB 0.6 / 512, range -512..511', () => {
    expect(trimCodeRange(bss2)).toEqual({ min: -512, max: 511 });
    expect(trimValue(bss2, 512 / 2)).toBeCloseTo(0.3, 15);
    expect(trimValue(bss2, -512)).toBeCloseTo(-0.6, 15);
    expect(applyTrim(bss2, 'tau_m', 10, 256)).toBeCloseTo(13, 12);
    expect(applyTrim(bss2, 'offset', 0.02, -128)).toBeCloseTo(0.02 - 0.15, 12);
  });

  it('round trip: the code for a wanted trim reproduces it within half an LSB; out of range saturates', () => {
    const lsb = 0.6 / 512;
    for (const wanted of [0.5, 0.83, 1, 1.0004, 1.27, 1.55]) {
      const { code, saturated } = codeFor(bss2, 'gain', wanted);
      expect(saturated).toBe(false);
      expect(Math.abs(applyTrim(bss2, 'gain', 1, code) - wanted)).toBeLessThanOrEqual(lsb / 2 + 1e-12);
    }
    for (const wanted of [-0.3, -0.001, 0, 0.2, 0.55]) {
      const { code } = codeFor(bss2, 'offset', wanted);
      expect(Math.abs(applyTrim(bss2, 'offset', 0, code) - wanted)).toBeLessThanOrEqual(lsb / 2 + 1e-12);
    }
    expect(codeFor(bss2, 'tau_m', 1.7)).toEqual({ code: 511, saturated: true });
    expect(codeFor(bss2, 'tau_m', 0.3)).toEqual({ code: -512, saturated: true });
    expect(codeFor(bss2, 'offset', 0.9)).toEqual({ code: 511, saturated: true });
  });

  it('realiseCircuits applies a calibration\'s codes on top of the raw draw: value = nominal x deviation x (1 + t)', () => {
    const net = calibrationNetwork(bss2, 2);
    const m = net.image.manifest;
    const cal = minimalCalibration(7);
    cal.trims[0].tau_m[5] = 100;
    cal.trims[1].offset[3] = -40;
    cal.trims[0].gain[0] = 511;
    const raw = realiseCircuits(m, { chipSeed: 7 });
    const trimmed = realiseCircuits(m, { chipSeed: 7, calibration: cal });
    const pi = m.populations.findIndex((p) => p.name === 'core0');
    const pj = m.populations.findIndex((p) => p.name === 'core1');
    const iOf = (k: number, col: number) => net.populations[k].column.indexOf(col);
    const dev = circuitDeviations(7, 0, 256, 'tau_m', effectiveMismatch(bss2, {}).tau_m);
    expect(trimmed[pi].tau_m_ms[iOf(0, 5)]).toBeCloseTo(Math.fround(net.tauMs * dev[5] * (1 + (0.6 * 100) / 512)), 4);
    expect(trimmed[pi].tau_m_ms[iOf(0, 6)]).toBe(raw[pi].tau_m_ms[iOf(0, 6)]);
    expect(trimmed[pj].offset[iOf(1, 3)]).toBeCloseTo(raw[pj].offset[iOf(1, 3)] - (0.6 * 40) / 512, 6);
    expect(trimmed[pi].gain[iOf(0, 0)]).toBeCloseTo(raw[pi].gain[iOf(0, 0)] * (1 + (0.6 * 511) / 512), 6);
  });
});

/** A valid calibration of bss2 with all codes 0. */
function minimalCalibration(chipSeed: number): Calibration {
  const zeros = () => new Array(256).fill(0);
  return {
    format: CALIBRATION_FORMAT, tool_version: '0', chip: 'bss2', chip_sha256: chipSha256(bss2), chip_seed: chipSeed,
    mismatch: effectiveMismatch(bss2, {}), dac_bits: 10, trim_range: 0.6,
    trims: [0, 1].map((core) => ({ core, tau_m: zeros(), tau_r: zeros(), gain: zeros(), offset: zeros(), synapse_gain: zeros() })),
    parameters: {}, iterations: 0, seed: 1,
  };
}

describe('calibration file', () => {
  it('round-trips through JSON and passes its checks', () => {
    const cal = minimalCalibration(3);
    expect(checkCalibration(JSON.parse(JSON.stringify(cal)), 'c.json')).toEqual(cal);
  });

  it('another chip seed or chip is a user error naming both', () => {
    const cal = minimalCalibration(3);
    const mm = effectiveMismatch(bss2, {});
    expect(() => checkCalibrationFor(cal, bss2, 4, mm, 'c.json')).toThrow(UserError);
    expect(() => checkCalibrationFor(cal, bss2, 4, mm, 'c.json')).toThrow(/chip seed 3.*chip seed 4/);
    const spikey = loadChip('spikey');
    expect(() => checkCalibrationFor(cal, spikey, 3, effectiveMismatch(spikey, {}), 'c.json')).toThrow(/chip bss2 .*chip spikey/);
    expect(() => checkCalibrationFor(cal, bss2, 3, effectiveMismatch(bss2, { mismatchScale: 2 }), 'c.json')).toThrow(/tau_m mismatch lognormal sigma 0.15.*sigma 0.3/);
    const edited = { ...bss2, noise: { ...bss2.noise, membrane: 0.01 } };
    expect(() => checkCalibrationFor(cal, edited, 3, mm, 'c.json')).toThrow(/another description of chip bss2/);
    expect(() => checkCalibrationFor(cal, bss2, 3, mm, 'c.json')).not.toThrow();
  });

  it('codes outside the DAC range, ragged cores and another format are diagnostics with pointers', () => {
    const cal = minimalCalibration(3);
    cal.trims[1].gain[7] = 600;
    cal.trims[0].offset = cal.trims[0].offset.slice(1);
    try {
      checkCalibration(cal, 'c.json');
      expect.unreachable();
    } catch (e) {
      const d = (e as UserError).diagnostics;
      expect(d.map((x) => x.pointer).sort()).toEqual(['/trims/0/offset', '/trims/1/gain/7']);
      expect(d.every((x) => x.file === 'c.json')).toBe(true);
    }
    expect(() => checkCalibration({ format: 'lechip/checkpoint@1' }, 'c.json')).toThrow(/not a lechip calibration/);
  });

  it('a run with a calibration of another seed fails at configure', async () => {
    const { createEmulatedChip } = await import('../../emulator/emulated-chip.js');
    const { ensureKernels } = await import('../kernels/kernels-build.js');
    await ensureKernels();
    const net = calibrationNetwork(bss2, 2);
    const chip = await createEmulatedChip();
    await chip.load(net.bytes);
    await expect(chip.configure({ chipSeed: 5, calibration: minimalCalibration(3) })).rejects.toThrow(/chip seed 3.*chip seed 5/);
    const one = minimalCalibration(5);
    one.trims = one.trims.slice(0, 1);
    await expect(chip.configure({ chipSeed: 5, calibration: one })).rejects.toThrow(/image uses core 1; calibrate with --cores 2/);
  });
});

describe('fits', () => {
  it('fitTauM inverts an exact Euler relaxation (any starting point, unsettled end)', () => {
    for (const tau of [8, 14.1, 30]) {
      const dt = 0.28;
      const u = [0.1];
      for (let j = 0; j < 100; j++) u.push(u[j] + (dt / tau) * (0.9 - u[j]));
      expect(fitTauM(u, 50, dt)).toBeCloseTo(tau, 8);
    }
  });

  it('fitLeadSlope gives g (1 - tau_r / tau_m) from r after each step against u before it, skipping clipped readings', () => {
    const dt = 0.2, tm = 10, tr = 13, g = 1.1, o = 0.05, B = 0.8;
    const u = [-0.3];
    const r = [NaN];
    for (let j = 0; j < 80; j++) {
      const du = (B - u[j]) / tm;
      r.push(g * (u[j] + tr * du) + o);
      u.push(u[j] + dt * du);
    }
    r[3] = 2; // a rail reading, left out
    expect(fitLeadSlope(u, r, (v) => v < 2)).toBeCloseTo(g * (1 - tr / tm), 10);
  });

  it('linearFit and spread by hand', () => {
    expect(linearFit([0, 1, 2, 3], [1, 3, 5, 7])).toEqual({ slope: 2, intercept: 1, n: 4 });
    // sd of [1, 2, 3, 4] is sqrt(5/3); mean 2.5
    expect(spread([1, 2, 3, 4], true)).toBeCloseTo(Math.sqrt(5 / 3) / 2.5, 12);
    expect(spread([1, 2, 3, 4], false)).toBeCloseTo(Math.sqrt(5 / 3), 12);
  });
});

describe('the calibration code cannot reach the hidden draw', () => {
  it('no source under emulator/calibration/ names circuitDeviations, blockGain, synapseGainOf, realiseCircuits or readParameters, or imports instance.js', () => {
    const dir = join(import.meta.dirname, '..', '..', 'emulator', 'calibration');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const banned of ['circuitDeviations', 'blockGain', 'synapseGainOf', 'realiseCircuits', 'realiseModel', 'readParameters', 'instance.js', 'calibrationTrims']) {
        expect(text.includes(banned), `${f} mentions ${banned}`).toBe(false);
      }
    }
  });
});
