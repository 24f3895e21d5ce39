/**
 * Chips by name or file: the presets in chip/presets/<name>.json, or a user's chip JSON checked
 * against ChipSpec (chip/spec.ts) with every mistake reported at once.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { fail, UserError, type Diagnostic } from '../common/diagnostics.js';
import { parseJsonText } from '../common/json-text.js';
import { projectRoot } from '../common/paths.js';
import { checkAgainstSchema, makeAjv } from '../common/schema-check.js';
import { ChipSpec, PRESET_NAMES, type ChipSpecT } from './spec.js';

let validator: ValidateFunction | undefined;

/** Path of a preset's JSON file. */
export function presetPath(name: (typeof PRESET_NAMES)[number]): string {
  return join(projectRoot(), 'chip', 'presets', `${name}.json`);
}

/** Loads a chip: a preset name (ideal, spikey, bss1, bss2) or the path of a chip JSON file. */
export function loadChip(nameOrPath: string): ChipSpecT {
  const preset = (PRESET_NAMES as readonly string[]).includes(nameOrPath) ? (nameOrPath as (typeof PRESET_NAMES)[number]) : undefined;
  const file = preset ? presetPath(preset) : nameOrPath;
  if (!preset && !(existsSync(file) && statSync(file).isFile())) {
    fail(`unknown chip "${nameOrPath}": not a preset (${PRESET_NAMES.join(', ')}) and no such file`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail(`cannot read chip file: ${(err as Error).message}`, { file });
  }
  return checkChip(parseJsonText(text, file), file);
}

/** Checks a parsed chip description against ChipSpec and the rules a schema cannot state; all mistakes at once. */
export function checkChip(value: unknown, file?: string): ChipSpecT {
  validator ??= makeAjv().compile(ChipSpec);
  const diags = checkAgainstSchema(validator, value, file);
  if (diags.length) throw new UserError(diags);
  const chip = value as ChipSpecT;
  const more: Diagnostic[] = [];
  const at = (pointer: string, message: string) => more.push({ file, pointer, message });
  for (const p of ['tau_m', 'tau_r'] as const) {
    const r = chip.parameters[p];
    if (!(r.min_us < r.max_us)) at(`/parameters/${p}`, `min_us (${r.min_us} us) must be smaller than max_us (${r.max_us} us)`);
  }
  if (!(chip.adc.min < chip.adc.max)) at('/adc', `min (${chip.adc.min}) must be smaller than max (${chip.adc.max})`);
  const w = chip.weights;
  if ((w.kind === 'float32') !== (w.sign === 'float')) {
    at('/weights/sign', `must be "float" exactly when kind is "float32" (kind "${w.kind}", sign "${w.sign}")`);
  } else if (w.kind === 'fixed') {
    // Images store fixed-point codes as int8 (chip/image-model.ts): at most 127 magnitude steps.
    if (w.sign === 'per_row' && w.bits > 7) at('/weights/bits', `must be <= 7 magnitude bits with sign per row (codes are stored as int8); got ${w.bits}`);
    if (w.sign === 'per_synapse' && (w.bits < 2 || w.bits > 8)) {
      at('/weights/bits', `must be 2-8 bits including the sign with sign per synapse (codes are stored as int8); got ${w.bits}`);
    }
  }
  if (more.length) throw new UserError(more);
  return chip;
}

/** Cores of the system: an explicit number, the network's need for 'auto', or the chip's default when undefined. */
export function resolveCores(chip: ChipSpecT, cores: number | 'auto' | undefined, needed: number): number {
  const c = cores ?? chip.default_cores;
  if (c === 'auto') return needed;
  if (!Number.isInteger(c) || c < 1) fail(`--cores must be a positive integer or auto (got ${c})`);
  return c;
}
