/**
 * Fits of the calibration experiments (docs/calibration.md). The le neuron's Euler dynamics with a
 * constant drive B (basal) and no error are, per step,
 *   du = (B - u) / tau_m,  r = g (u + tau_r du) + o,  u <- u + dt du (+ membrane noise)
 * so u relaxes geometrically, u_{j+k} = a^k u_j + (1 - a^k) B with a = 1 - dt / tau_m, and the rate
 * read after a step is linear in the membrane before it, r_j = g (1 - rho) u_{j-1} + g rho B + o
 * with rho = tau_r / tau_m. At equilibrium (du = 0) r = g u + o and u = b + G w x.
 */

/** Ordinary least squares y = slope x + intercept. */
export function linearFit(x: ArrayLike<number>, y: ArrayLike<number>): { slope: number; intercept: number; n: number } {
  const n = x.length;
  if (n < 2 || y.length !== n) return { slope: NaN, intercept: NaN, n };
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += x[i];
    sy += y[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    sxx += dx * dx;
    sxy += dx * (y[i] - my);
  }
  const slope = sxx > 0 ? sxy / sxx : NaN;
  return { slope, intercept: my - slope * mx, n };
}

/**
 * tau_m from one relaxation: u[0] is the membrane just before the drive changed, u[1..] after each
 * following step. Regresses u[j + lag] on u[j] (slope a^lag) and inverts the Euler factor:
 * tau_m = dt / (1 - (a^lag)^(1/lag)). A lag of about tau_m keeps read noise from biasing a toward 0
 * much (its attenuation acts on 1 - a^lag, not on the small 1 - a).
 */
export function fitTauM(u: ArrayLike<number>, lag: number, dtMs: number): number {
  const n = u.length - lag;
  if (n < 2) return NaN;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    x[j] = u[j];
    y[j] = u[j + lag];
  }
  const ak = linearFit(x, y).slope;
  if (!(ak > 0 && ak < 1)) return NaN;
  return dtMs / (1 - Math.pow(ak, 1 / lag));
}

/**
 * 1 - rho (rho = tau_r / tau_m) over one relaxation, times the activation gain: regresses the rate
 * r[j] read after step j on the membrane u[j - 1] before it (u as in fitTauM, r[0] unused).
 * Samples whose rate reading sits on an ADC rail are left out (`valid`).
 */
export function fitLeadSlope(u: ArrayLike<number>, r: ArrayLike<number>, valid: (r: number) => boolean): number {
  const x: number[] = [];
  const y: number[] = [];
  for (let j = 1; j < r.length; j++) {
    if (!valid(r[j])) continue;
    x.push(u[j - 1]);
    y.push(r[j]);
  }
  return linearFit(x, y).slope;
}

/** Mean of a[from..to). */
export function mean(a: ArrayLike<number>, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i];
  return s / (to - from);
}

/** Spread as CONTRACT.md defines it: sd / mean (relative parameters) or sd (absolute). NaNs are left out. */
export function spread(values: ArrayLike<number>, relative: boolean): number {
  const v = Array.from(values).filter((x) => Number.isFinite(x));
  if (v.length < 2) return 0;
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) * (b - m), 0) / (v.length - 1));
  return relative ? sd / Math.abs(m) : sd;
}

/** Mean of the finite values (NaN when there are none): edges whose fit failed are left out. */
export function finiteMean(values: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) {
      s += values[i];
      n++;
    }
  }
  return n ? s / n : NaN;
}

/** Median of the finite values (NaN when there are none). */
export function median(values: ArrayLike<number>): number {
  const v = Array.from(values).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}
