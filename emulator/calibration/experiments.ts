/**
 * The calibration experiments, run on a chip through the Chip interface only (load, configure,
 * writeInputs, run): what it reads is the membrane u and the rate r of every column through the
 * column ADC (./adc.ts), exactly the observables firmware or a host would have on silicon.
 *
 *  1. Step responses: the input toggles between 0 and 1 every HOLD_TAUS nominal time constants.
 *     After each toggle u relaxes with tau_m (fitTauM) and the rate's lead over the membrane
 *     gives g (1 - tau_r / tau_m) (fitLeadSlope).
 *  2. Input sweep: SWEEP levels, each held a few time constants. With the relaxation factor a^k and
 *     the lead slope s = g (1 - rho) of step 1, each level's drive B (its membrane's equilibrium)
 *     is (u_{j+k} - a^k u_j) / (1 - a^k) averaged over the hold, and r_j - s u_{j-1} = (g - s) B + o;
 *     so B against the input gives the synaptic gain G (B = b + G w x), and r - s u_prev against B
 *     gives the activation gain g and the offset o.
 * No fit reads a plateau, so slow circuits that have not settled still measure correctly.
 */
import type { Chip, ChipConfig, Recording } from '../chip-interface.js';
import { Adc } from './adc.js';
import { finiteMean, fitLeadSlope, fitTauM, linearFit } from './fit.js';
import type { CalibrationNetwork } from './network.js';

/** Holds of the step-response phase, each this many nominal time constants. */
export const EDGES = 6;
export const HOLD_TAUS = 8;
/** Input levels of the sweep; each is held SETTLE_TAUS, then averaged over AVERAGE_TAUS. */
export const SWEEP = [0, 0.25, 0.5, 0.75, 1];
export const SETTLE_TAUS = 1;
export const AVERAGE_TAUS = 6;
const WARMUP_TAUS = 6;

/** Measured parameters of every calibrated column: one array per population of the calibration network. */
export interface Measurement {
  /** Time constants in hardware us. */
  tau_m_us: Float64Array[];
  tau_r_us: Float64Array[];
  gain: Float64Array[];
  offset: Float64Array[];
  synapse_gain: Float64Array[];
}

/** Total nominal time constants one measurement runs (for progress and time estimates). */
export function measurementTaus(): number {
  return WARMUP_TAUS + EDGES * HOLD_TAUS + SWEEP.length * (SETTLE_TAUS + AVERAGE_TAUS);
}

/**
 * Runs the experiments on a chip that has the calibration network loaded, configured with
 * `config` (chip instance, trims); `purpose` names the ADC noise stream of this measurement.
 */
