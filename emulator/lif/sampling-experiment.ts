/**
 * The neural-sampling experiment of issue 7: a 5-neuron lif network trained by contrastive
 * divergence to sample a Boltzmann distribution drawn from a fixed seed (W symmetric, zero
 * diagonal, W and b entries N(0, 0.5^2)), once with Poisson background and once as an ensemble of
 * networks whose only noise is each other's spikes. Reports DKL(target || sampled) against
 * training time and, after training, from 100 s of biological sampling; writes an SVG plot.
 *
 *   node dist/emulator/lif/sampling-experiment.js [--json] [--seed S] [--iterations N]
 *        [--sample-ms MS] [--eval-ms MS] [--plot FILE.svg] [--only poisson|ensemble]
 *        [--firmware [--wait-steps K] [--weight-step US]] [--networks N]
 *
 * --firmware trains by the plasticity processor (firmware-models/cd.s, emulator/lif/cd-firmware.ts:
 * z sampled every K analog steps, 6-bit synapse codes, bias DAC codes) instead of the host's float64
 * rule; --networks sets the ensemble's size (default 60).
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { boltzmannDistribution, normalise, randomBoltzmann, type Boltzmann } from './boltzmann.js';
import { trainCdFirmware } from './cd-firmware.js';
import {
  ENSEMBLE_BACKGROUND, ENSEMBLE_NETWORKS, measureActivation, meanBackground, POISSON_BACKGROUND, SAMPLING_NEURON,
  sampledKl, SpikingSampler, trainCd, translateBoltzmann, type Activation,
} from './sampling.js';

export interface ExperimentOptions {
  /** Seed of the target distribution. */
  targetSeed: number;
  iterations: number;
  /** Biological ms sampled per CD iteration. */
  sampleMs: number;
  /** Biological ms of the final evaluation. */
  evalMs: number;
  eta: number;
  etaDecay: number;
  /** Train by the plasticity processor's firmware (firmware-models/cd.s, 6-bit synapse codes, bias DAC) instead of the host's float64 rule. */
  firmware?: boolean;
  /** Networks of the ensemble (default ENSEMBLE_NETWORKS). */
  ensembleNetworks?: number;
  /** Firmware: analog steps between two samples of z (default 10). */
  waitSteps?: number;
  /** Firmware: synapse code step, uS (default FIRMWARE_WEIGHT_STEP_US of the mode). */
  weightStep_uS?: number;
}

/**
 * Synapse code steps (uS per code) of firmware training: 6-bit magnitudes reach |W| of about 3.2
 * excitatory and 2.4 inhibitory (Poisson) and 2.3 and 1.6 (ensemble, whose 15 and 22.5 nS noise
 * synapses are exactly 12 and 18 codes); the targets' |W| stay below about 1.5. Twice these steps
 * (|W| up to 6 and 4) cost DKL: 0.011 instead of 0.003 (Poisson, seed 1), 0.038 instead of 0.017
 * (ensemble).
 */
export const FIRMWARE_WEIGHT_STEP_US = { poisson: 0.0005, ensemble: 0.00125 } as const;

export const DEFAULT_EXPERIMENT: ExperimentOptions = { targetSeed: 1, iterations: 100, sampleMs: 10_000, evalMs: 100_000, eta: 1, etaDecay: 30 };

export interface ModeResult {
  mode: 'poisson' | 'ensemble';
  networks: number;
  activation: Activation;
  /** Biological s of training at the end of each iteration, and the DKL of each iteration's samples (mean, min, max over networks). */
  train_s: number[];
  dkl_mean: number[];
  dkl_min: number[];
  dkl_max: number[];
  /** DKL of each network from evalMs of sampling after training. */
  final_dkl: number[];
  final_dkl_mean: number;
  /** The distribution network 0 sampled in the evaluation. */
  sampled: number[];
  wall_s: number;
  /** How it was trained: 'host' (trainCd, float64) or 'firmware' (cd.s on the processor). */
  trainer: 'host' | 'firmware';
  /** Firmware: the processor's work and memory. */
  processor?: { instructions: number; cycles: number; busy_hw_us: number; text_bytes: number; data_bytes: number; memory_bytes: number };
}

