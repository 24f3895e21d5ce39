/**
 * Training a chip instance three ways, on any `Chip` (in process, or remote through connectChip):
 * - `in-the-loop` (hxtorch's hardware-in-the-loop scheme): the forward pass runs on the chip, which
 *   reports the rates it reached at the end of each sample; the host computes the gradient with
 *   backpropagation through its own model of the network, evaluated at the rates the chip measured
 *   (so the chip's fixed-pattern deviations enter the forward pass the gradient starts from), and
 *   writes the updated weights and biases back, where the chip quantises them;
 * - `off-chip`: the same host model and gradient with a software forward pass (the network's
 *   equilibrium r_l = phi(W_l r_{l-1} + b_l)), trained without the chip, then deployed to it once;
 * - `on-chip`: the chip's own Latent Equilibrium plasticity (present with learning and nudging).
 * All three start from the image's nominal weights and biases and are tested on the chip.
 *
 * The host model is a chain of populations in -> l1 -> ... -> out with one projection into each;
 * loss = mean over output neurons and samples of (r_out - y)^2 / 2; plain SGD on mini-batches.
 */
import type { ActivationName, ChipImage, ImageManifest, ImagePopulation, ImageProjection } from '../../chip/image-model.js';
import { fail } from '../../common/diagnostics.js';
import type { Chip } from '../chip-interface.js';
import { realiseModel } from '../instance.js';
import { fromHardwareLayout } from '../model.js';
import { activate } from '../reference.js';

/** The layers of a feed-forward chain: its input population, then each layer with its incoming projection. */
export interface LayerChain {
  input: ImagePopulation;
  layers: { pop: ImagePopulation; projection: ImageProjection }[];
}

/** The chain of a layered network, or a user error saying why the network is not one. */
export function layerChain(m: ImageManifest): LayerChain {
  const inputs = m.populations.filter((p) => p.role === 'input');
  if (inputs.length !== 1) fail(`in-the-loop training needs exactly one input population; the network has ${inputs.length}`, { pointer: '/populations' });
  const layers: LayerChain['layers'] = [];
  let prev = inputs[0];
  for (;;) {
    const out = m.projections.filter((j) => j.from === prev.name);
    if (out.length === 0) break;
    if (out.length > 1) fail(`in-the-loop training needs a chain of layers; population '${prev.name}' projects to ${out.map((j) => j.to).join(', ')}`, { pointer: '/projections' });
    const j = out[0];
    const pop = m.populations.find((p) => p.name === j.to)!;
    const into = m.projections.filter((k) => k.to === pop.name);
    if (into.length > 1) fail(`in-the-loop training needs a chain of layers; population '${pop.name}' receives ${into.length} projections`, { pointer: '/projections' });
    if (pop.model === 'lif') fail(`in-the-loop training needs rate neurons; population '${pop.name}' is lif`, { pointer: `/populations/${pop.name}/neuron/model` });
    layers.push({ pop, projection: j });
    prev = pop;
  }
  if (layers.length === 0) fail('in-the-loop training needs at least one projection from the input population', { pointer: '/projections' });
  const unused = m.populations.filter((p) => p.role !== 'input' && !layers.some((l) => l.pop.name === p.name));
  if (unused.length > 0) fail(`in-the-loop training needs a chain of layers; ${unused.map((p) => p.name).join(', ')} are not on the chain from '${inputs[0].name}'`, { pointer: '/populations' });
  if (prev.role !== 'output') fail(`the chain from '${inputs[0].name}' ends at '${prev.name}', which is not the output population`, { pointer: '/populations' });
  return { input: inputs[0], layers };
}

/** The host's model: float64 weights [post][pre] and biases per layer, with the layers' activations. */
export interface HostModel {
  /** Population sizes along the chain, input first. */
  sizes: number[];
  activations: ActivationName[];
  W: Float64Array[];
  b: Float64Array[];
}

