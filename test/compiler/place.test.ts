import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, encodeImage } from '../../chip/image.js';
import { compile, dumpStage } from '../../compiler/compile.js';
import { formatDiagnostic } from '../../common/diagnostics.js';
import { loadChip } from '../../chip/presets.js';
import type { ChipSpecT } from '../../chip/spec.js';
import type { Placed } from '../../compiler/ir.js';
import { lower } from '../../compiler/lower.js';
import { place, type Placement } from '../../compiler/place.js';
import { validateNetworkObject } from '../../compiler/validate.js';
import { chipLike, desc, diagnosticsOf, le, mnistDescription } from './helpers.js';

const fixed = (sign: 'per_row' | 'per_synapse', bits = 4) => ({ kind: 'fixed' as const, bits, sign });

function placed(d: Record<string, unknown>, chip: ChipSpecT, cores: number | 'auto' = 'auto', placement: Placement = 'pack'): Placed {
  return place(lower(validateNetworkObject(d, { file: 'net.json' }), chip), cores, placement);
}

/** Brute-force check of a placement against the hardware rules, cell by cell; returns the violations. */
function violations(p: Placed): string[] {
  const bad: string[] = [];
  const need = (ok: boolean, what: string) => {
    if (!ok && bad.length < 20) bad.push(what);
  };
  const chip = p.lowered.chip;
  const R = chip.core.rows;
  const N = chip.core.neurons;
  const rps = chip.weights.sign === 'per_row' ? 2 : 1;
  // Who drives each row (one signal per row, across the whole width) and who owns each column.
  const rowOwner = new Map<string, string>();
  const colOwner = new Map<string, string>();
  const covered = new Map<number, Uint8Array>();
  for (const m of p.lowered.matrices) covered.set(m.id, new Uint8Array(m.signals * m.neurons));
  for (const b of p.blocks) {
    const m = p.lowered.matrices[b.matrix];
    need(b.core < p.cores_used, `block ${b.id} on core ${b.core} of ${p.cores_used}`);
    need(b.row0 + b.rows <= R && b.col0 + b.cols <= N, `block ${b.id} outside the array`);
    need(b.rows === b.signals * rps && b.rows_per_signal === rps, `block ${b.id} rows per signal`);
    need(b.projection === m.projection && b.kind === m.kind, `block ${b.id} names its matrix`);
    for (let s = 0; s < b.signals; s++) {
      for (let k = 0; k < rps; k++) {
        const key = `${b.core}:${b.row0 + s * rps + k}`;
        const sig = `${m.source}[${b.sig0 + s}]:${m.kind}`;
        need(!rowOwner.has(key) || rowOwner.get(key) === sig, `row ${key} carries ${rowOwner.get(key)} and ${sig}`);
        rowOwner.set(key, sig);
      }
      for (let c = 0; c < b.cols; c++) {
        const cell = (b.neuron0 + c) * m.signals + b.sig0 + s;
        need(covered.get(m.id)![cell] === 0, `matrix ${m.id} cell ${cell} placed twice`);
        covered.get(m.id)![cell] = 1;
      }
    }
  }
  // Every weight of every matrix is on the chip exactly once.
  for (const [id, cov] of covered) need(cov.every((x) => x === 1), `matrix ${id} not fully placed`);
  // Column ranges never overlap; every neuron has one column per chunk.
  for (const [pop, ranges] of Object.entries(p.columns)) {
    const perChunk = new Map<number, number>();
    for (const r of ranges) {
      for (let c = 0; c < r.count; c++) {
        const key = `${r.core}:${r.col0 + c}`;
        need(!colOwner.has(key) && r.col0 + c < N, `column ${key} used twice or outside`);
        colOwner.set(key, pop);
      }
      perChunk.set(r.chunk, (perChunk.get(r.chunk) ?? 0) + r.count);
    }
    const size = p.lowered.network.populations.find((q) => q.name === pop)!.size;
    for (const [chunk, n] of perChunk) need(n === size, `${pop} chunk ${chunk} has ${n} columns for ${size} neurons`);
  }
  // Blocks sit in the columns of the population they feed.
  for (const b of p.blocks) {
    const m = p.lowered.matrices[b.matrix];
    for (let c = 0; c < b.cols; c++) need(colOwner.get(`${b.core}:${b.col0 + c}`) === m.target, `block ${b.id} outside ${m.target}'s columns`);
  }
  for (const u of p.usage) need(u.rows <= R && u.cols <= N, `core ${u.core} overfull`);
  // Usage is what the blocks and column ranges take.
  need(p.usage.length === p.cores_used && p.cores_used <= p.system_cores, `usage of ${p.usage.length} cores, ${p.cores_used} used of ${p.system_cores}`);
  for (const u of p.usage) {
    const mine = p.blocks.filter((b) => b.core === u.core);
    need(u.synapses === mine.reduce((s, b) => s + b.rows * b.cols, 0), `core ${u.core} synapses ${u.synapses}`);
    need(u.cols === Object.values(p.columns).flat().filter((r) => r.core === u.core).reduce((s, r) => s + r.count, 0), `core ${u.core} columns ${u.cols}`);
    need(u.rows >= mine.reduce((s, b) => Math.max(s, b.row0 + b.rows), 0), `core ${u.core} rows ${u.rows}`);
  }
  return bad;
}