/** Trains and evaluates one mode. */
export function runMode(mode: 'poisson' | 'ensemble', target: Boltzmann, o: ExperimentOptions, log: (s: string) => void = () => {}): ModeResult {
  const t0 = performance.now();
  const p = boltzmannDistribution(target);
  const poisson = mode === 'poisson';
  const sampler = new SpikingSampler({
    n: target.n,
    networks: poisson ? 1 : (o.ensembleNetworks ?? ENSEMBLE_NETWORKS),
    background: poisson ? POISSON_BACKGROUND : ENSEMBLE_BACKGROUND,
    seed: 3,
    weightStep_uS: o.firmware ? (o.weightStep_uS ?? FIRMWARE_WEIGHT_STEP_US[mode]) : 0,
  });
  // The activation function is measured where the neurons will sample: on 5 spare networks with
  // the same Poisson background, or on the ensemble itself (its noise is its own activity).
  const probe = poisson ? new SpikingSampler({ n: target.n, networks: 5, background: POISSON_BACKGROUND, seed: 2 }) : sampler;
  const a = measureActivation(probe, -62, -48, 20_000);
  const meanP = a.p_on.reduce((x, y) => x + y, 0) / a.p_on.length;
  const g = meanBackground(sampler.opts, (meanP / (SAMPLING_NEURON.tau_refrac + sampler.opts.dt_ms)) * 1000);
  log(`${mode}: activation u0 ${a.fit.u0_mV.toFixed(2)} mV, alpha ${a.fit.alpha_mV.toFixed(2)} mV`);
  const translate = (bm: Boltzmann) => translateBoltzmann(bm, a.fit, sampler.opts.neuron, g);
  const r: ModeResult = {
    mode, networks: sampler.opts.networks, activation: a.fit, train_s: [], dkl_mean: [], dkl_min: [], dkl_max: [],
    final_dkl: [], final_dkl_mean: 0, sampled: [], wall_s: 0, trainer: o.firmware ? 'firmware' : 'host',
  };
  const onIteration = (it: number, dkl: number[]) => {
    r.train_s.push(((it + 1) * o.sampleMs) / 1000);
    r.dkl_mean.push(dkl.reduce((x, y) => x + y, 0) / dkl.length);
    r.dkl_min.push(Math.min(...dkl));
    r.dkl_max.push(Math.max(...dkl));
    if ((it + 1) % 10 === 0) log(`${mode}: iteration ${it + 1}, DKL mean ${r.dkl_mean[it].toFixed(4)} (max ${r.dkl_max[it].toFixed(4)})`);
  };
  const cd = { iterations: o.iterations, sampleMs: o.sampleMs, eta: o.eta, etaDecay: o.etaDecay, onIteration };
  if (o.firmware) r.processor = trainCdFirmware(sampler, target, a.fit, g, { ...cd, waitSteps: o.waitSteps }).processor;
  else trainCd(sampler, target, translate, cd);
  const counts = sampler.sample(o.evalMs);
  r.final_dkl = counts.map((c) => sampledKl(p, c));
  r.final_dkl_mean = r.final_dkl.reduce((x, y) => x + y, 0) / r.final_dkl.length;
  r.sampled = Array.from(normalise(counts[0]));
  r.wall_s = (performance.now() - t0) / 1000;
  log(`${mode}: after training, DKL from ${o.evalMs / 1000} s: mean ${r.final_dkl_mean.toFixed(4)}, max ${Math.max(...r.final_dkl).toFixed(4)} (${r.wall_s.toFixed(1)} s wall)`);
  return r;
}