/** The image's nominal weights and biases (codes x block scale, no instance deviations) as a host model. */
export function nominalModel(image: ChipImage, chain: LayerChain): HostModel {
  const nominal = realiseModel(image, { mismatchScale: 0 });
  return {
    sizes: [chain.input.size, ...chain.layers.map((l) => l.pop.size)],
    activations: chain.layers.map((l) => l.pop.activation),
    W: chain.layers.map((l) => Float64Array.from(fromHardwareLayout(nominal.projections[l.projection.index].weights, l.projection.post_size, l.projection.pre_size))),
    b: chain.layers.map((l) => Float64Array.from(nominal.populations[l.pop.index].bias)),
  };
}

/** phi'(a) from the rate r = phi(a) itself: what the host can know from a chip's measurement. */
export function derivativeFromRate(activation: ActivationName, r: number): number {
  switch (activation) {
    case 'hardsigmoid':
      return r > 0 && r < 1 ? 1 : 0;
    case 'relu':
      return r > 0 ? 1 : 0;
    case 'tanh':
      return 1 - r * r;
    case 'sigmoid':
      return r * (1 - r);
    case 'linear':
      return 1;
  }
}

/** Rates per layer for a batch, [B][size] row-major, the input first. */
export type BatchRates = Float64Array[];

/** The host model's forward pass: the chain's equilibrium r_l = phi(W_l r_{l-1} + b_l). */
export function modelForward(model: HostModel, x: ArrayLike<number>, batch: number): BatchRates {
  const rates: BatchRates = [Float64Array.from({ length: batch * model.sizes[0] }, (_, i) => x[i])];
  for (let l = 0; l < model.W.length; l++) {
    const nIn = model.sizes[l];
    const nOut = model.sizes[l + 1];
    const prev = rates[l];
    const out = new Float64Array(batch * nOut);
    const W = model.W[l];
    for (let s = 0; s < batch; s++) {
      for (let i = 0; i < nOut; i++) {
        let a = model.b[l][i];
        for (let k = 0; k < nIn; k++) a += W[i * nIn + k] * prev[s * nIn + k];
        out[s * nOut + i] = activate(model.activations[l], a)[0];
      }
    }
    rates.push(out);
  }
  return rates;
}

/** Gradients of the batch loss with respect to every W and b, and the loss itself. */
export interface Gradients {
  dW: Float64Array[];
  db: Float64Array[];
  /** mean over samples and output neurons of (r - y)^2 / 2. */
  loss: number;
}

/**
 * Backpropagation through the host model at the given rates (the chip's or the model's own):
 * delta_L = (r_L - y) phi'_L / (B n_L), delta_{l-1} = (W_l^T delta_l) phi'_{l-1},
 * dW_l = delta_l r_{l-1}^T, db_l = delta_l, summed over the batch.
 */
export function modelGradients(model: HostModel, rates: BatchRates, targets: ArrayLike<number>, batch: number): Gradients {
  const L = model.W.length;
  const nOut = model.sizes[L];
  const dW = model.W.map((w) => new Float64Array(w.length));
  const db = model.b.map((b) => new Float64Array(b.length));
  let loss = 0;
  let delta = new Float64Array(batch * nOut);
  for (let s = 0; s < batch; s++) {
    for (let i = 0; i < nOut; i++) {
      const r = rates[L][s * nOut + i];
      const d = r - targets[s * nOut + i];
      loss += (d * d) / 2;
      delta[s * nOut + i] = (d * derivativeFromRate(model.activations[L - 1], r)) / (batch * nOut);
    }
  }
  for (let l = L - 1; l >= 0; l--) {
    const nIn = model.sizes[l];
    const nPost = model.sizes[l + 1];
    const prev = rates[l];
    const W = model.W[l];
    for (let s = 0; s < batch; s++) {
      for (let i = 0; i < nPost; i++) {
        const d = delta[s * nPost + i];
        if (d === 0) continue;
        db[l][i] += d;
        const row = i * nIn;
        for (let k = 0; k < nIn; k++) dW[l][row + k] += d * prev[s * nIn + k];
      }
    }
    if (l === 0) break;
    const below = new Float64Array(batch * nIn);
    for (let s = 0; s < batch; s++) {
      for (let i = 0; i < nPost; i++) {
        const d = delta[s * nPost + i];
        if (d === 0) continue;
        const row = i * nIn;
        for (let k = 0; k < nIn; k++) below[s * nIn + k] += W[row + k] * d;
      }
      for (let k = 0; k < nIn; k++) below[s * nIn + k] *= derivativeFromRate(model.activations[l - 1], prev[s * nIn + k]);
    }
    delta = below;
  }
  return { dW, db, loss: loss / (batch * nOut) };
}

