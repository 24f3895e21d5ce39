/**
 * Tokens of one assembly statement, with 1-based columns for diagnostics. Comments (`#`, `//`)
 * end a line; `;` separates statements on one line.
 */

/** Kinds of token. */
export type TokenKind = 'id' | 'num' | 'float' | 'str' | 'local' | 'punct';

/** One token of a statement. */
export interface Token {
  kind: TokenKind;
  /** Identifier or punctuation text; string contents; local label reference like `1b`. */
  text: string;
  /** Numeric value of num and float tokens. */
  value: number;
  /** 1-based column in the source line. */
  col: number;
}

/** One statement of source: its tokens (possibly none) and its line. */
export interface SourceStatement {
  line: number;
  tokens: Token[];
}

/** A lexical mistake at a column. */
export class LexError {
  constructor(readonly message: string, readonly col: number) {}
}

const ID_START = /[A-Za-z_.$]/;
const ID_CHAR = /[A-Za-z0-9_.$]/;
const PUNCT2 = ['<<', '>>'];
const PUNCT1 = ',()+-*/%&|^~:';

/** Splits source into statements of tokens; lexical errors are reported per line. */
export function lex(source: string, onError: (line: number, e: LexError) => void): SourceStatement[] {
  const out: SourceStatement[] = [];
  const lines = source.split(/\r?\n/);
  lines.forEach((text, idx) => {
    const line = idx + 1;
    try {
      let cur: Token[] = [];
      let i = 0;
      const n = text.length;
      while (i < n) {
        const c = text[i];
        if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
          i++;
          continue;
        }
        if (c === '#' || (c === '/' && text[i + 1] === '/')) break;
        if (c === ';') {
          out.push({ line, tokens: cur });
          cur = [];
          i++;
          continue;
        }
        const col = i + 1;
        if (c === '"') {
          const [s, end] = readString(text, i);
          cur.push({ kind: 'str', text: s, value: 0, col });
          i = end;
          continue;
        }
        if (c === "'") {
          // Character literal: 'a' or an escape like '\n'.
          const [s, end] = readString(text, i, "'");
          if (s.length !== 1) throw new LexError('character literal must hold exactly one character', col);
          cur.push({ kind: 'num', text: text.slice(i, end), value: s.charCodeAt(0), col });
          i = end;
          continue;
        }
        if (/[0-9]/.test(c)) {
          let j = i;
          while (j < n && ID_CHAR.test(text[j])) j++;
          // A float like 1.5e-3 continues through an exponent sign.
          while (j < n && (text[j] === '+' || text[j] === '-') && /[eE]$/.test(text.slice(i, j)) && !/^0x/i.test(text.slice(i, j))) {
            j++;
            while (j < n && ID_CHAR.test(text[j])) j++;
          }
          const word = text.slice(i, j);
          cur.push(numberToken(word, col));
          i = j;
          continue;
        }
        if (ID_START.test(c)) {
          let j = i + 1;
          while (j < n && ID_CHAR.test(text[j])) j++;
          cur.push({ kind: 'id', text: text.slice(i, j), value: 0, col });
          i = j;
          continue;
        }
        const two = text.slice(i, i + 2);
        if (PUNCT2.includes(two)) {
          cur.push({ kind: 'punct', text: two, value: 0, col });
          i += 2;
          continue;
        }
        if (PUNCT1.includes(c)) {
          cur.push({ kind: 'punct', text: c, value: 0, col });
          i++;
          continue;
        }
        throw new LexError(`unexpected character '${c}'`, col);
      }
      out.push({ line, tokens: cur });
    } catch (e) {
      if (!(e instanceof LexError)) throw e;
      onError(line, e);
      out.push({ line, tokens: [] });
    }
  });
  return out;
}

function numberToken(word: string, col: number): Token {
  if (/^[0-9]+[bf]$/.test(word)) return { kind: 'local', text: word, value: 0, col };
  if (/^0x[0-9a-f]+$/i.test(word)) return { kind: 'num', text: word, value: parseInt(word.slice(2), 16), col };
  if (/^0b[01]+$/i.test(word)) return { kind: 'num', text: word, value: parseInt(word.slice(2), 2), col };
  if (/^[0-9]+$/.test(word)) return { kind: 'num', text: word, value: parseInt(word, 10), col };
  if (/^[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?$/.test(word)) return { kind: 'float', text: word, value: Number(word), col };
  throw new LexError(`malformed number '${word}'`, col);
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', '"': '"', "'": "'" };

function readString(text: string, start: number, quote = '"'): [string, number] {
  let s = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === quote) return [s, i + 1];
    if (c === '\\') {
      const e = text[i + 1];
      if (e === 'x') {
        const h = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2));
        if (!h) throw new LexError('\\x needs hex digits', i + 1);
        s += String.fromCharCode(parseInt(h[0], 16));
        i += 2 + h[0].length;
        continue;
      }
      if (e === undefined || !(e in ESCAPES)) throw new LexError(`unknown escape '\\${e ?? ''}'`, i + 1);
      s += ESCAPES[e];
      i += 2;
      continue;
    }
    s += c;
    i++;
  }
  throw new LexError(`unterminated ${quote === '"' ? 'string' : 'character literal'}`, start + 1);
}
