/**
 * The chip and image the HIL identity and Python tests run on. Until the in-process emulator
 * (emulator/emulated-chip.ts) lands this is the test's fake chip on the synthetic image.
 */
import type { Chip } from '../../emulator/chip-interface.js';
import { FakeChip } from './fake-chip.js';
import { syntheticImageBytes } from './helpers.js';

/** A fresh chip, as each server connection and each in-process reference gets one. */
export async function hilChipFactory(): Promise<Chip> {
  return new FakeChip();
}

/** The image the tests load, with a run length and a presentation time that suit it. */
export async function hilImage(): Promise<{ bytes: Uint8Array; durationMs: number; tPresMs: number }> {
  return { bytes: syntheticImageBytes(), durationMs: 0.5, tPresMs: 0.1 };
}
