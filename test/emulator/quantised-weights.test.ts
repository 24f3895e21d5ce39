/**
 * The engine's products on int8 codes (kernels/quantised.ts, EngineOptions.quantised) on a
 * fixed-point chip: every state variable and weight bit-identical to the float kernels, through
 * firmware learning (the processors' code writes follow into the codes), host writes, the engine's
 * own learning (which returns the projection to floats) and checkpoints; the formats' unit vectors
 * are the realised weights' units; bad choices are refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import type { Chip, ChipConfig } from '../../emulator/chip-interface.js';
import { Engine } from '../../emulator/engine.js';
import { FirmwareRuntime } from '../../emulator/firmware-runtime.js';
import { realiseModel } from '../../emulator/instance.js';
import { quantisedFormats, WEIGHT_KERNEL_AUTO_BYTES } from '../../emulator/quantised-format.js';
import { manyCoreChip } from '../../bench/compile-bench.js';
import { chipWith, compileFor, smallNet } from '../firmware/helpers.js';
import { ParallelEngine } from '../../emulator/threads/parallel-engine.js';
import { ensureSharedKernels } from '../threads/shared-build.js';

beforeAll(ensureSharedKernels, 180_000);

// 300 inputs span two row blocks of a bss2 core (256 rows, two rows per signal): units per row block.
const SIZES: [number, number, number] = [300, 40, 10];
const image = compileFor(smallNet({ sizes: SIZES, scale: 0.3 }), 'bss2', { cores: 'auto' });
const CONFIG: ChipConfig = { chipSeed: 3, seed: 2, processorTiming: 'ideal' };
const count = 6;
const rng = new Rng(11, 'quantised-weights');
const inputs = Float32Array.from({ length: SIZES[0] * count }, () => (rng.uniform() < 0.5 ? 0 : rng.uniform()));
const targets = Float32Array.from({ length: SIZES[2] * count }, () => rng.uniform() - 0.5);

/** An engine on the chip instance with the given projections quantised, and the firmware learning on it. */
function engineWith(int8: boolean): { engine: Engine; runtime: FirmwareRuntime } {
  const model = realiseModel(image, CONFIG);
  const quantised = int8 ? quantisedFormats(image, { ...CONFIG, weightKernels: 'int8' }, false) : undefined;
  const engine = new Engine(model, { quantised });
  return { engine, runtime: new FirmwareRuntime(image, engine, CONFIG, { timing: 'ideal', dtMs: model.dt_ms }) };
}

/** Samples through the firmware, 20 steps each. */
function trainFirmware(engine: Engine, runtime: FirmwareRuntime): void {
  for (let n = 0; n < count; n++) {
    engine.setInput('in', inputs.subarray(n * SIZES[0], (n + 1) * SIZES[0]));
    engine.setTarget('out', targets.subarray(n * SIZES[2], (n + 1) * SIZES[2]));
    runtime.advance(20, (k) => engine.step(k, { learn: false, nudge: true }));
  }
}

