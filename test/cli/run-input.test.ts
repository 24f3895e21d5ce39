import { describe, expect, it } from 'vitest';
import { checkRunInput } from '../../cli/run-input.js';
import { UserError } from '../../common/diagnostics.js';
import { syntheticImage } from '../image/synthetic-image.js';

const manifest = syntheticImage().manifest; // populations: in (2, input), h (3, hidden), out (2, output)

function lines(value: unknown): string[] {
  try {
    checkRunInput(value, manifest, 'in.json');
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message.split('\n');
  }
  throw new Error('accepted');
}

describe('run input', () => {
  it('accepts a valid input and keeps the schedules', () => {
    const r = checkRunInput(
      { duration: 20, inputs: { in: [{ t: 0, value: [1, 0] }, { t: 10, value: [0, 1] }] }, targets: { out: [{ t: 0, value: [0.5, 0] }] } },
      manifest,
      'in.json',
    );
    expect(r.durationMs).toBe(20);
    expect(r.inputs.in.map((e) => [e.t, Array.from(e.value)])).toEqual([[0, [1, 0]], [10, [0, 1]]]);
    expect(Object.keys(r.targets)).toEqual(['out']);
  });

  it('unknown population, wrong value length, t out of order: each with its pointer', () => {
    expect(lines({ inputs: { in: [{ t: 0, value: [1, 0] }], nope: [{ t: 0, value: [1] }] } })).toEqual([
      "in.json: /inputs/nope: unknown population 'nope'; the image has in, h, out",
    ]);
    expect(lines({ inputs: { in: [{ t: 0, value: [1, 0, 0] }] } })).toEqual([
      "in.json: /inputs/in/0/value: has 3 values but population 'in' has 2 neurons",
    ]);
    expect(lines({ inputs: { in: [{ t: 0, value: [1, 0] }, { t: 10, value: [0, 1] }, { t: 5, value: [0, 0] }] } })).toEqual([
      "in.json: /inputs/in/2/t: t = 5 ms is not after the previous entry's t = 10 ms; entries must be in increasing order of t",
    ]);
  });

  it('roles, first time, values, duration and missing inputs', () => {
    expect(lines({ duration: -1, inputs: { h: [{ t: 0, value: [0, 0, 0] }] }, targets: { in: [{ t: 0, value: [0, 0] }] } })).toEqual([
      'in.json: /duration: must be a number of biological ms greater than 0 (got -1)',
      "in.json: /inputs/h: population 'h' is a hidden population; inputs drive input populations only",
      "in.json: /targets/in: population 'in' is an input population; targets are given for output populations only",
      "in.json: /inputs: missing a schedule for input population 'in' (it has no spike source in the description)",
    ]);
    expect(lines({ inputs: { in: [{ t: 1, value: [0, null] }] } })).toEqual([
      'in.json: /inputs/in/0/t: the first entry must start at t = 0 ms (got 1 ms)',
      'in.json: /inputs/in/0/value/1: must be a finite number (got null)',
    ]);
    try {
      checkRunInput(undefined, manifest);
      throw new Error('accepted');
    } catch (err) {
      expect((err as Error).message).toBe(
        "input population 'in' has no spike source in the description, so it needs an input schedule: give --input INPUT.json",
      );
    }
  });
});
