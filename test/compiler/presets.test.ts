import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkChip, loadChip, presetPath, resolveCores } from '../../chip/presets.js';
import { PRESET_NAMES } from '../../chip/spec.js';
import { diagnosticsOf } from './helpers.js';

/** JSON pointers of every leaf (non-object value; arrays count as leaves) below a value. */
function leaves(v: unknown, ptr = ''): string[] {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    return Object.entries(v).flatMap(([k, x]) => leaves(x, `${ptr}/${k}`));
  }
  return [ptr];
}

function resolve(v: unknown, ptr: string): unknown {
  return ptr
    .split('/')
    .slice(1)
    .reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), v);
}

const tmp = mkdtempSync(join(tmpdir(), 'lechip-presets-'));

describe('presets', () => {
  it.each(PRESET_NAMES)('%s loads, passes the schema and names itself', (name) => {
    const chip = loadChip(name);
    expect(chip.name).toBe(name);
    expect(chip.format).toBe('lechip/chip@1');
  });

  it.each(PRESET_NAMES)('%s: every leaf value has a source, and every source points at a value', (name) => {
    const raw = JSON.parse(readFileSync(presetPath(name), 'utf8'));
    const sources = Object.keys(raw.sources);
    const meta = new Set(['/format', '/name', '/description']);
    const unsourced = leaves(raw)
      .filter((p) => !p.startsWith('/sources/') && !meta.has(p))
      .filter((p) => !sources.some((s) => p === s || p.startsWith(`${s}/`)));
    expect(unsourced).toEqual([]);
    const dangling = sources.filter((s) => resolve(raw, s) === undefined);
    expect(dangling).toEqual([]);
  });

  it('bss2 matches RESEARCH.md §2: 2 arrays of 256 x 256, 6-bit sign per row, speedup 10^3, tau_mem 0.1-2000 us', () => {
    const c = loadChip('bss2');
    expect(c.core).toEqual({ rows: 256, neurons: 256 });
    expect(c.cores_per_chip).toBe(2);
    expect(c.core.neurons * c.cores_per_chip).toBe(512);
    expect(c.weights).toEqual({ kind: 'fixed', bits: 6, sign: 'per_row' });
    expect(c.speedup).toBe(1000);
    expect(c.parameters.tau_m).toEqual({ min_us: 0.1, max_us: 2000 });
    expect(c.parameters.dac_bits).toBe(10);
    expect(c.adc.bits).toBe(8);
    expect(c.processor.memory_kib).toBe(16);
    expect(c.processor.vector_bytes).toBe(128);
  });

  it('spikey matches RESEARCH.md §2: 384 neurons in 2 blocks of 192, 256 rows, 98 304 synapses, 4 bit, 10^4', () => {
    const c = loadChip('spikey');
    expect(c.core).toEqual({ rows: 256, neurons: 192 });
    expect(c.cores_per_chip).toBe(2);
    expect(c.core.rows * c.core.neurons * c.cores_per_chip).toBe(98_304);
    expect(c.weights.bits).toBe(4);
    expect(c.speedup).toBe(10_000);
  });

  it('bss1 matches RESEARCH.md §2: 512 neurons per chip, > 114 688 synapses, 4 bit, typically 10^4, 384 chips per wafer', () => {
    const c = loadChip('bss1');
    expect(c.core.neurons * c.cores_per_chip).toBe(512);
    expect(c.core.rows * c.core.neurons).toBeGreaterThanOrEqual(114_688);
    expect(c.weights.bits).toBe(4);
    expect(c.speedup).toBe(10_000);
    expect(c.default_cores).toBe(384);
  });

  it('ideal is float32, mismatch- and noise-free, with auto cores and ideal processor timing', () => {
    const c = loadChip('ideal');
    expect(c.weights).toEqual({ kind: 'float32', bits: 32, sign: 'float' });
    expect(c.default_cores).toBe('auto');
    expect(Object.values(c.mismatch).every((m) => m.sigma === 0)).toBe(true);
    expect(c.noise).toEqual({ membrane: 0, rate: 0, adc_lsb: 0 });
    expect(c.processor.timing).toBe('ideal');
  });

  it('loads a custom chip file', () => {
    const file = join(tmp, 'mine.json');
    writeFileSync(file, JSON.stringify({ ...loadChip('bss2'), name: 'mine', speedup: 500 }));
    const c = loadChip(file);
    expect(c.name).toBe('mine');
    expect(c.speedup).toBe(500);
  });

  it('reports every schema mistake of a custom chip at once, with file and pointer', () => {
    const file = join(tmp, 'bad.json');
    const chip: Record<string, unknown> = { ...loadChip('bss2'), speedup: -1, core: { rows: 'x', neurons: 256 }, colour: 'blue' };
    delete chip.adc;
    writeFileSync(file, JSON.stringify(chip));
    const d = diagnosticsOf(() => loadChip(file));
    expect(d.every((x) => x.file === file)).toBe(true);
    const byPointer = new Map(d.map((x) => [x.pointer, x.message]));
    expect(byPointer.get('/speedup')).toBe('must be > 0 (got -1)');
    expect(byPointer.get('/core/rows')).toBe('must be an integer (got "x")');
    expect(byPointer.get('/colour')).toMatch(/^unknown property "colour"/);
    expect(byPointer.get('')).toBe('missing required property "adc"');
    expect(d).toHaveLength(4);
  });

  it('reports rules the schema cannot state', () => {
    const c = loadChip('bss2');
    const d = diagnosticsOf(() =>
      checkChip(
        { ...c, parameters: { ...c.parameters, tau_m: { min_us: 5, max_us: 1 } }, weights: { kind: 'fixed', bits: 8, sign: 'per_row' } },
        'c.json',
      ),
    );
    expect(d.map((x) => x.pointer)).toEqual(['/parameters/tau_m', '/weights/bits']);
    expect(d[0].message).toContain('min_us (5 us) must be smaller than max_us (1 us)');
    const f = diagnosticsOf(() => checkChip({ ...c, weights: { kind: 'float32', bits: 32, sign: 'per_row' } }));
    expect(f[0].pointer).toBe('/weights/sign');
  });

  it('gives line and column for a chip file that is not JSON', () => {
    const file = join(tmp, 'syntax.json');
    writeFileSync(file, '{\n  "name": "x",\n  "speedup": 10,,\n}');
    const d = diagnosticsOf(() => loadChip(file));
    expect(d).toHaveLength(1);
    // Line 3 is `  "speedup": 10,,`: the second comma, column 17, is where a property name should be.
    expect(d[0]).toMatchObject({ file, line: 3, column: 17 });
    expect(d[0].message).toBe("invalid JSON: expected a property name in double quotes, found ','");
  });

  it('names the presets when the chip is neither a preset nor a file', () => {
    const d = diagnosticsOf(() => loadChip('bss3'));
    expect(d[0].message).toBe('unknown chip "bss3": not a preset (ideal, spikey, bss1, bss2) and no such file');
  });

  it('resolves cores: default of the chip, auto, explicit, and rejects nonsense', () => {
    expect(resolveCores(loadChip('bss2'), undefined, 7)).toBe(2);
    expect(resolveCores(loadChip('ideal'), undefined, 7)).toBe(7);
    expect(resolveCores(loadChip('bss2'), 'auto', 7)).toBe(7);
    expect(resolveCores(loadChip('bss2'), 5, 7)).toBe(5);
    expect(diagnosticsOf(() => resolveCores(loadChip('bss2'), 0, 7))[0].message).toContain('positive integer');
    expect(diagnosticsOf(() => resolveCores(loadChip('bss2'), 1.5, 7))[0].message).toContain('positive integer');
  });
});
