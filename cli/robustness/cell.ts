/**
 * One cell of a robustness sweep (`lechip robustness`): a chip instance (mismatch scale, chip seed),
 * a condition (raw, calibrated, tau-adapted, both), a presentation time and a synaptic filter;
 * compile, calibrate and/or adapt tau_m on the chip, train with on-chip plasticity, test. Every
 * draw comes from the cell's key and the sweep's seeds, so a cell gives the same result in any
 * worker and in any order.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MismatchParameter } from '../../chip/spec.js';
import { encodeImage } from '../../chip/image.js';
import { fail } from '../../common/diagnostics.js';
import { writeFileAtomic } from '../../common/fs.js';
import { compile } from '../../compiler/compile.js';
import { calibrate } from '../../emulator/calibration/calibrate.js';
import { checkCalibration, type Calibration } from '../../emulator/calibration/format.js';
import type { ChipConfig, MismatchOverrides } from '../../emulator/chip-interface.js';
import { createEmulatedChip } from '../../emulator/emulated-chip.js';
import type { EffectiveMismatch } from '../../emulator/mismatch.js';
import { adaptTauOnChip } from '../../emulator/tau-adapt.js';
import { adaptTauWithFirmware } from '../../emulator/tau-adapt-firmware.js';
import { copyInput, loadDataset, MNIST_TRAIN, mnistDir, readIdx, type Dataset } from '../datasets.js';
import { argmax, epochOrder } from '../commands/train.js';
import type { CellKey, CellProgress, CellResult, SweepSettings } from './keys.js';

export { CONDITIONS, cellId, type CellKey, type CellProgress, type CellResult, type Condition, type SweepSettings } from './keys.js';

/** The explicit sigma of every parameter at a mismatch scale. */
export function scaledMismatch(base: EffectiveMismatch, scale: number): MismatchOverrides {
  const out: MismatchOverrides = {};
  for (const [k, v] of Object.entries(base) as [MismatchParameter, EffectiveMismatch[MismatchParameter]][]) out[k] = v.sigma * scale;
  return out;
}

/** The chip configuration of a cell (without its calibration). */
export function cellConfig(s: SweepSettings, k: CellKey, dtMs: number): ChipConfig {
  const noise: NonNullable<ChipConfig['noise']> = {};
  if (s.rate_noise !== undefined) noise.rate = s.rate_noise;
  if (k.tau_s_ms > 0) {
    noise.tau_s_ms = k.tau_s_ms;
    noise.filter_errors = s.filter_errors;
    noise.filter_targets = s.filter_targets;
  }
  return {
    chipSeed: k.chip_seed,
    seed: s.seed,
    mismatch: scaledMismatch(s.base_mismatch, k.mismatch_scale),
    tauDistribution: s.base_mismatch.tau_m.distribution,
    noise,
    dtMs,
    plasticity: s.plasticity,
  };
}

let datasetCache: { key: string; data: Dataset } | undefined;
let validationCache: { key: string; inputs: Float32Array; count: number } | undefined;

function dataset(s: SweepSettings, inputSize: number, outputSize: number): Dataset {
  const key = `${s.dataset}|${s.samples}|${s.test}|${inputSize}|${outputSize}`;
  if (datasetCache?.key !== key) datasetCache = { key, data: loadDataset(s.dataset, { inputSize, outputSize, samples: s.samples, test: s.test }) };
  return datasetCache.data;
}

/**
 * Samples the tau adaptation runs on: MNIST's validation images (training images 50 000 on, as
 * the LE reference), or the first training samples of a dataset file.
 */
function validation(s: SweepSettings, data: Dataset, count: number): { inputs: Float32Array; count: number } {
  const key = `${s.dataset}|${count}|${data.inputSize}`;
  if (validationCache?.key === key) return validationCache;
  let out: { inputs: Float32Array; count: number };
  if (s.dataset === 'mnist') {
    const n = Math.min(count, 60_000 - MNIST_TRAIN);
    const bytes = readIdx(join(mnistDir(), 'train-images-idx3-ubyte'), 0x803, [60_000, 28, 28], MNIST_TRAIN + n);
    const inputs = new Float32Array(n * 784);
    for (let i = 0; i < n * 784; i++) inputs[i] = bytes[MNIST_TRAIN * 784 + i] / 256;
    out = { inputs, count: n };
  } else {
    const n = Math.min(count, data.train.count);
    const inputs = new Float32Array(n * data.inputSize);
    for (let i = 0; i < n; i++) copyInput(data.train, data.inputSize, i, inputs, i * data.inputSize);
    out = { inputs, count: n };
  }
  validationCache = { key, ...out };
  return out;
}

/** Calibrates (or reads from the sweep's cache) the chip instance of a cell. */
async function calibrationOf(s: SweepSettings, config: ChipConfig, cores: number, cacheDir: string | undefined, progress: (p: CellProgress) => void): Promise<Calibration> {
  const cfg: ChipConfig = { chipSeed: config.chipSeed, seed: s.seed, mismatch: config.mismatch, tauDistribution: config.tauDistribution };
  const key = createHash('sha256')
    .update(JSON.stringify({ chip: s.chip, cfg, cores, iterations: s.calibration_iterations }))
    .digest('hex')
    .slice(0, 16);
  const file = cacheDir ? join(cacheDir, `calibration-${s.chip.name}-seed${config.chipSeed}-${key}.json`) : undefined;
  if (file && existsSync(file)) return checkCalibration(JSON.parse(readFileSync(file, 'utf8')), file);
  const cal = await calibrate({
    chip: s.chip,
    config: cfg,
    cores,
    iterations: s.calibration_iterations,
    onProgress: (stage, f) => progress({ phase: `calibrate: ${stage}`, done: Math.round(100 * f), total: 100 }),
  });
  if (file) {
    mkdirSync(cacheDir!, { recursive: true });
    writeFileAtomic(file, JSON.stringify(cal) + '\n');
  }
  return cal;
}

