import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError, lineColumn, parseJsonText } from '../../common/json-text.js';
import { diagnosticsOf } from './helpers.js';

describe('JSON text', () => {
  it('accepts exactly what JSON.parse accepts (random values and random one-character edits)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), fc.integer({ min: 0, max: 3 }), fc.constantFrom(...'{}[],:"0-e. \ntx\\'), (v, at, op, ch) => {
        const good = JSON.stringify(v, null, op === 0 ? 2 : undefined);
        expect(findJsonSyntaxError(good)).toBeUndefined();
        const i = good.length ? at % good.length : 0;
        const edited = op === 1 ? good.slice(0, i) + good.slice(i + 1) : good.slice(0, i) + ch + good.slice(i + (op === 2 ? 1 : 0));
        let ok = true;
        try {
          JSON.parse(edited);
        } catch {
          ok = false;
        }
        expect(findJsonSyntaxError(edited) === undefined).toBe(ok);
      }),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('locates and describes common mistakes', () => {
    const cases: [string, number, number, string][] = [
      ['{\n  "a": 1\n  "b": 2\n}', 3, 3, "expected ',' or '}' after a property value, found '\"'"],
      ['{"a": [1, 2,]}', 1, 13, "trailing comma before ']'"],
      ["{'a': 1}", 1, 2, "expected a property name in double quotes, found '''"],
      ['{"a": 012}', 1, 7, 'numbers must not have leading zeros'],
      ['{"a": "x', 1, 9, 'unterminated string (missing closing ")'],
      ['{"a": tru}', 1, 10, "expected 'true', found '}'"],
      ['{"a": 1} x', 1, 10, "expected end of input after the top-level value, found 'x'"],
      ['', 1, 1, 'expected a value (object, array, string, number, true, false or null), found end of input'],
    ];
    for (const [src, line, column, message] of cases) {
      const d = diagnosticsOf(() => parseJsonText(src, 'f.json'));
      expect(d).toEqual([{ file: 'f.json', line, column, message: `invalid JSON: ${message}` }]);
    }
  });

  it('ignores a byte-order mark but counts columns in the file as written', () => {
    expect(parseJsonText('\ufeff{"a": 1}')).toEqual({ a: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
