/**
 * firmware-models/tau-adapt.s on the processor: bit for bit against the plain TypeScript of its
 * arithmetic (tau-adapt-reference.ts fixedUpdate / floatUpdate) on a MockBus with scripted
 * observables, fixed-point (bss2: 16-bit lanes, stochastic rounding from the lane generators) and
 * float (ideal); and on the real chip (engine + co-simulated processors), where it closes the gap
 * |tau_m - tau_r| layer by layer as the float rule does.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadChip } from '../../chip/presets.js';
import type { ChipSpecT } from '../../chip/spec.js';
import { Rng } from '../../common/random.js';
import { compile } from '../../compiler/compile.js';
import { MockBus } from '../../emulator/processor/bus.js';
import { Processor } from '../../emulator/processor/interpreter.js';
import { assembleTauAdapt, encodeTaTable, thresholdWord, TA, type TaRecord, adaptTauWithFirmware } from '../../emulator/tau-adapt-firmware.js';
import { adaptTauOnChip } from '../../emulator/tau-adapt.js';
import { fixedUpdate, floatUpdate } from '../../firmware-models/tau-adapt-reference.js';
import { adcCode, adcLaneCode, floatToBits, LaneRandom } from '../../isa/lanes.js';
import { ensureKernels } from '../kernels/kernels-build.js';

beforeAll(ensureKernels);

/** Runs tau-adapt.s on a MockBus for `steps` updates, the observables redrawn before each; returns bus and each step's observables. */
function runMock(chip: ChipSpecT, records: TaRecord[], steps: number, seed: number) {
  const prog = assembleTauAdapt();
  const isFloat = chip.weights.kind === 'float32';
  const cols = chip.core.neurons;
  const bus = new MockBus(chip.core.rows, cols, isFloat ? 'float32' : 'fixed');
  const rng = new Rng(seed, 'ta-mock');
  for (let c = 0; c < cols; c++) bus.parameters[cols + c] = isFloat ? 0.2 * (rng.uniform() - 0.5) : Math.round(400 * (rng.uniform() - 0.5));
  const initial = Array.from(bus.parameters.subarray(cols, 2 * cols));
  const draws: { r: number[]; basal: number[]; u: number[]; rp: number[] }[] = [];
  const draw = () => {
    const o = { r: [] as number[], basal: [] as number[], u: [] as number[], rp: [] as number[] };
    for (let c = 0; c < cols; c++) {
      o.r.push(-0.5 + 2 * rng.uniform());
      o.basal.push(-0.5 + 2 * rng.uniform());
      o.u.push(-0.5 + 2 * rng.uniform());
      o.rp.push(rng.uniform() < 0.8 ? 1 : 0);
    }
    for (const [k, name] of [[0, 'r'], [5, 'basal'], [1, 'u'], [2, 'rp']] as const) bus.observables.set(o[name], k * cols);
    draws.push(o);
  };
  const p = new Processor({ chip, bus, rngSeed: 5 });
  const data = encodeTaTable(prog, isFloat ? TA.MODE_FLOAT : TA.MODE_FIXED, thresholdWord(chip), records);
  p.load({ segments: [{ addr: 0, bytes: new Uint8Array(prog.text.buffer) }, { addr: prog.dataBase, bytes: data }], entry: prog.entry, symbols: prog.symbols });
  // Start: runs to its first wait; then each step: the core advances, observables change, the firmware updates.
  let r = p.run(1e7);
  expect(r.reason).toBe('wait');
  for (let t = 0; t < steps; t++) {
    bus.advanceAnalog(1);
    draw();
    r = p.run(1e7);
    expect(r.reason).toBe('wait');
  }
  const updates = new DataView(p.mem.buffer).getInt32(prog.symbols.ta_table + 20, true);
  return { bus, draws, initial, updates };
}

