/**
 * Pass 1, validate: description text → Network. Parses the JSON (syntax errors with line:column),
 * checks it against the `lechip/network@1` schema (every mistake at once, with pointer, rule and
 * unit), then checks what a schema cannot say (names, shapes, roles, stability), again collecting
 * every mistake, and finally fills every default and draws every seeded array.
 */
import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { fail, pointerKey, UserError, type Diagnostic } from '../common/diagnostics.js';
import { parseJsonText } from '../common/json-text.js';
import { Rng } from '../common/random.js';
import { checkAgainstSchema, makeAjv, showValue } from '../common/schema-check.js';
import type { ActivationName, NeuronModel } from '../chip/image-model.js';
import type { Network, NetworkPopulation, NetworkProjection } from './ir.js';
import {
  NetworkDescription,
  type InitSpec,
  type LifNeuronSpec,
  type NetworkDescriptionSpec,
  type PopulationSpec,
  type ProjectionSpec,
} from './network-schema.js';

export interface ValidateOptions {
  /** File name as the user gave it, quoted in diagnostics. */
  file?: string;
  /** Seed of the run's own draws (arrays whose description gives no seed); default 1. */
  seed?: number;
}

/** Defaults of a `learning` section (RESEARCH.md §1: beta 0.1; CONTRACT.md: eta 0.5). */
export const LEARNING_DEFAULTS = { rule: 'le', beta: 0.1, eta: 0.5, feedback: 'transpose' } as const;
/** Defaults of a `presentation` section, biological ms (CONTRACT.md). */
export const PRESENTATION_DEFAULTS = { t_pres_ms: 1.0, dt_ms: 0.01 } as const;
/** Weight init of a projection that gives neither weights nor init (RESEARCH.md §1: N(0, 0.05²)). */
export const DEFAULT_WEIGHT_INIT: InitSpec = { kind: 'normal', scale: 0.05 };
/** lif defaults as CONTRACT.md states them (PyNN IF_cond_exp names and units; note that PyNN's own
 * defaults differ in cm = 1 nF, tau_refrac = 0.1 ms and e_rev_I = -70 mV). */
export const LIF_DEFAULTS: Readonly<Record<keyof Omit<LifNeuronSpec, 'model'>, number>> = {
  cm: 0.2,
  tau_m: 20,
  v_rest: -65,
  v_reset: -65,
  v_thresh: -50,
  tau_refrac: 2,
  tau_syn_E: 5,
  tau_syn_I: 5,
  e_rev_E: 0,
  e_rev_I: -80,
  i_offset: 0,
};

/** The most row errors reported per weight matrix before summarising (a transposed matrix would give hundreds). */
const MAX_ROW_ERRORS = 5;

let validator: ValidateFunction | undefined;

/** Validates description text; returns the Network IR or throws one UserError listing every mistake. */
export function validateNetwork(text: string, opts: ValidateOptions = {}): Network {
  const value = parseJsonText(text, opts.file);
  return build(value, text, opts);
}

/** As validateNetwork, for a caller that already holds an object (sha256 is taken of its JSON.stringify text). */
export function validateNetworkObject(obj: unknown, opts: ValidateOptions = {}): Network {
  return build(obj, JSON.stringify(obj) ?? '', opts);
}

function build(value: unknown, text: string, opts: ValidateOptions): Network {
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0) fail(`--seed must be a non-negative integer (got ${seed})`);
  const { file } = opts;

  validator ??= makeAjv().compile(NetworkDescription);
  const diags = checkAgainstSchema(validator, value, file);
  diags.push(...checkPopulationNames(value, file));
  if (diags.length) throw new UserError(diags);

  const spec = value as NetworkDescriptionSpec;
  const roles = resolveRoles(spec);
  const semantic = checkSemantics(spec, roles, file);
  if (semantic.length) throw new UserError(semantic);

  return fill(spec, roles, text, seed, file);
}

/** The schema's population-name pattern; ajv's patternProperties alone would silently ignore other names. */
function checkPopulationNames(value: unknown, file?: string): Diagnostic[] {
  const pops = (value as { populations?: unknown })?.populations;
  if (typeof pops !== 'object' || pops === null || Array.isArray(pops)) return [];
  const pattern = Object.keys((NetworkDescription.properties.populations as { patternProperties: object }).patternProperties)[0];
  const re = new RegExp(pattern);
  return Object.keys(pops)
    .filter((k) => !re.test(k))
    .map((k) => ({
      file,
      pointer: `/populations/${pointerKey(k)}`,
      message: `population name ${showValue(k)} must start with a letter or _ and hold only letters, digits, _ . - (pattern ${pattern})`,
    }));
}

type Role = NetworkPopulation['role'];

/** Role default: input when the population has no neuron and no incoming projection, else hidden; output only when stated. */
function resolveRoles(spec: NetworkDescriptionSpec): Map<string, Role> {
  const roles = new Map<string, Role>();
  for (const [name, p] of Object.entries(spec.populations)) {
    const incoming = spec.projections.some((q) => q.to === name);
    roles.set(name, p.role ?? (p.neuron === undefined && !incoming ? 'input' : 'hidden'));
  }
  return roles;
}