function bytes(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function sameState(a: Engine, b: Engine): void {
  for (const pop of ['h', 'out']) {
    for (const s of ['u', 'r', 'rp', 'e'] as const) expect(bytes(a.view(pop, s)).equals(bytes(b.view(pop, s))), `${pop}.${s}`).toBe(true);
  }
  for (const j of [0, 1]) expect(bytes(a.readHardwareWeights(j)).equals(bytes(b.readHardwareWeights(j))), `weights ${j}`).toBe(true);
}

describe('quantised formats', () => {
  it('give every row its row block\'s units: the realised weights are fround(code x unit) with integer codes', () => {
    const formats = quantisedFormats(image, { ...CONFIG, weightKernels: 'int8' }, false);
    expect([...formats.keys()]).toEqual([0, 1]);
    const model = realiseModel(image, CONFIG);
    for (const [j, f] of formats) {
      const { pre, post } = model.projections[j];
      const nPre = model.populations[pre].size;
      const nPost = model.populations[post].size;
      // Rows of one block share a vector; the 300 inputs need more than one.
      const vectors = new Set(f.unitOfRow);
      if (j === 0) expect(vectors.size).toBeGreaterThan(1);
      expect(vectors.size).toBeLessThan(nPre);
      let nonzero = 0;
      for (let k = 0; k < nPre; k++) {
        for (let i = 0; i < nPost; i++) {
          const u = f.units[f.unitOfRow[k] * nPost + i];
          const w = model.projections[j].weights[k * nPost + i];
          const code = Math.round(w / u);
          expect(Math.abs(code)).toBeLessThanOrEqual(63);
          expect(Math.fround(code * u)).toBe(w);
          if (code !== 0) nonzero++;
        }
      }
      expect(nonzero).toBeGreaterThan(nPre);
    }
  });

  it("'auto' quantises only arrays of at least 16 MiB of floats, 'float' and float chips none", () => {
    expect(WEIGHT_KERNEL_AUTO_BYTES).toBe(16 * 2 ** 20);
    expect(quantisedFormats(image, CONFIG, false).size).toBe(0);
    expect(quantisedFormats(image, { ...CONFIG, weightKernels: 'float' }, false).size).toBe(0);
    expect(quantisedFormats(compileFor(smallNet({ sizes: SIZES }), 'ideal'), { weightKernels: 'int8' }, false).size).toBe(0);
    // 2048 x 2048 floats are 16.8 MB: int8 under 'auto', unless the engine's update kernel learns it.
    const big = compileFor(smallNet({ sizes: [2048, 2048, 10] }), manyCoreChip(), { cores: 'auto' });
    expect([...quantisedFormats(big, {}, false).keys()]).toEqual([0]);
    expect(quantisedFormats(big, {}, true).size).toBe(0);
  });
});

describe('an engine on int8 codes', () => {
  it('steps bit-identically to the float kernels while the firmware learns, its codes following the processors\' writes', () => {
    const A = engineWith(true);
    const B = engineWith(false);
    expect(A.engine.quantisedKernels(0) && A.engine.quantisedKernels(1)).toBe(true);
    expect(B.engine.quantisedKernels(0)).toBe(false);
    const before = A.engine.readHardwareWeights(0);
    trainFirmware(A.engine, A.runtime);
    trainFirmware(B.engine, B.runtime);
    // The firmware changed weights, and the int8 kernels still run on codes that match them.
    expect(bytes(A.engine.readHardwareWeights(0)).equals(bytes(before))).toBe(false);
    expect(A.engine.quantisedKernels(0) && A.engine.quantisedKernels(1)).toBe(true);
    sameState(A.engine, B.engine);
    // A product from the codes alone: zero every float weight and step on; the states must still
    // agree with the float engine, so the int8 kernels (not the floats) computed them.
    A.engine.weightsView(0).view.fill(0);
    A.engine.step(5, { nudge: true });
    B.engine.step(5, { nudge: true });
    for (const s of ['u', 'r'] as const) expect(bytes(A.engine.view('h', s)).equals(bytes(B.engine.view('h', s)))).toBe(true);
  });

  it('follows host writes: on the code grid it stays on int8, off it returns to floats; results match either way', () => {
    const A = engineWith(true);
    const B = engineWith(false);
    const w = A.engine.readHardwareWeights(1);
    const f = quantisedFormats(image, { ...CONFIG, weightKernels: 'int8' }, false).get(1)!;
    // Double every code (still within 63 here): on the grid.
    const doubled = w.map((v, n) => {
      const u = f.units[f.unitOfRow[Math.floor(n / SIZES[2])] * SIZES[2] + (n % SIZES[2])];
      return Math.fround(Math.round(v / u) * 2 * u);
    });
    A.engine.writeHardwareWeights(1, doubled);
    B.engine.writeHardwareWeights(1, doubled);
    expect(A.engine.quantisedKernels(1)).toBe(true);
    trainFirmware(A.engine, A.runtime);
    trainFirmware(B.engine, B.runtime);
    sameState(A.engine, B.engine);
    // A weight between two codes: floats from then on.
    const off = A.engine.readHardwareWeights(1);
    off[3] = Math.fround(off[3] + 1e-4);
    A.engine.writeHardwareWeights(1, off);
    B.engine.writeHardwareWeights(1, off);
    expect(A.engine.quantisedKernels(1)).toBe(false);
    expect(A.engine.quantisedKernels(0)).toBe(true);
    A.engine.step(30, { nudge: true });
    B.engine.step(30, { nudge: true });
    sameState(A.engine, B.engine);
  });

  it('on 2 and 3 threads (column slices forward, row slices transposed) steps as one thread, from the codes', async () => {
    // The second network's 300 hidden neurons give its transposed product several row blocks.
    for (const sizes of [SIZES, [24, 300, 10] as [number, number, number]]) {
      const img = sizes === SIZES ? image : compileFor(smallNet({ sizes, scale: 0.3 }), 'bss2', { cores: 'auto' });
      const formats = quantisedFormats(img, { ...CONFIG, weightKernels: 'int8' }, false);
      if (sizes !== SIZES) expect(new Set(formats.get(1)!.unitOfRow).size).toBeGreaterThan(1);
      const x = inputs.subarray(0, sizes[0]);
      const drive = (e: Engine) => {
        e.setInput('in', x);
        e.setTarget('out', targets.subarray(0, sizes[2]));
        e.step(40, { nudge: true });
      };
      const one = new Engine(realiseModel(img, CONFIG));
      drive(one);
      for (const threads of [2, 3]) {
        // ownShare 0: every array is cut among the threads, none owned by one.
        const P = await ParallelEngine.create(realiseModel(img, CONFIG), { threads, quantum: 4, ownShare: 0, quantised: formats });
        try {
          expect(P.quantisedKernels(0) && P.quantisedKernels(1)).toBe(true);
          // Only the codes can give the one-thread states once the float weights are gone.
          for (const j of [0, 1]) P.weightsView(j).view.fill(0);
          drive(P);
          for (const pop of ['h', 'out']) {
            for (const st of ['u', 'r', 'e'] as const) expect(bytes(P.view(pop, st)).equals(bytes(one.view(pop, st))), `${sizes} on ${threads} threads: ${pop}.${st}`).toBe(true);
          }
        } finally {
          await P.close();
        }
      }
    }
  });

  it("returns a plastic projection to floats when the engine's own update kernel learns it", () => {
    const model = realiseModel(image, CONFIG);
    const A = new Engine(model, { quantised: quantisedFormats(image, { ...CONFIG, weightKernels: 'int8' }, true) });
    const B = new Engine(realiseModel(image, CONFIG));
    for (const e of [A, B]) {
      e.setInput('in', inputs.subarray(0, SIZES[0]));
      e.setTarget('out', targets.subarray(0, SIZES[2]));
      e.step(10, { nudge: true });
    }
    expect(A.quantisedKernels(0)).toBe(true);
    A.step(40, { learn: true, nudge: true });
    B.step(40, { learn: true, nudge: true });
    expect(A.quantisedKernels(0) || A.quantisedKernels(1)).toBe(false);
    sameState(A, B);
  });
});

describe('the emulated chip', () => {
  const train = (chip: Chip, learn = true) => chip.present({ inputs, inputSize: SIZES[0], targets, count, tPresMs: 0.2, learn, readout: 'out' });

  it('learns the same weights with weightKernels int8 as with float (firmware and kernel plasticity), and a checkpoint resumes', async () => {
    for (const plasticity of ['firmware', 'kernel'] as const) {
      const a = await chipWith(image, { ...CONFIG, weightKernels: 'int8', plasticity });
      const b = await chipWith(image, { ...CONFIG, weightKernels: 'float', plasticity });
      expect(bytes(await train(a)).equals(bytes(await train(b))), plasticity).toBe(true);
      for (const j of [0, 1]) expect(bytes(await a.readWeights(j)).equals(bytes(await b.readWeights(j))), `${plasticity} weights ${j}`).toBe(true);
      // The checkpoint carries the codes: a chip restored from it answers as the float chip does.
      const c = await chipWith(image, { ...CONFIG, weightKernels: 'int8', plasticity });
      await c.restoreState(await a.saveState());
      expect(bytes(await train(c, false)).equals(bytes(await train(b, false))), `${plasticity} after restore`).toBe(true);
      for (const chip of [a, b, c]) await chip.close();
    }
  });

  it('a state saved on int8 codes does not restore into a chip on floats, and says which settings to match', async () => {
    const a = await chipWith(image, { ...CONFIG, weightKernels: 'int8' });
    const b = await chipWith(image, { ...CONFIG, weightKernels: 'float' });
    await expect(b.restoreState(await a.saveState())).rejects.toThrow(/another network layout or configuration \(.*weight kernels\)/);
    for (const chip of [a, b]) await chip.close();
  });

  it('refuses an unknown weight-kernel mode with one line naming the choices', async () => {
    await expect(chipWith(image, { weightKernels: 'int4' as never })).rejects.toThrow(/^weight kernels must be 'auto', 'float' or 'int8' \(got "int4"\)$/);
  });
});