export async function measure(
  chip: Chip,
  net: CalibrationNetwork,
  config: ChipConfig,
  purpose: string,
  onProgress?: (fraction: number) => void,
): Promise<Measurement> {
  await chip.configure({ ...config, dtMs: net.dtMs });
  const manifest = net.image.manifest;
  const adc = new Adc(manifest.chip, config.seed ?? 1, purpose, config.noise?.adc_lsb);
  const names = net.populations.map((p) => p.name);
  const dt = net.dtMs;
  const tau = net.tauMs;
  const total = measurementTaus();
  let done = 0;
  const hold = async (x: number, taus: number, record: boolean): Promise<Recording> => {
    await chip.writeInputs({ in: [{ t: 0, value: [x] }] });
    // Unrecorded holds sample once at their end: the chip then runs them in one call.
    const rec = await chip.run({ durationMs: taus * tau, record: record ? names : [], sampleEveryMs: record ? dt : taus * tau });
    done += taus;
    onProgress?.(done / total);
    return rec;
  };
  // Readings through the ADC, per population: u[sample][neuron], r[sample][neuron].
  const read = (rec: Recording, name: string) => ({
    u: rec.record[name].u.map((row) => row.map((v) => adc.read(v))),
    r: rec.record[name].r.map((row) => row.map((v) => adc.read(v))),
  });

  const warm = await hold(0, WARMUP_TAUS, true);
  let last = names.map((n) => {
    const w = read(warm, n);
    return { u: w.u[w.u.length - 1], r: w.r[w.r.length - 1] };
  });
  const lag = Math.round(tau / dt);
  const tauEdges = net.populations.map((p) => Array.from({ length: p.column.length }, () => [] as number[]));
  const leadEdges = net.populations.map((p) => Array.from({ length: p.column.length }, () => [] as number[]));
  for (let e = 0; e < EDGES; e++) {
    const rec = await hold(e % 2 === 0 ? 1 : 0, HOLD_TAUS, true);
    net.populations.forEach((p, k) => {
      const { u, r } = read(rec, p.name);
      for (let i = 0; i < p.column.length; i++) {
        const us = [last[k].u[i], ...u.map((row) => row[i])];
        const rs = [last[k].r[i], ...r.map((row) => row[i])];
        tauEdges[k][i].push(fitTauM(us, lag, dt));
        leadEdges[k][i].push(fitLeadSlope(us, rs, (v) => adc.inRange(v)));
      }
      last[k] = { u: u[u.length - 1], r: r[r.length - 1] };
    });
  }

  // Step 1's fits per neuron: tau_m (so a^k) and the lead slope s = g (1 - rho).
  const tauOf = net.populations.map((p, k) => Float64Array.from(p.column, (_, i) => finiteMean(tauEdges[k][i])));
  const leadOf = net.populations.map((p, k) => Float64Array.from(p.column, (_, i) => finiteMean(leadEdges[k][i])));
  const drive = net.populations.map((p) => SWEEP.map(() => new Float64Array(p.column.length)));
  const rest = net.populations.map((p) => SWEEP.map(() => new Float64Array(p.column.length)));
  for (let l = 0; l < SWEEP.length; l++) {
    const pre = await hold(SWEEP[l], SETTLE_TAUS, true);
    const rec = await hold(SWEEP[l], AVERAGE_TAUS, true);
    net.populations.forEach((p, k) => {
      const a0 = read(pre, p.name);
      const a1 = read(rec, p.name);
      const u = [...a0.u, ...a1.u];
      const r = [...a0.r, ...a1.r];
      const from = a0.u.length; // the averaged part starts after the settling part
      for (let i = 0; i < p.column.length; i++) {
        const ak = Math.pow(1 - dt / tauOf[k][i], lag);
        let sb = 0;
        let nb = 0;
        for (let j = from; j + lag < u.length; j++) {
          sb += (u[j + lag][i] - ak * u[j][i]) / (1 - ak);
          nb++;
        }
        drive[k][l][i] = nb ? sb / nb : NaN;
        let sr = 0;
        let nr = 0;
        for (let j = from; j < r.length; j++) {
          if (!adc.inRange(r[j][i])) continue;
          sr += r[j][i] - leadOf[k][i] * u[j - 1][i];
          nr++;
        }
        rest[k][l][i] = nr > (r.length - from) / 2 ? sr / nr : NaN;
      }
    });
  }
  last = [];

  const us = 1000 / manifest.chip.speedup;
  const out: Measurement = { tau_m_us: [], tau_r_us: [], gain: [], offset: [], synapse_gain: [] };
  net.populations.forEach((p, k) => {
    const n = p.column.length;
    const tm = new Float64Array(n);
    const tr = new Float64Array(n);
    const g = new Float64Array(n);
    const o = new Float64Array(n);
    const G = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const bLevels = drive[k].map((a) => a[i]);
      G[i] = linearFit(SWEEP, bLevels).slope / p.weight[i];
      // Levels whose rate readings sat on an ADC rail are left out of the gain fit.
      const ok = rest[k].map((a) => Number.isFinite(a[i]));
      const fit = linearFit(bLevels.filter((_, l) => ok[l]), rest[k].map((a) => a[i]).filter((_, l) => ok[l]));
      g[i] = fit.slope + leadOf[k][i];
      o[i] = fit.intercept;
      tm[i] = tauOf[k][i];
      const rho = 1 - leadOf[k][i] / g[i];
      tr[i] = rho * tm[i];
    }
    out.tau_m_us.push(tm.map((v) => v * us));
    out.tau_r_us.push(tr.map((v) => v * us));
    out.gain.push(g);
    out.offset.push(o);
    out.synapse_gain.push(G);
  });
  return out;
}
