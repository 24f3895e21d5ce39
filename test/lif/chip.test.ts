/**
 * The Chip interface on lif images: loading through the router, running and recording spikes and
 * ADC-read membranes in both time units, weights read and written (quantised, either sign),
 * biases as leak potentials, and the calls that make no sense for spiking networks.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeImage } from '../../chip/image.js';
import { loadChip } from '../../chip/presets.js';
import { UserError } from '../../common/diagnostics.js';
import { compile } from '../../compiler/compile.js';
import { createEmulatedChip } from '../../emulator/emulated-chip.js';
import { LifChip, withLifRouting, type LifPopulationRecordingOut } from '../../emulator/lif/chip.js';
import { LifEngine } from '../../emulator/lif/engine.js';
import { realiseLifModel } from '../../emulator/lif/realise.js';
import { recordRun } from '../../emulator/lif/record.js';

const example = readFileSync(new URL('../../examples/lif-small.json', import.meta.url), 'utf8');
const imageFor = (chip: string) => compile(example, { chip: loadChip(chip) }).image;

describe('LifChip', () => {
  it('runs a lif image through the router as the engine does, recording spikes and membranes (ms and us)', async () => {
    const image = imageFor('bss2');
    const chip = withLifRouting(await createEmulatedChip());
    const manifest = await chip.load(encodeImage(image));
    expect(manifest.network.name).toBe('lif-small');
    await chip.configure({ chipSeed: 4, seed: 2 });
    await chip.writeInputs({});
    const rec = await chip.run({ durationMs: 200, record: ['exc', 'cue'], sampleEveryMs: 1 });
    const exc = rec.record.exc as LifPopulationRecordingOut;
    // The same image and instance on the bare engine.
    const direct = recordRun(new LifEngine(realiseLifModel(image, { chipSeed: 4, seed: 2 }), { recordSources: true }), 200, { membranes: ['exc'], sampleEveryMs: 1 });
    expect(exc.spikes).toEqual(direct.record.exc.spikes);
    expect(exc.v).toEqual(direct.record.exc.v);
    expect(exc.spikes.flat().length).toBeGreaterThan(10);
    expect((rec.record.cue as LifPopulationRecordingOut).spikes).toEqual([[10, 50, 50.5], [120]]);
    expect(rec.t_bio_ms.length).toBe(200);
    expect(rec.t_hw_us[199]).toBeCloseTo(200, 9); // 200 ms at speedup 10^3
    expect(chip.time().t_bio_ms).toBeCloseTo(200, 9);
    await chip.close();
  });

  it('writes weights quantised to the 6-bit codes, of either sign; zero weights silence a projection', async () => {
    const chip = new LifChip();
    const image = imageFor('bss2');
    await chip.load(encodeImage(image));
    await chip.configure({ chipSeed: 1, mismatchScale: 0 });
    const w0 = await chip.readWeights(1);
    // cue -> exc: 0.05 uS on the diagonal blocks, stored exactly (the block's largest weight).
    expect(w0[0]).toBeCloseTo(0.05, 6);
    const flipped = Array.from(w0, (w) => -w);
    await chip.writeWeights(1, flipped);
    expect(Array.from(await chip.readWeights(1))).toEqual(Array.from(w0, (w) => -w));
    const odd = Array.from(w0, (w, k) => (k % 2 ? 0.0123 : w));
    await chip.writeWeights(1, odd);
    const back = await chip.readWeights(1);
    const scale = image.manifest.blocks.find((b) => b.projection === 1)!.scale;
    for (const x of back) expect(Math.abs(x / scale - Math.round(x / scale))).toBeLessThan(1e-6);
    // Silence every input: only i_offset (V_inf = v_rest + bias + 10 mV) drives the neurons; only
    // neuron 7 (bias 3.5 mV: V_inf = -51.5 mV) is above the -52 mV threshold.
    for (const j of [0, 1, 2]) await chip.writeWeights(j, new Float64Array(image.manifest.projections[j].pre_size * image.manifest.projections[j].post_size));
    await chip.reset();
    const rec = await chip.run({ durationMs: 300, record: ['exc'] });
    const spikes = (rec.record.exc as LifPopulationRecordingOut).spikes;
    expect(spikes.slice(0, 6).flat().length).toBe(0);
    expect(spikes[7].length).toBeGreaterThan(3);
  });

  it('bias (mV on v_rest) and tau_m are parameters; rate-only calls are user errors', async () => {
    const chip = new LifChip();
    await chip.load(encodeImage(imageFor('ideal')));
    await chip.configure({});
    const p = await chip.readParameters('exc');
    expect(Array.from(p.bias)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]);
    expect(p.tau_m_us[0]).toBeCloseTo(2, 9); // 20 ms at 10^4
    const quiet = new Float32Array(8).fill(-30);
    await chip.writeParameters('exc', { bias: quiet });
    expect(Array.from((await chip.readParameters('exc')).bias)).toEqual(Array.from(quiet));
    await expect(chip.writeParameters('exc', { gain: new Float32Array(8) })).rejects.toThrow(UserError);
    await expect(chip.present({} as never)).rejects.toThrow(/spiking network runs with `run`/);
    await expect(chip.writeInputs({ noise: [{ t: 0, value: [1] }] })).rejects.toThrow(/sources in its description/);
    await expect(chip.readParameters('noise')).rejects.toThrow(/input \(spike source\)/);
  });
});
