/**
 * The WASM engine against the plain TypeScript reference on the ideal chip: identical spike
 * trains (every neuron and source spike, same grid time) and membranes within 1e-4 mV over one
 * biological second, for networks driven by spike-time lists and by Poisson sources, with
 * recurrent excitation and inhibition over several delays, with and without membrane noise.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadChip } from '../../chip/presets.js';
import { Rng } from '../../common/random.js';
import { compile } from '../../compiler/compile.js';
import { buildLifModel, type LifNetworkSpec } from '../../emulator/lif/build.js';
import { LifEngine } from '../../emulator/lif/engine.js';
import { realiseLifModel } from '../../emulator/lif/realise.js';
import { LifReference } from '../../emulator/lif/reference.js';
import type { LifModel } from '../../emulator/lif/model.js';
import type { LifSimulator } from '../../emulator/lif/record.js';

/** 30 neurons, 40 Poisson sources, 3 spike-time sources; recurrent E and I with delays of 1-4 steps. */
function network(options: { noise?: number; seed?: number } = {}): LifNetworkSpec {
  const rng = new Rng(options.seed ?? 5, 'test:lif-exactness');
  const n = 30;
  const nP = 40;
  const wIn = Array.from({ length: n * nP }, () => (rng.uniform() < 0.75 ? 0.006 : -0.02) * rng.uniform());
  const wRec = (scale: number) => Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 0 : scale * (rng.uniform() - 0.35)));
  const times = [
    [1, 5, 5.04, 5.04, 250.3, 999.9],
    [0, 3.3, 3.35, 3.45, 500],
    Array.from({ length: 40 }, (_, k) => 20 + k * 24.7),
  ];
  return {
    dt_ms: 0.1,
    seed: 3,
    noise_mV_per_sqrt_ms: options.noise ?? 0,
    populations: [
      { kind: 'source', name: 'bg', size: nP, poisson: { rate_hz: Array.from({ length: nP }, (_, k) => 10 + 2 * k), seed: 11 } },
      { kind: 'source', name: 'cue', size: 3, spike_times: times },
      {
        kind: 'lif',
        name: 'net',
        size: n,
        params: {
          tau_refrac: Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : 2 + (i % 3))),
          i_offset: Array.from({ length: n }, (_, i) => 0.05 * (i % 4)),
          tau_syn_I: 10,
          v_reset: -68,
        },
      },
    ],
    projections: [
      { from: 'bg', to: 'net', weights_uS: wIn },
      { from: 'cue', to: 'net', weights_uS: Array.from({ length: n * 3 }, (_, k) => (k % 3 === 2 ? -0.01 : 0.03)) },
      { from: 'net', to: 'net', weights_uS: wRec(0.004), delay_steps: 1 },
      { from: 'net', to: 'net', weights_uS: wRec(0.003), delay_steps: 4 },
    ],
  };
}

/** Runs both for `ms` (membranes compared every ms) and returns their spikes. */
function compare(make: () => LifModel, ms: number) {
  const sims: LifSimulator[] = [new LifReference(make(), { recordSources: true }), new LifEngine(make(), { recordSources: true })];
  const m = sims[0].model;
  const perMs = Math.round(1 / m.dt_ms);
  let maxDv = 0;
  for (let t = 0; t < ms; t++) {
    for (const s of sims) s.run(perMs);
    const [a, b] = sims.map((s) => s.membranes());
    for (let i = 0; i < a.length; i++) maxDv = Math.max(maxDv, Math.abs(a[i] - b[i]));
  }
  const [ea, eb] = sims.map((s) => s.takeSpikes());
  const [ga, gb] = sims.map((s) => s.conductances());
  return { m, ea, eb, maxDv, ga, gb };
}

describe('lif engine against the reference (ideal chip)', () => {
  it('spike-time and Poisson inputs, recurrent E/I with delays: identical spikes over 1 s, membranes within 1e-4 mV', () => {
    const { m, ea, eb, maxDv, ga, gb } = compare(() => buildLifModel(network()), 1000);
    const neuronSpikes = Array.from(ea.signal).filter((s) => s >= m.sources.length).length;
    // The network is active enough for the comparison to mean something.
    expect(neuronSpikes).toBeGreaterThan(300);
    expect(ea.signal.length - neuronSpikes).toBeGreaterThan(500);
    expect(Array.from(eb.time_index)).toEqual(Array.from(ea.time_index));
    expect(Array.from(eb.signal)).toEqual(Array.from(ea.signal));
    expect(maxDv).toBeLessThanOrEqual(1e-4);
    expect(Array.from(gb.gE)).toEqual(Array.from(ga.gE));
    expect(Array.from(gb.gI)).toEqual(Array.from(ga.gI));
  });

  it('with membrane noise: identical spikes and membranes over 1 s', () => {
    const { m, ea, eb, maxDv } = compare(() => buildLifModel(network({ noise: 0.5, seed: 9 })), 1000);
    expect(Array.from(ea.signal).filter((s) => s >= m.sources.length).length).toBeGreaterThan(300);
    expect(Array.from(eb.time_index)).toEqual(Array.from(ea.time_index));
    expect(Array.from(eb.signal)).toEqual(Array.from(ea.signal));
    expect(maxDv).toBeLessThanOrEqual(1e-4);
  });

  it('the example examples/lif-small.json compiled for bss2 (mismatch, 6-bit weights, noise): identical over 1 s', () => {
    const text = readFileSync(new URL('../../examples/lif-small.json', import.meta.url), 'utf8');
    const { image } = compile(text, { chip: loadChip('bss2') });
    const { m, ea, eb, maxDv } = compare(() => realiseLifModel(image, { chipSeed: 4, seed: 2 }), 1000);
    expect(m.noise_mV_per_sqrt_ms).toBeGreaterThan(0);
    expect(Array.from(ea.signal).filter((s) => s >= m.sources.length).length).toBeGreaterThan(100);
    expect(Array.from(eb.signal)).toEqual(Array.from(ea.signal));
    expect(Array.from(eb.time_index)).toEqual(Array.from(ea.time_index));
    expect(maxDv).toBeLessThanOrEqual(1e-4);
  });

  it('reset replays the same run; weights and parameters written between runs take effect identically', () => {
    const sims: LifSimulator[] = [new LifReference(buildLifModel(network())), new LifEngine(buildLifModel(network()))];
    const first = sims.map((s) => (s.run(2000), s.takeSpikes()));
    for (const s of sims) s.reset();
    const again = sims.map((s) => (s.run(2000), s.takeSpikes()));
    expect(Array.from(again[1].signal)).toEqual(Array.from(first[1].signal));
    expect(Array.from(again[0].time_index)).toEqual(Array.from(first[0].time_index));
    for (const s of sims) {
      const w = Float32Array.from(s.model.rows.weights, (x) => 0.7 * x);
      s.writeRowWeights(w);
      s.writeParameters({ v_rest_mV: new Float64Array(s.model.neurons).fill(-60) });
      s.run(3000);
    }
    const [a, b] = sims.map((s) => s.takeSpikes());
    expect(a.signal.length).toBeGreaterThan(50);
    expect(Array.from(b.signal)).toEqual(Array.from(a.signal));
    expect(Array.from(b.time_index)).toEqual(Array.from(a.time_index));
  });
});
