/**
 * The run input file (CONTRACT.md "run input"): piecewise-constant values per input population and,
 * optionally, targets per output population. Checked against the image's populations with every
 * mistake reported at once, each with its JSON pointer.
 */
import { pointerKey, UserError, type Diagnostic } from '../common/diagnostics.js';
import type { ImageManifest, ImagePopulation } from '../chip/image-model.js';
import type { Schedule } from '../emulator/chip-interface.js';

/** A checked run input. */
export interface RunInput {
  durationMs?: number;
  inputs: Record<string, Schedule>;
  targets: Record<string, Schedule>;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Checks a parsed run input against the image; `file` is named in the diagnostics. With no file, `value` is undefined. */
export function checkRunInput(value: unknown, manifest: ImageManifest, file?: string): RunInput {
  const diags: Diagnostic[] = [];
  const at = (pointer: string, message: string) => diags.push({ file, pointer, message });
  const pops = new Map(manifest.populations.map((p) => [p.name, p]));
  const names = manifest.populations.map((p) => p.name).join(', ');
  const out: RunInput = { inputs: {}, targets: {} };

  if (value !== undefined) {
    if (!isObject(value)) {
      at('', 'a run input must be a JSON object with "duration", "inputs" and optionally "targets"');
      throw new UserError(diags);
    }
    for (const key of Object.keys(value)) {
      if (!['duration', 'inputs', 'targets', 'description'].includes(key)) {
        at(`/${pointerKey(key)}`, `unknown property '${key}'; a run input has duration, inputs, targets (and description)`);
      }
    }
    if (value.duration !== undefined) {
      if (typeof value.duration !== 'number' || !(value.duration > 0) || !Number.isFinite(value.duration)) {
        at('/duration', `must be a number of biological ms greater than 0 (got ${JSON.stringify(value.duration)})`);
      } else out.durationMs = value.duration;
    }
    for (const section of ['inputs', 'targets'] as const) {
      const v = value[section];
      if (v === undefined) continue;
      if (!isObject(v)) {
        at(`/${section}`, 'must be an object mapping population names to schedules');
        continue;
      }
      for (const [name, schedule] of Object.entries(v)) {
        const ptr = `/${section}/${pointerKey(name)}`;
        const pop = pops.get(name);
        if (!pop) {
          at(ptr, `unknown population '${name}'; the image has ${names}`);
          continue;
        }
        if (section === 'inputs' && pop.role !== 'input') {
          at(ptr, `population '${name}' is ${pop.role === 'output' ? 'an output' : 'a hidden'} population; inputs drive input populations only`);
          continue;
        }
        if (section === 'inputs' && pop.source !== undefined) {
          at(ptr, `input population '${name}' has a spike source in the description; it takes no input schedule`);
          continue;
        }
        if (section === 'targets' && pop.role !== 'output') {
          at(ptr, `population '${name}' is ${pop.role === 'input' ? 'an input' : 'a hidden'} population; targets are given for output populations only`);
          continue;
        }
        const checked = checkSchedule(schedule, pop, ptr, at);
        if (checked) out[section][name] = checked;
      }
    }
  }
  for (const p of manifest.populations) {
    if (p.role === 'input' && p.source === undefined && !(p.name in out.inputs) && !diags.some((d) => d.pointer?.startsWith(`/inputs/${pointerKey(p.name)}`))) {
      if (value === undefined) {
        diags.push({ message: `input population '${p.name}' has no spike source in the description, so it needs an input schedule: give --input INPUT.json` });
      } else {
        at('/inputs', `missing a schedule for input population '${p.name}' (it has no spike source in the description)`);
      }
    }
  }
  if (diags.length) throw new UserError(diags);
  return out;
}

function checkSchedule(v: unknown, pop: ImagePopulation, ptr: string, at: (p: string, m: string) => void): Schedule | undefined {
  if (!Array.isArray(v) || v.length === 0) {
    at(ptr, 'must be a non-empty array of { "t": ms, "value": [...] } entries');
    return undefined;
  }
  const out: Schedule = [];
  let ok = true;
  let prev = -Infinity;
  v.forEach((e, i) => {
    const ep = `${ptr}/${i}`;
    if (!isObject(e)) {
      at(ep, 'must be an object { "t": ms, "value": [...] }');
      ok = false;
      return;
    }
    for (const key of Object.keys(e)) if (key !== 't' && key !== 'value') at(`${ep}/${pointerKey(key)}`, `unknown property '${key}'; an entry has t and value`);
    const t = e.t;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
      at(`${ep}/t`, `must be a time in biological ms, 0 or more (got ${JSON.stringify(t)})`);
      ok = false;
    } else if (i === 0 && t !== 0) {
      at(`${ep}/t`, `the first entry must start at t = 0 ms (got ${t} ms)`);
      ok = false;
    } else if (!(t > prev)) {
      at(`${ep}/t`, `t = ${t} ms is not after the previous entry's t = ${prev} ms; entries must be in increasing order of t`);
      ok = false;
    }
    if (typeof t === 'number') prev = Math.max(prev, t);
    const value = e.value;
    if (!Array.isArray(value)) {
      at(`${ep}/value`, `must be an array of ${pop.size} numbers (one per neuron of '${pop.name}')`);
      ok = false;
    } else if (value.length !== pop.size) {
      at(`${ep}/value`, `has ${value.length} values but population '${pop.name}' has ${pop.size} neurons`);
      ok = false;
    } else {
      const bad = value.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
      if (bad >= 0) {
        at(`${ep}/value/${bad}`, `must be a finite number (got ${JSON.stringify(value[bad])})`);
        ok = false;
      }
    }
    if (ok) out.push({ t: t as number, value: Float64Array.from(value as number[]) });
  });
  return ok ? out : undefined;
}
