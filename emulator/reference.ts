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
 * With synaptic filtering (model.filter, tau_s > 0; RESEARCH.md §1 "Temporal noise"), k = dt / tau_s:
 *  (every low-pass flushes |value| < 1e-12 to 0, as the kernels do)
 *  0. xbar += k (x^t - xbar) for inputs;  s_j above is rbar (xbar^t for input pre, rbar^{t-1} else)
 *  B. after the update rbar += k (r - rbar)
 *  C. outputs with a target: ybar += k_y (y - ybar), k_y = dt / (depth tau_s), and nudging uses ybar;
 *     with filtered errors the e^t above is eraw and e^t = e^{t-1} + k (eraw - e^{t-1})
 * Tau adaptation (setTauAdaptation), in B from the step's old u and tau_m:
 *     tau_m += eta (u + tau_r du - basal) du, clamped to [lo, hi], after the neuron's update.
 * Computed in float64 (so it also checks float32 kernels for accumulated rounding).
 */
import { Rng } from '../common/random.js';
import type { EmulatorModel } from './model.js';
import { filterOn, lowpassFactor, lowpassStep, populationDepths, targetFactor } from './synaptic-filter.js';

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
  /** Low-passed r (x for inputs) and targets; zero and unused without synaptic filtering. */
  rbar: Float64Array[];
  ybar: Float64Array[];
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
  /** Membrane time constants, float64 copies (tau adaptation changes them). */
  readonly tau_m: Float64Array[];
  t_ms = 0;
  private readonly noise: Rng;
  private readonly tauAdapt: ({ eta: number; lo: number; hi: number } | null)[];

  constructor(model: EmulatorModel) {
    this.m = model;
    this.W = model.projections.map((p) => Float64Array.from(p.weights));
    this.b = model.populations.map((p) => Float64Array.from(p.bias));
    this.tau_m = model.populations.map((p) => Float64Array.from(p.tau_m_ms));
    const z = () => model.populations.map((p) => new Float64Array(p.size));
    this.s = {
      u: z(), r: z(), rp: z(), e: z(), rbar: z(), ybar: z(),
      x: model.populations.map(() => null), y: model.populations.map(() => null),
    };
    this.noise = new Rng(model.seed, 'reference-noise');
    this.tauAdapt = model.populations.map(() => null);
  }

  /** Tau adaptation on (eta > 0) or off (eta = 0) for population pi, tau_m kept in [loMs, hiMs]. */
  setTauAdaptation(pi: number, eta: number, loMs = 1e-6, hiMs = 1e9): void {
    this.tauAdapt[pi] = eta !== 0 ? { eta, lo: loMs, hi: hiMs } : null;
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
    const { u, r, rp, e, x, y, rbar, ybar } = this.s;
    const filt = filterOn(this.m);
    const k = filt ? lowpassFactor(dt, this.m.filter!.tau_s_ms) : 1;
    // 0. the synapses of input rows low-pass x^t
    if (filt) {
      pops.forEach((p, pi) => {
        if (p.model !== 'input') return;
        for (let i = 0; i < p.size; i++) rbar[pi][i] = lowpassStep(rbar[pi][i], x[pi]?.[i] ?? 0, k);
      });
    }
    const rbarPrev = rbar.map((a) => Float64Array.from(a));
    const signal = (pi: number, prev: Float64Array[]) =>
      filt ? rbarPrev[pi] : pops[pi].model === 'input' ? (x[pi] ?? new Float64Array(pops[pi].size)) : prev[pi];
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
      const tauM = this.tau_m[pi];
      const adapt = this.tauAdapt[pi];
      for (let i = 0; i < p.size; i++) {
        const du = (basal[pi][i] - u[pi][i] + ePrev[pi][i]) / tauM[i];
        const v = p.model === 'le' ? u[pi][i] + p.tau_r_ms[i] * du : u[pi][i] + dt * du;
        const delta = adapt ? adapt.eta * (u[pi][i] + p.tau_r_ms[i] * du - basal[pi][i]) * du : 0;
        diff[pi][i] = u[pi][i] + tauM[i] * du - basal[pi][i];
        u[pi][i] += dt * du;
        if (this.m.noise.membrane > 0) u[pi][i] += this.m.noise.membrane * Math.sqrt(dt) * this.noise.normal();
        const [phi, dphi] = activate(p.activation, p.gain[i] * v + p.offset[i]);
        r[pi][i] = phi;
        rp[pi][i] = p.gain[i] * dphi;
        if (this.m.noise.rate > 0) r[pi][i] += this.m.noise.rate * this.noise.normal();
        if (filt) rbar[pi][i] = lowpassStep(rbar[pi][i], r[pi][i], k);
        if (adapt) tauM[i] = Math.min(adapt.hi, Math.max(adapt.lo, tauM[i] + delta));
      }
    });

    // C. errors
    const eNew = pops.map((p) => new Float64Array(p.size));
    const depths = filt && this.m.filter!.targets ? populationDepths(this.m) : [];
    pops.forEach((p, pi) => {
      let target = y[pi];
      if (p.role !== 'output' || p.model === 'input' || !target) return;
      if (filt && this.m.filter!.targets) {
        const ky = targetFactor(this.m, depths, pi);
        for (let i = 0; i < p.size; i++) ybar[pi][i] = lowpassStep(ybar[pi][i], target[i], ky);
        target = ybar[pi];
      }
      if (!nudge) return;
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

    // Filtered errors: e^t = e^{t-1} + k (eraw - e^{t-1}); that is what plasticity and the membrane see.
    if (filt && this.m.filter!.errors) {
      for (let pi = 0; pi < pops.length; pi++) for (let i = 0; i < pops[pi].size; i++) eNew[pi][i] = lowpassStep(e[pi][i], eNew[pi][i], k);
    }

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