/** Runs one cell: compile, calibrate and/or adapt, train, test. */
export async function runCell(s: SweepSettings, k: CellKey, cacheDir: string | undefined, progress: (p: CellProgress) => void = () => {}): Promise<CellResult> {
  const t0 = performance.now();
  const compiled = compile(s.net_text, { file: s.network.file, chip: s.chip, cores: s.cores, placement: s.placement, seed: s.seed });
  const image = compiled.image;
  const m = image.manifest;
  const inputs = m.populations.filter((p) => p.role === 'input' && p.source === undefined);
  const outputs = m.populations.filter((p) => p.role === 'output');
  if (inputs.length !== 1 || outputs.length !== 1) {
    fail(`robustness trains networks with exactly one rate input and one output population; ${s.network.file} has ${inputs.length} and ${outputs.length}`, { file: s.network.file, pointer: '/populations' });
  }
  const inPop = inputs[0];
  const outPop = outputs[0];
  const dtMs = s.steps_per_sample !== undefined ? k.t_pres_ms / s.steps_per_sample : m.timing.dt_ms;
  if (k.t_pres_ms < dtMs * (1 - 1e-9)) fail(`T_pres ${k.t_pres_ms} ms is shorter than one step (dt = ${dtMs} ms)`);
  const config = cellConfig(s, k, dtMs);
  const data = dataset(s, inPop.size, outPop.size);

  let calibration: Calibration | undefined;
  let calReport: CellResult['calibration'] = null;
  if (k.condition === 'calibrated' || k.condition === 'both') {
    calibration = await calibrationOf(s, config, m.system.cores, cacheDir, progress);
    calReport = Object.fromEntries(Object.entries(calibration.parameters).map(([p, r]) => [p, { before: r.spread_before, after: r.spread_after }]));
  }
  let tauReport: CellResult['tau_adaptation'] = null;
  if (k.condition === 'tau-adapted' || k.condition === 'both') {
    progress({ phase: 'tau adaptation', done: 0, total: 1 });
    const v = validation(s, data, s.tau_adapt.samples);
    const adapt = s.tau_adapt.by === 'firmware' ? adaptTauWithFirmware : adaptTauOnChip;
    const r = adapt(image, { ...config, calibration }, v.inputs, v.count, {
      eta: s.tau_adapt.eta,
      stepsPerSample: s.tau_adapt.steps_per_sample,
      tolMs: s.tau_adapt.tol_ms,
      maxPasses: s.tau_adapt.max_passes,
    });
    calibration = r.calibration;
    const mean = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0) / Math.max(1, Object.values(o).length);
    tauReport = { gap_before_ms: mean(r.before), gap_after_ms: mean(r.after), passes: r.passes.length };
  }

  const chip = await createEmulatedChip();
  try {
    await chip.load(encodeImage(image));
    await chip.configure({ ...config, calibration });
    const CHUNK = 1000;
    const outSize = outPop.size;
    const stage = {
      inputs: new Float32Array(Math.min(CHUNK, Math.max(data.train.count, data.test.count)) * inPop.size),
      targets: new Float32Array(Math.min(CHUNK, Math.max(data.train.count, data.test.count)) * outSize),
    };
    const phase = async (split: Dataset['train'], order: Int32Array | null, learn: boolean, name: string) => {
      let correct = 0;
      let sq = 0;
      for (let c0 = 0; c0 < split.count; c0 += CHUNK) {
        const count = Math.min(CHUNK, split.count - c0);
        for (let j = 0; j < count; j++) {
          const i = order ? order[c0 + j] : c0 + j;
          copyInput(split, inPop.size, i, stage.inputs, j * inPop.size);
          stage.targets.set(split.targets.subarray(i * outSize, (i + 1) * outSize), j * outSize);
        }
        const rates = await chip.present({
          inputs: stage.inputs.subarray(0, count * inPop.size),
          inputSize: inPop.size,
          targets: learn ? stage.targets.subarray(0, count * outSize) : undefined,
          count,
          tPresMs: k.t_pres_ms,
          learn,
          readout: outPop.name,
          onProgress: (d) => progress({ phase: name, done: c0 + d, total: split.count }),
          progressEvery: 200,
        });
        for (let j = 0; j < count; j++) {
          const i = order ? order[c0 + j] : c0 + j;
          if (split.labels && argmax(rates, j * outSize, outSize) === split.labels[i]) correct++;
          for (let q = 0; q < outSize; q++) sq += (rates[j * outSize + q] - split.targets[i * outSize + q]) ** 2;
        }
      }
      return { correct, sq };
    };
    const tTrain = performance.now();
    for (let e = 1; e <= s.epochs; e++) await phase(data.train, epochOrder(s.seed, e, data.train.count), true, `train epoch ${e}`);
    const trainWall = (performance.now() - tTrain) / 1000;
    const te = await phase(data.test, null, false, 'test');
    return {
      ...k,
      test_accuracy: data.test.labels ? te.correct / data.test.count : null,
      test_loss: te.sq / (data.test.count * outSize),
      train_samples: data.train.count,
      test_samples: data.test.count,
      dt_ms: dtMs,
      calibration: calReport,
      tau_adaptation: tauReport,
      wall_s: (performance.now() - t0) / 1000,
      samples_per_s: (s.epochs * data.train.count) / Math.max(trainWall, 1e-9),
    };
  } finally {
    await chip.close();
  }
}
