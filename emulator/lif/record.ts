/**
 * Recording a run of the spiking substrate: spike times per neuron in biological ms (and the
 * hardware us they correspond to at the chip's speedup), membranes sampled at a fixed interval
 * and read through the chip's membrane ADC.
 */
import type { LifModel, LifNeuronArrays, MembraneAdc, SpikeEvents } from './model.js';

/** What the reference and the engine both offer. */
export interface LifSimulator {
  readonly model: LifModel;
  readonly step: number;
  run(nSteps: number): void;
  takeSpikes(): SpikeEvents;
  membranes(): Float32Array;
  conductances(): { gE: Float32Array; gI: Float32Array };
  writeRowWeights(weights: ArrayLike<number>): void;
  writeParameters(params: Partial<LifNeuronArrays>): void;
  reset(): void;
}

export interface LifRecordOptions {
  /** Populations whose membranes are recorded (default none). */
  membranes?: string[];
  /** Membrane sampling interval in ms (default dt); samples at the end of each interval. */
  sampleEveryMs?: number;
}

/** One population's recording. */
export interface LifPopulationRecording {
  /** Per neuron (or source), its spike times in ms. */
  spikes: number[][];
  /** Membranes [sample][neuron] in mV as the ADC reads them (lif populations whose membranes were asked for). */
  v?: number[][];
}

export interface LifRecording {
  /** Sample times of the membranes, ms and hardware us. */
  t_bio_ms: number[];
  t_hw_us: number[];
  record: Record<string, LifPopulationRecording>;
  /** Spikes of the whole run as they came (grid time index and signal), for analyses. */
  events: SpikeEvents;
  steps: number;
  hw_us: number;
}

/** A membrane value read through an ADC of `bits` over [lo, hi]: nearest code, clamped at the ends. */
export function readMembrane(v: number, adc: MembraneAdc | null): number {
  if (!adc) return v;
  const codes = 2 ** adc.bits - 1;
  const lsb = (adc.hi_mV - adc.lo_mV) / codes;
  const code = Math.min(codes, Math.max(0, Math.round((v - adc.lo_mV) / lsb)));
  return adc.lo_mV + code * lsb;
}

/** Time of grid index k in ms, k dt rounded to 1e-9 ms so that 0.1 ms steps print as 19.4, not 19.400000000000002. */
export function gridMs(k: number, dt_ms: number): number {
  return Math.round(k * dt_ms * 1e9) / 1e9;
}

/** Runs a simulator for a duration (whole steps) from its current time and records. */
export function recordRun(sim: LifSimulator, durationMs: number, options: LifRecordOptions = {}): LifRecording {
  const m = sim.model;
  const steps = Math.round(durationMs / m.dt_ms);
  const every = Math.max(1, Math.round((options.sampleEveryMs ?? m.dt_ms) / m.dt_ms));
  const want = (options.membranes ?? []).map((name) => {
    const p = m.populations.find((q) => q.name === name);
    if (!p || p.kind !== 'lif') throw new Error(`no lif population ${name} to record membranes of`);
    return p;
  });
  const t_bio_ms: number[] = [];
  const vs: number[][][] = want.map(() => []);
  const step0 = sim.step;
  if (want.length === 0) sim.run(steps);
  else {
    for (let done = 0; done < steps; ) {
      const n = Math.min(every, steps - done);
      sim.run(n);
      done += n;
      if (n < every) break;
      const v = sim.membranes();
      t_bio_ms.push(gridMs(sim.step, m.dt_ms));
      want.forEach((p, k) => vs[k].push(Array.from(v.subarray(p.offset, p.offset + p.size), (x) => readMembrane(x, m.membrane_adc))));
    }
  }
  const events = sim.takeSpikes();
  const record: Record<string, LifPopulationRecording> = {};
  const nSrc = m.sources.length;
  for (const p of m.populations) record[p.name] = { spikes: Array.from({ length: p.size }, () => []) };
  const bySignal: { pop: string; k: number }[] = [];
  for (const p of m.populations) {
    for (let k = 0; k < p.size; k++) bySignal[p.kind === 'source' ? p.offset + k : nSrc + p.offset + k] = { pop: p.name, k };
  }
  for (let e = 0; e < events.signal.length; e++) {
    const s = bySignal[events.signal[e]];
    record[s.pop].spikes[s.k].push(gridMs(events.time_index[e], m.dt_ms));
  }
  want.forEach((p, k) => (record[p.name].v = vs[k]));
  const hw = (ms: number) => (ms * 1000) / m.speedup;
  return {
    t_bio_ms,
    t_hw_us: t_bio_ms.map(hw),
    record,
    events,
    steps: sim.step - step0,
    hw_us: hw(steps * m.dt_ms),
  };
}
