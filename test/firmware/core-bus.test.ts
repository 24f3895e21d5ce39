/**
 * The core bus (emulator/core-bus.ts): the processor's view of the synapse array, row drivers,
 * observables and neuron parameters, checked against the image's codes and the engine's state
 * computed independently here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadChip } from '../../chip/presets.js';
import type { ChipSpecT } from '../../chip/spec.js';
import { compile } from '../../compiler/compile.js';
import { synapseGainOf } from '../../emulator/instance.js';
import { ensureKernels } from '../kernels/kernels-build.js';
import { engineWithFirmware, smallNet } from './helpers.js';

beforeAll(ensureKernels);

function setup(chip: ChipSpecT) {
  const { image } = compile(JSON.stringify(smallNet()), { chip, seed: 1 });
  const config = { chipSeed: 4 };
  const { engine, runtime } = engineWithFirmware(image, config, 'ideal');
  engine.setInput('in', [0.9, 0.1, 0.6, 0, 0.35]);
  engine.setTarget('out', [0.8, -0.4, 0.3]);
  engine.step(30, { learn: false, nudge: true });
  return { image, config, engine, runtime, m: image.manifest };
}

describe('core bus', () => {
  it('bss2: rows of a signal pair hold exc = max(code, 0) and inh = max(-code, 0); a write sets (exc - inh) x the float32 unit (scale x column gain) in the engine', () => {
    const { image, config, engine, runtime, m } = setup(loadChip('bss2'));
    const b = m.blocks.find((x) => x.kind === 'forward' && x.projection === 0)!;
    const codes = image.sections.get(b.section!) as Int8Array;
    const bus = runtime.buses[b.core];
    const row = new Int32Array(b.cols);
    for (let s = 0; s < b.signals; s++) {
      bus.readSynapseRow(b.row0 + 2 * s, b.col0, row, b.cols);
      expect(Array.from(row)).toEqual(Array.from(codes.subarray(s * b.cols, (s + 1) * b.cols), (c) => Math.max(c, 0)));
      bus.readSynapseRow(b.row0 + 2 * s + 1, b.col0, row, b.cols);
      expect(Array.from(row)).toEqual(Array.from(codes.subarray(s * b.cols, (s + 1) * b.cols), (c) => Math.max(-c, 0)));
    }
    // Write magnitudes 40 (exc) and 15 (inh) into signal 1: w = 25 codes.
    bus.writeSynapseRow(b.row0 + 2, b.col0, new Int32Array(b.cols).fill(40), b.cols);
    bus.writeSynapseRow(b.row0 + 3, b.col0, new Int32Array(b.cols).fill(15), b.cols);
    const gain = synapseGainOf(m, config);
    const W = engine.readWeights(0); // [post][pre]
    for (let c = 0; c < b.cols; c++) expect(W[(b.neuron0 + c) * 5 + b.sig0 + 1]).toBe(Math.fround(25 * Math.fround(gain(b.core, b.col0 + c) * b.scale)));
    // A negative write to a magnitude row leaves 0.
    bus.writeSynapseRow(b.row0 + 3, b.col0, new Int32Array(b.cols).fill(-9), b.cols);
    bus.readSynapseRow(b.row0 + 3, b.col0, row, b.cols);
    expect(Array.from(row)).toEqual(new Array(b.cols).fill(0));
    // Lanes past the block read 0 and are not written; rows outside blocks likewise.
    const wide = new Int32Array(bus.columns);
    bus.readSynapseRow(b.row0, 0, wide, bus.columns);
    expect(Array.from(wide.subarray(b.col0 + b.cols)).every((x) => x === 0)).toBe(true);
    bus.readSynapseRow(bus.rows - 1, 0, wide, bus.columns);
    expect(wide.every((x) => x === 0)).toBe(true);
  });

  it('bss2: transpose feedback rows read the forward codes transposed, and writes to them are dropped', () => {
    const { m, runtime, image } = setup(loadChip('bss2'));
    const fb = m.blocks.find((x) => x.kind === 'feedback')!; // out -> h feedback: rows carry out's signals, columns are h's neurons
    const fwd = m.blocks.find((x) => x.kind === 'forward' && x.projection === fb.projection)!;
    const codes = image.sections.get(fwd.section!) as Int8Array; // [h signal][out column]
    const bus = runtime.buses[fb.core];
    const row = new Int32Array(fb.cols);
    for (let s = 0; s < fb.signals; s++) {
      bus.readSynapseRow(fb.row0 + 2 * s, fb.col0, row, fb.cols);
      for (let c = 0; c < fb.cols; c++) expect(row[c]).toBe(Math.max(codes[c * fwd.cols + s], 0));
    }
    bus.writeSynapseRow(fb.row0, fb.col0, new Int32Array(fb.cols).fill(63), fb.cols);
    bus.readSynapseRow(fb.row0, fb.col0, row, fb.cols);
    for (let c = 0; c < fb.cols; c++) expect(row[c]).toBe(Math.max(codes[c * fwd.cols], 0));
    expect(bus.droppedWrites).toBe(1);
  });

  it('row drivers carry r of the last step (input: x) on forward rows and diff on feedback rows; observables follow the columns', () => {
    const { m, runtime, engine } = setup(loadChip('bss2'));
    const fwd = m.blocks.find((x) => x.kind === 'forward' && x.projection === 1)!; // h -> out
    const fb = m.blocks.find((x) => x.kind === 'feedback')!;
    const rPrev = Float32Array.from(engine.view('h', 'r'));
    engine.step(1, { learn: false, nudge: true });
    const drv = new Float32Array(fwd.rows);
    runtime.buses[fwd.core].readRowDrivers(fwd.row0, drv, fwd.rows);
    for (let s = 0; s < fwd.signals; s++) {
      expect(drv[2 * s]).toBe(rPrev[s]);
      expect(drv[2 * s + 1]).toBe(rPrev[s]);
    }
    const fdrv = new Float32Array(fb.rows);
    runtime.buses[fb.core].readRowDrivers(fb.row0, fdrv, fb.rows);
    const diff = engine.signalView('out', 'diff');
    for (let s = 0; s < fb.signals; s++) expect(fdrv[2 * s]).toBe(diff[s]);
    const cols = m.populations.find((p) => p.name === 'out')!.columns[0];
    const e = new Float32Array(cols.count);
    runtime.buses[cols.core].readObservable(3, cols.col0, e, cols.count);
    expect(Array.from(e)).toEqual(Array.from(engine.view('out', 'e')));
  });

  it('parameters: bias DAC codes over ±2 rate units, trims over ±trim_range; writing the held code changes nothing', () => {
    const chip = loadChip('bss2');
    const { m, runtime, engine } = setup(chip);
    const h = m.populations.find((p) => p.name === 'h')!.columns[0];
    const bus = runtime.buses[h.core];
    const bias0 = Float32Array.from(engine.readBias('h'));
    const codes = new Int32Array(h.count);
    bus.readParameter(0, h.col0, codes, h.count);
    const lsb = 2 / 512; // 10-bit DAC: 2^9 steps per 2 rate units
    bias0.forEach((b, i) => expect(codes[i]).toBe(Math.round(b / lsb)));
    bus.writeParameter(0, h.col0, codes, h.count); // the codes it holds: no change, even off the grid
    expect(Array.from(engine.readBias('h'))).toEqual(Array.from(bias0));
    codes[0] += 3;
    bus.writeParameter(0, h.col0, codes, h.count);
    expect(engine.readBias('h')[0]).toBe(Math.fround(codes[0] * lsb));
    expect(engine.readBias('h')[1]).toBe(bias0[1]);
    // tau_m trim code 100 scales the circuit's tau_m by 1 + 0.6 * 100 / 512.
    const tau0 = Float32Array.from(engine.parameterView('h', 'tau_m_ms'));
    const trims = new Int32Array(h.count).fill(100);
    bus.writeParameter(1, h.col0, trims, h.count);
    engine.parameterView('h', 'tau_m_ms').forEach((t, i) => expect(t).toBeCloseTo(tau0[i] * (1 + (0.6 * 100) / 512), 4));
    bus.readParameter(1, h.col0, codes, h.count);
    expect(Array.from(codes)).toEqual(Array.from(trims));
    // Back to 0: the untrimmed value.
    bus.writeParameter(1, h.col0, new Int32Array(h.count), h.count);
    engine.parameterView('h', 'tau_m_ms').forEach((t, i) => expect(t).toBeCloseTo(tau0[i], 4));
  });

  it('ideal: float rows are the engine\'s weights; float parameter lanes hold values', () => {
    const { m, runtime, engine } = setup(loadChip('ideal'));
    const b = m.blocks.find((x) => x.kind === 'forward' && x.projection === 1)!;
    const bus = runtime.buses[b.core];
    const row = new Float32Array(b.cols);
    bus.readSynapseRow(b.row0 + 2, b.col0, row, b.cols);
    const W = engine.readWeights(1);
    for (let c = 0; c < b.cols; c++) expect(row[c]).toBe(W[c * 7 + 2]);
    const out = m.populations.find((p) => p.name === 'out')!.columns[0];
    const v = new Float32Array(out.count).fill(0.125);
    bus.writeParameter(0, out.col0, v, out.count);
    expect(Array.from(engine.readBias('out'))).toEqual([0.125, 0.125, 0.125]);
    const range = loadChip('ideal').parameters.trim_range;
    bus.writeParameter(3, out.col0, new Float32Array(out.count).fill(range + 1), out.count); // a gain trim beyond the DAC's range is clamped
    engine.parameterView('out', 'gain').forEach((g) => expect(g).toBeCloseTo(1 + range, 6));
  });
});
