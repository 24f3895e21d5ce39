import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { argmax, epochOrder } from '../../cli/commands/train.js';
import { chipConfig, coresArg, intArg, listArg, mismatchArg, numberArg } from '../../cli/options.js';
import { formatDuration } from '../../cli/progress.js';
import { UserError } from '../../common/diagnostics.js';
import { Rng } from '../../common/random.js';

describe('option parsers (wrong form: exit 2)', () => {
  it('integers, numbers, cores, lists', () => {
    expect(intArg('42')).toBe(42);
    expect(intArg('-3')).toBe(-3);
    for (const bad of ['x', '1.5', '', '1e3', '0x10', '12abc']) expect(() => intArg(bad)).toThrow(InvalidArgumentError);
    expect(numberArg('0.5')).toBe(0.5);
    expect(numberArg('1e-3')).toBe(0.001);
    expect(numberArg('.25')).toBe(0.25);
    for (const bad of ['x', '1,5', 'NaN', 'Infinity', '']) expect(() => numberArg(bad)).toThrow(InvalidArgumentError);
    expect(coresArg('auto')).toBe('auto');
    expect(coresArg('4')).toBe(4);
    expect(() => coresArg('x')).toThrow(InvalidArgumentError);
    expect(listArg('out,h1')).toEqual(['out', 'h1']);
    expect(() => listArg('out,,h1')).toThrow(InvalidArgumentError);
  });

  it('--mismatch k=v pairs', () => {
    expect(mismatchArg('tau_m=0.3,tau_r=0.25')).toEqual({ tau_m: 0.3, tau_r: 0.25 });
    expect(() => mismatchArg('tau_x=0.3')).toThrow(/unknown parameter 'tau_x'/);
    expect(() => mismatchArg('tau_m:0.3')).toThrow(/key=value/);
    expect(() => mismatchArg('tau_m=abc')).toThrow(/not a number/);
  });

  it('range checks of well-formed values are user errors (exit 1)', () => {
    expect(chipConfig({ chipSeed: 7, seed: 1, mismatchScale: 2, dt: 0.05 })).toEqual({ chipSeed: 7, seed: 1, mismatchScale: 2, dtMs: 0.05 });
    expect(() => chipConfig({ chipSeed: -1, seed: 1 })).toThrow(UserError);
    expect(() => chipConfig({ chipSeed: 0, seed: 1, dt: 0 })).toThrow('--dt must be greater than 0 ms (got 0)');
    expect(() => chipConfig({ chipSeed: 0, seed: 1, mismatch: { tau_m: -0.1 } })).toThrow('--mismatch tau_m must be 0 or more (got -0.1)');
  });
});

describe('training helpers', () => {
  it('epoch order is a seeded permutation: Rng(seed, "data-order:epoch" + e).shuffle', () => {
    const a = epochOrder(3, 1, 50);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(epochOrder(3, 1, 50))).toEqual(Array.from(a));
    expect(Array.from(epochOrder(3, 2, 50))).not.toEqual(Array.from(a));
    const ref = Array.from({ length: 50 }, (_, i) => i);
    new Rng(3, 'data-order:epoch1').shuffle(ref);
    expect(Array.from(a)).toEqual(ref);
  });

  it('argmax takes the first of equal maxima', () => {
    expect(argmax([0, 3, 1, 3], 0, 4)).toBe(1);
    expect(argmax([9, 9, -1, -5, -2], 2, 3)).toBe(0);
    expect(formatDuration(3725)).toBe('1h02m');
    expect(formatDuration(245)).toBe('4m05s');
    expect(formatDuration(12.4)).toBe('12s');
  });
});
