/**
 * The LE headline: a deep chain of prospective neurons answers a step of its input at once,
 * while plain leaky integrators lag by about tau_m per layer (Haider et al. 2021). Run through the
 * whole tool: description -> compile (ideal) -> image -> emulated chip; the equilibrium is
 * computed independently in float64 from the same weights.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeImage } from '../../chip/image.js';
import { loadChip } from '../../chip/presets.js';
import { Rng } from '../../common/random.js';
import { compile } from '../../compiler/compile.js';
import { createEmulatedChip } from '../../emulator/emulated-chip.js';
import { ensureKernels } from '../kernels/kernels-build.js';
import { equilibrium, makeChain, stepError } from '../helpers/chain.js';

const TAU = 20;
const DEPTH = 10;
const WIDTH = 20;

function chainDescription(model: 'le' | 'li') {
  const chain = makeChain(model, DEPTH, WIDTH);
  const populations: Record<string, unknown> = { in: { size: WIDTH, role: 'input' } };
  for (let l = 1; l <= DEPTH; l++) {
    populations[`l${l}`] = {
      size: WIDTH,
      role: l === DEPTH ? 'output' : 'hidden',
      neuron: { model, tau_m: TAU, activation: 'tanh' },
      bias: chain.b[l - 1],
    };
  }
  const projections = chain.W.map((w, l) => ({ from: l === 0 ? 'in' : `l${l}`, to: `l${l + 1}`, weights: w, plastic: false }));
  return { chain, text: JSON.stringify({ format: 'lechip/network@1', name: `chain-${model}`, populations, projections, learning: { rule: 'none' } }) };
}

/** Fraction of the input step not yet made by each layer, 0.1 tau after the step (after 20 tau on the old input). */
export async function stepResponse(model: 'le' | 'li'): Promise<number[]> {
  const { chain, text } = chainDescription(model);
  const { image } = compile(text, { chip: loadChip('ideal'), cores: 'auto', seed: 1 });
  const chip = await createEmulatedChip();
  await chip.load(encodeImage(image));
  await chip.configure({ chipSeed: 0, seed: 1 });
  const rng = new Rng(5, 'step-inputs');
  const x0 = Array.from({ length: WIDTH }, () => rng.uniform() * 2 - 1);
  const x1 = Array.from({ length: WIDTH }, () => rng.uniform() * 2 - 1);
  const tStep = 20 * TAU;
  await chip.writeInputs({ in: [{ t: 0, value: x0 }, { t: tStep, value: x1 }] });
  const layers = Array.from({ length: DEPTH }, (_, l) => `l${l + 1}`);
  const rec = await chip.run({ durationMs: tStep + 0.1 * TAU, record: layers, sampleEveryMs: 0.1 * TAU });
  await chip.close();
  const before = equilibrium(chain, x0);
  const after = equilibrium(chain, x1);
  const last = rec.t_bio_ms.length - 1;
  expect(rec.t_bio_ms[last]).toBeCloseTo(tStep + 0.1 * TAU, 6);
  return layers.map((name, l) => stepError(rec.record[name].r[last], after[l], before[l]));
}

describe('LE headline: a 10-layer chain answers at once', () => {
  beforeAll(() => ensureKernels());

  it('le neurons are within 2 % of the new equilibrium 0.1 tau after the step at every depth; li neurons are > 30 % off at depth 10', async () => {
    const le = await stepResponse('le');
    const li = await stepResponse('li');
    for (let d = 0; d < DEPTH; d++) expect(le[d], `le depth ${d + 1}`).toBeLessThan(0.02);
    expect(li[DEPTH - 1]).toBeGreaterThan(0.3);
    // a single leaky layer has made 1 - exp(-0.1) of the step (analytic, within the tanh's curvature)
    expect(li[0]).toBeGreaterThan(0.8);
    expect(li[0]).toBeLessThan(0.95);
  });
});
