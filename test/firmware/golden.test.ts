/**
 * The whole learning network with its firmware on the ideal chip (processor timing ideal) against
 * the golden LE trajectory (test/fixtures/le-small.json, float64, RESEARCH.md §1): u, r and e of
 * every layer at every 10th step, and the final weights and biases, within 1e-4. The firmware's
 * float path computes exactly the engine kernel's float32 update, so the two plasticity modes
 * must also agree bit for bit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureKernels } from '../kernels/kernels-build.js';
import { loadFixture } from '../emulator/engine-models.js';
import { chipWith, compileFor, engineWithFirmware, goldenDescription } from './helpers.js';

beforeAll(ensureKernels);

const f = loadFixture('le-small');
const image = compileFor(goldenDescription(f), 'ideal');

describe('LE firmware on the ideal chip follows the golden trajectory', () => {
  it('u, r, e at every 10th step and the final W, b within 1e-4', () => {
    const { engine, runtime } = engineWithFirmware(image, {}, 'ideal');
    const steps = Math.round(f.t_pres / f.dt);
    let worst = 0;
    let checked = 0;
    for (let n = 0; n < f.samples.length; n++) {
      engine.setInput('in', f.samples[n].x);
      engine.setTarget('out', f.samples[n].y);
      for (let k = 0; k < steps; k++) {
        runtime.advance(1, (m) => engine.step(m, { learn: false, nudge: true }));
        const t = n * steps + k + 1;
        const g = f.trace.find((x) => x.step === t);
        if (!g) continue;
        for (const key of ['u', 'r', 'e'] as const) {
          g[key].forEach((vals, l) => vals.forEach((v, i) => {
            worst = Math.max(worst, Math.abs(engine.view(l + 1, key)[i] - v));
            checked++;
          }));
        }
      }
    }
    expect(checked).toBe(30 * 3 * (6 + 5 + 3));
    expect(worst).toBeLessThanOrEqual(1e-4);
    for (let l = 0; l < 3; l++) {
      const w = engine.readWeights(l);
      f.final.W[l].flat().forEach((v, i) => expect(Math.abs(w[i] - v)).toBeLessThanOrEqual(1e-4));
      const b = engine.readBias(l + 1);
      f.final.b[l].forEach((v, i) => expect(Math.abs(b[i] - v)).toBeLessThanOrEqual(1e-4));
    }
    // The firmware really did the learning: one full pass after every step on each processor.
    const s = runtime.statistics();
    expect(s.processors).toBeGreaterThan(0);
    expect(s.passes).toEqual(new Array(s.processors).fill(300));
    expect(s.steps).toBe(300);
  });

  it('present() through the firmware equals the engine kernel bit for bit, and reports the processors\' work', async () => {
    const run = async (plasticity: 'firmware' | 'kernel') => {
      const chip = await chipWith(image, { plasticity });
      const out = await chip.present({
        inputs: Float32Array.from(f.samples.flatMap((s) => s.x)),
        inputSize: 4,
        targets: Float32Array.from(f.samples.flatMap((s) => s.y)),
        count: 3,
        tPresMs: 1,
        learn: true,
        readout: 'out',
      });
      const weights = await Promise.all([0, 1, 2].map((j) => chip.readWeights(j)));
      const biases = await Promise.all(['h1', 'h2', 'out'].map(async (p) => (await chip.readParameters(p)).bias));
      return { out, weights, biases, report: chip.processorReport!() };
    };
    const fw = await run('firmware');
    const kernel = await run('kernel');
    expect(Buffer.from(fw.out.buffer)).toEqual(Buffer.from(kernel.out.buffer));
    fw.weights.forEach((w, j) => expect(Buffer.from(w.buffer)).toEqual(Buffer.from(kernel.weights[j].buffer)));
    fw.biases.forEach((b, j) => expect(Buffer.from(b.buffer)).toEqual(Buffer.from(kernel.biases[j].buffer)));
    expect(fw.report.plasticity).toBe('firmware');
    expect(fw.report.timing).toBe('ideal');
    expect(fw.report.learning_steps).toBe(300);
    expect(fw.report.passes.every((p) => p === 300)).toBe(true);
    expect(fw.report.cycles).toBeGreaterThan(0);
    expect(kernel.report).toMatchObject({ plasticity: 'kernel', processors: 0, learning_steps: 300 });
  });
});
