/**
 * JSON text with user-grade syntax errors: `parseJsonText` returns the value, or throws one
 * UserError naming the file, the 1-based line and column, and what was expected there. V8's own
 * JSON.parse messages differ between Node versions and give only an offset, so on failure a small
 * scanner walks the text again to find and describe the first mistake.
 */
import { UserError } from './diagnostics.js';

/** Parses JSON text (a leading byte-order mark is ignored); a syntax error becomes a UserError with line:column. */
export function parseJsonText(text: string, file?: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (err) {
    const found = findJsonSyntaxError(body);
    const offset = text.length - body.length;
    if (found) {
      const { line, column } = lineColumn(text, found.pos + offset);
      throw new UserError({ file, line, column, message: `invalid JSON: ${found.message}` });
    }
    // Our scanner accepted what V8 refused: report V8's words and offset rather than nothing.
    const m = /position (\d+)/.exec(String((err as Error).message));
    const where = m ? lineColumn(text, Number(m[1]) + offset) : {};
    throw new UserError({ file, ...where, message: `invalid JSON: ${(err as Error).message}` });
  }
}

/** 1-based line and column (in UTF-16 code units) of an offset into text. */
export function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: pos - lineStart + 1 };
}

/** The offset and description of the first JSON syntax error in text, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): { pos: number; message: string } | undefined {
  let i = 0;
  const n = text.length;

  class SyntaxFault {
    constructor(
      readonly pos: number,
      readonly message: string,
    ) {}
  }
  const show = (pos: number): string => {
    if (pos >= n) return 'end of input';
    const c = text[pos];
    if (c === '\n') return 'end of line';
    return `'${c}'`;
  };
  const fault = (expected: string, pos = i): never => {
    throw new SyntaxFault(pos, `expected ${expected}, found ${show(pos)}`);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++) {
      if (text[i + k] !== word[k]) fault(`'${word}'`, i + k);
    }
    i += word.length;
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= n) throw new SyntaxFault(i, 'unterminated string (missing closing ")');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) throw new SyntaxFault(i, 'control character inside a string (write it as an escape such as \\n)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new SyntaxFault(i, 'bad \\u escape (needs 4 hex digits)');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else throw new SyntaxFault(i, `bad escape '\\${e ?? ''}' in a string`);
        continue;
      }
      i++;
    }
  };
  const digits = () => {
    const start = i;
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    if (i === start) fault('a digit');
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') {
      i++;
      if (i < n && /[0-9]/.test(text[i])) throw new SyntaxFault(i - 1, 'numbers must not have leading zeros');
    } else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    if (c === "'") throw new SyntaxFault(i, "strings must use double quotes, not '");
    fault('a value (object, array, string, number, true, false or null)');
  };
  const object = () => {
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] === '}') throw new SyntaxFault(i, "trailing comma before '}'");
      if (text[i] !== '"') fault('a property name in double quotes');
      string();
      ws();
      if (text[i] !== ':') fault("':' after the property name");
      i++;
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      fault("',' or '}' after a property value");
    }
  };
  const array = () => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] === ']') throw new SyntaxFault(i, "trailing comma before ']'");
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      fault("',' or ']' after an array element");
    }
  };

  try {
    value();
    ws();
    if (i < n) fault('end of input after the top-level value');
    return undefined;
  } catch (e) {
    if (e instanceof SyntaxFault) return { pos: e.pos, message: e.message };
    throw e;
  }
}
