/**
 * User mistakes are diagnostics, not exceptions: each names the place (file, JSON pointer or
 * line:column) and the rule it broke, and prints on one line. `throw` of anything else is a bug.
 */

export interface Diagnostic {
  /** File the mistake is in, as the user named it. */
  file?: string;
  /** JSON pointer (RFC 6901) into that file, e.g. `/populations/h1/neuron/tau_m`. */
  pointer?: string;
  /** 1-based line and column for text sources (assembly, JSON syntax errors). */
  line?: number;
  column?: number;
  /** What rule was broken, in words, with the unit where one applies. */
  message: string;
  severity?: 'error' | 'warning';
}

/** Formats one diagnostic as a single line: `file:line:col: pointer: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  let place = d.file ?? '';
  if (d.line !== undefined) place += `:${d.line}${d.column !== undefined ? `:${d.column}` : ''}`;
  const parts = [place, d.pointer !== undefined ? (d.pointer === '' ? '/' : d.pointer) : ''].filter((s) => s !== '');
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  const msg = d.message.replace(/\s*\n\s*/g, ' ');
  return parts.length ? `${parts.join(': ')}: ${prefix}${msg}` : `${prefix}${msg}`;
}

/** A user error carrying one or more diagnostics; the CLI prints them and exits with code 1. */
export class UserError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic | Diagnostic[]) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    super(list.map(formatDiagnostic).join('\n'));
    this.name = 'UserError';
    this.diagnostics = list;
  }
}

/** Throws a UserError for one place and rule. */
export function fail(message: string, where: Omit<Diagnostic, 'message'> = {}): never {
  throw new UserError({ ...where, message });
}

/** Escapes a key for use in a JSON pointer. */
export function pointerKey(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}
