/**
 * The exact-backprop reference of an LE network (issue 3 part 5), the accuracy benchmark of
 * on-chip learning: the same architecture, the same initial weights and biases (the compiled
 * image's, nominal: codes × block scale, no instance mismatch), the same per-layer rates and the
 * same sample order, trained by batch-1 SGD on the instantaneous (equilibrium) network.
 *
 * Equilibrium: for every neuron population in topological order, u = b + Σ_j W_j s_j and
 * r = phi(u), r' = phi'(u) (LE's fixed point without nudging: with tau_r = tau_m the prospective
 * output is phi of the basal input). Loss per sample: (beta / 2) ‖y − r_out‖², whose gradient with
 * respect to u_out is −beta r'_out (y − r_out), the output error LE nudges with; errors flow back
 * exactly, δ_pre = r'_pre ⊙ Σ_j W_j^T δ_post (W^T whatever the network's feedback). Update per
 * sample: W_j += eta · eta_scale_j · T_pres · δ_post s_pre^T and b += eta · eta_scale · T_pres · δ
 * (the bias with its population's first plastic incoming projection, as the chip), so that both
 * see the learning budget of continuous plasticity eta · e · r^T integrated over one T_pres.
 * Float64 throughout.
 */
import type { ChipImage } from '../chip/image-model.js';
import { UserError } from '../common/diagnostics.js';
import { realiseModel } from './instance.js';
import { activate } from './reference.js';

/** Where samples come from: inputs of the (single) input population, targets of the (single) output population. */
export interface SampleSource {
  count: number;
  input(i: number, dst: Float64Array): void;
  target(i: number, dst: Float64Array): void;
  /** Class of sample i, or null without labels. */
  label(i: number): number | null;
}

/** Test accuracy (null without labels) and mean squared error per output neuron. */
export interface ReferenceTest {
  accuracy: number | null;
  loss: number;
}

interface Layer {
  pop: number;
  size: number;
  activation: string;
  u: Float64Array;
  r: Float64Array;
  rp: Float64Array;
  delta: Float64Array;
  bias: Float64Array;
  biasRate: number;
}

interface Proj {
  pre: number;
  post: number;
  nPre: number;
  nPost: number;
  /** [post][pre]. */
  W: Float64Array;
  rate: number;
}

/** An LE network trained by exact backprop on its equilibrium. */
export class BackpropReference {
  private readonly layers = new Map<number, Layer>();
  private readonly order: number[];
  private readonly projs: Proj[];
  private readonly input: number;
  private readonly output: number;
  private readonly beta: number;
  readonly inputSize: number;
  readonly outputSize: number;
  private readonly x: Float64Array;
  private readonly y: Float64Array;

  constructor(image: ChipImage, tPresMs: number) {
    const model = realiseModel(image, { mismatchScale: 0 });
    const pops = model.populations;
    const inputs = pops.filter((p) => p.model === 'input');
    const outputs = pops.filter((p) => p.role === 'output' && p.model !== 'input');
    if (inputs.length !== 1 || outputs.length !== 1) {
      throw new UserError({ message: `the backprop reference needs one input and one output population (the network has ${inputs.length} and ${outputs.length})` });
    }
    this.input = inputs[0].index;
    this.output = outputs[0].index;
    this.inputSize = inputs[0].size;
    this.outputSize = outputs[0].size;
    this.x = new Float64Array(this.inputSize);
    this.y = new Float64Array(this.outputSize);
    this.beta = model.beta;
    const eta = model.learningRule === 'le' ? model.eta : 0;
    this.projs = model.projections.map((j) => {
      const nPre = pops[j.pre].size, nPost = pops[j.post].size;
      const W = new Float64Array(nPre * nPost);
      // The model holds [pre][post]; the reference computes with [post][pre].
      for (let k = 0; k < nPre; k++) for (let i = 0; i < nPost; i++) W[i * nPre + k] = j.weights[k * nPost + i];
      return { pre: j.pre, post: j.post, nPre, nPost, W, rate: j.plastic ? eta * j.eta_scale * tPresMs : 0 };
    });
    for (const p of pops) {
      if (p.model === 'input') continue;
      const first = model.projections.find((j) => j.post === p.index && j.plastic);
      this.layers.set(p.index, {
        pop: p.index, size: p.size, activation: p.activation,
        u: new Float64Array(p.size), r: new Float64Array(p.size), rp: new Float64Array(p.size), delta: new Float64Array(p.size),
        bias: Float64Array.from(p.bias), biasRate: first ? eta * first.eta_scale * tPresMs : 0,
      });
    }
    this.order = topologicalOrder(pops.length, this.projs, this.input);
  }

