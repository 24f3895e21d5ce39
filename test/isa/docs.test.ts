import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderIsaDocs } from '../../isa/gen-docs.js';
import { INSTRUCTIONS } from '../../isa/table.js';

const PATH = join(__dirname, '../../docs/isa.md');

describe('docs/isa.md', () => {
  it('is the output of isa/gen-docs.ts (regenerate: UPDATE_DOCS=1 npx vitest run test/isa/docs.test.ts)', () => {
    const text = renderIsaDocs();
    if (process.env.UPDATE_DOCS) writeFileSync(PATH, text);
    expect(readFileSync(PATH, 'utf8')).toBe(text);
  });

  it('documents every instruction of the table', () => {
    const text = renderIsaDocs();
    for (const d of INSTRUCTIONS) expect(text).toContain(`| \`${d.mnemonic}`);
  });
});
