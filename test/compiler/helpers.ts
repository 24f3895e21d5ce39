/** Small builders shared by the compiler tests. */
import { expect } from 'vitest';
import { UserError, type Diagnostic } from '../../common/diagnostics.js';
import { loadChip } from '../../chip/presets.js';
import type { ChipSpecT } from '../../chip/spec.js';

/** A description object with the format filled in. */
export function desc(
  populations: Record<string, unknown>,
  projections: unknown[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { format: 'lechip/network@1', name: 'test', populations, projections, ...extra };
}

/** The description as JSON text. */
export function text(d: Record<string, unknown>): string {
  return JSON.stringify(d, null, 2);
}

/** A rate neuron spec. */
export function le(tau_m = 20, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'le', tau_m, ...more };
}

/** A preset with some fields replaced (a custom chip for hand-checkable placements). */
export function chipLike(base: string, patch: Partial<ChipSpecT>): ChipSpecT {
  return { ...loadChip(base), ...patch };
}

/** Runs f, expects a UserError, and returns its diagnostics. */
export function diagnosticsOf(f: () => unknown): Diagnostic[] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).diagnostics;
  }
  throw new Error('expected a UserError, got none');
}

/** The MNIST MLP of RESEARCH.md §1, 784-300-100-10, with LE learning by default. */
export function mnistDescription(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return desc(
    {
      in: { size: 784 },
      h1: { size: 300, neuron: le(20, { activation: 'hardsigmoid' }) },
      h2: { size: 100, neuron: le(20, { activation: 'hardsigmoid' }) },
      out: { size: 10, role: 'output', neuron: le(20, { activation: 'linear' }) },
    },
    [
      { from: 'in', to: 'h1' },
      { from: 'h1', to: 'h2', eta_scale: 0.2 },
      { from: 'h2', to: 'out', eta_scale: 0.1 },
    ],
    extra,
  );
}
