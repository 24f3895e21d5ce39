/** Chip-level values through payloads and back (through real frame bytes): nothing lost, nothing added. */
import { describe, expect, it } from 'vitest';
import type { Recording } from '../../emulator/chip-interface.js';
import {
  decodeConfigure,
  decodeParameters,
  decodePresent,
  decodeRecording,
  decodeRun,
  decodeWriteInputs,
  encodeConfigure,
  encodeParameters,
  encodePresent,
  encodeRecording,
  encodeRun,
  encodeWriteInputs,
} from '../../emulator/hil/messages.js';
import { decodeFrame, encodeFrame, type Payload } from '../../emulator/hil/protocol.js';
import { canonicalBytes } from './helpers.js';

/** Sends a payload through the frame codec, as the wire would. */
function wire(p: Payload): Payload {
  const r = decodeFrame(encodeFrame(1, 1, p));
  if (r.kind !== 'frame') throw new Error(JSON.stringify(r));
  return r.frame.payload;
}

describe('messages', () => {
  it('a Recording comes back bit-identical, float64 times, ragged spikes and extra fields included', () => {
    const rec = {
      t_bio_ms: [0.01, 0.02, 0.030000000000000002],
      t_hw_us: [0.001, 0.002, 0.003],
      record: {
        out: { r: [[Math.fround(0.1), -0], [1, 2], [3, 4]], u: [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]] },
        spk: { spikes: [[1.5, 2.5], [], [7]], v: [[-65, -64.5, -64]] } as never,
        empty: { r: [], u: [] },
      },
      hw_us: 0.003,
      steps: 3,
      note: 'kept',
    } as unknown as Recording;
    const p = wire(encodeRecording(rec));
    // Arrays are binary, never JSON: no number lists in the JSON part.
    expect(JSON.stringify(p.json)).not.toMatch(/\[\s*-?\d/);
    expect(p.arrays.get('record/out/r')!.dtype).toBe('f32');
    expect(p.arrays.get('record/out/u')!.dtype).toBe('f64');
    expect(p.arrays.get('record/spk/spikes/len')!.data).toEqual(new Uint32Array([2, 0, 1]));
    const back = decodeRecording(p);
    expect(canonicalBytes(back).equals(canonicalBytes(rec))).toBe(true);
    expect(Object.is(back.record.out.r[0][1], -0)).toBe(true);
  });

  it('schedules keep their times and values, rectangular or ragged; absent targets stay absent', () => {
    const inputs = { in: [{ t: 0, value: new Float32Array([1, 2]) }, { t: 0.5, value: [0.1, 0.2] }], other: [{ t: 1, value: [1] }, { t: 2, value: [1, 2, 3] }] };
    const a = decodeWriteInputs(wire(encodeWriteInputs(inputs)));
    expect(a.targets).toBeUndefined();
    expect(Object.keys(a.inputs)).toEqual(['in', 'other']);
    expect(a.inputs.in.map((e) => [e.t, Array.from(e.value)])).toEqual([[0, [1, 2]], [0.5, [0.1, 0.2]]]);
    expect(a.inputs.other.map((e) => [e.t, Array.from(e.value)])).toEqual([[1, [1]], [2, [1, 2, 3]]]);
    const b = decodeWriteInputs(wire(encodeWriteInputs({}, { out: [{ t: 0, value: [0.25] }] })));
    expect(b).toEqual({ inputs: {}, targets: { out: [{ t: 0, value: new Float32Array([0.25]) }] } });
  });

  it('configuration, run and present options round-trip; unknown or wrong fields are diagnostics', () => {
    const cfg = { chipSeed: 7, seed: 2, mismatchScale: 0.5, mismatch: { tau_m: 0.3 }, tauDistribution: 'normal' as const, calibration: { trims: [1, 2] }, processorTiming: 'ideal' as const, dtMs: 0.05, noise: { rate: 0.2 } };
    expect(decodeConfigure(wire(encodeConfigure(cfg)))).toEqual(cfg);
    expect(encodeConfigure(cfg).json).toMatchObject({ chip_seed: 7, mismatch_scale: 0.5, dt_ms: 0.05 });
    expect(() => decodeConfigure({ json: { chipseed: 1 }, arrays: new Map() })).toThrow(/unknown field "chipseed"/);
    expect(() => decodeConfigure({ json: { chip_seed: 1.5 }, arrays: new Map() })).toThrow(/expected an integer/);
    expect(() => decodeConfigure({ json: { mismatch: { tau_x: 1 } }, arrays: new Map() })).toThrow(/unknown key "tau_x"/);
    const run = { durationMs: 5, record: ['out', 'h'], sampleEveryMs: 0.1, learn: true, nudge: false };
    expect(decodeRun(wire(encodeRun(run)))).toEqual(run);
    expect(() => decodeRun({ json: {}, arrays: new Map() })).toThrow(/duration_ms: RUN: missing/);
    const pres = { inputs: new Float32Array([1, 2, 3, 4]), inputSize: 2, count: 2, tPresMs: 1, learn: true, readout: 'out', targets: new Float32Array([0, 1]), progressEvery: 1, onProgress: () => {} };
    const { onProgress: _, ...rest } = pres;
    expect(decodePresent(wire(encodePresent(pres)))).toEqual(rest);
  });

  it('parameters round-trip only the fields given', () => {
    const p = { tau_m_us: new Float32Array([2, 3]), bias: new Float32Array([0.5, -0.5]) };
    const back = decodeParameters('WRITE_PARAMETERS', wire(encodeParameters(p, 'h')));
    expect(back).toEqual(p);
    expect(() => decodeParameters('WRITE_PARAMETERS', { json: {}, arrays: new Map([['tau', { dtype: 'f32', shape: [1], data: new Float32Array(1) }]]) })).toThrow(/unknown parameter array "tau"/);
  });
});