describe('tau-adapt.s against its arithmetic', () => {
  it('fixed point (bss2): every trim code bit for bit, tails and other columns untouched', () => {
    const chip = loadChip('bss2');
    const records: TaRecord[] = [{ col0: 3, cols: 70, k: 20000, s: 9 }, { col0: 100, cols: 10, k: 30000, s: 2 }];
    const { bus, draws, initial, updates } = runMock(chip, records, 12, 1);
    expect(updates).toBe(12);
    const code = (v: number) => adcLaneCode(adcCode(v, chip.adc), chip.adc.bits, 16);
    const lanes = new LaneRandom(chip.processor.vector_bytes, 5, 0);
    let want = initial.slice();
    for (const o of draws) {
      for (const rec of records) {
        const sl = (a: number[]) => a.slice(rec.col0, rec.col0 + 64 * Math.ceil(rec.cols / 64)).map(code);
        const obs = { r: sl(o.r), basal: sl(o.basal), u: sl(o.u), rp: sl(o.rp) };
        const next = fixedUpdate(obs, want.slice(rec.col0, rec.col0 + rec.cols), rec.cols, rec.k, rec.s, 1, thresholdWord(chip), (i) => lanes.next(i));
        want.splice(rec.col0, rec.cols, ...next);
      }
    }
    const got = Array.from(bus.parameters.subarray(256, 512));
    expect(got).toEqual(want);
    expect(got.slice(73, 100)).toEqual(initial.slice(73, 100));
    expect(got.filter((v, c) => v !== initial[c]).length).toBeGreaterThan(50); // it did update
    want = [];
  });

  it('float lanes (ideal): every trim value bit for bit', () => {
    const chip = loadChip('ideal');
    const records: TaRecord[] = [{ col0: 10, cols: 45, k: floatToBits(0.125), s: 0 }];
    const { bus, draws, initial } = runMock(chip, records, 8, 2);
    let want = initial.slice();
    for (const o of draws) {
      const sl = (a: number[]) => a.slice(10, 55);
      const next = floatUpdate({ r: sl(o.r), basal: sl(o.basal), u: sl(o.u), rp: sl(o.rp) }, want.slice(10, 55), 0.125, 1, 0.5, Infinity);
      want.splice(10, 45, ...next);
    }
    const got = Array.from(bus.parameters.subarray(1024, 2048));
    expect(got).toEqual(want);
    expect(got[9]).toBe(initial[9]);
    expect(got[55]).toBe(initial[55]);
  });
});


describe('tau-adapt.s on the chip', () => {
  const description = {
    format: 'lechip/network@1',
    name: 'adapt',
    populations: {
      in: { size: 3, role: 'input' },
      h1: { size: 5, neuron: { model: 'le', tau_m: 10, activation: 'hardsigmoid' }, bias: [0.5, 0.4, 0.6, 0.5, 0.45] },
      out: { size: 2, role: 'output', neuron: { model: 'le', tau_m: 10, activation: 'linear' } },
    },
    projections: [
      { from: 'in', to: 'h1', init: { kind: 'normal', scale: 0.8, seed: 1 } },
      { from: 'h1', to: 'out', init: { kind: 'normal', scale: 0.5, seed: 4 } },
    ],
    learning: { rule: 'le', beta: 0.1, eta: 0.1 },
    presentation: { t_pres: 0.1, dt: 0.01 },
  };
  const count = 200;
  const rng = new Rng(9, 'adapt-samples');
  const inputs = Float32Array.from({ length: count * 3 }, () => rng.uniform());

  it('ideal chip (float lanes): closes the gap like the float rule', () => {
    const image = compile(JSON.stringify(description), { chip: loadChip('ideal'), seed: 1 }).image;
    const config = { chipSeed: 4, seed: 1, mismatch: { tau_m: 0.3, tau_r: 0.3 }, tauDistribution: 'normal' as const };
    const opts = { eta: 20, stepsPerSample: 10, tolMs: 1e-4, maxPasses: 8 };
    const fw = adaptTauWithFirmware(image, config, inputs, count, opts);
    const eng = adaptTauOnChip(image, config, inputs, count, opts);
    expect(fw.updates).toBeGreaterThan(1000);
    for (const name of ['h1', 'out']) {
      expect(fw.before[name]).toBeCloseTo(eng.before[name], 5);
      // hard-sigmoid neurons in their linear region and linear ones: r - basal is ubr - basal, the rule's own term
      expect(fw.after[name] / fw.before[name], name).toBeLessThan(0.1);
    }
  });

  it('bss2 (fixed point, 8-bit ADC) after calibration: the gap shrinks several times', async () => {
    const chip = loadChip('bss2');
    const image = compile(JSON.stringify(description), { chip, seed: 1 }).image;
    const { calibrate } = await import('../../emulator/calibration/calibrate.js');
    const config = { chipSeed: 2, seed: 1, mismatch: { tau_m: 0.3, tau_r: 0.3 }, tauDistribution: 'normal' as const };
    const cal = await calibrate({ chip, config, cores: 1, iterations: 1 });
    // calibration brings tau_m and tau_r to nominal, so start the adaptation from the raw time constants:
    // keep only the gain, offset and synapse trims
    const gainOnly = { ...cal, trims: cal.trims.map((t) => ({ ...t, tau_m: t.tau_m.map(() => 0), tau_r: t.tau_r.map(() => 0) })) };
    const fw = adaptTauWithFirmware(image, { ...config, calibration: gainOnly }, inputs, count, { eta: 20, stepsPerSample: 10, tolMs: 1e-4, maxPasses: 8 });
    expect(fw.before.h1).toBeGreaterThan(1);
    expect(fw.after.h1 / fw.before.h1).toBeLessThan(0.35);
    expect(fw.after.out / fw.before.out).toBeLessThan(0.35);
  }, 60_000);
});
