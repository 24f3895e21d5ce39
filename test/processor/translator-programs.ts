/**
 * Random valid firmware for differential tests (fast-check arbitraries): straight-line code of
 * every instruction in the table a chip can execute (every lane form), with loops, forward
 * branches, direct and indirect calls, waits, prints and breakpoints around it. Memory accesses
 * go to a data buffer; synapse rows, columns and lane indices are mostly in range and sometimes
 * not (a trap, which both implementations must raise identically).
 */
import fc from 'fast-check';
import { Rng } from '../../common/random.js';
import type { ChipSpecT } from '../../chip/spec.js';
import { INSTRUCTIONS } from '../../isa/table.js';
import type { InstrDef, Operand } from '../../isa/types.js';
import { TERMINATORS } from '../../emulator/processor/translator-emit.js';

/** Scalar registers random code reads and writes. */
const POOL = ['t0', 't1', 't2', 't3', 't4', 't5', 't6', 's2', 's3', 's4', 's5', 's6'];
/** Bytes of random data at `buf` (s1), then 64 finite floats at buf + BUF_BYTES. */
export const BUF_BYTES = 1024;
const DATA_BYTES = BUF_BYTES + 256;

/** Straight-line instructions: everything but control transfers, waits and system calls. */
export function straightLine(chip: ChipSpecT): InstrDef[] {
  const bits = chip.processor.element_bits as number[];
  return INSTRUCTIONS.filter((d) => !TERMINATORS.has(d.mnemonic) && (d.elements ?? []).every((w) => bits.includes(w)));
}

const reg = fc.constantFrom(...POOL);
const src = fc.oneof({ weight: 9, arbitrary: reg }, { weight: 1, arbitrary: fc.constant('zero') });
const vreg = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 7 }) }, { weight: 1, arbitrary: fc.constant(31) }).map((r) => `v${r}`);
const imm12 = fc.integer({ min: -2048, max: 2047 });

/** Lanes of an instruction's lane width on a chip. */
function lanes(chip: ChipSpecT, def: InstrDef): number {
  const w = def.mnemonic.endsWith('.w') ? 32 : /\.(b|bu|bs)$/.test(def.mnemonic) ? 8 : /\.(h|hu|hs)$/.test(def.mnemonic) ? 16 : 32;
  return (chip.processor.vector_bytes * 8) / w;
}

/** An index in [0, n) usually, sometimes just past it or far out (traps). */
function index(n: number): fc.Arbitrary<number> {
  return fc.oneof({ weight: 40, arbitrary: fc.integer({ min: 0, max: n - 1 }) }, { weight: 1, arbitrary: fc.constantFrom(n, n + 7, -1) });
}

/** A memory offset from s1 for an access of `size` bytes aligned to `align` (rarely misaligned). */
function offset(size: number, align: number): fc.Arbitrary<number> {
  const max = Math.floor((DATA_BYTES - size) / align);
  return fc.oneof(
    { weight: 30, arbitrary: fc.integer({ min: 0, max }).map((k) => k * align) },
    { weight: align > 1 ? 1 : 0, arbitrary: fc.integer({ min: 0, max }).map((k) => k * align + 1) },
  );
}

/** One instruction of an entry with random operands (plus the setup lines it needs). */
export function instruction(def: InstrDef, chip: ChipSpecT): fc.Arbitrary<string> {
  const mn = def.mnemonic;
  const setup: fc.Arbitrary<string>[] = [];
  const ops: fc.Arbitrary<string>[] = def.operands.map((o: Operand): fc.Arbitrary<string> => {
    switch (o.kind) {
      case 'xreg':
        if (o.name === 'lane') {
          setup.push(index(lanes(chip, def)).map((k) => `li s9, ${k}`));
          return fc.constant('s9');
        }
        if (o.name === 'row' || o.name === 'row0') {
          setup.push(index(chip.core.rows).map((k) => `li s7, ${k}`));
          return fc.constant('s7');
        }
        if (o.name === 'col0') {
          setup.push(index(chip.core.neurons).map((k) => `li s8, ${k}`));
          return fc.constant('s8');
        }
        return o.field === 'rd' ? fc.oneof({ weight: 12, arbitrary: reg }, { weight: 1, arbitrary: fc.constant('zero') }) : src;
      case 'vreg':
        return vreg;
      case 'imm':
        return imm12.map(String);
      case 'uimm':
        return fc.integer({ min: o.min, max: o.max }).map(String);
      case 'upper':
        return fc.integer({ min: 0, max: 0xfffff }).map(String);
      case 'fence':
        return fc.constant('iorw');
      case 'mem': {
        const size = mn === 'vld' || mn === 'vst' ? chip.processor.vector_bytes : /^[ls]b/.test(mn) ? 1 : /^[ls]h/.test(mn) ? 2 : 4;
        return offset(size, mn === 'vld' || mn === 'vst' ? 4 : size).map((k) => `${k}(s1)`);
      }
      case 'target':
        throw new Error(`straight-line ${mn} has a target operand`);
    }
  });
  return fc.tuple(fc.tuple(...setup), fc.tuple(...ops)).map(([pre, args]) => [...pre, `${mn} ${args.join(', ')}`].join('\n'));
}

