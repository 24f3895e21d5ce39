/**
 * `lechip calibrate --chip C --chip-seed N -o CALIB.json`: measure a chip instance by experiments
 * on the chip (emulator/calibration/), fit trim codes, write them as `lechip/calibration@1`, and
 * report each parameter's spread before and after (CONTRACT.md "calibrate --json output").
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { toolVersion } from '../../common/paths.js';
import { fmt } from '../../chip/inspect.js';
import { loadChip } from '../../chip/presets.js';
import type { ChipConfig } from '../../emulator/chip-interface.js';
import { writeOutput } from '../files.js';
import type { Console } from '../io.js';
import { checkNonNegative, checkPositiveInt, checkSeed, chipConfig, intArg, mismatchOptions, numberArg, type ChipOptionValues } from '../options.js';
import { formatDuration } from '../progress.js';

interface CalibrateOptions extends ChipOptionValues {
  chip: string;
  output: string;
  cores?: number;
  iterations: number;
  membraneNoise?: number;
  json?: boolean;
}

export function registerCalibrate(program: Command, con: Console): void {
  const cmd = program
    .command('calibrate')
    .description('measure a chip instance by experiments on the chip and write the trim codes that bring every circuit to nominal')
    .requiredOption('--chip <C>', 'chip preset (spikey, bss1, bss2, ideal) or chip JSON file')
    .addOption(new Option('--chip-seed <N>', 'the chip instance to calibrate').argParser(intArg).default(0))
    .requiredOption('-o, --output <CALIB.json>', 'calibration file to write')
    .addOption(new Option('--cores <N>', 'cores to calibrate (default: one chip)').argParser(intArg))
    .addOption(new Option('--iterations <K>', 'correction rounds after the raw measurement').argParser(intArg).default(2))
    .addOption(new Option('--seed <S>', "seed of the measurement's own draws (membrane and read noise)").argParser(intArg).default(1))
    .addOption(new Option('--membrane-noise <X>', "membrane noise during the measurement (default: the preset's)").argParser(numberArg));
  for (const opt of mismatchOptions()) cmd.addOption(opt);
  cmd.option('--json', 'print one JSON object on stdout').action(async (o: CalibrateOptions) => {
    const t0 = performance.now();
    const config: ChipConfig = chipConfig(o);
    checkSeed('--chip-seed', o.chipSeed);
    if (o.cores !== undefined) checkPositiveInt('--cores', o.cores);
    checkNonNegative('--iterations', o.iterations);
    if (o.membraneNoise !== undefined) config.noise = { ...config.noise, membrane: o.membraneNoise };
    const chip = loadChip(o.chip);
    const cores = o.cores ?? chip.cores_per_chip;
    con.info(
      `calibrate ${chip.name}, chip seed ${config.chipSeed}: ${cores} core${cores === 1 ? '' : 's'} x ${chip.core.neurons} neuron columns, ` +
        `${o.iterations} correction round${o.iterations === 1 ? '' : 's'}, trims of ${chip.parameters.dac_bits} bits over +-${fmt(chip.parameters.trim_range)}`,
    );
    const { calibrate } = await import('../../emulator/calibration/calibrate.js');
    // Progress: a line per stage and at most one a second within it, with the time left.
    let stage = '';
    let shown = 0;
    const cal = await calibrate({
      chip,
      config,
      cores,
      iterations: o.iterations,
      onProgress: (s, f) => {
        const now = performance.now();
        if (s === stage && now - shown < 1000) return;
        if (s === 'done') return;
        stage = s;
        shown = now;
        const elapsed = (now - t0) / 1000;
        con.info(`calibrate: ${s}, ${Math.round(100 * f)} % done${f > 0.02 ? `, about ${formatDuration((elapsed * (1 - f)) / f)} left` : ''}`);
      },
    });
    writeOutput(o.output, JSON.stringify(cal, null, 1) + '\n', 'calibration');
    const wall_s = (performance.now() - t0) / 1000;
    if (o.json) {
      con.json({
        chip: cal.chip,
        chip_seed: cal.chip_seed,
        seed: cal.seed,
        cores,
        output: resolve(o.output),
        parameters: cal.parameters,
        iterations: cal.iterations,
        mismatch: cal.mismatch,
        chip_sha256: cal.chip_sha256,
        wall_s,
        tool_version: toolVersion(),
      });
      return;
    }
    const rows = Object.entries(cal.parameters).map(([p, r]) => {
      const show = (v: number) => (r.relative ? `${(100 * v).toFixed(2)} %` : `${fmt(v)} ${r.unit}`);
      const ratio = r.spread_before > 0 ? `${(100 * (r.spread_after / r.spread_before)).toFixed(1)} % of raw` : '-';
      return `  ${p.padEnd(13)} ${show(r.spread_before).padStart(11)} -> ${show(r.spread_after).padStart(11)}  (${ratio}${r.saturated ? `; ${r.saturated} trims at the end of their range` : ''})`;
    });
    con.out(
      [
        `calibrated ${cal.chip} chip seed ${cal.chip_seed} in ${wall_s.toFixed(1)} s (${cal.iterations} correction round${cal.iterations === 1 ? '' : 's'}) -> ${o.output}`,
        'spread across circuits, raw -> calibrated (sd/mean; offsets: sd), measured on the chip:',
        ...rows,
      ].join('\n'),
    );
  });
}
