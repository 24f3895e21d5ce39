/**
 * le.s's listing loop (emulator/processor/fused-listing.ts) translated as one WebAssembly loop,
 * against the interpreter in lockstep: registers, memory, cycles, instructions, traps and the pc
 * after every run() call, for words of every density, loops of 0, 1, 2 and many iterations,
 * budgets that end runs inside the fused range, a list written over the words still to be read,
 * stores into the code, misaligned and out-of-memory accesses; and the fused loop taken where
 * it should be (le.s on a compiled image included).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import { programFromAssembly } from '../../emulator/processor/interpreter.js';
import { loadTranslator } from '../../emulator/processor/translator.js';
import { assemble } from '../../isa/assembler.js';
import { preset } from './helpers.js';
import { lockstep, smallCore } from './translator-helpers.js';

beforeAll(async () => {
  await loadTranslator();
});

const chip = smallCore(preset('ideal'));
const memBytes = chip.processor.memory_kib * 1024;

interface Listing {
  /** The words scanned (written by the program before the loop). */
  words: number[];
  /** Where they lie and where the (index, word) pairs go. */
  at: number;
  /** Where the pairs go: an address, or 'after' (over the instructions after the loop). */
  listAt: number | 'after';
  /** Where the scan starts (default at). */
  scanAt?: number;
  /** First index (I) and the index the loop ends before (N; default words.length). */
  from?: number;
  to?: number;
  /** Pair stride (sd) and the offsets of the index and the word in a pair. */
  pairBytes?: number;
  offsets?: [number, number];
}

/**
 * A program that stores `words` at `at` and lists them as le.s does (float_block, the rows that
 * carried a value): a2 the index base, s6 the index, s8 the word pointer, s10 the list end.
 */
function listingSource(o: Listing): string {
  const stores = o.words.map((w, i) => `  li t0, ${w | 0}\n  sw t0, ${4 * i}(s1)`).join('\n');
  const [o1, o2] = o.offsets ?? [0, 4];
  return `
  .text
_start:
  li s1, ${o.at}
${stores}
  li a2, 1000
  li a3, ${o.to ?? o.words.length}
  li s6, ${o.from ?? 0}
  li s8, ${o.scanAt ?? o.at}
  ${o.listAt === 'after' ? 'la s10, after' : `li s10, ${o.listAt}`}
5: lw t1, 0(s8)
  beqz t1, 6f
  add t0, a2, s6
  sw t0, ${o1}(s10)
  sw t1, ${o2}(s10)
  addi s10, s10, ${o.pairBytes ?? 8}
6: addi s6, s6, 1
  addi s8, s8, 4
  blt s6, a3, 5b
after:
  li a7, 93
  ecall
  li a7, 93
  ecall
`;
}

function words(n: number, density: number, seed: number): number[] {
  const rng = new Rng(seed, 'listing-words');
  return Array.from({ length: n }, () => (rng.uniform() < density ? 1 + Math.floor(rng.uniform() * 1e6) : 0));
}

async function run(o: Listing, budgets: number[] = [1e9], optimizeLevel = 0) {
  const prog = programFromAssembly(assemble(listingSource(o), { file: 'listing.s', elementBits: chip.processor.element_bits }));
  return lockstep(prog, { chip, budgets, translated: { optimizeLevel } });
}

// Budgets that end runs before, inside and after the fused range (each run's first block is a loop head or not).
const budgetSets = [[1e9], [7], [13, 101, 3], [57, 211, 29, 1009], ...Array.from({ length: 10 }, (_, i) => [300 + 11 * i])];

