/**
 * The benchmark network: the LE MNIST MLP 784-300-100-10 on the ideal chip (hard-sigmoid hidden,
 * linear output, tau_m = tau_r = 20 ms, dt = 0.01 ms, beta 0.1, eta 0.5 with layer factors
 * 1, 0.2, 0.1, weights and biases N(0, 0.05^2)) as an EmulatorModel, and its dense random data.
 * The native baseline (bench/native/le_step.c) builds the same network from its own seeded draws.
 */
import { copyInput, loadDataset } from '../cli/datasets.js';
import { Rng } from '../common/random.js';
import { toHardwareLayout, type EmulatorModel, type ModelPopulation } from '../emulator/model.js';

/** Layer sizes of the benchmark MLP. */
export const MLP_SIZES: readonly number[] = [784, 300, 100, 10];
/** Euler step of the benchmark, biological ms. */
export const MLP_DT_MS = 0.01;
/** Steps per presented sample (T_pres = 1 ms). */
export const MLP_STEPS_PER_SAMPLE = 100;

/** Euler steps per timed run of the engine's benchmarks (full suite, --quick): one chip, two threads, many chips alike. */
export const ENGINE_STEPS_PER_RUN = { full: 20_000, quick: 4_000 } as const;

/** Training images the MNIST benchmarks and their native baseline cycle through (full suite, --quick). */
export const MNIST_BANK = { full: 50, quick: 10 } as const;

/** Passes over the MNIST bank per timed run of the firmware benchmarks (full suite): runs of 15 000 steps, long enough that a short stall of the shared host does not decide a run. */
export const FIRMWARE_PASSES_PER_RUN = 3;

/** The benchmark MLP as an EmulatorModel (population 0 the input, the last the output). */
export function mlpModel(seed = 1, sizes: readonly number[] = MLP_SIZES): EmulatorModel {
  const rng = new Rng(seed, 'bench/mlp');
  const normal = (n: number) => Float32Array.from({ length: n }, () => 0.05 * rng.normal());
  const last = sizes.length - 1;
  const populations: ModelPopulation[] = sizes.map((size, l) => {
    const input = l === 0;
    const fill = (v: number) => new Float32Array(size).fill(input ? 0 : v);
    return {
      name: input ? 'in' : l === last ? 'out' : `h${l}`,
      index: l,
      size,
      role: input ? 'input' : l === last ? 'output' : 'hidden',
      model: input ? 'input' : 'le',
      activation: input || l === last ? 'linear' : 'hardsigmoid',
      tau_m_ms: fill(20),
      tau_r_ms: fill(20),
      gain: fill(1),
      offset: fill(0),
      bias: input ? new Float32Array(size) : normal(size),
    };
  });
  const projections = sizes.slice(1).map((post, l) => ({
    index: l,
    pre: l,
    post: l + 1,
    weights: toHardwareLayout(normal(post * sizes[l]), post, sizes[l]),
    plastic: true,
    eta_scale: [1, 0.2, 0.1][l] ?? 0.1,
    feedback: (l === 0 ? 'none' : 'transpose') as 'none' | 'transpose',
  }));
  return {
    populations,
    projections,
    beta: 0.1,
    eta: 0.5,
    dt_ms: MLP_DT_MS,
    speedup: 10_000,
    noise: { membrane: 0, rate: 0 },
    seed,
    learningRule: 'le',
  };
}

/** count dense random inputs in [0, 1) ([count][inputSize]) and random one-hot targets ([count][outputSize]). */
export function denseSamples(count: number, inputSize: number, outputSize: number, seed = 2): { x: Float32Array; y: Float32Array } {
  const rng = new Rng(seed, 'bench/mlp/inputs');
  const x = Float32Array.from({ length: count * inputSize }, () => rng.uniform());
  const y = new Float32Array(count * outputSize);
  for (let s = 0; s < count; s++) y[s * outputSize + rng.int(outputSize)] = 1;
  return { x, y };
}

/** count MNIST training images as lechip train scales them, or null without the data files. */
export function mnistSamples(count: number): { x: Float32Array; y: Float32Array } | null {
  try {
    const d = loadDataset('mnist', { inputSize: 784, outputSize: 10, samples: count, test: 1 });
    const x = new Float32Array(count * 784);
    const y = new Float32Array(count * 10);
    for (let i = 0; i < count; i++) {
      copyInput(d.train, 784, i, x, i * 784);
      y.set(d.train.targets.subarray(i * 10, (i + 1) * 10), i * 10);
    }
    return { x, y };
  } catch {
    return null;
  }
}
