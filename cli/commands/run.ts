/** `lechip run IMAGE`: load an image into the emulated chip, drive its inputs and record populations. */
import { Option, type Command } from 'commander';
import { fail } from '../../common/diagnostics.js';
import { toolVersion } from '../../common/paths.js';
import { decodeImage } from '../../chip/image.js';
import { fmt } from '../../chip/inspect.js';
import { readBytes, readJson, sha256Hex } from '../files.js';
import type { Console } from '../io.js';
import { checkCalibrationFits, checkPositive, chipConfig, chipInstanceOptions, listArg, numberArg, type ChipOptionValues } from '../options.js';
import { processorLine, summariseProcessors } from '../processor-report.js';
import { checkRunInput } from '../run-input.js';

interface RunOptions extends ChipOptionValues {
  input?: string;
  duration?: number;
  record?: string[];
  sampleEvery?: number;
  learn?: boolean;
  json?: boolean;
}

export function registerRun(program: Command, con: Console): void {
  const cmd = program
    .command('run')
    .description('run a chip image in the emulator with given inputs and record populations')
    .argument('<IMAGE>', 'chip image (.lechip)')
    .option('--input <INPUT.json>', 'input schedules and targets (CONTRACT.md "run input")')
    .addOption(new Option('--duration <MS>', 'biological ms to run (default: the input\'s "duration")').argParser(numberArg))
    .addOption(new Option('--record <POPS>', 'populations to record, comma-separated (default: the outputs)').argParser(listArg))
    .addOption(new Option('--sample-every <MS>', 'recording interval, biological ms (default: dt)').argParser(numberArg))
    .option('--learn', "plasticity on during the run: the image's firmware (or --plasticity kernel) learns, the input's targets nudge the outputs");
  for (const opt of chipInstanceOptions()) cmd.addOption(opt);
  cmd.option('--json', 'print one JSON object on stdout').action(async (file: string, o: RunOptions) => {
    const t0 = performance.now();
    const config = chipConfig(o);
    checkPositive('--duration', o.duration, 'ms');
    checkPositive('--sample-every', o.sampleEvery, 'ms');
    const bytes = readBytes(file, 'image');
    const manifest = decodeImage(bytes, file).manifest;
    checkCalibrationFits(config, manifest.chip, o.calibration);
    const input = checkRunInput(o.input !== undefined ? readJson(o.input, 'run input') : undefined, manifest, o.input);
    const durationMs = o.duration ?? input.durationMs;
    if (durationMs === undefined) fail('no duration: give --duration MS or "duration" in the run input');
    const names = manifest.populations.map((p) => p.name);
    const record = o.record ?? manifest.populations.filter((p) => p.role === 'output').map((p) => p.name);
    for (const r of record) {
      if (!names.includes(r)) fail(`--record: unknown population '${r}'; the image has ${names.join(', ')}`);
    }

    // Loaded on use, so compile and inspect start without the emulator and its WASM.
    const { createEmulatedChip } = await import('../../emulator/emulated-chip.js');
    const chip = await createEmulatedChip();
    try {
      await chip.load(bytes);
      await chip.configure(config);
      await chip.writeInputs(input.inputs, input.targets);
      const rec = await chip.run({ durationMs, record, sampleEveryMs: o.sampleEvery, learn: o.learn ?? false });
      const wall_s = (performance.now() - t0) / 1000;
      const speedup = manifest.timing.speedup;
      // A sample is one T_pres of the image: the updates per sample of a run are per T_pres.
      const dtMs = config.dtMs ?? manifest.timing.dt_ms;
      const stepsPerSample = Math.max(1, Math.round(manifest.timing.t_pres_ms / dtMs));
      const processor = rec.processor
        ? summariseProcessors(rec.processor, rec.processor.learning_steps / stepsPerSample, stepsPerSample, (dtMs * 1000) / speedup)
        : null;
      if (o.json) {
        con.json({
          t_bio_ms: rec.t_bio_ms,
          t_hw_us: rec.t_hw_us,
          record: rec.record,
          wall_s,
          speedup,
          chip: manifest.chip.name,
          chip_seed: config.chipSeed,
          seed: config.seed,
          duration_ms: durationMs,
          dt_ms: config.dtMs ?? manifest.timing.dt_ms,
          steps: rec.steps,
          hw_us: rec.hw_us,
          learn: o.learn ?? false,
          ...(processor ?? {}),
          network: manifest.network,
          tool_version: toolVersion(),
          image_sha256: sha256Hex(bytes),
        });
        return;
      }
      const n = rec.t_bio_ms.length;
      const lines = [
        `ran ${manifest.network.name} on ${manifest.chip.name} (chip seed ${config.chipSeed}, seed ${config.seed}): ` +
          `${fmt(durationMs)} ms bio = ${fmt(rec.hw_us)} us hw (speedup ${fmt(speedup)}), ${rec.steps} steps in ${wall_s.toFixed(2)} s wall`,
        `recorded ${n} samples` + (n ? ` from t = ${fmt(rec.t_bio_ms[0])} to ${fmt(rec.t_bio_ms[n - 1])} ms` : ''),
      ];
      for (const [pop, r] of Object.entries(rec.record)) {
        const last = r.r[r.r.length - 1];
        if (last) lines.push(`${pop}: r at the end = [${Array.from(last.slice(0, 16), (x) => fmt(x)).join(', ')}${last.length > 16 ? ', ...' : ''}]`);
      }
      if (processor && o.learn) lines.push(processorLine(processor));
      lines.push('(--json prints the full recording)');
      con.out(lines.join('\n'));
    } finally {
      await chip.close();
    }
  });
}