  /** The equilibrium rates of the output for one input. */
  forward(x: Float64Array): Float64Array {
    for (const pi of this.order) {
      const L = this.layers.get(pi)!;
      L.u.set(L.bias);
      for (const j of this.projs) {
        if (j.post !== pi) continue;
        const s = j.pre === this.input ? x : this.layers.get(j.pre)!.r;
        for (let i = 0; i < j.nPost; i++) {
          let acc = 0;
          const row = i * j.nPre;
          for (let k = 0; k < j.nPre; k++) acc += j.W[row + k] * s[k];
          L.u[i] += acc;
        }
      }
      for (let i = 0; i < L.size; i++) {
        const [phi, dphi] = activate(L.activation, L.u[i]);
        L.r[i] = phi;
        L.rp[i] = dphi;
      }
    }
    return this.layers.get(this.output)!.r;
  }

  /** One SGD step on one sample (forward, exact backward, update). */
  trainSample(x: Float64Array, y: Float64Array): void {
    this.forward(x);
    for (const L of this.layers.values()) L.delta.fill(0);
    const out = this.layers.get(this.output)!;
    for (let i = 0; i < out.size; i++) out.delta[i] = this.beta * out.rp[i] * (y[i] - out.r[i]);
    // Errors back through W^T, in reverse topological order (a population's delta is complete
    // before it is passed on), all with the weights before this sample's update.
    for (let n = this.order.length - 1; n >= 0; n--) {
      const post = this.order[n];
      const d = this.layers.get(post)!.delta;
      for (const j of this.projs) {
        if (j.post !== post || j.pre === this.input) continue;
        const pre = this.layers.get(j.pre)!;
        for (let k = 0; k < j.nPre; k++) {
          if (pre.rp[k] === 0) continue;
          let acc = 0;
          for (let i = 0; i < j.nPost; i++) acc += j.W[i * j.nPre + k] * d[i];
          pre.delta[k] += pre.rp[k] * acc;
        }
      }
    }
    for (const j of this.projs) {
      if (j.rate === 0) continue;
      const s = j.pre === this.input ? x : this.layers.get(j.pre)!.r;
      const d = this.layers.get(j.post)!.delta;
      for (let i = 0; i < j.nPost; i++) {
        const c = j.rate * d[i];
        if (c === 0) continue;
        const row = i * j.nPre;
        for (let k = 0; k < j.nPre; k++) j.W[row + k] += c * s[k];
      }
    }
    for (const L of this.layers.values()) for (let i = 0; i < L.size; i++) L.bias[i] += L.biasRate * L.delta[i];
  }

  /** Trains over `source` in the given order (indices into the source). */
  train(source: SampleSource, order: ArrayLike<number>, onProgress?: (done: number) => void): void {
    for (let n = 0; n < order.length; n++) {
      source.input(order[n], this.x);
      source.target(order[n], this.y);
      this.trainSample(this.x, this.y);
      if (onProgress && (n + 1) % 500 === 0) onProgress(n + 1);
    }
    onProgress?.(order.length);
  }

  /** Accuracy and loss on a test source, from the equilibrium outputs. */
  test(source: SampleSource): ReferenceTest {
    let correct = 0;
    let sq = 0;
    let labelled = true;
    for (let n = 0; n < source.count; n++) {
      source.input(n, this.x);
      source.target(n, this.y);
      const r = this.forward(this.x);
      let best = 0;
      for (let k = 1; k < r.length; k++) if (r[k] > r[best]) best = k;
      const label = source.label(n);
      if (label === null) labelled = false;
      else if (best === label) correct++;
      for (let k = 0; k < r.length; k++) sq += (r[k] - this.y[k]) ** 2;
    }
    return { accuracy: labelled && source.count > 0 ? correct / source.count : null, loss: sq / (source.count * this.outputSize) };
  }

  /** Weights of projection j, [post][pre] (copies). */
  weights(j: number): Float64Array {
    return this.projs[j].W.slice();
  }
}

/** Neuron populations in an order where every projection's pre comes first (the network must be feedforward). */
function topologicalOrder(nPops: number, projs: Proj[], input: number): number[] {
  const indeg = new Array(nPops).fill(0);
  for (const j of projs) if (j.pre !== input) indeg[j.post]++;
  const ready = [...Array(nPops).keys()].filter((p) => p !== input && indeg[p] === 0);
  const out: number[] = [];
  while (ready.length) {
    const p = ready.shift()!;
    out.push(p);
    for (const j of projs) if (j.pre === p && --indeg[j.post] === 0) ready.push(j.post);
  }
  if (out.length !== nPops - 1) throw new UserError({ message: 'the backprop reference needs a feedforward network (its projections form a loop)' });
  return out;
}
