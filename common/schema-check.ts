/**
 * Checks a value against a TypeBox/JSON schema with ajv and turns every failure into a readable
 * diagnostic: the JSON pointer, the rule in words, the unit from the schema's `unit` annotation
 * and the offending value. A failed union (anyOf) becomes one message about the branch the value
 * meant, not ajv's cascade of one error per branch.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Diagnostic } from './diagnostics.js';

/** An ajv instance as lechip uses it: all errors, strict schemas, `unit` registered as an annotation. */
export function makeAjv(): Ajv {
  // verbose: errors carry the data and the schema that rejected it (for units and values).
  const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
  ajv.addKeyword({ keyword: 'unit', schemaType: 'string' });
  return ajv;
}

/** Runs a compiled validator; returns [] when the value is valid, else one diagnostic per mistake. */
export function checkAgainstSchema(validate: ValidateFunction, value: unknown, file?: string): Diagnostic[] {
  if (validate(value)) return [];
  return schemaDiagnostics(validate.errors ?? [], file);
}

type Schema = Record<string, unknown>;

/** Converts ajv errors (from a validator built by makeAjv, so verbose) into diagnostics. */
export function schemaDiagnostics(errors: readonly ErrorObject[], file?: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const d of resolveErrors([...errors])) {
    const key = `${d.pointer}\u0000${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(file !== undefined ? { file, ...d } : d);
  }
  return out;
}

/** Replaces each outermost anyOf failure (with its branch errors) by what its chosen branch says. */
function resolveErrors(errors: ErrorObject[]): Diagnostic[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  // Outermost first: a nested union's errors belong to an outer union's branch.
  unions.sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  const consumed = new Set<ErrorObject>();
  const results = new Map<ErrorObject, Diagnostic[]>();
  for (const u of unions) {
    if (consumed.has(u)) continue;
    // The same schema (array items, record values) checks many places: match the place too.
    const prefix = `${u.schemaPath}/`;
    const branchErrors = errors.filter(
      (e) => e !== u && e.schemaPath.startsWith(prefix) && (e.instancePath === u.instancePath || e.instancePath.startsWith(`${u.instancePath}/`)),
    );
    for (const e of branchErrors) consumed.add(e);
    results.set(u, resolveUnion(u, branchErrors));
  }
  const out: Diagnostic[] = [];
  for (const e of errors) {
    if (consumed.has(e)) continue;
    const r = results.get(e);
    if (r) out.push(...r);
    else out.push(leafDiagnostic(e));
  }
  return out;
}

function resolveUnion(u: ErrorObject, branchErrors: ErrorObject[]): Diagnostic[] {
  const branches = (u.schema as Schema[]) ?? [];
  const prefix = `${u.schemaPath}/`;
  const byBranch = branches.map(() => [] as ErrorObject[]);
  for (const e of branchErrors) {
    const k = Number(e.schemaPath.slice(prefix.length).split('/')[0]);
    if (byBranch[k]) byBranch[k].push(e);
  }
  const data = u.data;
  // A literal property only tells variants apart when several branches are objects.
  const tagged = branches.filter((b) => b.type === 'object').length > 1;
  const rejected = branches.map((b, k) => isRejected(b, byBranch[k], u.instancePath, tagged));
  const candidates = branches.map((_, k) => k).filter((k) => !rejected[k]);
  if (candidates.length === 1) return resolveErrors(byBranch[candidates[0]]);

  const diags: Diagnostic[] = [];
  const literals = branches.map(literalValues);
  if (literals.every((l) => l !== undefined)) {
    const allowed = literals.flat() as unknown[];
    diags.push({ pointer: u.instancePath, message: `must be one of ${allowed.map(json).join(', ')} (got ${showValue(data)})` });
    return diags;
  }
  const disc = commonDiscriminator(branches);
  if (disc && isPlainObject(data)) {
    const allowed = branches.flatMap((b) => literalValues(propSchema(b, disc)) ?? []);
    if (disc in data) {
      diags.push({
        pointer: `${u.instancePath}/${escapeKey(disc)}`,
        message: `must be one of ${allowed.map(json).join(', ')} (got ${showValue(data[disc])})`,
      });
    } else {
      diags.push({ pointer: u.instancePath, message: `missing required property "${disc}" (one of ${allowed.map(json).join(', ')})` });
    }
    // Mistakes every branch agrees on (e.g. a negative tau_m) are worth reporting already.
    const discPath = `${u.instancePath}/${escapeKey(disc)}`;
    const sig = (e: ErrorObject) => `${e.instancePath}\u0000${e.keyword}\u0000${JSON.stringify(e.params)}`;
    const inAll = byBranch.map((errs) => new Set(errs.map(sig)));
    const common = byBranch[0].filter(
      (e) =>
        e.instancePath !== u.instancePath &&
        e.instancePath !== discPath &&
        !e.instancePath.startsWith(`${discPath}/`) &&
        e.keyword !== 'anyOf' &&
        inAll.every((s) => s.has(sig(e))),
    );
    diags.push(...common.map(leafDiagnostic));
    return diags;
  }
  diags.push({
    pointer: u.instancePath,
    message: `must be ${branches.map(describeSchema).join(' or ')} (got ${showValue(data)})`,
  });
  return diags;
}

/** A branch is rejected when the value is of another type or names another variant (discriminator). */
function isRejected(branch: Schema, errs: ErrorObject[], at: string, tagged: boolean): boolean {
  for (const e of errs) {
    if (e.instancePath === at && (e.keyword === 'type' || e.keyword === 'const' || e.keyword === 'enum')) return true;
    if (tagged && e.instancePath.startsWith(`${at}/`) && (e.keyword === 'const' || e.keyword === 'anyOf' || e.keyword === 'enum')) {
      const rest = e.instancePath.slice(at.length + 1);
      if (rest.includes('/')) continue;
      const key = unescapeKey(rest);
      if (literalValues(propSchema(branch, key)) !== undefined) return true;
    }
  }
  return false;
}

function propSchema(s: Schema | undefined, key: string): Schema | undefined {
  const props = s?.properties as Record<string, Schema> | undefined;
  return props?.[key];
}

/** Values of a literal schema (const, enum, or anyOf of those), else undefined. */
function literalValues(s: Schema | undefined): unknown[] | undefined {
  if (!s) return undefined;
  if ('const' in s) return [s.const];
  if (Array.isArray(s.enum)) return s.enum as unknown[];
  if (Array.isArray(s.anyOf)) {
    const parts = (s.anyOf as Schema[]).map(literalValues);
    if (parts.every((p) => p !== undefined)) return parts.flat() as unknown[];
  }
  return undefined;
}

/** A property that every (object) branch pins to literal values: the union's tag. */
function commonDiscriminator(branches: Schema[]): string | undefined {
  if (!branches.every((b) => b.type === 'object' && b.properties)) return undefined;
  const first = Object.keys(branches[0].properties as Schema);
  return first.find((k) => branches.every((b) => literalValues(propSchema(b, k)) !== undefined));
}

function describeSchema(s: Schema): string {
  const lits = literalValues(s);
  if (lits) return lits.map(json).join(' or ');
  switch (s.type) {
    case 'array': {
      const items = s.items as Schema | undefined;
      if (!items) return 'an array';
      const inner = describeSchema(items).replace(/^an? /, '');
      return `an array of ${plural(inner)}`;
    }
    case 'object': {
      const props = Object.keys((s.properties as Schema) ?? {});
      const req = new Set((s.required as string[]) ?? []);
      return props.length ? `an object {${props.map((p) => (req.has(p) ? p : `${p}?`)).join(', ')}}` : 'an object';
    }
    case 'integer':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    default:
      return 'a valid value';
  }
}

function plural(noun: string): string {
  if (noun.startsWith('array of ')) return `arrays of ${noun.slice('array of '.length)}`;
  if (noun.startsWith('object ')) return `objects ${noun.slice('object '.length)}`;
  return `${noun}s`;
}

function unitOf(s: unknown): string | undefined {
  return s && typeof s === 'object' && typeof (s as Schema).unit === 'string' ? ((s as Schema).unit as string) : undefined;
}

/** One ajv error (not a union) in words. */
function leafDiagnostic(e: ErrorObject): Diagnostic {
  const p = e.params as Record<string, unknown>;
  const unit = unitOf(e.parentSchema);
  const u = unit ? ` ${unit}` : '';
  const got = ` (got ${showValue(e.data)})`;
  switch (e.keyword) {
    case 'exclusiveMinimum':
    case 'minimum':
    case 'exclusiveMaximum':
    case 'maximum':
      return { pointer: e.instancePath, message: `must be ${p.comparison} ${p.limit}${u}${got}` };
    case 'type': {
      const t = String(p.type);
      const article = t === 'integer' || t === 'object' || t === 'array' ? 'an' : 'a';
      return { pointer: e.instancePath, message: `must be ${article} ${t}${unit ? ` in ${unit}` : ''}${got}` };
    }
    case 'const':
      return { pointer: e.instancePath, message: `must be ${json(p.allowedValue)}${got}` };
    case 'enum':
      return { pointer: e.instancePath, message: `must be one of ${(p.allowedValues as unknown[]).map(json).join(', ')}${got}` };
    case 'required': {
      const name = String(p.missingProperty);
      const ps = propSchema(e.parentSchema as Schema, name);
      const what = [typeof ps?.description === 'string' ? ps.description : '', unitOf(ps) ? `in ${unitOf(ps)}` : '']
        .filter(Boolean)
        .join(', ');
      return { pointer: e.instancePath, message: `missing required property "${name}"${what ? ` (${what})` : ''}` };
    }
    case 'additionalProperties': {
      const name = String(p.additionalProperty);
      const allowed = Object.keys(((e.parentSchema as Schema)?.properties as Schema) ?? {});
      const near = closest(name, allowed);
      return {
        pointer: `${e.instancePath}/${escapeKey(name)}`,
        message: `unknown property "${name}"${near ? ` (did you mean "${near}"?)` : ''}; allowed: ${allowed.join(', ')}`,
      };
    }
    case 'minLength':
      return { pointer: e.instancePath, message: p.limit === 1 ? 'must not be empty' : `must have at least ${p.limit} characters` };
    case 'maxLength':
      return { pointer: e.instancePath, message: `must have at most ${p.limit} characters` };
    case 'minItems':
      return { pointer: e.instancePath, message: `must have at least ${p.limit} entries${got}` };
    case 'maxItems':
      return { pointer: e.instancePath, message: `must have at most ${p.limit} entries` };
    case 'minProperties':
      return { pointer: e.instancePath, message: `must have at least ${p.limit} entr${p.limit === 1 ? 'y' : 'ies'}` };
    case 'maxProperties':
      return { pointer: e.instancePath, message: `must have at most ${p.limit} entries` };
    case 'pattern':
      return { pointer: e.instancePath, message: `must match the pattern ${p.pattern}${got}` };
    case 'propertyNames':
      return { pointer: e.instancePath, message: `has an invalid property name ${json(p.propertyName)}` };
    default:
      return { pointer: e.instancePath, message: `${e.message ?? 'is invalid'}${got}` };
  }
}

/** The allowed name nearest to a misspelt one (edit distance at most 2), if any. */
function closest(name: string, allowed: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const a of allowed) {
    const d = editDistance(name.toLowerCase(), a.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = t;
    }
  }
  return prev[b.length];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function json(v: unknown): string {
  return JSON.stringify(v);
}

/** A value as the user wrote it, shortened. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function escapeKey(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapeKey(k: string): string {
  return k.replace(/~1/g, '/').replace(/~0/g, '~');
}
