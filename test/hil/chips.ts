/**
 * The chip and image the HIL identity and Python tests run on: the in-process emulator
 * (createEmulatedChip) and examples/small.json compiled for the mismatched bss2 chip, so chip seeds
 * give really different instances.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeImage } from '../../chip/image.js';
import { loadChip } from '../../chip/presets.js';
import { compile } from '../../compiler/compile.js';
import type { Chip } from '../../emulator/chip-interface.js';
import { createEmulatedChip } from '../../emulator/emulated-chip.js';

/** A fresh chip, as each server connection and each in-process reference gets one. */
export function hilChipFactory(): Promise<Chip> {
  return createEmulatedChip();
}

let cached: Uint8Array | undefined;

/** The image the tests load, with a run length and a presentation time that suit it. */
export async function hilImage(): Promise<{ bytes: Uint8Array; durationMs: number; tPresMs: number }> {
  cached ??= encodeImage(compile(readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'small.json'), 'utf8'), { chip: loadChip('bss2'), seed: 1 }).image);
  return { bytes: cached, durationMs: 2, tPresMs: 1 };
}