/** Control structure around straight-line code. */
type Item =
  | { k: 'ins'; text: string }
  | { k: 'loop'; n: number; body: Item[] }
  | { k: 'skip'; cond: string; a: string; b: string; body: Item[] }
  | { k: 'call'; fn: number; indirect: boolean }
  | { k: 'wait'; n: number }
  | { k: 'print'; r: string }
  | { k: 'ebreak' };

export interface RandomProgram {
  items: Item[];
  functions: Item[][];
  /** Seed of the random bytes at buf and the finite floats after them. */
  dataSeed: number;
  init: string[];
}

/** Random programs for a chip: `depth` levels of loops and skips. */
export function programArb(chip: ChipSpecT, opts: { maxItems?: number; control?: boolean } = {}): fc.Arbitrary<RandomProgram> {
  const defs = straightLine(chip);
  const ins = fc.constantFrom(...defs).chain((d) => instruction(d, chip)).map((text): Item => ({ k: 'ins', text }));
  const straight = fc.array(ins, { minLength: 1, maxLength: 6 });
  const control = opts.control ?? true;
  const leaf: fc.Arbitrary<Item> = control
    ? fc.oneof(
      { weight: 20, arbitrary: ins },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('call' as const), fn: fc.integer({ min: 0, max: 1 }), indirect: fc.boolean() }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('wait' as const), n: fc.integer({ min: 0, max: 2 }) }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('print' as const), r: reg }) },
      { weight: 1, arbitrary: fc.constant({ k: 'ebreak' as const }) },
    )
    : ins;
  const skip = (body: fc.Arbitrary<Item[]>) => fc.record({
    k: fc.constant('skip' as const), cond: fc.constantFrom('beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu'), a: src, b: src, body,
  });
  const inner = fc.array(control ? fc.oneof({ weight: 5, arbitrary: leaf }, { weight: 1, arbitrary: skip(straight) }) : leaf, { minLength: 1, maxLength: 6 });
  const loop = fc.record({ k: fc.constant('loop' as const), n: fc.integer({ min: 1, max: 4 }), body: inner });
  const item = control ? fc.oneof({ weight: 6, arbitrary: leaf }, { weight: 2, arbitrary: loop }, { weight: 1, arbitrary: skip(inner) }) : leaf;
  return fc.record({
    items: fc.array(item, { minLength: 1, maxLength: opts.maxItems ?? 10 }),
    functions: fc.tuple(straight, straight),
    // Data from a seed, so that a counterexample prints short.
    dataSeed: fc.integer({ min: 0, max: 1_000_000 }),
    init: fc.tuple(...POOL.map((r) => fc.integer({ min: -2147483648, max: 2147483647 }).map((v) => `li ${r}, ${v}`))),
  }).map((p) => ({ ...p, init: [...p.init] }));
}

/** The assembly text of a random program (ends with exit; functions and data after it). */
export function render(p: RandomProgram): string {
  let label = 0;
  let depth = 0;
  const out: string[] = ['  .text', '  .globl _start', '_start:', '  la s1, buf', ...p.init.map((l) => `  ${l}`)];
  for (let v = 0; v < 8; v++) out.push(`  vld v${v}, ${v < 4 ? 16 * v : BUF_BYTES + 16 * (v - 4)}(s1)`);
  const emit = (items: Item[]) => {
    for (const it of items) {
      switch (it.k) {
        case 'ins':
          out.push(...it.text.split('\n').map((l) => `  ${l}`));
          break;
        case 'loop': {
          // Loop counters s10 (outer) and s11 (inner) are never written by random code.
          const ctr = depth === 0 ? 's10' : 's11';
          const l = `L${label++}`;
          out.push(`  li ${ctr}, ${it.n}`, `${l}:`);
          depth++;
          emit(it.body);
          depth--;
          out.push(`  addi ${ctr}, ${ctr}, -1`, `  bnez ${ctr}, ${l}`);
          break;
        }
        case 'skip': {
          const l = `L${label++}`;
          out.push(`  ${it.cond} ${it.a}, ${it.b}, ${l}`);
          emit(it.body);
          out.push(`${l}:`);
          break;
        }
        case 'call':
          out.push(it.indirect ? `  la a6, fn${it.fn}\n  jalr ra, 0(a6)` : `  call fn${it.fn}`);
          break;
        case 'wait':
          out.push(`  li a4, ${it.n}`, '  wait a4');
          break;
        case 'print':
          out.push(`  mv a0, ${it.r}`, '  li a7, 1', '  ecall');
          break;
        case 'ebreak':
          out.push('  ebreak');
          break;
      }
    }
  };
  emit(p.items);
  out.push('  li a7, 93', '  ecall');
  p.functions.forEach((body, i) => {
    out.push(`fn${i}:`);
    emit(body);
    out.push('  ret');
  });
  const rng = new Rng(p.dataSeed, 'translator-test-data');
  const bytes = Array.from({ length: BUF_BYTES }, () => rng.int(256));
  // Finite floats, some of them zeros of either sign and small integers (exact ties in conversions).
  const floats = Array.from({ length: 64 }, (_, i) => (i % 8 === 0 ? (i % 16 ? '-0.0' : '0.0') : i % 8 === 1 ? String(rng.int(9) - 4 + 0.5) : (8 * rng.uniform() - 4).toPrecision(7)));
  out.push('  .data', '  .align 4', 'buf:', `  .byte ${bytes.join(', ')}`, `  .float ${floats.join(', ')}`, '  .space 64');
  return out.join('\n') + '\n';
}
