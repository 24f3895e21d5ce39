/**
 * The LE headline: a deep chain of prospective neurons answers a step of its input at once,
 * while plain leaky integrators lag by about tau_m per layer (Haider et al. 2021).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import { ReferenceModel } from '../../emulator/reference.js';
import { equilibrium, makeChain, stepError } from '../helpers/chain.js';

const TAU = 20;
const DT = 0.01;

/** Error of every layer 0.1 tau after an input step, after settling on the old input for 20 tau. */
export function stepResponse(model: 'le' | 'li'): number[] {
  const chain = makeChain(model);
  const rng = new Rng(5, 'step-inputs');
  const x0 = Array.from({ length: 20 }, () => rng.uniform() * 2 - 1);
  const x1 = Array.from({ length: 20 }, () => rng.uniform() * 2 - 1);
  const before = equilibrium(chain, x0);
  const after = equilibrium(chain, x1);
  const ref = new ReferenceModel(chain.model);
  ref.set(0, x0);
  for (let k = 0; k < Math.round((20 * TAU) / DT); k++) ref.step(false);
  ref.set(0, x1);
  for (let k = 0; k < Math.round((0.1 * TAU) / DT); k++) ref.step(false);
  return after.map((target, l) => stepError(ref.s.r[l + 1], target, before[l]));
}

describe('LE headline: a 10-layer chain answers at once', () => {
  it('le neurons are within 2 % of the new equilibrium 0.1 tau after the step at every depth; li neurons are > 30 % off at depth 10', () => {
    const le = stepResponse('le');
    const li = stepResponse('li');
    for (let d = 0; d < 10; d++) expect(le[d], `le depth ${d + 1}`).toBeLessThan(0.02);
    expect(li[9]).toBeGreaterThan(0.3);
    // the lag of leaky integrators grows with depth
    expect(li[9]).toBeGreaterThan(li[0]);
  });
});
