/**
 * One pass of firmware-models/le.s against its float reference (firmware-models/le-reference.ts):
 * bit for bit on the ideal chip (float32 lanes), within one code (the stochastic rounding step) on
 * bss2 (6-bit magnitudes on excitatory/inhibitory row pairs) and on a chip with signed codes per
 * synapse, and unbiased on average. The state is read through the core's bus before the pass.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadChip } from '../../chip/presets.js';
import type { ChipSpecT } from '../../chip/spec.js';
import { NMAX, type CoreTable } from '../../compiler/link.js';
import { compile } from '../../compiler/compile.js';
import { referencePass, type RowResult } from '../../firmware-models/le-reference.js';
import type { ChipConfig } from '../../emulator/chip-interface.js';
import type { CoreBus } from '../../emulator/core-bus.js';
import { ensureKernels } from '../kernels/kernels-build.js';
import { engineWithFirmware, smallNet } from './helpers.js';

beforeAll(ensureKernels);

/**
 * Compiles the small network, drives it with nudging for `settle` steps, then runs one firmware pass `n` steps after the processors started.
 * `maxSteps`: the cap on n linked into the table (default: no cap, NMAX, so that large n make large updates).
 */
function onePass(chip: ChipSpecT, opts: { n: number; config?: ChipConfig; eta?: number; rngSeed?: number; maxSteps?: number }) {
  const { stages, image } = compile(JSON.stringify(smallNet({ eta: opts.eta ?? 0.5 })), { chip, seed: 1, maxStepsPerUpdate: opts.maxSteps ?? NMAX });
  const config: ChipConfig = { chipSeed: opts.rngSeed ?? 3, noise: { adc_lsb: 0, membrane: 0 }, ...opts.config };
  const { engine, runtime } = engineWithFirmware(image, config, 'ideal');
  engine.setInput('in', [0.9, 0.1, 0.6, 0, 0.35]);
  engine.setTarget('out', [0.8, -0.4, 0.3]);
  engine.step(40, { learn: false, nudge: true });
  const tables = stages.linked.firmware!.cores;
  const before = new Map<number, { table: CoreTable; bus: CoreBus; rows: Map<number, Float64Array> }>();
  for (const t of tables) {
    const p = runtime.processor(t.core)!;
    expect(p.run(1e7).reason).toBe('wait'); // the firmware's start-up, up to its first wait
  }
  engine.step(opts.n, { learn: false, nudge: true });
  runtime.counter.steps += opts.n;
  const refs = tables.map((t) => referencePass({ chip, table: t, steps: opts.n, bus: runtime.buses[t.core] }));
  // The same pass without the table's cap on n.
  const uncap = <T extends { max_steps: number }>(r: T): T => ({ ...r, max_steps: NMAX });
  const uncapped = tables.map((t) => referencePass({ chip, table: { ...t, blocks: t.blocks.map(uncap), biases: t.biases.map(uncap) }, steps: opts.n, bus: runtime.buses[t.core] }));
  for (const t of tables) {
    const bus = runtime.buses[t.core];
    const rows = new Map<number, Float64Array>();
    for (let r = 0; r < bus.rows; r++) rows.set(r, readRow(bus, r, chip));
    before.set(t.core, { table: t, bus, rows });
    expect(runtime.processor(t.core)!.run(1e8).reason).toBe('wait'); // one pass
  }
  return { tables, refs, uncapped, before, runtime, image };
}

function readRow(bus: CoreBus, row: number, chip: ChipSpecT): Float64Array {
  const buf = chip.weights.kind === 'float32' ? new Float32Array(bus.columns) : new Int32Array(bus.columns);
  bus.readSynapseRow(row, 0, buf, bus.columns);
  return Float64Array.from(buf);
}

/** The firmware's result for a reference row: weights, or w = exc - inh on sign-per-row chips. */
function firmwareRow(bus: CoreBus, r: RowResult, chip: ChipSpecT): Float64Array {
  const exc = readRow(bus, r.row, chip).subarray(r.col0, r.col0 + r.values.length);
  if (chip.weights.sign !== 'per_row') return Float64Array.from(exc);
  const inh = readRow(bus, r.row + 1, chip).subarray(r.col0, r.col0 + r.values.length);
  return Float64Array.from(exc, (e, i) => e - inh[i]);
}

