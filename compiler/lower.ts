/**
 * Pass 2, lower: Network → Lowered. Decides what the chip must hold: one rate neuron circuit per
 * neuron of every non-input population (inputs drive rows and take no columns), one forward
 * synapse matrix per projection and, when the LE rule learns, one feedback matrix per projection
 * whose pre population has neurons to receive errors.
 */
import { Rng } from '../common/random.js';
import type { ChipSpecT } from '../chip/spec.js';
import type { Lowered, Network, SynapseMatrix } from './ir.js';

/** Standard deviation of random feedback weights, B ~ N(0, 0.05²) (RESEARCH.md §1, feedback alignment). */
export const RANDOM_FEEDBACK_SIGMA = 0.05;

/** Lowers a validated network onto the resources of a chip. */
export function lower(net: Network, chip: ChipSpecT): Lowered {
  const byName = new Map(net.populations.map((p) => [p.name, p]));
  const circuits = net.populations
    .filter((p) => p.role !== 'input')
    .map((p) => ({ population: p.name, neurons: p.size, model: p.model }));

  const matrices: SynapseMatrix[] = [];
  // Forward W: rows carry the pre population's rates, columns are the post neurons; [post][pre].
  for (const q of net.projections) {
    matrices.push({
      id: matrices.length,
      projection: q.index,
      kind: 'forward',
      source: q.from,
      target: q.to,
      signals: q.pre_size,
      neurons: q.post_size,
      weights: q.weights,
    });
  }
  if (net.learning.rule === 'le') {
    // Feedback B: rows carry the post population's errors, columns are the pre neurons; [pre][post].
    // An input population has no neurons to take an error, so its projections get none.
    for (const q of net.projections) {
      if (byName.get(q.from)!.role === 'input') continue;
      const m: SynapseMatrix = {
        id: matrices.length,
        projection: q.index,
        kind: 'feedback',
        source: q.to,
        target: q.from,
        signals: q.post_size,
        neurons: q.pre_size,
      };
      if (net.learning.feedback === 'random') {
        const rng = new Rng(net.learning.feedback_seed, `feedback:${q.from}>${q.to}`);
        const b = new Float64Array(q.pre_size * q.post_size);
        for (let i = 0; i < b.length; i++) b[i] = RANDOM_FEEDBACK_SIGMA * rng.normal();
        m.weights = b;
      }
      // 'transpose': no weights of its own. The block still takes synapse-array space (placement
      // allocates it like any other), but the emulator keeps it identical to W^T at every step,
      // i.e. it is emulated as storage shared with the forward matrix.
      matrices.push(m);
    }
  }
  return { network: net, chip, circuits, matrices };
}
