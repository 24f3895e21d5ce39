import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, UserError } from '../../common/diagnostics.js';
import { Rng } from '../../common/random.js';
import { validateNetwork, validateNetworkObject } from '../../compiler/validate.js';
import { desc, diagnosticsOf, le, text } from './helpers.js';

const FILE = 'net.json';
const check = (d: Record<string, unknown>, seed?: number) => validateNetwork(text(d), { file: FILE, seed });
const errs = (d: Record<string, unknown>) => diagnosticsOf(() => check(d));
const lines = (d: Record<string, unknown>) => errs(d).map(formatDiagnostic);

/** A valid in(4) → h(3) → out(2) network to break one rule at a time. */
function base(): Record<string, any> {
  return desc(
    { in: { size: 4 }, h: { size: 3, neuron: le(20) }, out: { size: 2, role: 'output', neuron: le(20) } },
    [
      { from: 'in', to: 'h' },
      { from: 'h', to: 'out' },
    ],
  );
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}
function variance(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - m) ** 2;
  return s / a.length;
}

describe('validate: syntax', () => {
  it('reports one JSON syntax error with line and column', () => {
    const src = '{\n  "format": "lechip/network@1",\n  "name": "x"\n  "populations": {}\n}';
    const d = diagnosticsOf(() => validateNetwork(src, { file: FILE }));
    expect(d).toHaveLength(1);
    expect(formatDiagnostic(d[0])).toBe(`net.json:4:3: invalid JSON: expected ',' or '}' after a property value, found '"'`);
  });
});

describe('validate: schema', () => {
  it('names pointer, rule and unit: /populations/h1/neuron/tau_m must be > 0 ms', () => {
    const d = base();
    d.populations.h1 = { size: 3, neuron: le(-5) };
    d.projections.push({ from: 'in', to: 'h1' });
    expect(lines(d)).toEqual(['net.json: /populations/h1/neuron/tau_m: must be > 0 ms (got -5)']);
  });

  it('reports every schema mistake of the file in one UserError', () => {
    const d = base();
    d.name = '';
    d.populations.h.neuron.tau_m = 0;
    d.populations.h.neuron.tau_r = -1;
    d.projections[0].eta_scale = -0.5;
    d.presentation = { dt: 'fast' };
    d.colour = 1;
    let error: unknown;
    try {
      check(d);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).diagnostics.map(formatDiagnostic).sort()).toEqual(
      [
        'net.json: /colour: unknown property "colour"; allowed: format, name, description, populations, projections, learning, presentation',
        'net.json: /name: must not be empty',
        'net.json: /populations/h/neuron/tau_m: must be > 0 ms (got 0)',
        'net.json: /populations/h/neuron/tau_r: must be > 0 ms (got -1)',
        'net.json: /projections/0/eta_scale: must be >= 0 (got -0.5)',
        'net.json: /presentation/dt: must be a number in ms (got "fast")',
      ].sort(),
    );
    expect((error as UserError).message.split('\n')).toHaveLength(6);
  });

  it('gives one readable message for an unknown neuron model, not one per union branch', () => {
    const d = base();
    d.populations.h.neuron = { model: 'adex', tau_m: 20 };
    expect(lines(d)).toEqual(['net.json: /populations/h/neuron/model: must be one of "le", "li", "lif" (got "adex")']);
  });

  it('keeps mistakes that every neuron variant agrees on', () => {
    const d = base();
    d.populations.h.neuron = { model: 'adex', tau_m: -3 };
    expect(lines(d)).toEqual([
      'net.json: /populations/h/neuron/model: must be one of "le", "li", "lif" (got "adex")',
      'net.json: /populations/h/neuron/tau_m: must be > 0 ms (got -3)',
    ]);
  });

  it('judges a union member by the variant it names', () => {
    const d = base();
    d.populations.h.neuron = { model: 'lif', tau_r: 5 };
    d.populations.out.neuron = { tau_m: 20 };
    d.populations.out.bias = { kind: 'gauss', scale: 1 };
    d.populations.h.bias = 'zero';
    expect(lines(d)).toEqual([
      'net.json: /populations/h/neuron/tau_r: unknown property "tau_r" (did you mean "tau_m"?); allowed: model, cm, tau_m, v_rest, v_reset, v_thresh, tau_refrac, tau_syn_E, tau_syn_I, e_rev_E, e_rev_I, i_offset',
      'net.json: /populations/h/bias: must be an array of numbers or an object {kind, scale, seed?} (got "zero")',
      'net.json: /populations/out/neuron: missing required property "model" (one of "le", "li", "lif")',
      'net.json: /populations/out/bias/kind: must be one of "normal", "uniform" (got "gauss")',
    ]);
  });

  it('quotes the unit of a missing property and suggests a near name for a misspelt one', () => {
    const d = base();
    d.populations.h.neuron = { model: 'le', taum: 20 };
    expect(lines(d)).toEqual([
      'net.json: /populations/h/neuron: missing required property "tau_m" (membrane time constant, in ms)',
      'net.json: /populations/h/neuron/taum: unknown property "taum" (did you mean "tau_m"?); allowed: model, tau_m, tau_r, activation',
    ]);
  });

  it('rejects population names the schema pattern forbids', () => {
    const d = base();
    d.populations['2nd layer'] = { size: 1 };
    expect(lines(d)).toEqual([
      'net.json: /populations/2nd layer: population name "2nd layer" must start with a letter or _ and hold only letters, digits, _ . - (pattern ^[A-Za-z_][A-Za-z0-9_.-]*$)',
    ]);
  });
});