function checkSemantics(spec: NetworkDescriptionSpec, roles: Map<string, Role>, file?: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (pointer: string, message: string) => out.push({ file, pointer, message });
  const names = Object.keys(spec.populations);
  const known = names.join(', ');

  for (const [name, p] of Object.entries(spec.populations)) {
    const ptr = `/populations/${pointerKey(name)}`;
    const role = roles.get(name)!;
    if (role === 'input') {
      if (p.neuron) at(`${ptr}/neuron`, `input population ${name} must not have a neuron (inputs drive rows; give role "hidden" or "output" to make it a neuron population)`);
      if (p.bias !== undefined) at(`${ptr}/bias`, `input population ${name} must not have a bias (its rates are given from outside)`);
    } else {
      if (!p.neuron) {
        const why = p.role ? `role ${role}` : 'it receives a projection, so its role is hidden';
        at(ptr, `population ${name} needs a neuron (${why}); only input populations go without one`);
      }
      if (p.source) at(`${ptr}/source`, `only input populations take a spike source; ${name} has role ${role}`);
      if (Array.isArray(p.bias) && p.bias.length !== p.size) {
        at(`${ptr}/bias`, `must have size=${p.size} entries (one per neuron); got ${p.bias.length}`);
      }
    }
  }

  const seen = new Map<string, number>();
  spec.projections.forEach((q, i) => {
    const ptr = `/projections/${i}`;
    const from = spec.populations[q.from];
    const to = spec.populations[q.to];
    if (!Object.hasOwn(spec.populations, q.from)) at(`${ptr}/from`, `unknown population "${q.from}"; the populations are: ${known}`);
    if (!Object.hasOwn(spec.populations, q.to)) at(`${ptr}/to`, `unknown population "${q.to}"; the populations are: ${known}`);
    else if (roles.get(q.to) === 'input') {
      at(`${ptr}/to`, `projection into input population ${q.to}: inputs take no incoming projections (give ${q.to} a neuron and role hidden or output)`);
    }
    if (q.weights !== undefined && q.init !== undefined) at(ptr, 'give either weights or init, not both');
    const key = `${q.from}\u0000${q.to}`;
    if (seen.has(key)) at(ptr, `duplicate projection ${q.from}→${q.to} (already /projections/${seen.get(key)}); merge them into one`);
    else seen.set(key, i);
    if (q.weights && from && to && Object.hasOwn(spec.populations, q.from) && Object.hasOwn(spec.populations, q.to)) {
      checkWeightShape(q.weights, from.size, to.size, `${ptr}/weights`, at);
    }
  });

  const outputs = names.filter((n) => roles.get(n) === 'output');
  const rule = spec.learning?.rule ?? LEARNING_DEFAULTS.rule;
  if (rule === 'le' && outputs.length === 0) {
    if (spec.learning) at('/learning/rule', 'learning rule "le" needs an output population (set "role": "output" on the population the targets are for)');
    else {
      at('', 'learning rule "le" (the default when "learning" is not given) needs an output population: set "role": "output" on the population the targets are for, or give "learning": { "rule": "none" }');
    }
  }

  // Forward Euler on tau_m du/dt = -u + ... is unstable (oscillates or diverges) once dt >= tau_m.
  const dt = spec.presentation?.dt ?? PRESENTATION_DEFAULTS.dt_ms;
  const t_pres = spec.presentation?.t_pres ?? PRESENTATION_DEFAULTS.t_pres_ms;
  let smallest: { name: string; tau: number } | undefined;
  for (const [name, p] of Object.entries(spec.populations)) {
    if (roles.get(name) === 'input' || !p.neuron) continue;
    const tau = p.neuron.tau_m ?? LIF_DEFAULTS.tau_m;
    if (!smallest || tau < smallest.tau) smallest = { name, tau };
  }
  if (smallest && dt >= smallest.tau) {
    const dtGiven = spec.presentation?.dt !== undefined;
    const pointer = dtGiven ? '/presentation/dt' : `/populations/${pointerKey(smallest.name)}/neuron/tau_m`;
    at(
      pointer,
      `dt = ${dt} ms${dtGiven ? '' : ' (default)'} must be smaller than the smallest tau_m = ${smallest.tau} ms (population ${smallest.name}); Euler steps of dt >= tau_m are unstable`,
    );
  }
  if (t_pres < dt) {
    at(spec.presentation?.t_pres !== undefined ? '/presentation/t_pres' : '/presentation/dt', `t_pres = ${t_pres} ms must be at least one step dt = ${dt} ms`);
  }
  return out;
}