function checkPlacement(p: Placed): void {
  expect(violations(p)).toEqual([]);
}

describe('place: hand-checked cases', () => {
  it('splits a population wider than a core into column slices; first fit by rows and columns', () => {
    // Cores of 8 rows x 4 columns, one row per signal. in(3) → h(6) → o(2).
    const chip = chipLike('bss2', { core: { rows: 8, neurons: 4 }, weights: fixed('per_synapse') });
    const d = desc({ in: { size: 3 }, h: { size: 6, neuron: le() }, o: { size: 2, neuron: le() } }, [
      { from: 'in', to: 'h' },
      { from: 'h', to: 'o' },
    ], { learning: { rule: 'none' } });
    const p = placed(d, chip);
    // h: one chunk of 3 signals; 6 columns → slices 4 + 2. Slice 0 fills core 0's columns, slice 1 opens core 1.
    // o: 6 signals; core 1 has 2 free columns but only 5 free rows → core 2.
    expect(p.blocks.map(({ id, matrix, core, row0, rows, col0, cols, sig0, signals, neuron0 }) => [id, matrix, core, row0, rows, col0, cols, sig0, signals, neuron0])).toEqual([
      [0, 0, 0, 0, 3, 0, 4, 0, 3, 0],
      [1, 0, 1, 0, 3, 0, 2, 0, 3, 4],
      [2, 1, 2, 0, 6, 0, 2, 0, 6, 0],
    ]);
    expect(p.columns).toEqual({
      h: [
        { core: 0, col0: 0, count: 4, neuron0: 0, chunk: 0 },
        { core: 1, col0: 0, count: 2, neuron0: 4, chunk: 0 },
      ],
      o: [{ core: 2, col0: 0, count: 2, neuron0: 0, chunk: 0 }],
    });
    expect(p.usage).toEqual([
      { core: 0, rows: 3, cols: 4, synapses: 12 },
      { core: 1, rows: 3, cols: 2, synapses: 6 },
      { core: 2, rows: 6, cols: 2, synapses: 12 },
    ]);
    expect([p.cores_used, p.system_cores]).toEqual([3, 3]);
    checkPlacement(p);
  });

  it('splits fan-in into chunks across matrices, and doubles rows with sign per row', () => {
    // a(3), b(3) → h(2): h's input list is a[0..3) b[0..3), 6 signals.
    const d = desc({ a: { size: 3 }, b: { size: 3 }, h: { size: 2, neuron: le() } }, [
      { from: 'a', to: 'h' },
      { from: 'b', to: 'h' },
    ], { learning: { rule: 'none' } });
    const cols = ({ core, row0, rows, col0, cols, sig0, signals, projection }: Placed['blocks'][number]) => [projection, core, row0, rows, col0, cols, sig0, signals];

    // 8 rows and one row per signal: one chunk, a on rows 0-2, b on rows 3-5.
    const flat = placed(d, chipLike('bss2', { core: { rows: 8, neurons: 8 }, weights: fixed('per_synapse') }));
    expect(flat.blocks.map(cols)).toEqual([
      [0, 0, 0, 3, 0, 2, 0, 3],
      [1, 0, 3, 3, 0, 2, 0, 3],
    ]);
    expect(flat.columns.h).toEqual([{ core: 0, col0: 0, count: 2, neuron0: 0, chunk: 0 }]);
    checkPlacement(flat);

    // 8 rows and two rows per signal: chunks of 4 signals, a[0..3)+b[0..1) and b[1..3).
    // Chunk 1 cannot share core 0 (its rows are full), so it opens core 1.
    const signed = placed(d, chipLike('bss2', { core: { rows: 8, neurons: 8 }, weights: fixed('per_row') }));
    expect(signed.blocks.map(cols)).toEqual([
      [0, 0, 0, 6, 0, 2, 0, 3],
      [1, 0, 6, 2, 0, 2, 0, 1],
      [1, 1, 0, 4, 0, 2, 1, 2],
    ]);
    expect(signed.blocks.every((b) => b.rows_per_signal === 2)).toBe(true);
    expect(signed.columns.h).toEqual([
      { core: 0, col0: 0, count: 2, neuron0: 0, chunk: 0 },
      { core: 1, col0: 0, count: 2, neuron0: 0, chunk: 1 },
    ]);
    expect(signed.usage).toEqual([
      { core: 0, rows: 8, cols: 2, synapses: 16 },
      { core: 1, rows: 4, cols: 2, synapses: 8 },
    ]);
    checkPlacement(signed);
  });

  it('feedback matrices take array space after the forward inputs of the population they feed', () => {
    // in(2) → h(3) → o(2), LE: h's inputs are in (2 signals) then o's errors (2 signals).
    const d = desc({ in: { size: 2 }, h: { size: 3, neuron: le() }, o: { size: 2, role: 'output', neuron: le() } }, [
      { from: 'in', to: 'h' },
      { from: 'h', to: 'o' },
    ]);
    const p = placed(d, chipLike('bss2', { core: { rows: 16, neurons: 16 }, weights: fixed('per_synapse') }));
    expect(p.blocks.map(({ kind, projection, core, row0, rows, col0, cols, signals }) => [kind, projection, core, row0, rows, col0, cols, signals])).toEqual([
      ['forward', 0, 0, 0, 2, 0, 3, 2],
      ['feedback', 1, 0, 2, 2, 0, 3, 2],
      ['forward', 1, 0, 4, 3, 3, 2, 3],
    ]);
    checkPlacement(p);
  });

  it('a neuron population without inputs still gets its columns', () => {
    const d = desc({ h: { size: 3, role: 'hidden', neuron: le(), bias: [1, 2, 3] } }, [], { learning: { rule: 'none' } });
    const p = placed(d, chipLike('bss2', { core: { rows: 4, neurons: 4 }, weights: fixed('per_row') }));
    expect(p.blocks).toEqual([]);
    expect(p.columns.h).toEqual([{ core: 0, col0: 0, count: 3, neuron0: 0, chunk: 0 }]);
  });
});

