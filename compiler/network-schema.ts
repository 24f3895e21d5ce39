/**
 * `lechip/network@1`: the network description users write. One source for the JSON Schema
 * (checked by ajv) and the TypeScript types (derived with TypeBox's Static). `unit` annotates
 * physical quantities; validation messages quote it.
 */
import { Type, type Static } from '@sinclair/typebox';

const ms = (description: string, opts: object = {}) =>
  Type.Number({ exclusiveMinimum: 0, unit: 'ms', description, ...opts });

export const Activation = Type.Union(
  [Type.Literal('tanh'), Type.Literal('sigmoid'), Type.Literal('relu'), Type.Literal('hardsigmoid'), Type.Literal('linear')],
  { description: 'phi; hardsigmoid = clamp(x, 0, 1) as in the LE reference' },
);

/** Draws an array: `uniform` in [-scale, scale] or `normal` with standard deviation `scale`. */
export const Init = Type.Object(
  {
    kind: Type.Union([Type.Literal('normal'), Type.Literal('uniform')]),
    scale: Type.Number({ minimum: 0 }),
    seed: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/** Rate neuron: tau_m du/dt = -u + W r_pre + b + e;  le: r = phi(u + tau_r du/dt), li: r = phi(u). */
export const RateNeuron = Type.Object(
  {
    model: Type.Union([Type.Literal('le'), Type.Literal('li')]),
    tau_m: ms('membrane time constant'),
    tau_r: Type.Optional(ms('prospective time constant (defaults to tau_m)')),
    activation: Type.Optional(Activation),
  },
  { additionalProperties: false },
);

/** Leaky integrate-and-fire with conductance-based exponential synapses (PyNN IF_cond_exp names and units). */
export const LifNeuron = Type.Object(
  {
    model: Type.Literal('lif'),
    cm: Type.Optional(Type.Number({ exclusiveMinimum: 0, unit: 'nF' })),
    tau_m: Type.Optional(ms('membrane time constant')),
    v_rest: Type.Optional(Type.Number({ unit: 'mV' })),
    v_reset: Type.Optional(Type.Number({ unit: 'mV' })),
    v_thresh: Type.Optional(Type.Number({ unit: 'mV' })),
    tau_refrac: Type.Optional(Type.Number({ minimum: 0, unit: 'ms' })),
    tau_syn_E: Type.Optional(ms('excitatory synaptic time constant')),
    tau_syn_I: Type.Optional(ms('inhibitory synaptic time constant')),
    e_rev_E: Type.Optional(Type.Number({ unit: 'mV' })),
    e_rev_I: Type.Optional(Type.Number({ unit: 'mV' })),
    i_offset: Type.Optional(Type.Number({ unit: 'nA' })),
  },
  { additionalProperties: false },
);

export const SpikeSource = Type.Union([
  Type.Object(
    { kind: Type.Literal('spike_times'), times: Type.Array(Type.Array(Type.Number({ minimum: 0, unit: 'ms' }))) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('poisson'),
      rate_hz: Type.Number({ minimum: 0, unit: 'Hz' }),
      seed: Type.Optional(Type.Integer({ minimum: 0 })),
    },
    { additionalProperties: false },
  ),
]);

export const Population = Type.Object(
  {
    size: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
    role: Type.Optional(Type.Union([Type.Literal('input'), Type.Literal('hidden'), Type.Literal('output')])),
    neuron: Type.Optional(Type.Union([RateNeuron, LifNeuron])),
    bias: Type.Optional(Type.Union([Type.Array(Type.Number()), Init])),
    source: Type.Optional(SpikeSource),
  },
  { additionalProperties: false },
);

export const Projection = Type.Object(
  {
    from: Type.String({ minLength: 1 }),
    to: Type.String({ minLength: 1 }),
    weights: Type.Optional(Type.Array(Type.Array(Type.Number()), { description: 'row-major [to.size][from.size]' })),
    init: Type.Optional(Init),
    plastic: Type.Optional(Type.Boolean()),
    eta_scale: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const Learning = Type.Object(
  {
    rule: Type.Union([Type.Literal('le'), Type.Literal('none')]),
    beta: Type.Optional(Type.Number({ minimum: 0, description: 'output nudging strength' })),
    eta: Type.Optional(Type.Number({ minimum: 0, unit: '1/ms', description: 'dW/dt = eta e r^T per biological ms' })),
    feedback: Type.Optional(Type.Union([Type.Literal('transpose'), Type.Literal('random')])),
    feedback_seed: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const Presentation = Type.Object(
  {
    t_pres: Type.Optional(ms('presentation time of one sample')),
    dt: Type.Optional(ms('Euler step')),
  },
  { additionalProperties: false },
);

export const NetworkDescription = Type.Object(
  {
    format: Type.Literal('lechip/network@1'),
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    populations: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.-]*$' }), Population, { minProperties: 1 }),
    projections: Type.Array(Projection),
    learning: Type.Optional(Learning),
    presentation: Type.Optional(Presentation),
  },
  { additionalProperties: false },
);

export type ActivationName = Static<typeof Activation>;
export type InitSpec = Static<typeof Init>;
export type RateNeuronSpec = Static<typeof RateNeuron>;
export type LifNeuronSpec = Static<typeof LifNeuron>;
export type PopulationSpec = Static<typeof Population>;
export type ProjectionSpec = Static<typeof Projection>;
export type LearningSpec = Static<typeof Learning>;
export type NetworkDescriptionSpec = Static<typeof NetworkDescription>;
