import { describe, expect, it } from 'vitest';
import { ReferenceModel } from '../../emulator/reference.js';
import { goldenModel, loadGolden } from '../helpers/golden.js';

function replay(name: string, learning: boolean, precision: 'f32' | 'f64' = 'f64') {
  const g = loadGolden(name);
  const model = goldenModel(g, learning, precision);
  const ref = new ReferenceModel(model);
  const steps = Math.round(g.t_pres / g.dt);
  const last = model.populations.length - 1;
  let worst = 0;
  let step = 0;
  const traceAt = new Map(g.trace.map((t) => [t.step, t]));
  for (const s of g.samples) {
    ref.set(0, s.x);
    ref.set(last, s.y);
    for (let k = 0; k < steps; k++) {
      ref.step(learning);
      step++;
      const t = traceAt.get(step);
      if (!t) continue;
      for (let l = 1; l <= last; l++) {
        for (const [key, arr] of [['u', ref.s.u], ['r', ref.s.r], ['e', ref.s.e]] as const) {
          const want = t[key][l - 1];
          want.forEach((v, i) => {
            worst = Math.max(worst, Math.abs(arr[l][i] - v));
          });
        }
      }
    }
  }
  return { g, ref, worst, model };
}

describe('TypeScript reference against the golden LE trajectories', () => {
  it('matches le-small-no-learning.json (nudging, no plasticity) to float64 rounding', () => {
    const { worst } = replay('le-small-no-learning.json', false);
    expect(worst).toBeLessThan(1e-12);
  });

  it('stays within 1e-6 of the golden when the initial values are rounded to float32 (chip storage)', () => {
    expect(replay('le-small-no-learning.json', false, 'f32').worst).toBeLessThan(1e-6);
    expect(replay('le-small.json', true, 'f32').worst).toBeLessThan(1e-6);
  });

  it('matches le-small.json (learning on, input x^t in the first layer\'s update) and its final weights', () => {
    const { g, ref, worst, model } = replay('le-small.json', true);
    expect(worst).toBeLessThan(1e-12);
    g.final!.W.forEach((w, l) => {
      const post = g.sizes[l + 1];
      const pre = g.sizes[l];
      w.forEach((row, i) => row.forEach((v, k) => expect(Math.abs(ref.W[l][k * post + i] - v)).toBeLessThan(1e-12)));
      g.final!.b[l].forEach((v, i) => expect(Math.abs(ref.b[l + 1][i] - v)).toBeLessThan(1e-12));
    });
    expect(model.projections.length).toBe(3);
  });
});