describe('place: system size', () => {
  it('MNIST 784-300-100-10 with learning does not fit one bss2 chip, and says what it needs', () => {
    const d = diagnosticsOf(() => placed(mnistDescription(), loadChip('bss2'), 2));
    expect(d).toHaveLength(1);
    // h1's fan-in: 784 pixels + 100 feedback errors from h2 = 884 signals; 128 signals per chunk
    // (256 rows / 2) → 7 chunks, each 300 columns = a full core (256) + a 44-column slice whose
    // chunk rows fill another core: 14 cores. The whole network adds h2 (310 signals: 3 chunks of
    // 100 columns, 3 cores, the last half full) and out (100 signals = 200 rows: one more core) = 18.
    expect(formatDiagnostic(d[0])).toBe(
      'net.json: /populations/h1: population h1 (300 neurons, fan-in 884 signals) needs 14 cores of 256 rows x 256 columns, 2 rows per signed signal; the system has 2 (bss2: 2 cores per chip; use --cores auto or --cores 18)',
    );
    const auto = placed(mnistDescription(), loadChip('bss2'), 'auto');
    expect([auto.cores_used, auto.system_cores]).toEqual([18, 18]);
    checkPlacement(auto);
    // The suggested size works.
    expect(placed(mnistDescription(), loadChip('bss2'), 18).cores_used).toBe(18);
  });

  it('a later population that does not fit the cores left is named with the network total', () => {
    const d = diagnosticsOf(() => placed(mnistDescription(), loadChip('bss2'), 15));
    expect(d[0].pointer).toBe('/populations/h2');
    expect(d[0].message).toBe(
      'population h2 (100 neurons, fan-in 310 signals) does not fit in the 15 cores of 256 rows x 256 columns, 2 rows per signed signal left after the populations before it; the whole network needs 18 (bss2: 2 cores per chip; use --cores auto or --cores 18)',
    );
  });

  it('on ideal MNIST fits with auto: h1 on core 0 (884 rows), h2 on core 1, out back on core 0', () => {
    const p = placed(mnistDescription(), loadChip('ideal'), 'auto');
    expect(p.usage).toEqual([
      { core: 0, rows: 884 + 100, cols: 300 + 10, synapses: 884 * 300 + 100 * 10 },
      { core: 1, rows: 300 + 10, cols: 100, synapses: 310 * 100 },
    ]);
    expect([p.cores_used, p.system_cores]).toEqual([2, 2]);
    checkPlacement(p);
  });

  it('a larger system than needed keeps its size; cores_used counts what is used', () => {
    const p = placed(mnistDescription(), loadChip('ideal'), 6);
    expect([p.cores_used, p.system_cores]).toEqual([2, 6]);
  });

  it('the brute-force checker catches overlapping rows, missing cells and foreign columns', () => {
    const d = desc({ a: { size: 3 }, b: { size: 3 }, h: { size: 2, neuron: le() } }, [
      { from: 'a', to: 'h' },
      { from: 'b', to: 'h' },
    ], { learning: { rule: 'none' } });
    const good = placed(d, chipLike('bss2', { core: { rows: 8, neurons: 8 }, weights: fixed('per_synapse') }));
    expect(violations(good)).toEqual([]);
    const overlap = { ...good, blocks: good.blocks.map((b, i) => (i === 1 ? { ...b, row0: 1 } : b)) };
    expect(violations(overlap).join('; ')).toMatch(/row 0:1 carries a\[1\]:forward and b\[0\]:forward/);
    const missing = { ...good, blocks: good.blocks.slice(0, 1) };
    expect(violations(missing)).toContain('matrix 1 not fully placed');
    const shifted = { ...good, blocks: good.blocks.map((b) => ({ ...b, col0: 3 })) };
    expect(violations(shifted).join('; ')).toMatch(/outside h's columns/);
  });

  it('random placements obey the hardware rules (brute force)', () => {
    const rand = lcg(12345);
    for (let t = 0; t < 25; t++) {
      const { d, chip } = randomCase(rand);
      checkPlacement(placed(d, chip));
    }
  });
});

/** Synapses per system core (cores without blocks count 0) and the largest over the mean. */
function balance(p: Placed): { synapses: number[]; ratio: number } {
  const synapses = Array.from({ length: p.system_cores }, (_, c) => p.usage[c]?.synapses ?? 0);
  const mean = synapses.reduce((s, x) => s + x, 0) / p.system_cores;
  return { synapses, ratio: Math.max(...synapses) / mean };
}

describe("place: 'spread'", () => {
  it("is not the default: 'pack' placed explicitly is the default placement, field for field", () => {
    for (const [chip, cores] of [['ideal', 'auto'], ['ideal', 3], ['bss2', 18]] as const) {
      const l = lower(validateNetworkObject(mnistDescription(), { file: 'net.json' }), loadChip(chip));
      const d = place(l, cores);
      expect(d.placement).toBe('pack');
      expect(JSON.stringify({ ...place(l, cores, 'pack'), lowered: null })).toBe(JSON.stringify({ ...d, lowered: null }));
    }
  });

  it('MNIST on 3 ideal cores: h1 over two cores (its 884 rows leave no room for h2), h2 and out on the third', () => {
    const p = placed(mnistDescription(), loadChip('ideal'), 3, 'spread');
    expect(p.placement).toBe('spread');
    expect([p.cores_used, p.system_cores]).toEqual([3, 3]);
    expect(p.usage).toEqual([
      { core: 0, rows: 884, cols: 152, synapses: 884 * 152 },
      { core: 1, rows: 884, cols: 148, synapses: 884 * 148 },
      { core: 2, rows: 310 + 100, cols: 100 + 10, synapses: 310 * 100 + 100 * 10 },
    ]);
    // h1's columns cut at a multiple of 4 (SIMD lanes); neurons ascend with the cores.
    expect(p.columns.h1).toEqual([
      { core: 0, col0: 0, count: 152, neuron0: 0, chunk: 0 },
      { core: 1, col0: 0, count: 148, neuron0: 152, chunk: 0 },
    ]);
    // Blocks in pack's order: population, chunk, slice.
    expect(p.blocks.map((b) => [b.projection, b.kind, b.core, b.row0, b.rows, b.col0, b.cols, b.neuron0])).toEqual([
      [0, 'forward', 0, 0, 784, 0, 152, 0],
      [1, 'feedback', 0, 784, 100, 0, 152, 0],
      [0, 'forward', 1, 0, 784, 0, 148, 152],
      [1, 'feedback', 1, 784, 100, 0, 148, 152],
      [1, 'forward', 2, 0, 300, 0, 100, 0],
      [2, 'feedback', 2, 300, 10, 0, 100, 0],
      [2, 'forward', 2, 310, 100, 100, 10, 0],
    ]);
    expect(p.blocks.map((b) => b.id)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    checkPlacement(p);
  });

  it('balances the synapses per core: within 1.3x of the mean where the rows allow it', () => {
    // MNIST on 18 BrainScaleS-2 cores (pack: 65 536 on the fullest, 2.0x the mean).
    const bss2 = placed(mnistDescription(), loadChip('bss2'), 18, 'spread');
    checkPlacement(bss2);
    expect(balance(bss2).ratio).toBeLessThan(1.3);
    expect(balance(placed(mnistDescription(), loadChip('bss2'), 18)).ratio).toBeGreaterThan(1.9);
    // MNIST on 6 ideal cores: h1 over five, 300/5 = 60 columns each.
    const ideal = placed(mnistDescription(), loadChip('ideal'), 6, 'spread');
    checkPlacement(ideal);
    expect(balance(ideal).synapses).toEqual([884 * 60, 884 * 60, 884 * 60, 884 * 60, 884 * 60, 310 * 100 + 100 * 10]);
    expect(balance(ideal).ratio).toBeLessThan(1.1);
    // A network whose rows bind less (256 rows x 64 columns: a's 170 signals in one chunk, b's 100 + 10): close to even.
    const d = desc(
      { in: { size: 100 }, a: { size: 90, neuron: le() }, b: { size: 70, neuron: le() }, o: { size: 10, role: 'output', neuron: le() } },
      [
        { from: 'in', to: 'a' },
        { from: 'a', to: 'b' },
        { from: 'in', to: 'b' },
        { from: 'b', to: 'o' },
      ],
    );
    const chip = chipLike('bss2', { core: { rows: 256, neurons: 64 }, weights: fixed('per_synapse') });
    const packed = placed(d, chip, 'auto');
    expect(balance(packed).synapses).toEqual([10880, 5120, 12800, 1200]);
    for (const cores of [packed.cores_used, packed.cores_used + 3, 2 * packed.cores_used]) {
      const p = placed(d, chip, cores, 'spread');
      checkPlacement(p);
      expect(p.system_cores).toBe(cores);
      expect(balance(p).ratio).toBeLessThan(1.15);
      expect(Math.max(...balance(p).synapses)).toBeLessThan(Math.max(...balance(packed).synapses));
    }
  });

  it('with --cores auto it spreads over as many cores as pack needs', () => {
    const packed = placed(mnistDescription(), loadChip('bss2'), 'auto');
    const spread = placed(mnistDescription(), loadChip('bss2'), 'auto', 'spread');
    expect([spread.cores_used, spread.system_cores]).toEqual([packed.cores_used, packed.system_cores]);
    expect(Math.max(...balance(spread).synapses)).toBeLessThan(Math.max(...balance(packed).synapses));
    // On ideal MNIST pack needs 2: h1 alone on core 0, h2 and out on core 1.
    const ideal = placed(mnistDescription(), loadChip('ideal'), 'auto', 'spread');
    expect(ideal.usage.map((u) => u.synapses)).toEqual([884 * 300, 310 * 100 + 100 * 10]);
    checkPlacement(ideal);
  });

  it('is deterministic', () => {
    const a = placed(mnistDescription(), loadChip('bss2'), 24, 'spread');
    const b = placed(mnistDescription(), loadChip('bss2'), 24, 'spread');
    expect(JSON.stringify({ ...b, lowered: undefined })).toBe(JSON.stringify({ ...a, lowered: undefined }));
  });

  it("a system too small is pack's error", () => {
    const pack = diagnosticsOf(() => placed(mnistDescription(), loadChip('bss2'), 15));
    const spread = diagnosticsOf(() => placed(mnistDescription(), loadChip('bss2'), 15, 'spread'));
    expect(spread.map(formatDiagnostic)).toEqual(pack.map(formatDiagnostic));
  });

  it('random networks, chips and system sizes obey the hardware rules (brute force), never worse than pack on the fullest core', () => {
    const rand = lcg(777);
    for (let t = 0; t < 40; t++) {
      const { d, chip } = randomCase(rand);
      const packed = placed(d, chip);
      const cores = packed.cores_used + rand(4);
      const p = placed(d, chip, cores, 'spread');
      expect(violations(p), `case ${t}`).toEqual([]);
      expect(p.system_cores).toBe(cores);
      expect(Math.max(...balance(p).synapses), `case ${t}`).toBeLessThanOrEqual(Math.max(...balance(packed).synapses));
    }
  });
});

describe('placement through compile', () => {
  const root = join(import.meta.dirname, '..', '..');
  const example = (name: string) => readFileSync(join(root, 'examples', name), 'utf8');
  const sha = (img: Parameters<typeof encodeImage>[0]) => createHash('sha256').update(encodeImage(img)).digest('hex');

  it("placement 'pack' gives the image compiled without the option, byte for byte (sha256)", () => {
    for (const [file, chip, cores] of [['mnist-mlp.json', 'ideal', undefined], ['mnist-mlp.json', 'ideal', 3], ['mnist-mlp.json', 'bss2', 18], ['small.json', 'bss2', undefined]] as const) {
      const opts = { file, chip: loadChip(chip), cores, seed: 1, toolVersion: '0.0.0-test' };
      const plain = compile(example(file), opts).image;
      const packed = compile(example(file), { ...opts, placement: 'pack' }).image;
      expect(sha(packed), `${file} on ${chip}`).toBe(sha(plain));
    }
  });

  it("'spread' images decode, with a firmware table on every core, and the placed dump names the placement", () => {
    const opts = { file: 'mnist-mlp.json', chip: loadChip('ideal'), cores: 3, seed: 1, toolVersion: '0.0.0-test' };
    const packed = compile(example('mnist-mlp.json'), opts);
    const spread = compile(example('mnist-mlp.json'), { ...opts, placement: 'spread' });
    expect(sha(spread.image)).not.toBe(sha(packed.image));
    const m = decodeImage(encodeImage(spread.image)).manifest;
    expect(m.system).toEqual({ cores: 3, cores_used: 3, chips: 3 });
    // One firmware table per core: every core has plastic rows.
    expect(m.firmware?.cores?.length).toBe(3);
    expect(dumpStage('placed', spread.stages)).toMatchObject({ placement: 'spread', usage: spread.stages.placed.usage });
    expect(dumpStage('placed', packed.stages)).toMatchObject({ placement: 'pack' });
  });
});

/** A seeded linear congruential generator: rand(n) in 0..n-1. */
function lcg(seed: number): (n: number) => number {
  return (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
}

/** A random four-population network with skip projections and a small bss2-like chip to place it on. */
function randomCase(rand: (n: number) => number) {
  const sizes = [1 + rand(40), 1 + rand(40), 1 + rand(40), 1 + rand(10)];
  const d = desc(
    { in: { size: sizes[0] }, a: { size: sizes[1], neuron: le() }, b: { size: sizes[2], neuron: le() }, o: { size: sizes[3], role: 'output', neuron: le() } },
    [
      { from: 'in', to: 'a' },
      { from: 'a', to: 'b' },
      { from: 'in', to: 'b' },
      { from: 'b', to: 'o' },
      { from: 'a', to: 'o' },
    ],
  );
  const chip = chipLike('bss2', { core: { rows: 2 + rand(30), neurons: 1 + rand(20) }, weights: fixed(rand(2) ? 'per_row' : 'per_synapse') });
  return { d, chip };
}
