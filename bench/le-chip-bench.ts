/**
 * The LE MLP training step through the whole emulated chip (createEmulatedChip, Chip.present, as
 * `lechip train` runs it), for the configurations the engine benchmarks do not cover:
 *   -train-firmware-interpreted   ideal, processor timing ideal, le.s on the reference interpreter
 *                                 (the translator's baseline);
 *   -train-bss2-6bit-mismatch     bss2 (6-bit weights with sign per row, 8-bit ADC, chip seed 1 with
 *                                 the preset's mismatch and noise, 18 cores), le.s under cycle
 *                                 timing (the preset's default, interpreted);
 *   -train-bss2-6bit-mismatch-kernel  the same chip with the engine's update kernel learning.
 * Dense uniform [0, 1) inputs, a new sample every 100 steps, as the other train benchmarks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeImage } from '../chip/image.js';
import { loadChip } from '../chip/presets.js';
import { projectRoot } from '../common/paths.js';
import { compile } from '../compiler/compile.js';
import type { Chip, ChipConfig } from '../emulator/chip-interface.js';
import { createEmulatedChip } from '../emulator/emulated-chip.js';
import { denseSamples, MLP_DT_MS, MLP_SIZES, MLP_STEPS_PER_SAMPLE } from './mlp.js';
import type { Benchmark, Runner, Skipped } from './types.js';

const PREFIX = 'le-mlp-784-300-100-10';

interface ChipBenchSpec {
  suffix: string;
  description: string;
  preset: 'ideal' | 'bss2';
  config: ChipConfig;
  /** Samples per timed run (full and --quick). */
  samples: [number, number];
}

function chipTrainBenchmark(spec: ChipBenchSpec): Benchmark {
  const chipSpec = loadChip(spec.preset);
  return {
    name: `${PREFIX}-${spec.suffix}`,
    description: spec.description,
    kind: 'train',
    implementation: spec.config.plasticity === 'kernel' ? 'engine' : 'firmware',
    sizes: MLP_SIZES,
    dt_ms: MLP_DT_MS,
    speedup: chipSpec.speedup,
    async prepare(ctx): Promise<Runner | Skipped> {
      const samples = spec.samples[ctx.quick ? 1 : 0];
      const data = denseSamples(Math.max(samples, 2), 784, 10);
      const text = readFileSync(join(projectRoot(), 'examples', 'mnist-mlp.json'), 'utf8');
      const compiled = compile(text, { chip: chipSpec, seed: 1, cores: 'auto', file: 'examples/mnist-mlp.json' });
      let chip: Chip;
      try {
        chip = await createEmulatedChip();
        await chip.load(encodeImage(compiled.image));
        await chip.configure(spec.config);
      } catch (err) {
        return { skipped: `emulated chip could not start: ${(err as Error).message.split('\n')[0]}` };
      }
      const present = (n: number) =>
        chip.present({
          inputs: data.x.subarray(0, n * 784), inputSize: 784, targets: data.y.subarray(0, n * 10),
          count: n, tPresMs: MLP_STEPS_PER_SAMPLE * MLP_DT_MS, learn: true, readout: 'out',
        });
      await present(2); // warm-up (translation, V8 tiers)
      const before = chip.processorReport?.();
      let timedSteps = 0;
      return {
        unit: 'steps/s',
        run: async () => {
          const t0 = performance.now();
          await present(samples);
          timedSteps += samples * MLP_STEPS_PER_SAMPLE;
          return (samples * MLP_STEPS_PER_SAMPLE) / ((performance.now() - t0) / 1000);
        },
        info: () => {
          const after = chip.processorReport?.();
          const instr = after && before ? after.instructions - before.instructions : 0;
          return {
            network: `examples/mnist-mlp.json on ${spec.preset} (${compiled.image.manifest.system.cores_used} cores used)`,
            config: spec.config,
            samples_per_run: samples,
            plasticity: after?.plasticity ?? null,
            processor_timing: after?.timing ?? null,
            firmware_instructions_per_step: timedSteps > 0 && instr > 0 ? Math.round(instr / timedSteps) : null,
          };
        },
      };
    },
  };
}

/** The whole-chip training benchmarks of the suite. */
export function leChipBenchmarks(): Benchmark[] {
  return [
    chipTrainBenchmark({
      suffix: 'train-firmware-interpreted',
      description: 'examples/mnist-mlp.json on ideal through the emulated chip, processor timing ideal, le.s on the reference interpreter (every weight after every step), dense inputs, one thread',
      preset: 'ideal',
      config: { processorTiming: 'ideal', processor: 'interpret', chipSeed: 0, seed: 1 },
      samples: [2, 1],
    }),
    chipTrainBenchmark({
      suffix: 'train-bss2-6bit-mismatch',
      description: 'examples/mnist-mlp.json on bss2 (6-bit weights, 8-bit ADC, chip seed 1 with the preset\'s mismatch and noise, 18 cores) through the emulated chip, le.s under cycle timing (interpreted), dense inputs, one thread',
      preset: 'bss2',
      config: { chipSeed: 1, seed: 1 },
      samples: [20, 4],
    }),
    chipTrainBenchmark({
      suffix: 'train-bss2-6bit-mismatch-kernel',
      description: 'the same bss2 instance (chip seed 1) with the engine\'s update kernel learning every step, dense inputs, one thread',
      preset: 'bss2',
      config: { chipSeed: 1, seed: 1, plasticity: 'kernel' },
      samples: [20, 4],
    }),
  ];
}
