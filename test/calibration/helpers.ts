/**
 * Test helpers that may read the hidden draw: the true (realised, trimmed) parameters of every
 * column of the calibration network, read from the emulator's instance and readParameters.
 */
import type { ChipSpecT } from '../../chip/spec.js';
import { spread } from '../../emulator/calibration/fit.js';
import type { CalibrationNetwork } from '../../emulator/calibration/network.js';
import type { ChipConfig } from '../../emulator/chip-interface.js';
import { createEmulatedChip } from '../../emulator/emulated-chip.js';
import { synapseGainOf } from '../../emulator/instance.js';

export type TrueParameters = Record<'tau_m' | 'tau_r' | 'gain' | 'offset' | 'synapse_gain', Float64Array>;

/** The true parameters of all calibrated columns on the instance `config` names (trims included). */
export async function trueParameters(net: CalibrationNetwork, config: ChipConfig): Promise<TrueParameters> {
  const chip = await createEmulatedChip();
  await chip.load(net.bytes);
  await chip.configure(config);
  const out = { tau_m: [] as number[], tau_r: [] as number[], gain: [] as number[], offset: [] as number[], synapse_gain: [] as number[] };
  const gainOf = synapseGainOf(net.image.manifest, config);
  for (const p of net.populations) {
    const q = await chip.readParameters(p.name);
    out.tau_m.push(...q.tau_m_us);
    out.tau_r.push(...q.tau_r_us);
    out.gain.push(...q.gain);
    out.offset.push(...q.offset);
    for (let i = 0; i < p.column.length; i++) out.synapse_gain.push(gainOf(p.core, p.column[i]));
  }
  await chip.close();
  return {
    tau_m: Float64Array.from(out.tau_m), tau_r: Float64Array.from(out.tau_r), gain: Float64Array.from(out.gain),
    offset: Float64Array.from(out.offset), synapse_gain: Float64Array.from(out.synapse_gain),
  };
}

/** CONTRACT.md spread of each true parameter. */
export function trueSpreads(t: TrueParameters): Record<keyof TrueParameters, number> {
  return {
    tau_m: spread(t.tau_m, true), tau_r: spread(t.tau_r, true), gain: spread(t.gain, true),
    offset: spread(t.offset, false), synapse_gain: spread(t.synapse_gain, true),
  };
}

/** Mean of an array. */
export function meanOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

export type { ChipSpecT };
