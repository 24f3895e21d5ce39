/**
 * The exact-backprop reference (emulator/backprop-reference.ts) against finite differences: one
 * training step changes every weight and bias by −(eta · eta_scale · T_pres) × the derivative of
 * the loss (beta / 2) ‖y − r_out‖² of the equilibrium network, computed here by central
 * differences of that loss; and its forward pass is the equilibrium the LE chip settles to.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureKernels } from '../kernels/kernels-build.js';
import { BackpropReference } from '../../emulator/backprop-reference.js';
import { chipWith, compileFor, smallNet } from './helpers.js';

beforeAll(ensureKernels);

const net = smallNet({ sizes: [3, 5, 2], eta: 0.8 });
const image = compileFor(net, 'ideal');
const x = Float64Array.from([0.7, -0.2, 0.4]);
const y = Float64Array.from([0.3, -0.5]);
const T = 0.2;
const beta = 0.1;

/** The loss of a reference whose weight (or bias) is nudged by d. */
function lossWith(nudge: (ref: BackpropReference) => void): number {
  const ref = new BackpropReference(image, T);
  nudge(ref);
  const r = ref.forward(x);
  return (beta / 2) * ((y[0] - r[0]) ** 2 + (y[1] - r[1]) ** 2);
}

describe('exact-backprop reference', () => {
  it('one step is -rate x the finite-difference gradient of (beta/2)|y - r|^2, for every weight', () => {
    const ref = new BackpropReference(image, T);
    const W0 = [ref.weights(0), ref.weights(1)];
    ref.trainSample(x, y);
    const W1 = [ref.weights(0), ref.weights(1)];
    const rates = [0.8 * 1 * T, 0.8 * 0.5 * T];
    const h = 1e-6;
    let checked = 0;
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < W0[j].length; i++) {
        const at = (d: number) => lossWith((r) => ((r as unknown as { projs: { W: Float64Array }[] }).projs[j].W[i] += d));
        const grad = (at(h) - at(-h)) / (2 * h);
        const step = W1[j][i] - W0[j][i];
        expect(Math.abs(step + rates[j] * grad)).toBeLessThanOrEqual(1e-8 + 1e-5 * Math.abs(step));
        checked++;
      }
    }
    expect(checked).toBe(3 * 5 + 5 * 2);
    // Biases, with the rate of their population's first plastic projection.
    type Inside = { layers: Map<number, { bias: Float64Array }> };
    const b0 = new BackpropReference(image, T) as unknown as Inside;
    const b1 = ref as unknown as Inside;
    for (const [pop, rate] of [[1, rates[0]], [2, rates[1]]] as const) {
      for (let i = 0; i < b0.layers.get(pop)!.bias.length; i++) {
        const at = (d: number) => lossWith((r) => ((r as unknown as Inside).layers.get(pop)!.bias[i] += d));
        const grad = (at(h) - at(-h)) / (2 * h);
        const step = b1.layers.get(pop)!.bias[i] - b0.layers.get(pop)!.bias[i];
        expect(Math.abs(step + rate * grad)).toBeLessThanOrEqual(1e-8 + 1e-5 * Math.abs(step));
      }
    }
    expect(W1[1].some((w, i) => w !== W0[1][i])).toBe(true);
  });

  it('its forward pass is the equilibrium the LE network settles to on the ideal chip (no nudging)', async () => {
    const chip = await chipWith(image);
    await chip.writeInputs({ in: [{ t: 0, value: Array.from(x) }] });
    const rec = await chip.run({ durationMs: 300, record: ['out'], sampleEveryMs: 300 });
    const r = new BackpropReference(image, T).forward(x);
    rec.record.out.r[0].forEach((v, i) => expect(Math.abs(v - r[i])).toBeLessThan(1e-4));
  });
});
