/**
 * The plasticity processors' work as run and train report it: processor cycles, the hardware
 * time the firmware kept the processors busy, and the plasticity updates per sample achieved (full
 * passes over a core's plastic rows per sample, averaged over the cores running firmware; the
 * engine's kernel updates every plastic synapse every step, so it achieves one per step).
 */
import type { ProcessorReport } from '../emulator/chip-interface.js';

/** The report fields of run --json and train --json. */
export interface ProcessorSummary {
  plasticity: ProcessorReport['plasticity'];
  processor_timing: ProcessorReport['timing'];
  processors: number;
  processor_cycles: number;
  processor_instructions: number;
  /** Hardware time the busiest processor spent executing firmware, us. */
  firmware_hw_us: number;
  /** That time over the hardware time of the learning steps (1: the processor never rested). */
  firmware_busy_fraction: number | null;
  /** Analog steps run with learning on. */
  learning_steps: number;
  /** Full plasticity passes per sample (mean over processors), or steps per sample for the kernel. */
  plasticity_updates_per_sample: number | null;
  /** Full passes per processor. */
  passes: (number | null)[];
}

/** Summarises a report over `samples` samples of `stepsPerSample` steps of `dtHwUs` each. */
export function summariseProcessors(r: ProcessorReport, samples: number, stepsPerSample: number, dtHwUs: number): ProcessorSummary {
  const known = r.passes.filter((p): p is number => p !== null);
  let perSample: number | null = null;
  if (samples > 0) {
    if (r.plasticity === 'firmware') perSample = known.length ? known.reduce((a, b) => a + b, 0) / known.length / samples : null;
    else if (r.plasticity === 'kernel') perSample = r.learning_steps > 0 ? stepsPerSample : 0;
    else perSample = 0;
  }
  const learningHwUs = r.learning_steps * dtHwUs;
  return {
    plasticity: r.plasticity,
    processor_timing: r.timing,
    processors: r.processors,
    processor_cycles: r.cycles,
    processor_instructions: r.instructions,
    firmware_hw_us: r.busy_hw_us_max,
    firmware_busy_fraction: learningHwUs > 0 && r.plasticity === 'firmware' ? r.busy_hw_us_max / learningHwUs : null,
    learning_steps: r.learning_steps,
    plasticity_updates_per_sample: perSample,
    passes: r.passes,
  };
}

/** One line for the text output. */
export function processorLine(s: ProcessorSummary): string {
  if (s.plasticity === 'none') return 'plasticity: none (nothing learns)';
  if (s.plasticity === 'kernel') return `plasticity: engine kernel (every plastic synapse every step: ${s.plasticity_updates_per_sample ?? 0} updates per sample)`;
  const per = s.plasticity_updates_per_sample === null ? 'n/a' : s.plasticity_updates_per_sample.toPrecision(3);
  const f = s.firmware_busy_fraction;
  // Under ideal timing the firmware's time is free, so the fraction says how far it is from keeping up.
  const busy = f === null ? '' : s.processor_timing === 'ideal' && f > 1 ? ` (${f.toPrecision(3)} x the analog time it learned over)` : ` (${(100 * f).toFixed(1)} % of the learning time)`;
  return (
    `plasticity: firmware on ${s.processors} processor${s.processors === 1 ? '' : 's'}, timing ${s.processor_timing}: ` +
    `${s.processor_cycles} cycles, busiest processor ${s.firmware_hw_us.toPrecision(4)} us hw${busy}, ${per} updates per sample`
  );
}
