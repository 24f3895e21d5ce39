/**
 * Float reference of firmware-models/cd.s: one contrastive-divergence update of the Boltzmann
 * parameters of every network from the sample counts of one iteration, and the synapse and bias
 * codes the firmware writes for them. Float64 and exact rounding; the firmware works in Q16 fixed
 * point (parameters, rates, moments), so it lands within a few 2^-16 of these parameters and within
 * one code of these codes (test/lif/cd-firmware.test.ts).
 *
 * Per network, unit i, partner i + d (d = 1 .. n - 1), with S samples counted in the iteration:
 *     b_i     += eta_t (<z_i>_data     - count_i / S)
 *     W_i,i+d += eta_t (<z_i z_i+d>_data - count_i,i+d / S)     (W symmetric, zero diagonal)
 *     eta_t = eta / (1 + t / decay)   (decay 0: eta)
 * Codes: W > 0 -> excitatory code min(wMax, round(W mE)), W < 0 -> inhibitory code
 * min(wMax, round(|W| mI)), the other row's code 0; bias code clamp(round(b mB), bMin, bMax);
 * round half up.
 */

/** The constants of the rule as cd.s's table holds them (in float here). */
export interface CdRule {
  /** Units per network. */
  n: number;
  networks: number;
  /** Samples per iteration. */
  samples: number;
  eta: number;
  /** eta_t = eta / (1 + t / decay); 0: constant. */
  decay: number;
  /** Synapse codes per unit of W: excitatory (W > 0) and inhibitory (W < 0, per unit |W|). */
  mE: number;
  mI: number;
  /** Bias DAC codes per unit of b. */
  mB: number;
  bMin: number;
  bMax: number;
  /** Largest synapse code. */
  wMax: number;
}

/** Boltzmann parameters of every network: W [net][n n] (symmetric, zero diagonal), b [net][n]. */
export interface CdParams {
  W: Float64Array[];
  b: Float64Array[];
}

/** Counts of one iteration per network: mean [net][n] (samples with z_i = 1), pair [net][n n] (z_i z_j = 1, i < j used). */
export interface CdCounts {
  mean: Float64Array[];
  pair: Float64Array[];
}

/** Target moments: mean [n] = <z_i>, pair [n n] = <z_i z_j>. */
export interface CdData {
  mean: Float64Array;
  pair: Float64Array;
}

/** The learning rate at iteration t. */
export function etaAt(rule: Pick<CdRule, 'eta' | 'decay'>, t: number): number {
  return rule.decay > 0 ? rule.eta / (1 + t / rule.decay) : rule.eta;
}

/** One update at iteration t: the new parameters (the inputs are not changed). */
export function referenceUpdate(p: CdParams, counts: CdCounts, data: CdData, t: number, rule: CdRule): CdParams {
  const { n, networks, samples: S } = rule;
  const eta = etaAt(rule, t);
  const W = p.W.map((w) => w.slice());
  const b = p.b.map((x) => x.slice());
  for (let k = 0; k < networks; k++) {
    for (let i = 0; i < n; i++) {
      b[k][i] += eta * (data.mean[i] - counts.mean[k][i] / S);
      for (let j = i + 1; j < n; j++) {
        const d = eta * (data.pair[i * n + j] - counts.pair[k][i * n + j] / S);
        W[k][i * n + j] += d;
        W[k][j * n + i] += d;
      }
    }
  }
  return { W, b };
}

/** The codes cd.s writes: exc and inh [net][post n + pre] (magnitudes), bias [net][n]. */
export function referenceCodes(p: CdParams, rule: CdRule): { exc: Int32Array[]; inh: Int32Array[]; bias: Int32Array[] } {
  const { n, networks } = rule;
  const round = (x: number) => Math.floor(x + 0.5);
  const exc: Int32Array[] = [];
  const inh: Int32Array[] = [];
  const bias: Int32Array[] = [];
  for (let k = 0; k < networks; k++) {
    const e = new Int32Array(n * n);
    const h = new Int32Array(n * n);
    for (let post = 0; post < n; post++) {
      for (let pre = 0; pre < n; pre++) {
        if (pre === post) continue;
        const w = p.W[k][post * n + pre];
        if (w >= 0) e[post * n + pre] = Math.min(rule.wMax, round(w * rule.mE));
        else h[post * n + pre] = Math.min(rule.wMax, round(-w * rule.mI));
      }
    }
    exc.push(e);
    inh.push(h);
    bias.push(Int32Array.from(p.b[k], (x) => Math.max(rule.bMin, Math.min(rule.bMax, round(x * rule.mB)))));
  }
  return { exc, inh, bias };
}