describe('one pass of le.s against le-reference.ts', () => {
  it('ideal (float32 lanes): weights and biases bit for bit; rows outside plastic blocks untouched', () => {
    const chip = loadChip('ideal');
    const { refs, tables, runtime } = onePass(chip, { n: 1 });
    let changed = 0;
    refs.forEach((ref, k) => {
      const bus = runtime.buses[tables[k].core];
      for (const r of ref.rows) {
        const got = firmwareRow(bus, r, chip);
        expect(Array.from(got)).toEqual(Array.from(r.values));
        changed += r.values.length;
      }
      const bias = new Float32Array(bus.columns);
      bus.readParameter(0, 0, bias, bus.columns);
      for (const [col, v] of ref.bias) expect(bias[col]).toBe(v);
    });
    expect(changed).toBe(5 * 7 + 7 * 3);
    // The mirror rows of the transpose feedback block were computed and written (dropped by the bus).
    expect(refs.some((r) => r.mirror.length > 0)).toBe(true);
    expect(runtime.statistics().dropped_writes).toBeGreaterThan(0);
  });

  it('ideal: the update is the analytic one (rate * n * e * s) to float32 rounding, also for n = 7 steps', () => {
    expectAnalyticUpdate({ n: 7 }, 7);
  });

  it('ideal: n is capped at the table\'s max_steps (n = 7 steps, cap 5: the update of 5 steps), bit for bit with the reference', () => {
    const { chip, refs, tables, runtime } = expectAnalyticUpdate({ n: 7, maxSteps: 5 }, 5);
    refs.forEach((ref, k) => {
      const rb = runtime.buses[tables[k].core];
      for (const r of ref.rows) expect(Array.from(firmwareRow(rb, r, chip))).toEqual(Array.from(r.values));
    });
  });

  it('bss2: with the linked cap (compiler/link.ts updateCap) n = 3000 steps updates as n = max_steps, within one code of the reference', () => {
    const chip = loadChip('bss2');
    const { stages } = compile(JSON.stringify(smallNet({ eta: 0.5 })), { chip, seed: 1 });
    const cap = stages.linked.firmware!.cores[0].blocks[0].max_steps;
    expect(cap).toBeLessThan(3000);
    const { refs, uncapped, tables, runtime } = onePass(chip, { n: 3000, maxSteps: cap });
    let count = 0;
    let far = 0;
    refs.forEach((ref, k) => {
      const bus = runtime.buses[tables[k].core];
      ref.rows.forEach((r, j) => {
        const got = firmwareRow(bus, r, chip);
        for (let i = 0; i < r.values.length; i++) {
          expect(Math.abs(got[i] - r.values[i])).toBeLessThan(1 + 1e-3);
          // Uncapped, the update of 3000 steps would land elsewhere.
          if (Math.abs(got[i] - uncapped[k].rows[j].values[i]) > 2) far++;
        }
        count += r.values.length;
      });
    });
    expect(count).toBe(5 * 7 + 7 * 3);
    expect(far).toBeGreaterThan(count / 4);
  });

  const perSynapse: ChipSpecT = { ...loadChip('bss2'), name: 'bss2-signed', weights: { kind: 'fixed', bits: 7, sign: 'per_synapse' } };
  for (const [name, chip] of [['bss2 (sign per row: exc/inh magnitudes)', loadChip('bss2')], ['a chip with signed 7-bit codes per synapse', perSynapse]] as const) {
    it(`${name}: codes within one step of the real-valued update, unbiased, pairs kept as magnitudes`, () => {
      // n = 3000 steps since the start makes the update several codes large.
      const { refs, tables, runtime, before } = onePass(chip, { n: 3000 });
      let count = 0;
      let sumErr = 0;
      let moved = 0;
      refs.forEach((ref, k) => {
        const core = tables[k].core;
        const bus = runtime.buses[core];
        for (const r of ref.rows) {
          const got = firmwareRow(bus, r, chip);
          const was = chip.weights.sign === 'per_row'
            ? before.get(core)!.rows.get(r.row)!.subarray(r.col0).map((x, i) => x - before.get(core)!.rows.get(r.row + 1)![r.col0 + i])
            : before.get(core)!.rows.get(r.row)!.subarray(r.col0);
          for (let i = 0; i < r.values.length; i++) {
            expect(Math.abs(got[i] - r.values[i]), `row ${r.row} col ${r.col0 + i}`).toBeLessThan(1 + 1e-3);
            sumErr += got[i] - r.values[i];
            count++;
            if (got[i] !== was[i]) moved++;
          }
          if (chip.weights.sign === 'per_row') {
            const exc = readRow(bus, r.row, chip), inh = readRow(bus, r.row + 1, chip);
            for (let i = 0; i < r.values.length; i++) expect(Math.min(exc[r.col0 + i], inh[r.col0 + i])).toBe(0);
          }
        }
        const codes = new Int32Array(bus.columns);
        bus.readParameter(0, 0, codes, bus.columns);
        for (const [col, v] of ref.bias) expect(Math.abs(codes[col] - v)).toBeLessThan(1 + 1e-3);
      });
      expect(count).toBe(5 * 7 + 7 * 3);
      expect(moved).toBeGreaterThan(count / 3); // the pass did move codes
      // Stochastic rounding is unbiased: the mean error stays well inside half a code.
      expect(Math.abs(sumErr / count)).toBeLessThan(0.25);
    });
  }

  it('bss2: stochastic rounding averages to the real-valued update over many chip seeds', () => {
    const chip = loadChip('bss2');
    // The same analog state on every instance needs no mismatch; chip seeds then only change the processors' generators.
    let sumErr = 0;
    let count = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const { refs, tables, runtime } = onePass(chip, { n: 500, rngSeed: seed, config: { mismatchScale: 0 } });
      refs.forEach((ref, k) => {
        const bus = runtime.buses[tables[k].core];
        for (const r of ref.rows) {
          const got = firmwareRow(bus, r, chip);
          for (let i = 0; i < r.values.length; i++) {
            if (Math.abs(r.values[i]) >= 63) continue;
            sumErr += got[i] - r.values[i];
            count++;
          }
        }
      });
    }
    expect(count).toBeGreaterThan(500);
    // Each error lies in (-1, 1); the mean of independent roundings shrinks as 1/sqrt(count).
    expect(Math.abs(sumErr / count)).toBeLessThan(3 * 0.5 / Math.sqrt(count) + 0.002);
  });
});