describe('validate: semantics', () => {
  it('unknown population names say which exist', () => {
    const d = base();
    d.projections.push({ from: 'hidden', to: 'out' });
    expect(lines(d)).toEqual(['net.json: /projections/2/from: unknown population "hidden"; the populations are: in, h, out']);
  });

  it('weights of the wrong shape: rows, and entries per row', () => {
    const d = base();
    d.projections[0].weights = [
      [1, 2, 3, 4],
      [1, 2, 3],
    ];
    d.projections[1].weights = [
      [1, 2, 3],
      [1, 2, 3, 4, 5],
    ];
    expect(lines(d)).toEqual([
      'net.json: /projections/0/weights: must be [to.size=3][from.size=4] (post x pre); got 2 rows',
      'net.json: /projections/0/weights/1: row 1 has 3 entries; must have from.size=4 (post x pre)',
      'net.json: /projections/1/weights/1: row 1 has 5 entries; must have from.size=3 (post x pre)',
    ]);
  });

  it('a transposed matrix is named as such, and a hundred bad rows do not give a hundred errors', () => {
    const d = desc({ a: { size: 100 }, b: { size: 3, neuron: le(), role: 'output' } }, [
      { from: 'a', to: 'b', weights: Array.from({ length: 100 }, () => [0, 0, 0]) },
    ]);
    expect(lines(d)).toEqual([
      'net.json: /projections/0/weights: must be [to.size=3][from.size=100] (post x pre); got 100 rows of 3 entries: it looks transposed (pre x post)',
    ]);
    const e = desc({ a: { size: 100 }, b: { size: 10, neuron: le(), role: 'output' } }, [
      { from: 'a', to: 'b', weights: Array.from({ length: 10 }, () => [0]) },
    ]);
    const d2 = errs(e);
    expect(d2).toHaveLength(6);
    expect(d2[5].message).toBe('5 more rows do not have from.size=100 entries');
  });

  it('weights and init together; bias of the wrong length; duplicate projections', () => {
    const d = base();
    d.projections[0].init = { kind: 'normal', scale: 1 };
    d.projections[0].weights = [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ];
    d.populations.h.bias = [0, 0];
    d.projections.push({ from: 'h', to: 'out', eta_scale: 0.1 });
    expect(lines(d)).toEqual([
      'net.json: /populations/h/bias: must have size=3 entries (one per neuron); got 2',
      'net.json: /projections/0: give either weights or init, not both',
      'net.json: /projections/2: duplicate projection h→out (already /projections/1); merge them into one',
    ]);
  });

  it('roles: inputs take no projection, neuron, bias; only inputs take a spike source; others need a neuron', () => {
    const d = base();
    d.populations.in = { size: 4, role: 'input', neuron: le(), bias: [0, 0, 0, 0] };
    d.populations.x = { size: 2 };
    d.projections.push({ from: 'h', to: 'in' }, { from: 'h', to: 'x' });
    d.populations.out.role = 'output';
    d.populations.h.source = { kind: 'poisson', rate_hz: 10 };
    expect(lines(d)).toEqual([
      'net.json: /populations/in/neuron: input population in must not have a neuron (inputs drive rows; give role "hidden" or "output" to make it a neuron population)',
      'net.json: /populations/in/bias: input population in must not have a bias (its rates are given from outside)',
      'net.json: /populations/h/source: only input populations take a spike source; h has role hidden',
      'net.json: /populations/x: population x needs a neuron (it receives a projection, so its role is hidden); only input populations go without one',
      'net.json: /projections/2/to: projection into input population in: inputs take no incoming projections (give in a neuron and role hidden or output)',
    ]);
  });

  it('LE learning needs an output population (stated rule, and the default rule)', () => {
    const d = base();
    delete d.populations.out.role;
    expect(lines(d)).toEqual([
      'net.json: /: learning rule "le" (the default when "learning" is not given) needs an output population: set "role": "output" on the population the targets are for, or give "learning": { "rule": "none" }',
    ]);
    d.learning = { rule: 'le' };
    expect(lines(d)).toEqual([
      'net.json: /learning/rule: learning rule "le" needs an output population (set "role": "output" on the population the targets are for)',
    ]);
    d.learning = { rule: 'none' };
    expect(check(d).learning.rule).toBe('none');
  });

  it('dt at or above the smallest tau_m is refused, naming both in ms', () => {
    const d = base();
    d.populations.h.neuron.tau_m = 5;
    d.presentation = { dt: 5, t_pres: 50 };
    expect(lines(d)).toEqual([
      'net.json: /presentation/dt: dt = 5 ms must be smaller than the smallest tau_m = 5 ms (population h); Euler steps of dt >= tau_m are unstable',
    ]);
    d.presentation = {};
    d.populations.h.neuron.tau_m = 0.01;
    expect(lines(d)).toEqual([
      'net.json: /populations/h/neuron/tau_m: dt = 0.01 ms (default) must be smaller than the smallest tau_m = 0.01 ms (population h); Euler steps of dt >= tau_m are unstable',
    ]);
    d.populations.h.neuron.tau_m = 0.02;
    expect(check(d).presentation.dt_ms).toBe(0.01);
  });

  it('a presentation shorter than one step is refused', () => {
    const d = base();
    d.presentation = { t_pres: 0.005 };
    expect(lines(d)).toEqual(['net.json: /presentation/t_pres: t_pres = 0.005 ms must be at least one step dt = 0.01 ms']);
  });

  it('collects semantic mistakes of different kinds together', () => {
    const d = base();
    d.projections.push({ from: 'in', to: 'nowhere' }, { from: 'in', to: 'h' });
    d.populations.out.bias = [1];
    d.presentation = { dt: 30, t_pres: 100 };
    expect(errs(d).map((x) => x.pointer)).toEqual(['/populations/out/bias', '/projections/2/to', '/projections/3', '/presentation/dt']);
  });
});

