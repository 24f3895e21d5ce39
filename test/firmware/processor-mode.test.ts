/**
 * ChipConfig.processor through the emulated chip: the interpreter, the translated firmware and
 * 'auto' learn the same weights, byte for byte (and equal the engine's update kernel on ideal), a
 * chip state saved under one implementation resumes under the other, and unknown modes are refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureKernels } from '../kernels/kernels-build.js';
import type { Chip, ChipConfig } from '../../emulator/chip-interface.js';
import { Rng } from '../../common/random.js';
import { chipWith, compileFor, smallNet } from './helpers.js';

beforeAll(ensureKernels);

const image = compileFor(smallNet({ sizes: [40, 36, 5] }), 'ideal');
const count = 12;
const rng = new Rng(7, 'processor-mode');
const inputs = Float32Array.from({ length: 40 * count }, () => rng.uniform());
const targets = Float32Array.from({ length: 5 * count }, () => rng.uniform() - 0.5);

async function train(chip: Chip, from = 0, to = count): Promise<void> {
  await chip.present({
    inputs: inputs.subarray(40 * from, 40 * to), inputSize: 40, targets: targets.subarray(5 * from, 5 * to),
    count: to - from, tPresMs: 0.2, learn: true, readout: 'out',
  });
}

async function weights(chip: Chip): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const p of [0, 1]) out.push(new Uint8Array((await chip.readWeights(p)).buffer.slice(0)));
  return out;
}

async function trained(config: ChipConfig): Promise<{ w: Uint8Array[]; report: ReturnType<NonNullable<Chip['processorReport']>> | undefined }> {
  const chip = await chipWith(image, { processorTiming: 'ideal', ...config });
  await train(chip);
  const w = await weights(chip);
  const report = chip.processorReport?.();
  await chip.close();
  return { w, report };
}

describe('processor implementations on the emulated chip', () => {
  it('interpret, translate and auto learn the same weights byte for byte, equal to the update kernel', async () => {
    const interp = await trained({ processor: 'interpret' });
    const trans = await trained({ processor: 'translate' });
    const auto = await trained({ processor: 'auto' });
    const kernel = await trained({ plasticity: 'kernel' });
    expect(interp.report?.plasticity).toBe('firmware');
    expect(interp.report?.instructions).toBeGreaterThan(0);
    // Same instructions retired: the translated code keeps the interpreter's accounting.
    expect(trans.report?.instructions).toBe(interp.report?.instructions);
    expect(trans.report?.cycles).toBe(interp.report?.cycles);
    for (const other of [trans, auto, kernel]) {
      other.w.forEach((w, p) => expect(Buffer.from(w).equals(Buffer.from(interp.w[p]))).toBe(true));
    }
  });

  it('a state saved while translated resumes interpreted (and back) to the same weights', async () => {
    const whole = await trained({ processor: 'translate' });
    const a = await chipWith(image, { processorTiming: 'ideal', processor: 'translate' });
    await train(a, 0, count / 2);
    const state = await a.saveState();
    await a.close();
    const b = await chipWith(image, { processorTiming: 'ideal', processor: 'interpret' });
    await b.restoreState(state);
    await train(b, count / 2, count);
    const w = await weights(b);
    await b.close();
    w.forEach((x, p) => expect(Buffer.from(x).equals(Buffer.from(whole.w[p]))).toBe(true));
  });

  it('an unknown processor mode is refused with one line naming the choices', async () => {
    await expect(chipWith(image, { processor: 'jit' as never })).rejects.toThrow(/processor must be 'interpret', 'translate' or 'auto'/);
  });
});