/** An SVG with DKL against training time (log scale) and the target and sampled distributions. */
export function plotSvg(target: number[], results: ModeResult[]): string {
  const W = 900, H = 380, pad = 50;
  const colours: Record<string, string> = { poisson: '#1f77b4', ensemble: '#d62728' };
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`];
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  // Left: DKL vs biological training time.
  const lw = 400, lh = H - 2 * pad;
  const tMax = Math.max(...results.map((r) => r.train_s[r.train_s.length - 1] ?? 1));
  const yLo = -3, yHi = 1; // log10 DKL
  const x = (t: number) => pad + (t / tMax) * lw;
  const y = (d: number) => pad + ((yHi - Math.min(yHi, Math.max(yLo, Math.log10(Math.max(d, 1e-9))))) / (yHi - yLo)) * lh;
  out.push(`<rect x="${pad}" y="${pad}" width="${lw}" height="${lh}" fill="none" stroke="#444"/>`);
  for (let e = yLo; e <= yHi; e++) {
    out.push(`<line x1="${pad}" x2="${pad + lw}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ddd"/><text x="${pad - 6}" y="${y(10 ** e) + 4}" text-anchor="end">1e${e}</text>`);
  }
  out.push(`<line x1="${pad}" x2="${pad + lw}" y1="${y(0.05)}" y2="${y(0.05)}" stroke="#888" stroke-dasharray="4 3"/><text x="${pad + lw - 4}" y="${y(0.05) - 4}" text-anchor="end">0.05</text>`);
  for (const r of results) {
    const c = colours[r.mode];
    if (r.networks > 1) {
      const band = r.train_s.map((t, i) => `${x(t)},${y(r.dkl_max[i])}`).concat(r.train_s.map((t, i) => `${x(t)},${y(r.dkl_min[i])}`).reverse());
      out.push(`<polygon points="${band.join(' ')}" fill="${c}" fill-opacity="0.15" stroke="none"/>`);
    }
    out.push(`<polyline points="${r.train_s.map((t, i) => `${x(t)},${y(r.dkl_mean[i])}`).join(' ')}" fill="none" stroke="${c}" stroke-width="1.5"/>`);
  }
  out.push(`<text x="${pad + lw / 2}" y="${H - 12}" text-anchor="middle">training time (biological s)</text>`);
  out.push(`<text x="${pad + lw / 2}" y="${pad - 10}" text-anchor="middle">DKL(target || sampled) per 10 s sampling phase</text>`);
  results.forEach((r, k) => {
    out.push(`<text x="${pad + 8}" y="${pad + 16 + 14 * k}" fill="${colours[r.mode]}">${r.mode}${r.trainer === 'firmware' ? ' (trained by firmware, cd.s)' : ''}${r.networks > 1 ? ` (${r.networks} networks: mean, min-max)` : ''}; final ${r.final_dkl_mean.toFixed(4)}</text>`);
  });
  // Right: target and sampled distributions over the 32 states.
  const rx = pad + lw + 60, rw = W - rx - 20;
  const pMax = Math.max(...target, ...results.flatMap((r) => r.sampled)) * 1.1;
  out.push(`<rect x="${rx}" y="${pad}" width="${rw}" height="${lh}" fill="none" stroke="#444"/>`);
  const bw = rw / target.length;
  const by = (v: number) => pad + lh - (v / pMax) * lh;
  target.forEach((v, s) => out.push(`<rect x="${rx + s * bw + 1}" y="${by(v)}" width="${bw - 2}" height="${pad + lh - by(v)}" fill="#bbb"/>`));
  for (const r of results) {
    const pts = r.sampled.map((v, s) => `${rx + (s + 0.5) * bw},${by(v)}`);
    out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${colours[r.mode]}" stroke-width="1.2"/>`);
    r.sampled.forEach((v, s) => out.push(`<circle cx="${rx + (s + 0.5) * bw}" cy="${by(v)}" r="2.2" fill="${colours[r.mode]}"/>`));
  }
  out.push(`<text x="${rx + rw / 2}" y="${H - 12}" text-anchor="middle">state (z as a 5-bit number), target in grey</text>`);
  out.push(`<text x="${rx + rw / 2}" y="${pad - 10}" text-anchor="middle">p(z) after training (network 0, 100 s)</text>`);
  out.push('</svg>');
  return out.join('\n');
}

function main(argv: string[]): void {
  const json = argv.includes('--json');
  const val = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv[i + 1];
  };
  const num = (name: string, dflt: number) => {
    const v = val(name);
    if (v === undefined) return dflt;
    const x = Number(v);
    if (!(x > 0)) {
      process.stderr.write(`${name} needs a positive number\n`);
      process.exit(2);
    }
    return x;
  };
  const o: ExperimentOptions = {
    ...DEFAULT_EXPERIMENT,
    targetSeed: Math.round(num('--seed', DEFAULT_EXPERIMENT.targetSeed)),
    iterations: Math.round(num('--iterations', DEFAULT_EXPERIMENT.iterations)),
    sampleMs: num('--sample-ms', DEFAULT_EXPERIMENT.sampleMs),
    evalMs: num('--eval-ms', DEFAULT_EXPERIMENT.evalMs),
    firmware: argv.includes('--firmware'),
    ensembleNetworks: val('--networks') === undefined ? undefined : Math.round(num('--networks', ENSEMBLE_NETWORKS)),
    waitSteps: val('--wait-steps') === undefined ? undefined : Math.round(num('--wait-steps', 10)),
    weightStep_uS: val('--weight-step') === undefined ? undefined : num('--weight-step', 0.001),
  };
  const only = val('--only');
  const modes = (only ? [only] : ['poisson', 'ensemble']) as ('poisson' | 'ensemble')[];
  const target = randomBoltzmann(5, o.targetSeed);
  const p = Array.from(boltzmannDistribution(target));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const results = modes.map((m) => runMode(m, target, o, log));
  const plot = val('--plot');
  if (plot) writeFileSync(plot, plotSvg(p, results));
  const summary = {
    target: { seed: o.targetSeed, W: Array.from(target.W), b: Array.from(target.b), p },
    options: o,
    results,
  };
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    for (const r of results) {
      process.stdout.write(
        `${r.mode} (${r.networks} network${r.networks > 1 ? 's' : ''}, trained by ${r.trainer}): DKL(target || sampled) from ${o.evalMs / 1000} s after ${(o.iterations * o.sampleMs) / 1000} s of CD training: ` +
          `mean ${r.final_dkl_mean.toFixed(4)}, max ${Math.max(...r.final_dkl).toFixed(4)}; first phase ${r.dkl_mean[0].toFixed(3)}; ${r.wall_s.toFixed(1)} s wall\n`,
      );
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