/**
 * One pass on the ideal chip after opts.n steps: every weight of the first forward block moved by
 * stepsWanted * rate * e * s to float32 rounding (and the table's caps are opts.maxSteps if given).
 */
function expectAnalyticUpdate(opts: { n: number; maxSteps?: number }, stepsWanted: number) {
  const chip = loadChip('ideal');
  const pass = onePass(chip, opts);
  const { tables, runtime, before } = pass;
  const t = tables.find((x) => x.blocks.some((b) => b.role === 'forward'))!;
  if (opts.maxSteps !== undefined) {
    expect(t.blocks.every((b) => b.max_steps === opts.maxSteps) && t.biases.every((b) => b.max_steps === opts.maxSteps)).toBe(true);
  }
  const bus = runtime.buses[t.core];
  const b = t.blocks.find((x) => x.role === 'forward')!;
  const e = new Float32Array(b.cols);
  bus.readObservable(3, b.col0, e, b.cols);
  const s = new Float32Array(b.signals);
  bus.readRowDrivers(b.row0, s, b.signals);
  let nonzero = 0;
  for (let k = 0; k < b.signals; k++) {
    const w0 = before.get(t.core)!.rows.get(b.row0 + k)!;
    const w1 = readRow(bus, b.row0 + k, chip);
    for (let i = 0; i < b.cols; i++) {
      const want = stepsWanted * b.rate * e[i] * s[k];
      if (want !== 0) nonzero++;
      expect(Math.abs(w1[b.col0 + i] - w0[b.col0 + i] - want)).toBeLessThanOrEqual(1e-6 * Math.abs(w0[b.col0 + i]) + 1e-6 * Math.abs(want) + 1e-12);
    }
  }
  expect(nonzero).toBeGreaterThan(b.signals * b.cols / 2);
  return { chip, ...pass };
}
