/**
 * The `--check` exchange with the native baseline: a layered network and its input schedule in
 * le_step.c's text format, the trajectory it writes back, and the same network as an
 * EmulatorModel so emulator/reference.ts can step it for comparison.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmulatorModel } from '../emulator/model.js';
import { buildNative, isSkipped, runNativeBinary, type NativeBuild, type Skipped } from './native.js';

/** Activations the baseline implements. */
export type NativeActivation = 'linear' | 'tanh' | 'hardsigmoid';

/** A layered network (population 0 the input, the last the output) and what to feed it. */
export interface CheckNetwork {
  sizes: number[];
  /** Per non-input layer: activation, time constants (ms), learning-rate factor. */
  activations: NativeActivation[];
  tau_m_ms: number[];
  tau_r_ms: number[];
  eta_scale: number[];
  dt_ms: number;
  beta: number;
  eta: number;
  /** Per weight layer l (into population l+1): [pre][post] row-major, as emulator/model.ts. */
  weights: Float32Array[];
  biases: Float32Array[];
  learn: boolean;
  nudge: boolean;
  steps_per_sample: number;
  samples: { x: ArrayLike<number>; y: ArrayLike<number> }[];
}

/** What le_step wrote: u, r, e of populations 1..L after every step, final weights and biases. */
export interface NativeTrajectory {
  steps: { u: Float64Array[]; r: Float64Array[]; e: Float64Array[] }[];
  W: Float64Array[];
  b: Float64Array[];
}

// A float32 value printed as its shortest double form reads back as the same float32.
const num = (v: number) => String(Math.fround(v));

/** The network in le_step.c's `lestep-check-1` text format. */
export function formatCheckFile(net: CheckNetwork): string {
  const L = net.sizes.length - 1;
  const lines: string[] = ['lestep-check-1', String(L), net.sizes.join(' '), [net.dt_ms, net.beta, net.eta].map(num).join(' ')];
  for (let l = 0; l < L; l++)
    lines.push(`${net.activations[l]} ${num(net.tau_m_ms[l])} ${num(net.tau_r_ms[l])} ${num(net.eta_scale[l])}`);
  for (const w of net.weights) lines.push(Array.from(w, num).join(' '));
  for (const b of net.biases) lines.push(Array.from(b, num).join(' '));
  lines.push(`${net.learn ? 1 : 0} ${net.nudge ? 1 : 0}`);
  lines.push(`${net.samples.length} ${net.steps_per_sample}`);
  for (const s of net.samples) lines.push(Array.from(s.x, num).join(' ') + '\n' + Array.from(s.y, num).join(' '));
  return lines.join('\n') + '\n';
}

/** Parses le_step's trajectory text (see check() in le_step.c). */
export function parseTrajectory(text: string, L: number): NativeTrajectory {
  const out: NativeTrajectory = { steps: [], W: [], b: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const parts = line.split(' ');
    const tag = parts[0];
    if (tag === 'step') {
      out.steps.push({ u: new Array(L), r: new Array(L), e: new Array(L) });
      continue;
    }
    const l = Number(parts[1]) - 1;
    const values = Float64Array.from(parts.slice(2), Number);
    const cur = out.steps[out.steps.length - 1];
    if (tag === 'u' || tag === 'r' || tag === 'e') cur[tag][l] = values;
    else if (tag === 'W') out.W[l] = values;
    else if (tag === 'b') out.b[l] = values;
    else throw new Error(`unexpected trajectory line tag '${tag}'`);
  }
  return out;
}

/** Builds the baseline, feeds it the network with --check and parses the trajectory. */
export function runNativeCheck(net: CheckNetwork, build?: NativeBuild, threads = 1): NativeTrajectory | Skipped {
  const b = build ?? buildNative();
  if (isSkipped(b)) return b;
  const dir = mkdtempSync(join(tmpdir(), 'lechip-check-'));
  try {
    const input = join(dir, 'net.txt');
    const output = join(dir, 'trajectory.txt');
    writeFileSync(input, formatCheckFile(net));
    runNativeBinary(b, ['--check', input, '--out', output, '--threads', String(threads)], 60_000);
    return parseTrajectory(readFileSync(output, 'utf8'), net.sizes.length - 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same network as an EmulatorModel (gain 1, offset 0, no noise, transpose feedback). */
export function checkNetworkModel(net: CheckNetwork): EmulatorModel {
  const n = net.sizes.length;
  const populations = net.sizes.map((size, i) => {
    const fill = (v: number) => new Float32Array(size).fill(v);
    return {
      name: i === 0 ? 'in' : i === n - 1 ? 'out' : `h${i}`,
      index: i,
      size,
      role: (i === 0 ? 'input' : i === n - 1 ? 'output' : 'hidden') as 'input' | 'hidden' | 'output',
      model: (i === 0 ? 'input' : 'le') as 'input' | 'le',
      activation: i === 0 ? ('linear' as const) : net.activations[i - 1],
      tau_m_ms: fill(i === 0 ? 0 : net.tau_m_ms[i - 1]),
      tau_r_ms: fill(i === 0 ? 0 : net.tau_r_ms[i - 1]),
      gain: fill(1),
      offset: fill(0),
      bias: i === 0 ? new Float32Array(size) : Float32Array.from(net.biases[i - 1]),
    };
  });
  const projections = net.weights.map((w, l) => ({
    index: l,
    pre: l,
    post: l + 1,
    weights: Float32Array.from(w),
    plastic: net.learn,
    eta_scale: net.eta_scale[l],
    feedback: (l === 0 ? 'none' : 'transpose') as 'none' | 'transpose',
  }));
  return {
    populations,
    projections,
    beta: net.beta,
    eta: net.eta,
    dt_ms: net.dt_ms,
    speedup: 1,
    noise: { membrane: 0, rate: 0 },
    seed: 1,
    learningRule: 'le',
  };
}