function checkWeightShape(
  w: number[][],
  preSize: number,
  postSize: number,
  ptr: string,
  at: (pointer: string, message: string) => void,
): void {
  if (w.length !== postSize) {
    const transposed = w.length === preSize && w.every((row) => row.length === postSize);
    at(
      ptr,
      `must be [to.size=${postSize}][from.size=${preSize}] (post x pre); got ${w.length} row${w.length === 1 ? '' : 's'}${transposed ? ` of ${postSize} entries: it looks transposed (pre x post)` : ''}`,
    );
    if (transposed) return;
  }
  const bad = w.map((row, k) => ({ row, k })).filter(({ row }) => row.length !== preSize);
  for (const { row, k } of bad.slice(0, MAX_ROW_ERRORS)) {
    at(`${ptr}/${k}`, `row ${k} has ${row.length} entries; must have from.size=${preSize} (post x pre)`);
  }
  if (bad.length > MAX_ROW_ERRORS) at(ptr, `${bad.length - MAX_ROW_ERRORS} more rows do not have from.size=${preSize} entries`);
}

/** Draws `n` values from an init: normal → scale·N(0,1), uniform → scale·U(-1, 1), in order. */
export function drawInit(init: InitSpec, n: number, seed: number, purpose: string): Float64Array {
  const rng = new Rng(init.seed ?? seed, purpose);
  const out = new Float64Array(n);
  if (init.kind === 'normal') for (let i = 0; i < n; i++) out[i] = init.scale * rng.normal();
  else for (let i = 0; i < n; i++) out[i] = init.scale * (2 * rng.uniform() - 1);
  return out;
}

function fill(spec: NetworkDescriptionSpec, roles: Map<string, Role>, text: string, seed: number, file?: string): Network {
  const populations: NetworkPopulation[] = Object.entries(spec.populations).map(([name, p], index) =>
    fillPopulation(name, p, index, roles.get(name)!, seed),
  );
  const byName = new Map(populations.map((p) => [p.name, p]));
  const projections: NetworkProjection[] = spec.projections.map((q, index) => fillProjection(q, index, byName, seed));
  const l = spec.learning;
  return {
    name: spec.name,
    sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
    ...(file !== undefined ? { file } : {}),
    populations,
    projections,
    learning: {
      rule: l?.rule ?? LEARNING_DEFAULTS.rule,
      beta: l?.beta ?? LEARNING_DEFAULTS.beta,
      eta: l?.eta ?? LEARNING_DEFAULTS.eta,
      feedback: l?.feedback ?? LEARNING_DEFAULTS.feedback,
      feedback_seed: l?.feedback_seed ?? seed,
    },
    presentation: {
      t_pres_ms: spec.presentation?.t_pres ?? PRESENTATION_DEFAULTS.t_pres_ms,
      dt_ms: spec.presentation?.dt ?? PRESENTATION_DEFAULTS.dt_ms,
    },
    seed,
    description: spec,
  };
}

function fillPopulation(name: string, p: PopulationSpec, index: number, role: Role, seed: number): NetworkPopulation {
  const pointer = `/populations/${pointerKey(name)}`;
  const base = { name, index, size: p.size, role, pointer };
  if (role === 'input') {
    return {
      ...base,
      model: 'input',
      activation: 'linear',
      tau_m_ms: 0,
      tau_r_ms: 0,
      bias: new Float64Array(p.size),
      ...(p.source !== undefined ? { source: p.source } : {}),
    };
  }
  const n = p.neuron!;
  const bias = Array.isArray(p.bias)
    ? Float64Array.from(p.bias)
    : p.bias
      ? drawInit(p.bias, p.size, seed, `bias:${name}`)
      : new Float64Array(p.size);
  if (n.model === 'lif') {
    const lif: Record<string, number> = {};
    for (const [k, v] of Object.entries(LIF_DEFAULTS)) lif[k] = ((n as Record<string, unknown>)[k] as number | undefined) ?? v;
    // lif has no prospective constant: tau_r_ms 0 marks "none"; activation is unused.
    return { ...base, model: 'lif', activation: 'linear', tau_m_ms: lif.tau_m, tau_r_ms: 0, bias, lif };
  }
  // Default activation: linear for output populations (the LE reference's linear readout), tanh otherwise.
  const activation: ActivationName = n.activation ?? (role === 'output' ? 'linear' : 'tanh');
  return {
    ...base,
    model: n.model as NeuronModel,
    activation,
    tau_m_ms: n.tau_m,
    tau_r_ms: n.tau_r ?? n.tau_m,
    bias,
  };
}

function fillProjection(
  q: ProjectionSpec,
  index: number,
  byName: Map<string, NetworkPopulation>,
  seed: number,
): NetworkProjection {
  const pre = byName.get(q.from)!;
  const post = byName.get(q.to)!;
  let weights: Float64Array;
  if (q.weights) {
    weights = new Float64Array(post.size * pre.size);
    q.weights.forEach((row, i) => weights.set(row, i * pre.size));
  } else {
    weights = drawInit(q.init ?? DEFAULT_WEIGHT_INIT, post.size * pre.size, seed, `weights:${q.from}>${q.to}`);
  }
  return {
    index,
    from: q.from,
    to: q.to,
    pre_size: pre.size,
    post_size: post.size,
    weights,
    // Plastic unless stated otherwise: with rule "le" every projection learns by default.
    plastic: q.plastic ?? true,
    eta_scale: q.eta_scale ?? 1,
    pointer: `/projections/${index}`,
  };
}
