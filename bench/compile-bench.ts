/**
 * Compile time of a large network: 100 000 LE neurons (100 subnetworks 64 -> 900 -> 100, 24 million
 * forward and feedback synapses with LE's transposed feedback) on a custom BrainScaleS-2-like chip
 * with 32 cores of 512 x 512 per chip and `cores: 'auto'`, through compiler/compile.ts's whole
 * pipeline (validate, lower, place, quantise to 6 bits, timescale, emit the image).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { checkChip, presetPath } from '../chip/presets.js';
import type { ChipSpecT } from '../chip/spec.js';
import { compile } from '../compiler/compile.js';
import type { Benchmark, Runner } from './types.js';

const SUBNETS = 100;
const IN = 64;
const HIDDEN = 900;
const OUT = 100;

/** The custom chip: bss2's circuits and weight format, bigger cores, 32 cores per chip. */
export function manyCoreChip(): ChipSpecT {
  const bss2 = JSON.parse(readFileSync(presetPath('bss2'), 'utf8'));
  return checkChip({
    ...bss2,
    name: 'bench-many-cores',
    description: 'benchmark chip: BrainScaleS-2 circuits and 6-bit weights, 512 x 512 cores, 32 cores per chip, as many chips as needed',
    core: { neurons: 512, rows: 512 },
    cores_per_chip: 32,
    default_cores: 'auto',
  });
}

/** The 100 000-neuron description as JSON text (weights drawn by the compiler from seeds). */
export function bigNetworkText(subnets = SUBNETS): string {
  const populations: Record<string, unknown> = {};
  const projections: unknown[] = [];
  for (let k = 0; k < subnets; k++) {
    populations[`in${k}`] = { size: IN, role: 'input' };
    populations[`h${k}`] = {
      size: HIDDEN,
      neuron: { model: 'le', tau_m: 20, activation: 'hardsigmoid' },
      bias: { kind: 'normal', scale: 0.05, seed: 3 * k + 1 },
    };
    populations[`o${k}`] = { size: OUT, role: 'output', neuron: { model: 'le', tau_m: 20, activation: 'linear' } };
    projections.push({ from: `in${k}`, to: `h${k}`, init: { kind: 'normal', scale: 0.05, seed: 3 * k + 2 }, plastic: true });
    projections.push({ from: `h${k}`, to: `o${k}`, init: { kind: 'normal', scale: 0.05, seed: 3 * k + 3 }, plastic: true, eta_scale: 0.2 });
  }
  return JSON.stringify({
    format: 'lechip/network@1',
    name: 'bench-100k-neurons',
    populations,
    projections,
    learning: { rule: 'le', beta: 0.1, eta: 0.5, feedback: 'transpose' },
  });
}

/** The compile-time benchmark. */
export function compileBenchmark(): Benchmark {
  const neurons = SUBNETS * (HIDDEN + OUT);
  const synapses = SUBNETS * (IN * HIDDEN + 2 * HIDDEN * OUT);
  return {
    name: 'compile-100k-neurons',
    description: `compile(text, { chip, cores: 'auto' }) of ${neurons} LE neurons and ${(synapses / 1e6).toFixed(1)} M synapses (incl. feedback) on a 32-core-per-chip custom chip`,
    kind: 'compile',
    implementation: 'compiler',
    async prepare(ctx): Promise<Runner> {
      const chip = manyCoreChip();
      const text = bigNetworkText();
      let info: Record<string, unknown> = {};
      return {
        unit: 's',
        // Compiling takes seconds: at most 3 runs, 1 when quick.
        maxRuns: ctx.quick ? 1 : 3,
        run: () => {
          const t0 = performance.now();
          const out = compile(text, { chip, cores: 'auto', file: 'bench-100k-neurons.json' });
          const wall_s = (performance.now() - t0) / 1000;
          const placed = out.stages.placed;
          info = {
            neurons,
            synapses,
            cores_used: placed.cores_used,
            system_cores: placed.system_cores,
            chips: Math.ceil(placed.system_cores / chip.cores_per_chip),
            warnings: out.warnings.length,
          };
          return wall_s;
        },
        info: () => info,
      };
    },
  };
}
