/**
 * Pass 5, timescale: Quantised → Timed. Maps biological time onto hardware time,
 * t_hw = t_bio / speedup, i.e. tau_us = tau_ms · 1000 / speedup, and checks every population's
 * time constants against the ranges the chip's circuits can realise (chip.parameters).
 */
import { UserError, type Diagnostic } from '../common/diagnostics.js';
import type { Quantised, Timed } from './ir.js';

/** Biological milliseconds to hardware microseconds at a speedup. */
export function bioMsToHwUs(ms: number, speedup: number): number {
  return (ms * 1000) / speedup;
}

/** Hardware microseconds to biological milliseconds at a speedup. */
export function hwUsToBioMs(us: number, speedup: number): number {
  return (us * speedup) / 1000;
}

/** A number for messages: at most 6 significant digits, no float noise. */
function num(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/** Converts times to hardware units and collects every time constant outside the chip's range. */
export function timescale(q: Quantised): Timed {
  const l = q.placed.lowered;
  const { chip, network: net } = l;
  const speedup = chip.speedup;
  const diags: Diagnostic[] = [];
  const tau_us: Timed['tau_us'] = {};

  for (const p of net.populations) {
    const tau_m_us = bioMsToHwUs(p.tau_m_ms, speedup);
    const tau_r_us = bioMsToHwUs(p.tau_r_ms, speedup);
    tau_us[p.name] = { tau_m_us, tau_r_us };
    if (p.role === 'input') continue;

    const neuron = net.description.populations[p.name]?.neuron as Record<string, unknown> | undefined;
    const check = (param: 'tau_m' | 'tau_r', ms: number, us: number, pointer: string, label: string) => {
      const { min_us, max_us } = chip.parameters[param];
      if (us >= min_us && us <= max_us) return;
      diags.push({
        file: net.file,
        pointer,
        message:
          `${label}${num(ms)} ms (${num(us)} us on ${chip.name} at speedup ${num(speedup)}) is outside the chip's range ` +
          `${num(min_us)}-${num(max_us)} us (${num(hwUsToBioMs(min_us, speedup))}-${num(hwUsToBioMs(max_us, speedup))} ms biological)`,
      });
    };
    const tauMGiven = neuron?.tau_m !== undefined;
    check('tau_m', p.tau_m_ms, tau_m_us, `${p.pointer}/neuron${tauMGiven ? '/tau_m' : ''}`, tauMGiven ? '' : `tau_m (default) = `);
    // lif neurons have no prospective constant (tau_r_ms 0).
    if (p.model === 'lif') continue;
    if (neuron?.tau_r !== undefined) check('tau_r', p.tau_r_ms, tau_r_us, `${p.pointer}/neuron/tau_r`, '');
    else {
      // tau_r defaults to tau_m: with equal ranges the tau_m message already covers it.
      const same = chip.parameters.tau_r.min_us === chip.parameters.tau_m.min_us && chip.parameters.tau_r.max_us === chip.parameters.tau_m.max_us;
      if (!same) check('tau_r', p.tau_r_ms, tau_r_us, `${p.pointer}/neuron/tau_m`, 'tau_r (defaults to tau_m) = ');
    }
  }
  if (diags.length) throw new UserError(diags);

  const { dt_ms, t_pres_ms } = net.presentation;
  return {
    quantised: q,
    speedup,
    dt_ms,
    dt_hw_us: bioMsToHwUs(dt_ms, speedup),
    t_pres_ms,
    t_pres_hw_us: bioMsToHwUs(t_pres_ms, speedup),
    tau_us,
  };
}
