import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import { loadChip } from '../../chip/presets.js';
import { lower } from '../../compiler/lower.js';
import { validateNetworkObject } from '../../compiler/validate.js';
import { desc, le } from './helpers.js';

/** in(4) → h1(3) → h2(5) → out(2), plus a skip projection in → out. */
function net(learning?: Record<string, unknown>) {
  return validateNetworkObject(
    desc(
      { in: { size: 4 }, h1: { size: 3, neuron: le() }, h2: { size: 5, neuron: le() }, out: { size: 2, role: 'output', neuron: le() } },
      [
        { from: 'in', to: 'h1' },
        { from: 'h1', to: 'h2' },
        { from: 'h2', to: 'out' },
        { from: 'in', to: 'out' },
      ],
      learning ? { learning } : {},
    ),
  );
}

describe('lower', () => {
  it('one circuit per non-input population; inputs take none', () => {
    const l = lower(net(), loadChip('ideal'));
    expect(l.circuits).toEqual([
      { population: 'h1', neurons: 3, model: 'le' },
      { population: 'h2', neurons: 5, model: 'le' },
      { population: 'out', neurons: 2, model: 'le' },
    ]);
  });

  it('a forward matrix per projection, [post][pre]; transpose feedback for projections from non-inputs only, without weights', () => {
    const n = net({ rule: 'le', feedback: 'transpose' });
    const l = lower(n, loadChip('ideal'));
    const fwd = l.matrices.filter((m) => m.kind === 'forward');
    const fb = l.matrices.filter((m) => m.kind === 'feedback');
    expect(fwd.map((m) => [m.id, m.projection, m.source, m.target, m.signals, m.neurons])).toEqual([
      [0, 0, 'in', 'h1', 4, 3],
      [1, 1, 'h1', 'h2', 3, 5],
      [2, 2, 'h2', 'out', 5, 2],
      [3, 3, 'in', 'out', 4, 2],
    ]);
    expect(fwd[1].weights).toBe(n.projections[1].weights);
    // Rows carry the post population's errors; columns are the pre neurons.
    expect(fb.map((m) => [m.id, m.projection, m.source, m.target, m.signals, m.neurons, m.weights])).toEqual([
      [4, 1, 'h2', 'h1', 5, 3, undefined],
      [5, 2, 'out', 'h2', 2, 5, undefined],
    ]);
  });

  it('random feedback draws B ~ N(0, 0.05²) from Rng(feedback_seed, "feedback:from>to"), [pre][post]', () => {
    const n = net({ rule: 'le', feedback: 'random', feedback_seed: 77 });
    const l = lower(n, loadChip('ideal'));
    const b = l.matrices.find((m) => m.kind === 'feedback' && m.projection === 1)!;
    const r = new Rng(77, 'feedback:h1>h2');
    expect(Array.from(b.weights!)).toEqual(Array.from({ length: 15 }, () => 0.05 * r.normal()));
    const again = lower(net({ rule: 'le', feedback: 'random', feedback_seed: 77 }), loadChip('ideal'));
    expect(Array.from(again.matrices[4].weights!)).toEqual(Array.from(l.matrices[4].weights!));
    const other = lower(net({ rule: 'le', feedback: 'random', feedback_seed: 78 }), loadChip('ideal'));
    expect(Array.from(other.matrices[4].weights!)).not.toEqual(Array.from(l.matrices[4].weights!));
  });

  it('random feedback statistics: sd 0.05 over a large matrix', () => {
    const n = validateNetworkObject(
      desc({ in: { size: 2 }, h: { size: 300, neuron: le() }, out: { size: 200, role: 'output', neuron: le() } }, [
        { from: 'in', to: 'h' },
        { from: 'h', to: 'out' },
      ], { learning: { rule: 'le', feedback: 'random' } }),
    );
    const b = lower(n, loadChip('ideal')).matrices.find((m) => m.kind === 'feedback')!.weights!;
    expect(b.length).toBe(60_000);
    const m = b.reduce((s, x) => s + x, 0) / b.length;
    const sd = Math.sqrt(b.reduce((s, x) => s + (x - m) ** 2, 0) / b.length);
    expect(Math.abs(m)).toBeLessThan(4 * (0.05 / Math.sqrt(b.length)));
    expect(sd).toBeCloseTo(0.05, 3);
  });

  it('no learning, no feedback matrices', () => {
    const l = lower(net({ rule: 'none' }), loadChip('ideal'));
    expect(l.matrices.map((m) => m.kind)).toEqual(['forward', 'forward', 'forward', 'forward']);
  });

  it('lif populations lower as lif circuits', () => {
    const n = validateNetworkObject(
      desc({ in: { size: 2 }, s: { size: 3, role: 'output', neuron: { model: 'lif' } } }, [{ from: 'in', to: 's' }], { learning: { rule: 'none' } }),
    );
    expect(lower(n, loadChip('bss2')).circuits).toEqual([{ population: 's', neurons: 3, model: 'lif' }]);
  });
});
