/**
 * Constant expressions of the assembler: numbers, symbols, local labels (`1b`, `1f`), `.` (the
 * current address), C operators, and the relocation functions %hi(x) and %lo(x).
 */
import type { Token } from './lexer.js';

/** An expression tree; `col` is where each node starts in the source line. */
export type Expr =
  | { kind: 'num'; value: number; col: number }
  | { kind: 'sym'; name: string; col: number }
  | { kind: 'local'; label: number; dir: 'b' | 'f'; col: number }
  | { kind: 'dot'; col: number }
  | { kind: 'unary'; op: string; arg: Expr; col: number }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; col: number }
  | { kind: 'fn'; name: 'hi' | 'lo'; arg: Expr; col: number };

/** A mistake at a column of the current statement. */
export class AsmError {
  constructor(readonly message: string, readonly col: number) {}
}

const LEVELS: string[][] = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

/** Parses a whole token list as one expression. */
export function parseExpr(tokens: Token[], colIfEmpty: number): Expr {
  if (tokens.length === 0) throw new AsmError('expected an expression', colIfEmpty);
  const p = { tokens, i: 0 };
  const e = parseLevel(p, 0);
  if (p.i < tokens.length) throw new AsmError(`unexpected '${tokens[p.i].text}' in expression`, tokens[p.i].col);
  return e;
}

interface P {
  tokens: Token[];
  i: number;
}

function parseLevel(p: P, level: number): Expr {
  if (level === LEVELS.length) return parseUnary(p);
  let left = parseLevel(p, level + 1);
  for (;;) {
    const t = p.tokens[p.i];
    if (!t || t.kind !== 'punct' || !LEVELS[level].includes(t.text)) return left;
    p.i++;
    const right = parseLevel(p, level + 1);
    left = { kind: 'binary', op: t.text, left, right, col: t.col };
  }
}

function parseUnary(p: P): Expr {
  const t = p.tokens[p.i];
  if (!t) throw new AsmError('expression ends too early', p.tokens[p.tokens.length - 1].col);
  if (t.kind === 'punct' && (t.text === '-' || t.text === '~' || t.text === '+')) {
    p.i++;
    return { kind: 'unary', op: t.text, arg: parseUnary(p), col: t.col };
  }
  if (t.kind === 'punct' && t.text === '%') {
    const name = p.tokens[p.i + 1];
    if (!name || name.kind !== 'id' || (name.text !== 'hi' && name.text !== 'lo')) {
      throw new AsmError('expected %hi(...) or %lo(...)', t.col);
    }
    p.i += 2;
    return { kind: 'fn', name: name.text, arg: parseParen(p, t.col), col: t.col };
  }
  return parsePrimary(p);
}

function parseParen(p: P, col: number): Expr {
  const open = p.tokens[p.i];
  if (!open || open.text !== '(') throw new AsmError("expected '('", open?.col ?? col);
  p.i++;
  const e = parseLevel(p, 0);
  const close = p.tokens[p.i];
  if (!close || close.text !== ')') throw new AsmError("expected ')'", close?.col ?? open.col);
  p.i++;
  return e;
}

function parsePrimary(p: P): Expr {
  const t = p.tokens[p.i];
  if (t.kind === 'num') {
    p.i++;
    return { kind: 'num', value: t.value, col: t.col };
  }
  if (t.kind === 'local') {
    p.i++;
    return { kind: 'local', label: Number(t.text.slice(0, -1)), dir: t.text.endsWith('b') ? 'b' : 'f', col: t.col };
  }
  if (t.kind === 'id') {
    p.i++;
    return t.text === '.' ? { kind: 'dot', col: t.col } : { kind: 'sym', name: t.text, col: t.col };
  }
  if (t.kind === 'punct' && t.text === '(') return parseParen(p, t.col);
  if (t.kind === 'float') throw new AsmError(`'${t.text}' is not an integer (floats only in .float)`, t.col);
  throw new AsmError(`unexpected '${t.text}' in expression`, t.col);
}

/** How an expression's leaves are valued. */
export interface ExprEnv {
  symbol(name: string, col: number): number;
  local(label: number, dir: 'b' | 'f', col: number): number;
  dot(col: number): number;
}

/** %hi(x): the upper 20 bits that, with %lo(x) added by addi/load/store, rebuild x. */
export function hi20(x: number): number {
  return ((x + 0x800) >>> 12) & 0xfffff;
}
/** %lo(x): the sign-extended low 12 bits of x. */
export function lo12(x: number): number {
  return (x << 20) >> 20;
}

/** Evaluates an expression with exact integer + - * and 32-bit bitwise operators. */
export function evaluate(e: Expr, env: ExprEnv): number {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'sym':
      return env.symbol(e.name, e.col);
    case 'local':
      return env.local(e.label, e.dir, e.col);
    case 'dot':
      return env.dot(e.col);
    case 'unary': {
      const a = evaluate(e.arg, env);
      return e.op === '-' ? -a : e.op === '~' ? ~a : a;
    }
    case 'fn': {
      const a = evaluate(e.arg, env);
      return e.name === 'hi' ? hi20(a) : lo12(a);
    }
    case 'binary': {
      const a = evaluate(e.left, env);
      const b = evaluate(e.right, env);
      switch (e.op) {
        case '+': return a + b;
        case '-': return a - b;
        case '*': return a * b;
        case '/':
        case '%':
          if (b === 0) throw new AsmError('division by zero in expression', e.col);
          return e.op === '/' ? Math.trunc(a / b) : a % b;
        case '<<': return a << b;
        case '>>': return a >> b;
        case '&': return a & b;
        case '|': return a | b;
        case '^': return a ^ b;
      }
      throw new Error(`unknown operator ${e.op}`);
    }
  }
}
