/**
 * LE dynamics of a large network on a fixed-point chip: a 1024-4096-4096-10 MLP (21 M synapses,
 * 84 MB of float weights) on the compile benchmark's 512 x 512-core 6-bit chip (chip seed 1, the
 * preset's mismatch), stepped through the emulated chip's present() without learning, dense
 * inputs, a new sample every 100 steps. Four benchmarks: the synapse-array products on float
 * weights and on the int8 codes (kernels/quantised.ts, ChipConfig.weightKernels), each on one and
 * on two threads; the int8 ones report ratio_vs_float_weights, the two-thread ones
 * ratio_vs_single_thread. Where the MLP's arrays fit in the caches, these stream from memory.
 */
import { performance } from 'node:perf_hooks';
import { encodeImage } from '../chip/image.js';
import { compile } from '../compiler/compile.js';
import type { Chip } from '../emulator/chip-interface.js';
import { createEmulatedChip } from '../emulator/emulated-chip.js';
import { manyCoreChip } from './compile-bench.js';
import { denseSamples } from './mlp.js';
import type { Benchmark, Runner, Skipped } from './types.js';

export const WIDE_SIZES: readonly number[] = [1024, 4096, 4096, 10];
const DT_MS = 0.01;
const STEPS_PER_SAMPLE = { full: 100, quick: 20 } as const;
const SAMPLES_PER_RUN = 2;

/** The description of an LE MLP of these layer sizes (tanh hidden, linear output, transpose feedback), weights seeded. */
export function wideNetworkText(sizes: readonly number[]): string {
  const names = sizes.map((_, l) => (l === 0 ? 'in' : l === sizes.length - 1 ? 'out' : `h${l}`));
  const populations: Record<string, unknown> = { in: { size: sizes[0], role: 'input' } };
  for (let l = 1; l < sizes.length; l++) {
    const last = l === sizes.length - 1;
    populations[names[l]] = { size: sizes[l], ...(last ? { role: 'output' } : {}), neuron: { model: 'le', tau_m: 10, activation: last ? 'linear' : 'tanh' } };
  }
  const projections = sizes.slice(1).map((_, l) => ({
    from: names[l], to: names[l + 1], init: { kind: 'normal', scale: 1 / Math.sqrt(sizes[l]), seed: l + 1 }, plastic: true,
  }));
  return JSON.stringify({
    format: 'lechip/network@1', name: `wide-${sizes.join('-')}`, populations, projections,
    learning: { rule: 'le', beta: 0.1, eta: 0.1, feedback: 'transpose' }, presentation: { t_pres: 1, dt: DT_MS },
  });
}

let compiled: { bytes: Uint8Array; cores: number } | undefined;
/** The wide network's image, compiled once for the four benchmarks. */
function wideImage(): { bytes: Uint8Array; cores: number } {
  if (!compiled) {
    const { image } = compile(wideNetworkText(WIDE_SIZES), { chip: manyCoreChip(), seed: 1, cores: 'auto' });
    compiled = { bytes: encodeImage(image), cores: image.manifest.system.cores_used };
  }
  return compiled;
}

function wideBenchmark(kernels: 'float' | 'int8', threads: 1 | 2): Benchmark {
  const name = (k: string, t: number) => `le-wide-${WIDE_SIZES.join('-')}-forward-6bit-mismatch-${k}${t > 1 ? `-${t}threads` : ''}`;
  return {
    name: name(kernels, threads),
    description: `${WIDE_SIZES.join('-')} LE dynamics (21 M synapses, 84 MB of floats) on a 512 x 512-core 6-bit chip with mismatch, ` +
      `through the emulated chip, products on ${kernels === 'int8' ? 'the int8 codes' : 'float weights'}, ${threads} thread${threads > 1 ? 's' : ''}`,
    kind: 'forward',
    implementation: 'engine',
    sizes: WIDE_SIZES,
    dt_ms: DT_MS,
    speedup: manyCoreChip().speedup,
    threads,
    ...(threads > 1 ? { baseline: name(kernels, 1) } : {}),
    ...(kernels === 'int8' ? { floatWeights: name('float', threads) } : {}),
    async prepare(ctx): Promise<Runner | Skipped> {
      const stepsPerSample = STEPS_PER_SAMPLE[ctx.quick ? 'quick' : 'full'];
      const { bytes, cores } = wideImage();
      const data = denseSamples(SAMPLES_PER_RUN, WIDE_SIZES[0], WIDE_SIZES[WIDE_SIZES.length - 1]);
      let chip: Chip;
      try {
        chip = await createEmulatedChip();
        await chip.load(bytes);
        await chip.configure({ chipSeed: 1, seed: 1, weightKernels: kernels, threads });
      } catch (err) {
        return { skipped: `emulated chip could not start: ${(err as Error).message.split('\n')[0]}` };
      }
      const present = () =>
        chip.present({ inputs: data.x, inputSize: WIDE_SIZES[0], count: SAMPLES_PER_RUN, tPresMs: stepsPerSample * DT_MS, learn: false, readout: 'out' });
      await present();
      return {
        unit: 'steps/s',
        async run() {
          const t0 = performance.now();
          await present();
          return (SAMPLES_PER_RUN * stepsPerSample) / ((performance.now() - t0) / 1000);
        },
        info: () => ({
          network: `${WIDE_SIZES.join('-')}, transpose feedback, no learning`,
          chip: 'bench-many-cores (bss2 circuits, 6-bit weights, 512 x 512 cores), chip seed 1',
          cores_used: cores,
          weight_kernels: kernels,
          steps_per_run: SAMPLES_PER_RUN * stepsPerSample,
        }),
        close: () => chip.close(),
      };
    },
  };
}

/** The four wide-network benchmarks: float and int8 weight kernels, one and two threads. */
export function wideChipBenchmarks(): Benchmark[] {
  return [wideBenchmark('float', 1), wideBenchmark('int8', 1), wideBenchmark('float', 2), wideBenchmark('int8', 2)];
}