describe('translator: the listing loop runs as one loop, exactly as its instructions', () => {
  for (const density of [0, 0.2, 0.5, 1]) {
    it(`words ${density * 100} % non-zero, under every budget set`, async () => {
      const o = { words: words(97, density, 3), at: 0x2000, listAt: 0x3000 };
      for (const budgets of budgetSets) expect((await run(o, budgets)).end).toBe('halt');
      // With one large budget every iteration but the last runs fused.
      expect((await run(o)).translated.fusedListingIterations()).toBe(96);
      // binaryen's optimiser keeps it (an expression used twice in the tree once made it emit an invalid module).
      expect((await run(o, [1e9, 57], 2)).end).toBe('halt');
    });
  }
  it('loops of one and two iterations, a first index at or past the end, and a negative one', async () => {
    for (const o of [
      { words: [5], at: 0x2000, listAt: 0x3000 },
      { words: [0, 7], at: 0x2000, listAt: 0x3000 },
      { words: [3, 0, 4], at: 0x2000, listAt: 0x3000, from: 3 },
      { words: [3, 0, 4], at: 0x2000, listAt: 0x3000, from: 9 },
      { words: words(20, 0.5, 5), at: 0x2000 + 4 * 6, listAt: 0x3000, from: -6, to: 14 },
    ]) {
      for (const budgets of budgetSets.slice(0, 4)) expect((await run(o, budgets)).end).toBe('halt');
    }
    expect((await run({ words: [5], at: 0x2000, listAt: 0x3000 })).translated.fusedListingIterations()).toBe(0);
  });
  it('a list written over the words still to be read, other pair layouts', async () => {
    const w = words(64, 0.6, 7);
    for (const o of [
      { words: w, at: 0x2000, listAt: 0x2000 },
      { words: w, at: 0x2000, listAt: 0x2010 },
      { words: w, at: 0x2000, listAt: 0x1ff0, pairBytes: 12, offsets: [8, 0] as [number, number] },
      { words: w, at: 0x2000, listAt: 0x3000, pairBytes: 4, offsets: [4, -4] as [number, number] },
    ]) {
      for (const budgets of budgetSets.slice(0, 6)) expect((await run(o, budgets)).end).toBe('halt');
    }
  });
  it('stores into the code go to the host (which retranslates), as the stores themselves do', async () => {
    // The pairs land on the instructions after the first few: the interpreter executes what is written there.
    const r = await run({ words: [0, 0, 0, 0, 0, 0, 0, 0], at: 0x2000, listAt: 0x0 });
    expect(r.end).toBe('halt');
    // The pairs overwrite the instructions after the loop: both sides execute what was written there.
    for (const budgets of budgetSets.slice(0, 4)) {
      const r1 = await run({ words: [0, 0, 0, 5, 0, 0, 0, 0, 0, 0], at: 0x2000, listAt: 'after' }, budgets);
      expect(r1.end).not.toBe('halt');
    }
    const w = words(40, 0.3, 9);
    for (const budgets of budgetSets.slice(0, 4)) {
      const r2 = await run({ words: w, at: 0x2000, listAt: 4 * 200 }, budgets);
      expect(r2.end).toMatch(/halt|illegal|unknown|trap|out of range|misaligned/);
    }
  });
  it('a misaligned word pointer or list, and accesses past the memory, trap as the interpreter does', async () => {
    expect((await run({ words: words(30, 0.5, 11), at: 0x2000, scanAt: 0x2002, listAt: 0x3000 })).end).toMatch(/misaligned|align/);
    expect((await run({ words: words(30, 1, 11), at: 0x2000, listAt: 0x3002 })).end).toMatch(/misaligned|align/);
    // The scan runs past the last word of memory.
    const past = await run({ words: words(8, 0.5, 13), at: memBytes - 32, listAt: 0x3000, to: 16 });
    expect(past.end).toMatch(/out of range|memory/);
    // The list runs past it.
    for (const budgets of budgetSets.slice(0, 4)) {
      expect((await run({ words: words(40, 1, 17), at: 0x2000, listAt: memBytes - 64 }, budgets)).end).toMatch(/out of range|memory/);
    }
  });
  it('with the loop turned off (LECHIP_TRANSLATOR_NO_LIST) the same program gives the same state, nothing fused', async () => {
    process.env.LECHIP_TRANSLATOR_NO_LIST = '1';
    try {
      const r = await run({ words: words(97, 0.3, 19), at: 0x2000, listAt: 0x3000 });
      expect(r.end).toBe('halt');
      expect(r.translated.fusedListingIterations()).toBe(0);
    } finally {
      delete process.env.LECHIP_TRANSLATOR_NO_LIST;
    }
  });
});