/** One SGD step: W -= lr dW, b -= lr db. */
export function applyGradients(model: HostModel, g: Gradients, lr: number): void {
  for (let l = 0; l < model.W.length; l++) {
    for (let i = 0; i < model.W[l].length; i++) model.W[l][i] -= lr * g.dW[l][i];
    for (let i = 0; i < model.b[l].length; i++) model.b[l][i] -= lr * g.db[l][i];
  }
}

/** Writes the host model's weights and biases to the chip (which quantises them as it stores them). */
export async function deploy(chip: Chip, chain: LayerChain, model: HostModel): Promise<void> {
  for (let l = 0; l < chain.layers.length; l++) {
    await chip.writeWeights(chain.layers[l].projection.index, model.W[l]);
    await chip.writeParameters(chain.layers[l].pop.name, { bias: Float32Array.from(model.b[l]) });
  }
}

/**
 * The chip's forward pass over a batch: the samples one after another for tPres each (state
 * carried over, no learning, no nudging), every layer's rates read at the last step of each sample.
 * Two requests per batch: the input schedule, and one RUN recording every layer.
 */
export async function chipForward(chip: Chip, chain: LayerChain, x: Float32Array, batch: number, tPresMs: number): Promise<BatchRates> {
  const n0 = chain.input.size;
  const schedule = Array.from({ length: batch }, (_, s) => ({ t: s * tPresMs, value: x.subarray(s * n0, (s + 1) * n0) }));
  await chip.writeInputs({ [chain.input.name]: schedule });
  const rec = await chip.run({ durationMs: batch * tPresMs, record: chain.layers.map((l) => l.pop.name), sampleEveryMs: tPresMs, learn: false, nudge: false });
  if (rec.t_bio_ms.length !== batch) throw new Error(`chipForward: ${rec.t_bio_ms.length} samples recorded for a batch of ${batch}`);
  const rates: BatchRates = [Float64Array.from(x.subarray(0, batch * n0))];
  for (const l of chain.layers) {
    const rows = rec.record[l.pop.name].r;
    const out = new Float64Array(batch * l.pop.size);
    for (let s = 0; s < batch; s++) out.set(rows[s], s * l.pop.size);
    rates.push(out);
  }
  return rates;
}

export type TrainMode = 'in-the-loop' | 'off-chip' | 'on-chip';

/** Samples as flat arrays: inputs [count][input size], targets [count][output size], labels (classes) or null. */
export interface Samples {
  count: number;
  inputs: Float32Array;
  targets: Float32Array;
  labels: Int32Array | null;
}

export interface TrainOnChipOptions {
  mode: TrainMode;
  chip: Chip;
  /** The image already loaded and configured on `chip`. */
  image: ChipImage;
  train: Samples;
  test: Samples;
  epochs: number;
  /** Samples per gradient step (in-the-loop, off-chip). */
  batch: number;
  /** SGD learning rate (in-the-loop, off-chip). */
  lr: number;
  tPresMs: number;
  /** Sample order of epoch e (from 1) over n samples. */
  order: (epoch: number, n: number) => Int32Array;
  onProgress?: (phase: 'train' | 'test', done: number, total: number) => void;
}

export interface EpochStats {
  epoch: number;
  /** Mean training loss over the epoch's batches (as the host computed it; null on-chip). */
  train_loss: number | null;
}

export interface TrainOnChipResult {
  mode: TrainMode;
  epochs: EpochStats[];
  /** Tested on the chip: no nudging, no learning, rates at the last step of each sample. */
  test_accuracy: number | null;
  test_loss: number;
  /** The host model's own test accuracy (software forward), for in-the-loop and off-chip. */
  model_test_accuracy: number | null;
  train_wall_s: number;
  test_wall_s: number;
}

