/** Shared helpers of the firmware tests: descriptions, compiled images, engines with their processors. */
import { encodeImage } from '../../chip/image.js';
import type { ChipImage } from '../../chip/image-model.js';
import { loadChip } from '../../chip/presets.js';
import { compile } from '../../compiler/compile.js';
import type { Chip, ChipConfig } from '../../emulator/chip-interface.js';
import { createEmulatedChip } from '../../emulator/emulated-chip.js';
import { Engine } from '../../emulator/engine.js';
import { FirmwareRuntime, type ProcessorTiming } from '../../emulator/firmware-runtime.js';
import { realiseModel } from '../../emulator/instance.js';
import type { LeSmallFixture } from '../emulator/engine-models.js';

/** The golden 4-6-5-3 network as a description (explicit weights and biases). */
export function goldenDescription(f: LeSmallFixture): Record<string, unknown> {
  const names = ['in', 'h1', 'h2', 'out'];
  const populations: Record<string, unknown> = { in: { size: f.sizes[0], role: 'input' } };
  for (let l = 1; l < f.sizes.length; l++) {
    populations[names[l]] = {
      size: f.sizes[l],
      ...(l === f.sizes.length - 1 ? { role: 'output' } : {}),
      neuron: { model: 'le', tau_m: f.tau_m[l - 1], tau_r: f.tau_r[l - 1], activation: f.activation[l - 1] },
      bias: f.initial.b[l - 1],
    };
  }
  return {
    format: 'lechip/network@1',
    name: 'le-small',
    populations,
    projections: f.initial.W.map((W, l) => ({ from: names[l], to: names[l + 1], weights: W, plastic: true, eta_scale: f.eta_scale[l] })),
    learning: { rule: 'le', beta: f.beta, eta: f.eta, feedback: 'transpose' },
    presentation: { t_pres: f.t_pres, dt: f.dt },
  };
}

/** Compiles a description object for a chip preset (or chip object). */
export function compileFor(description: unknown, chip: string | ReturnType<typeof loadChip> = 'ideal', opts: { cores?: number | 'auto'; dtMs?: number } = {}): ChipImage {
  const spec = typeof chip === 'string' ? loadChip(chip) : chip;
  return compile(JSON.stringify(description), { chip: spec, seed: 1, cores: opts.cores, dtMs: opts.dtMs }).image;
}

/** An emulated chip with an image loaded and configured. */
export async function chipWith(image: ChipImage, config: ChipConfig = {}): Promise<Chip> {
  const chip = await createEmulatedChip();
  await chip.load(encodeImage(image));
  await chip.configure(config);
  return chip;
}

/** The engine and processors of an image on a chip instance, stepped by the test itself. */
export function engineWithFirmware(image: ChipImage, config: ChipConfig = {}, timing: ProcessorTiming = 'ideal'): { engine: Engine; runtime: FirmwareRuntime } {
  const model = realiseModel(image, config);
  const engine = new Engine(model);
  const runtime = new FirmwareRuntime(image, engine, config, { timing, dtMs: model.dt_ms });
  return { engine, runtime };
}

/** A small deterministic network description for a chip (in → h → out, plastic, transpose feedback). */
export function smallNet(opts: { sizes?: [number, number, number]; eta?: number; feedback?: 'transpose' | 'random'; activation?: string; scale?: number } = {}): Record<string, unknown> {
  const [ni, nh, no] = opts.sizes ?? [5, 7, 3];
  return {
    format: 'lechip/network@1',
    name: 'small',
    populations: {
      in: { size: ni, role: 'input' },
      h: { size: nh, neuron: { model: 'le', tau_m: 10, activation: opts.activation ?? 'tanh' }, bias: { kind: 'normal', scale: 0.1, seed: 4 } },
      out: { size: no, role: 'output', neuron: { model: 'le', tau_m: 10, activation: 'linear' }, bias: { kind: 'normal', scale: 0.1, seed: 5 } },
    },
    projections: [
      { from: 'in', to: 'h', init: { kind: 'normal', scale: opts.scale ?? 0.5, seed: 1 }, plastic: true },
      { from: 'h', to: 'out', init: { kind: 'normal', scale: opts.scale ?? 0.5, seed: 2 }, plastic: true, eta_scale: 0.5 },
    ],
    learning: { rule: 'le', beta: 0.1, eta: opts.eta ?? 0.5, feedback: opts.feedback ?? 'transpose' },
    presentation: { t_pres: 0.2, dt: 0.01 },
  };
}
