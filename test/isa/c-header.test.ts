import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { macroName, renderCHeader } from '../../isa/gen-c-header.js';
import { INSTRUCTIONS } from '../../isa/table.js';

const PATH = join(__dirname, '../../firmware-models/lechip-vector.h');

describe('firmware-models/lechip-vector.h', () => {
  it('is the output of isa/gen-c-header.ts (regenerate: UPDATE_DOCS=1 npx vitest run test/isa/c-header.test.ts)', () => {
    const text = renderCHeader();
    if (process.env.UPDATE_DOCS) writeFileSync(PATH, text);
    expect(readFileSync(PATH, 'utf8')).toBe(text);
  });

  it('wraps every vector instruction', () => {
    const text = renderCHeader();
    for (const d of INSTRUCTIONS.filter((x) => !x.group.startsWith('RV32'))) expect(text).toContain(`#define ${macroName(d.mnemonic)}(`);
  });
});