function argmax(a: ArrayLike<number>, from: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (a[from + k] > a[from + best]) best = k;
  return best;
}

/** Accuracy (or null without labels) and mean squared error per output neuron of rates against a split. */
function score(rates: ArrayLike<number>, split: Samples, nOut: number): { accuracy: number | null; loss: number } {
  let correct = 0;
  let sq = 0;
  for (let s = 0; s < split.count; s++) {
    if (split.labels && argmax(rates, s * nOut, nOut) === split.labels[s]) correct++;
    for (let i = 0; i < nOut; i++) {
      const d = rates[s * nOut + i] - split.targets[s * nOut + i];
      sq += d * d;
    }
  }
  return { accuracy: split.labels ? correct / split.count : null, loss: sq / (split.count * nOut) };
}

/** Trains the chip instance loaded on `opts.chip` in the given mode, then tests it on the chip. */
export async function trainOnChip(opts: TrainOnChipOptions): Promise<TrainOnChipResult> {
  const { chip, train, test, tPresMs } = opts;
  const m = opts.image.manifest;
  const chain = layerChain(m);
  const n0 = chain.input.size;
  const out = chain.layers[chain.layers.length - 1].pop;
  const nOut = out.size;
  const model = nominalModel(opts.image, chain);
  const epochs: EpochStats[] = [];
  const xs = new Float32Array(opts.batch * n0);
  const ys = new Float32Array(opts.batch * nOut);

  const t0 = performance.now();
  if (opts.mode !== 'on-chip') await deploy(chip, chain, model);
  for (let e = 1; e <= opts.epochs; e++) {
    const order = opts.order(e, train.count);
    let lossSum = 0;
    let batches = 0;
    for (let s0 = 0; s0 < train.count; s0 += opts.batch) {
      const B = Math.min(opts.batch, train.count - s0);
      for (let k = 0; k < B; k++) {
        const i = order[s0 + k];
        xs.set(train.inputs.subarray(i * n0, (i + 1) * n0), k * n0);
        ys.set(train.targets.subarray(i * nOut, (i + 1) * nOut), k * nOut);
      }
      if (opts.mode === 'on-chip') {
        await chip.present({ inputs: xs.subarray(0, B * n0), inputSize: n0, targets: ys.subarray(0, B * nOut), count: B, tPresMs, learn: true, readout: out.name });
      } else {
        const rates = opts.mode === 'in-the-loop' ? await chipForward(chip, chain, xs, B, tPresMs) : modelForward(model, xs, B);
        const g = modelGradients(model, rates, ys, B);
        applyGradients(model, g, opts.lr);
        if (opts.mode === 'in-the-loop') await deploy(chip, chain, model);
        lossSum += g.loss;
        batches++;
      }
      opts.onProgress?.('train', s0 + B, train.count);
    }
    epochs.push({ epoch: e, train_loss: batches > 0 ? lossSum / batches : null });
  }
  if (opts.mode === 'off-chip') await deploy(chip, chain, model);
  const train_wall_s = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  opts.onProgress?.('test', 0, test.count);
  const chunk = 1000;
  const rates = new Float32Array(test.count * nOut);
  for (let s0 = 0; s0 < test.count; s0 += chunk) {
    const B = Math.min(chunk, test.count - s0);
    const r = await chip.present({ inputs: test.inputs.subarray(s0 * n0, (s0 + B) * n0), inputSize: n0, count: B, tPresMs, learn: false, readout: out.name });
    rates.set(r, s0 * nOut);
    opts.onProgress?.('test', s0 + B, test.count);
  }
  const onChip = score(rates, test, nOut);
  const test_wall_s = (performance.now() - t1) / 1000;
  let model_test_accuracy: number | null = null;
  if (opts.mode !== 'on-chip' && test.labels) {
    const modelRates = modelForward(model, test.inputs, test.count)[chain.layers.length];
    model_test_accuracy = score(modelRates, test, nOut).accuracy;
  }
  return { mode: opts.mode, epochs, test_accuracy: onChip.accuracy, test_loss: onChip.loss, model_test_accuracy, train_wall_s, test_wall_s };
}
