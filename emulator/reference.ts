/**
 * The plain TypeScript reference of the emulated dynamics, against which the WASM kernels are
 * tested. One Euler step follows RESEARCH.md §1 (the LE reference code's order) exactly:
 *
 *  A. basal_p = b_p + sum_j W_j s_j        s_j = x^t for input pre, else r^{t-1}(pre)
 *  B. du = (basal - u + e^{t-1}) / tau_m
 *     v  = u + tau_r du  (le: prospective, from the old u)  |  u + dt du  (li: plain leaky)
 *     ubrm = u + tau_m du;  u += dt du (+ membrane noise)
 *     r = phi(g v + o);  r' = g phi'(g v + o)  (+ rate noise);  diff = ubrm - basal
 *  C. e_p^t = beta r'^{t-1} (y^t - r^{t-1})  for nudged outputs
 *           + r'^{t-1}_p * sum_j F_j diff_post(j)   over projections j out of p, F = W^T or B
 *  D. W_j += eta eta_j dt e_post^t s_pre^T ;  b_post += eta eta_j dt e_post^t
 *     (s_pre: r^{t-1} for hidden pre, the current input x^t for input pre)
 *  E. e <- e^t
 * Computed in float64 (so it also checks float32 kernels for accumulated rounding).
 */
import { Rng } from '../common/random.js';
import type { EmulatorModel } from './model.js';

/** phi and phi' by activation name. */
export function activate(name: string, a: number): [number, number] {
  switch (name) {
    case 'linear':
      return [a, 1];
    case 'tanh': {
      const t = Math.tanh(a);
      return [t, 1 - t * t];
    }
    case 'sigmoid': {
      const s = 1 / (1 + Math.exp(-a));
      return [s, s * (1 - s)];
    }
    case 'relu':
      return a > 0 ? [a, 1] : [0, 0];
    case 'hardsigmoid':
      return a < 0 ? [0, 0] : a > 1 ? [1, 0] : [a, 1];
    default:
      throw new Error(`unknown activation ${name}`);
  }
}

export interface ReferenceState {
  u: Float64Array[];
  r: Float64Array[];
  rp: Float64Array[];
  e: Float64Array[];
  /** Current input of input populations, current target of outputs (null: none). */
  x: (Float64Array | null)[];
  y: (Float64Array | null)[];
}

/** A float64 model of one chip instance, stepped exactly as documented above. */
export class ReferenceModel {
  readonly m: EmulatorModel;
  /** Weights [pre][post] and biases, float64 copies (they learn). */
  readonly W: Float64Array[];
  readonly b: Float64Array[];
  readonly s: ReferenceState;
  t_ms = 0;
  private readonly noise: Rng;

  constructor(model: EmulatorModel) {
    this.m = model;
    this.W = model.projections.map((p) => Float64Array.from(p.weights));
    this.b = model.populations.map((p) => Float64Array.from(p.bias));
    const z = () => model.populations.map((p) => new Float64Array(p.size));
    this.s = { u: z(), r: z(), rp: z(), e: z(), x: model.populations.map(() => null), y: model.populations.map(() => null) };
    this.noise = new Rng(model.seed, 'reference-noise');
  }

  /** Sets the current input of an input population or the target of an output (null clears). */
  set(population: number, values: ArrayLike<number> | null): void {
    const p = this.m.populations[population];
    const v = values === null ? null : Float64Array.from(values);
    if (p.model === 'input') this.s.x[population] = v;
    else this.s.y[population] = v;
  }

  /** Advances one Euler step. */
  step(learn: boolean, nudge = true): void {
    const { populations: pops, projections: projs, dt_ms: dt } = this.m;
    const { u, r, rp, e, x, y } = this.s;
    const signal = (pi: number, prev: Float64Array[]) =>
      pops[pi].model === 'input' ? (x[pi] ?? new Float64Array(pops[pi].size)) : prev[pi];
    const rPrev = r.map((a) => Float64Array.from(a));
    const rpPrev = rp.map((a) => Float64Array.from(a));
    const ePrev = e.map((a) => Float64Array.from(a));

    // A. basal inputs
    const basal = pops.map((p, pi) => Float64Array.from(this.b[pi]));
    projs.forEach((j, ji) => {
      const s = signal(j.pre, rPrev);
      const W = this.W[ji];
      const nPost = pops[j.post].size;
      const out = basal[j.post];
      for (let k = 0; k < s.length; k++) {
        const sk = s[k];
        if (sk === 0) continue;
        for (let i = 0; i < nPost; i++) out[i] += W[k * nPost + i] * sk;
      }
    });

    // B. neuron updates
    const diff = pops.map((p) => new Float64Array(p.size));
    pops.forEach((p, pi) => {
      if (p.model === 'input') return;
      for (let i = 0; i < p.size; i++) {
        const du = (basal[pi][i] - u[pi][i] + ePrev[pi][i]) / p.tau_m_ms[i];
        const v = p.model === 'le' ? u[pi][i] + p.tau_r_ms[i] * du : u[pi][i] + dt * du;
        diff[pi][i] = u[pi][i] + p.tau_m_ms[i] * du - basal[pi][i];
        u[pi][i] += dt * du;
        if (this.m.noise.membrane > 0) u[pi][i] += this.m.noise.membrane * Math.sqrt(dt) * this.noise.normal();
        const [phi, dphi] = activate(p.activation, p.gain[i] * v + p.offset[i]);
        r[pi][i] = phi;
        rp[pi][i] = p.gain[i] * dphi;
        if (this.m.noise.rate > 0) r[pi][i] += this.m.noise.rate * this.noise.normal();
      }
    });

    // C. errors
    const eNew = pops.map((p) => new Float64Array(p.size));
    pops.forEach((p, pi) => {
      const target = y[pi];
      if (p.role !== 'output' || !nudge || !target) return;
      for (let i = 0; i < p.size; i++) eNew[pi][i] += this.m.beta * rpPrev[pi][i] * (target[i] - rPrev[pi][i]);
    });
    projs.forEach((j, ji) => {
      if (j.feedback === 'none') return;
      const nPre = pops[j.pre].size;
      const nPost = pops[j.post].size;
      const d = diff[j.post];
      const W = this.W[ji];
      const B = j.feedbackWeights;
      for (let k = 0; k < nPre; k++) {
        let acc = 0;
        if (j.feedback === 'transpose') for (let i = 0; i < nPost; i++) acc += W[k * nPost + i] * d[i];
        else for (let i = 0; i < nPost; i++) acc += B![i * nPre + k] * d[i];
        eNew[j.pre][k] += rpPrev[j.pre][k] * acc;
      }
    });

    // D. plasticity
    if (learn && this.m.learningRule === 'le') {
      const biasDone = new Set<number>();
      projs.forEach((j, ji) => {
        if (!j.plastic) return;
        const rate = this.m.eta * j.eta_scale * dt;
        const s = signal(j.pre, rPrev);
        const ep = eNew[j.post];
        const nPost = pops[j.post].size;
        const W = this.W[ji];
        for (let k = 0; k < s.length; k++) {
          const c = rate * s[k];
          if (c === 0) continue;
          for (let i = 0; i < nPost; i++) W[k * nPost + i] += c * ep[i];
        }
        if (!biasDone.has(j.post)) {
          biasDone.add(j.post);
          const b = this.b[j.post];
          for (let i = 0; i < nPost; i++) b[i] += rate * ep[i];
        }
      });
    }

    // E.
    for (let pi = 0; pi < pops.length; pi++) e[pi].set(eNew[pi]);
    this.t_ms += dt;
  }
}
