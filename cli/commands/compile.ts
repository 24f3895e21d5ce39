/** `lechip compile NET.json`: a network description → a chip image (.lechip), or a stage dump with --emit. */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { fail } from '../../common/diagnostics.js';
import { toolVersion } from '../../common/paths.js';
import { encodeImage } from '../../chip/image.js';
import { loadChip } from '../../chip/presets.js';
import { compile, dumpStage, passProducing, runPasses, STAGE_NAMES, type StageName } from '../../compiler/compile.js';
import type { Placement } from '../../compiler/place.js';
import { readText, sha256Hex, siblingPath, writeOutput } from '../files.js';
import type { Console } from '../io.js';
import { coresArg, checkPositiveInt, checkSeed, intArg, placementOption } from '../options.js';


interface CompileOptions {
  chip: string;
  cores?: number | 'auto';
  placement: Placement;
  seed: number;
  output?: string;
  emit?: StageName;
  json?: boolean;
}

/** Checks --cores: a positive integer or auto. */
export function checkCores(cores: number | 'auto' | undefined): void {
  if (cores !== 'auto') checkPositiveInt('--cores', cores);
}

export function registerCompile(program: Command, con: Console): void {
  program
    .command('compile')
    .description('compile a network description into a chip image')
    .argument('<NET.json>', 'network description (lechip/network@1)')
    .option('--chip <C>', 'chip preset (ideal, spikey, bss1, bss2) or chip JSON file', 'ideal')
    .option('--cores <N|auto>', "cores in the system (default: the preset's)", coresArg)
    .addOption(placementOption())
    .addOption(new Option('--seed <S>', 'seed of draws the description leaves unseeded').argParser(intArg).default(1))
    .option('-o, --output <OUT.lechip>', 'image file (default: NET.lechip next to the input)')
    .addOption(new Option('--emit <stage>', 'print a compiler stage as JSON on stdout').choices(STAGE_NAMES))
    .option('--json', 'print one JSON object on stdout')
    .action(async (net: string, o: CompileOptions) => {
      checkCores(o.cores);
      checkSeed('--seed', o.seed);
      const chip = loadChip(o.chip);
      const text = readText(net, 'network description');
      const opts = { file: net, chip, cores: o.cores, placement: o.placement, seed: o.seed };

      if (o.emit !== undefined && o.output === undefined) {
        // --emit alone: run the passes up to the one producing that stage and print it, no image.
        const { stages } = runPasses(text, opts, passProducing(o.emit));
        const dump = dumpStage(o.emit, stages);
        con.info(`${net}: stage '${o.emit}' on ${chip.name}`);
        con.out(JSON.stringify(o.json ? { stage: o.emit, dump, seed: o.seed, tool_version: toolVersion() } : dump, null, o.json ? undefined : 2));
        return;
      }

      const result = compile(text, opts);
      const { image, warnings } = result;
      const m = image.manifest;
      const bytes = encodeImage(image);
      const out = o.output ?? siblingPath(net, '.lechip');
      if (resolve(out) === resolve(net)) fail('the output would overwrite the network description; choose another -o', { file: out });
      writeOutput(out, bytes, 'image');

      con.info(
        `compiled ${m.network.name} for ${m.chip.name}: ${m.system.cores_used} of ${m.system.cores} cores used ` +
          `(${m.system.chips} chip${m.system.chips === 1 ? '' : 's'}), ${bytes.length} bytes -> ${out}`,
      );
      for (const w of warnings) con.warn(w);
      const dump = o.emit !== undefined ? dumpStage(o.emit, result.stages) : undefined;

      if (o.json) {
        con.json({
          image: out,
          image_sha256: sha256Hex(bytes),
          bytes: bytes.length,
          network: m.network,
          chip: m.chip.name,
          cores_used: m.system.cores_used,
          cores: m.system.cores,
          chips: m.system.chips,
          placement: result.stages.placed.placement,
          // Per core used: rows, columns and synapses (rows x columns of its blocks) in use.
          usage: result.stages.placed.usage,
          warnings,
          seed: o.seed,
          tool_version: toolVersion(),
          ...(dump !== undefined ? { stage: o.emit, dump } : {}),
        });
      } else if (dump !== undefined) {
        con.out(JSON.stringify(dump, null, 2));
      }
    });
}