describe('validate: defaults and draws', () => {
  it('fills roles, activations, time constants, learning and presentation defaults', () => {
    const d = base();
    d.populations.h.neuron.tau_r = 18;
    const n = check(d, 7);
    const [pin, ph, pout] = n.populations;
    expect(pin).toMatchObject({ name: 'in', index: 0, role: 'input', model: 'input', tau_m_ms: 0, pointer: '/populations/in' });
    expect(ph).toMatchObject({ role: 'hidden', model: 'le', activation: 'tanh', tau_m_ms: 20, tau_r_ms: 18 });
    expect(pout).toMatchObject({ role: 'output', activation: 'linear', tau_m_ms: 20, tau_r_ms: 20 });
    expect(n.learning).toEqual({ rule: 'le', beta: 0.1, eta: 0.5, feedback: 'transpose', feedback_seed: 7 });
    expect(n.presentation).toEqual({ t_pres_ms: 1, dt_ms: 0.01 });
    expect(n.seed).toBe(7);
    expect(n.file).toBe(FILE);
    expect(n.projections[0]).toMatchObject({ from: 'in', to: 'h', pre_size: 4, post_size: 3, plastic: true, eta_scale: 1, pointer: '/projections/0' });
    expect(Array.from(ph.bias)).toEqual([0, 0, 0]);
  });

  it('a population with neither neuron nor incoming projection is an input; one with a neuron is hidden', () => {
    const d = desc({ a: { size: 1 }, b: { size: 1, neuron: le() } }, [], { learning: { rule: 'none' } });
    expect(check(d).populations.map((p) => p.role)).toEqual(['input', 'hidden']);
  });

  it('lif neurons validate with the CONTRACT.md IF_cond_exp defaults and lower as model lif', () => {
    const d = base();
    d.populations.h.neuron = { model: 'lif', v_thresh: -52, cm: 0.25 };
    const h = check(d).populations[1];
    expect(h.model).toBe('lif');
    expect(h.lif).toEqual({
      cm: 0.25,
      tau_m: 20,
      v_rest: -65,
      v_reset: -65,
      v_thresh: -52,
      tau_refrac: 2,
      tau_syn_E: 5,
      tau_syn_I: 5,
      e_rev_E: 0,
      e_rev_I: -80,
      i_offset: 0,
    });
    expect(h.tau_m_ms).toBe(20);
  });

  it('given weights are stored [post][pre] row-major; a given bias is kept', () => {
    const d = base();
    d.projections[1].weights = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    d.populations.out.bias = [0.5, -0.5];
    const n = check(d);
    expect(Array.from(n.projections[1].weights)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(n.populations[2].bias)).toEqual([0.5, -0.5]);
  });

  it('draws init weights from Rng(init.seed, "weights:from>to") in row-major order', () => {
    const d = base();
    d.projections[0].init = { kind: 'uniform', scale: 0.3, seed: 11 };
    d.projections[1].init = { kind: 'normal', scale: 2 };
    const n = check(d, 5);
    const r0 = new Rng(11, 'weights:in>h');
    expect(Array.from(n.projections[0].weights)).toEqual(Array.from({ length: 12 }, () => 0.3 * (2 * r0.uniform() - 1)));
    const r1 = new Rng(5, 'weights:h>out'); // no init seed: the run seed
    expect(Array.from(n.projections[1].weights)).toEqual(Array.from({ length: 6 }, () => 2 * r1.normal()));
  });

  it('without weights or init draws N(0, 0.05²) from the run seed (default 1); same seed, same numbers', () => {
    const d = base();
    const a = check(d);
    const r = new Rng(1, 'weights:in>h');
    expect(Array.from(a.projections[0].weights)).toEqual(Array.from({ length: 12 }, () => 0.05 * r.normal()));
    expect(Array.from(check(d).projections[0].weights)).toEqual(Array.from(a.projections[0].weights));
    expect(Array.from(check(d, 2).projections[0].weights)).not.toEqual(Array.from(a.projections[0].weights));
  });

  it('draw statistics: normal has sd = scale, uniform fills [-scale, scale] with variance scale²/3', () => {
    const d = desc(
      { in: { size: 500 }, a: { size: 200, neuron: le() }, b: { size: 200, neuron: le(), role: 'output' } },
      [
        { from: 'in', to: 'a', init: { kind: 'normal', scale: 0.05, seed: 3 } },
        { from: 'in', to: 'b', init: { kind: 'uniform', scale: 0.3, seed: 3 } },
      ],
    );
    const n = check(d);
    const w = n.projections[0].weights; // 100 000 draws: sd of the mean 0.05/316, sd of the sd about 0.05/447
    expect(Math.abs(mean(w))).toBeLessThan(4 * (0.05 / Math.sqrt(w.length)));
    expect(Math.sqrt(variance(w))).toBeCloseTo(0.05, 3);
    const u = n.projections[1].weights;
    expect(Math.max(...u)).toBeLessThanOrEqual(0.3);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-0.3);
    expect(Math.max(...u)).toBeGreaterThan(0.299);
    expect(Math.abs(mean(u))).toBeLessThan(4 * (0.3 / Math.sqrt(3 * u.length)));
    expect(variance(u)).toBeCloseTo(0.09 / 3, 3);
  });

  it('bias init draws from Rng(seed, "bias:<population>")', () => {
    const d = base();
    d.populations.h.bias = { kind: 'normal', scale: 0.05, seed: 2 };
    d.populations.out.bias = { kind: 'uniform', scale: 1 };
    const n = check(d, 9);
    const rh = new Rng(2, 'bias:h');
    expect(Array.from(n.populations[1].bias)).toEqual([0.05 * rh.normal(), 0.05 * rh.normal(), 0.05 * rh.normal()]);
    const ro = new Rng(9, 'bias:out');
    expect(Array.from(n.populations[2].bias)).toEqual([2 * ro.uniform() - 1, 2 * ro.uniform() - 1]);
  });

  it('sha256 is of the text; validateNetworkObject agrees with validating its JSON', () => {
    const d = base();
    const src = text(d);
    const n = validateNetwork(src);
    expect(n.sha256).toBe(createHash('sha256').update(src).digest('hex'));
    expect(n.sha256).toMatch(/^[0-9a-f]{64}$/);
    const o = validateNetworkObject(d, { seed: 1 });
    expect(o.sha256).toBe(createHash('sha256').update(JSON.stringify(d)).digest('hex'));
    expect(Array.from(o.projections[0].weights)).toEqual(Array.from(n.projections[0].weights));
    expect(o.description).toEqual(d);
  });

  it('refuses a bad seed', () => {
    expect(diagnosticsOf(() => validateNetwork(text(base()), { seed: -1 }))[0].message).toContain('--seed');
  });
});
