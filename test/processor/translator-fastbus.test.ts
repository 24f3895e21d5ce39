/**
 * The translated processor's fast bus (kernels/bus.ts through emulator/processor/wasm-bus.ts)
 * against the interpreter on the TypeScript bus: random programs on a MatrixBus, every row and
 * column of compiled images through the kernels' table against CoreBus, and the firmware models
 * through the runtime with the engine's memory holding the processors' state.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChipImage } from '../../chip/image-model.js';
import type { ChipSpecT } from '../../chip/spec.js';
import { Rng } from '../../common/random.js';
import { createCoreBuses } from '../../emulator/core-bus.js';
import { Engine } from '../../emulator/engine.js';
import { realiseModel } from '../../emulator/instance.js';
import { Processor, programFromAssembly } from '../../emulator/processor/interpreter.js';
import { loadTranslator, translatedStateBytes } from '../../emulator/processor/translator.js';
import { allocWithoutGrowth, busTableBytes, coreBusTable, fusedPathCounts, kernelBusLink, MatrixBus, writeBusTable } from '../../emulator/processor/wasm-bus.js';
import { KernelMemory } from '../../emulator/wasm.js';
import { assemble } from '../../isa/assembler.js';
import { compileFor, smallNet } from '../firmware/helpers.js';
import { ensureKernels } from '../kernels/kernels-build.js';
import { preset } from './helpers.js';
import { allLanes, lockstep, smallCore } from './translator-helpers.js';
import { programArb, render } from './translator-programs.js';

beforeAll(async () => {
  await ensureKernels();
  await loadTranslator();
});

const idealAll = allLanes(smallCore(preset('ideal')));

/** Two MatrixBuses with the same seeded contents, the second serving a translated processor through the kernels. */
function matrixPair(chip: ChipSpecT, seed: number) {
  const make = () => {
    const mem = new KernelMemory(4 << 20);
    const bus = new MatrixBus(mem, chip.core.rows, chip.core.neurons, chip.adc);
    const rng = new Rng(seed, 'matrix-bus');
    for (let i = 0; i < bus.weights.length; i++) bus.weights[i] = rng.normal();
    for (let i = 0; i < bus.rowDrivers.length; i++) bus.rowDrivers[i] = 4 * rng.normal();
    for (let i = 0; i < bus.observables.length; i++) bus.observables[i] = i % 97 === 0 ? NaN : 6 * rng.normal();
    for (let i = 0; i < bus.bias.length; i++) bus.bias[i] = rng.normal();
    return { mem, bus };
  };
  const A = make(), B = make();
  const base = B.mem.alloc(translatedStateBytes(chip));
  return {
    a: A.bus, b: B.bus,
    compare: (where: string) => {
      expect(Buffer.from(B.bus.weights.buffer, B.bus.weights.byteOffset, B.bus.weights.byteLength).equals(Buffer.from(A.bus.weights.buffer, A.bus.weights.byteOffset, A.bus.weights.byteLength)), `${where}: weights`).toBe(true);
      expect(Array.from(B.bus.bias), `${where}: bias`).toEqual(Array.from(A.bus.bias));
      expect(B.bus.steps, where).toBe(A.bus.steps);
    },
    translatedOptions: { memory: { memory: B.mem.memory, base }, kernels: kernelBusLink(B.mem.k as unknown as Record<string, unknown>, B.bus.table, { adcNoise: false, memory: B.mem.memory, countFusedPaths: true }) },
    counts: () => fusedPathCounts(B.mem.memory, B.bus.table),
  };
}

describe('fast bus: random programs on a MatrixBus', () => {
  it('give the interpreter\'s state', async () => {
    await fc.assert(fc.asyncProperty(programArb(idealAll, { control: true, maxItems: 10 }), fc.integer({ min: 0, max: 1000 }), async (p, seed) => {
      const buses = matrixPair(idealAll, seed);
      await lockstep(programFromAssembly(assemble(render(p), { file: 't.s', elementBits: [8, 16, 32] })), { chip: idealAll, buses, budgets: [1e9] });
    }), { numRuns: 30, seed: 20261203 });
    // Seeded (same seeds, same bytes): with some seeds a register holding a signalling NaN is stored
    // quieted by the interpreter and bit for bit by the translated code (docs/translator.md, Limits).
  }, 120_000);
  it('serve float rows, ADC reads of every lane width, row drivers and biases without the host', async () => {
    const src = `
      .text
    _start:
      li s0, 0
    1:
      li t0, 168
      vlds.f v1, s0, t0
      vadc.f v2, 3, t0
      vfma.f v1, v2, v2
      vsts.f v1, s0, t0
      vadc.b v3, 1, t0
      vadc.h v4, 5, t0
      vrowd.f v5, s0
      vrowd.b v6, s0
      vrowd.h v7, s0
      vldp.f v8, 0, t0
      vadd.f v8, v8, v2
      vstp.f v8, 0, t0
      addi s0, s0, 7
      li t1, 150
      blt s0, t1, 1b
      li a7, 93
      ecall
    `;
    const r = await lockstep(programFromAssembly(assemble(src, { file: 'fast.s', elementBits: [8, 16, 32] })), { chip: idealAll, buses: matrixPair(idealAll, 4), budgets: [1e9] });
    expect(r.end).toBe('halt');
    expect(r.translated.stats.hostBusCalls).toBe(0);
    expect(r.translated.stats.hostSteps).toBeLessThanOrEqual(1);
  });
  it('fuse the row-segment update (vlds.f, vmul.f or vmuls.f, vadd.f, vsts.f) exactly as the four instructions', async () => {
    // Columns every 36 up to the array's 200 (the last segments partial, 20 lanes) or every 34 (the
    // last 30 lanes, not a multiple of 4: fused lane by lane), a pattern whose
    // registers overlap (never fused), a second pass over other rows with a signalling NaN as the
    // factor; one run, and runs of 97 cycles (budget exits between the blocks).
    const source = (step: number) => `
      .text
    _start:
      li s1, 0x3f000000
      li s2, 2
      li s3, 0
    0:
      vsplat.w v3, s1
      mv s0, s3
      li t2, ${idealAll.core.neurons}
    1:
      li t0, 0
    2:
      addi t3, s0, 1
      vlds.f v2, t3, t0
      vlds.f v4, s0, t0
      vmul.f v5, v2, v3
      vadd.f v4, v4, v5
      vsts.f v4, s0, t0
      vlds.f v6, s0, t0
      vmul.f v7, v6, v3
      vadd.f v6, v6, v7
      vsts.f v6, s0, t0
      addi t0, t0, ${step}
      blt t0, t2, 2b
      addi s0, s0, 13
      li t1, 140
      blt s0, t1, 1b
      li s1, 0x7f800001
      li s3, 6
      addi s2, s2, -1
      bnez s2, 0b
      li a7, 93
      ecall
    `;
    // The same with the scalar factor (vmuls.f, as le.s), including a pattern whose P is E (not fused).
    const scalar = (text: string) => text
      .replace('vmul.f v5, v2, v3', 'vmuls.f v5, v2, s1')
      .replace('vmul.f v7, v6, v3', 'vmuls.f v6, v6, s1');
    // 2 passes x 11 rows (0, 13, ..., 130 and 6, 19, ..., 136) x the segments of a row.
    for (const [step, fused, unfused] of [[36, 2 * 11 * 6, 0], [34, 2 * 11 * 6, 0]]) {
      for (const text of [source(step), scalar(source(step))]) {
        const program = programFromAssembly(assemble(text, { file: 'fuse.s', elementBits: [8, 16, 32] }));
        for (const budgets of [[1e9], [97]]) {
          const buses = matrixPair(idealAll, 5);
          const r = await lockstep(program, { chip: idealAll, buses, budgets });
          expect(r.end).toBe('halt');
          // In one run every update runs translated: the fused pass takes each segment whose lanes it can (a guard against a fast path that is never taken).
          if (budgets[0] === 1e9) expect(buses.counts(), `column step ${step}`).toEqual({ float: fused, feedback: 0, unfused });
        }
      }
    }
  });
});

/** Both sides of a compiled image: engine, the core's CoreBus, and (translated side) its table and state in the engine's memory. */
function imagePair(image: ChipImage, core: number, countFusedPaths = false) {
  const make = () => {
    const engine = new Engine(realiseModel(image, {}));
    const { buses } = createCoreBuses(image, engine, {}, { steps: 0 });
    const rng = new Rng(9, 'image-pair');
    // Random engine state, so every read has something to show.
    engine.model.populations.forEach((p, pi) => {
      for (const name of ['u', 'r', 'rp', 'e'] as const) {
        try {
          const v = engine.view(pi, name);
          for (let i = 0; i < v.length; i++) v[i] = rng.normal();
        } catch {
          // inputs have no u, rp, e
        }
      }
      if (p.model !== 'input') for (const name of ['diff', 'basal'] as const) { const v = engine.signalView(pi, name); for (let i = 0; i < v.length; i++) v[i] = rng.normal(); }
      const d = engine.signalView(pi, 'drive');
      for (let i = 0; i < d.length; i++) d[i] = rng.normal();
    });
    return { engine, bus: buses[core] };
  };
  const A = make(), B = make();
  const chip = image.manifest.chip;
  const base = allocWithoutGrowth(B.engine.mem, translatedStateBytes(chip))!;
  const table = allocWithoutGrowth(B.engine.mem, busTableBytes(chip.core.rows, chip.core.neurons))!;
  writeBusTable(B.engine.mem.memory, table, { ...coreBusTable(image, B.engine, core), adc: chip.adc });
  return {
    a: A.bus, b: B.bus,
    compare: (where: string) => {
      image.manifest.projections.forEach((_, j) => expect(Buffer.from(B.engine.readHardwareWeights(j).buffer).equals(Buffer.from(A.engine.readHardwareWeights(j).buffer)), `${where}: weights ${j}`).toBe(true));
      expect(B.bus.droppedWrites, where).toBe(A.bus.droppedWrites);
    },
    translatedOptions: { memory: { memory: B.engine.mem.memory, base }, kernels: kernelBusLink(B.engine.mem.k as unknown as Record<string, unknown>, table, { adcNoise: false, memory: B.engine.mem.memory, bus: B.bus, countFusedPaths }) },
    counts: () => fusedPathCounts(B.engine.mem.memory, table),
  };
}

/** le.s's loop over the listed rows (s8 from s7 to s10; rows and factors in pairs) for the segment at column t6, E in v2. */
const ROW_LOOP = `8: lw s9, 0(s8)
  lw t1, 4(s8)
  vlds.f v4, s9, t6
  vmuls.f v5, v2, t1
  vadd.f v4, v4, v5
  vsts.f v4, s9, t6
  addi s8, s8, 8
  bltu s8, s10, 8b`;

/** Firmware that reads (and writes back) every row segment, every column's observables and parameters, every row driver. */
function sweepSource(chip: ChipSpecT): string {
  const f = chip.weights.kind === 'float32';
  const lanes = f ? 32 : 64, sfx = f ? 'f' : 'h', row = f ? 'f' : 'b', rowLanes = f ? 32 : 128;
  return `
  .text
_start:
  li s1, ${chip.core.rows}
  li s2, ${chip.core.neurons}
  li s0, 0
1: li t6, 0
2: vlds.${row} v1, s0, t6
  vsts.${row} v1, s0, t6
  addi t6, t6, ${rowLanes}
  blt t6, s2, 2b
  addi s0, s0, 1
  blt s0, s1, 1b
  li t6, 0
3: vadc.${sfx} v2, 0, t6
  vadc.${sfx} v3, 1, t6
  vadc.${sfx} v4, 2, t6
  vadc.${sfx} v5, 3, t6
  vadc.${sfx} v6, 4, t6
  vadc.${sfx} v7, 5, t6
  vldp.${f ? 'f' : 'h'} v8, 0, t6
  vldp.${f ? 'f' : 'h'} v9, 1, t6
  vstp.${f ? 'f' : 'h'} v8, 0, t6
  addi t6, t6, ${lanes}
  blt t6, s2, 3b
  li t6, 0
4: vrowd.${sfx} v10, t6
  addi t6, t6, ${lanes}
  blt t6, s1, 4b
  li a7, 93
  ecall
`;
}

/**
 * le.s's loop over listed rows (translator-module.ts fusedLoopAt), run by fused-update.ts fusedLoop:
 * a list of (row, factor) pairs in memory, walked for each column segment. Rows of every kind
 * (float rows of two blocks, transpose feedback rows, rows without synapses), segments whole, partial
 * and outside a block, a NaN factor, a list that ends in a row past the array (a trap).
 */
function rowLoopSource(o: { rows: number; columns: number; colStep: number; listAt: number; trapRow?: number }): string {
  return `
  .text
_start:
  li s7, ${o.listAt}
  mv s10, s7
  li s6, 0
1: sw s6, 0(s10)
  li t0, 0x3a000000
  slli t1, s6, 14
  add t1, t0, t1
  li t2, 17
  bne s6, t2, 3f
  li t1, 0x7fc00001
3: sw t1, 4(s10)
  addi s10, s10, 8
  addi s6, s6, 1
  li t2, ${o.rows}
  blt s6, t2, 1b
  ${o.trapRow === undefined ? '' : `li t0, ${o.trapRow}
  sw t0, 0(s10)
  sw t1, 4(s10)
  addi s10, s10, 8`}
  li t6, 0
2: vadc.f v2, 3, t6
  mv s8, s7
${ROW_LOOP}
  addi t6, t6, ${o.colStep}
  li t2, ${o.columns}
  blt t6, t2, 2b
  li a7, 93
  ecall
`;
}

describe('fast bus: le.s\'s loop over listed rows runs as one loop, exactly as its instructions', () => {
  const image = compileFor(smallNet({ sizes: [40, 72, 8] }), 'ideal');
  const chip = image.manifest.chip;
  // Budgets that end runs inside the fused loop's range, right after it, and inside the last iteration.
  const budgetSets = [[1e9], [1009, 97, 3001, 13, 389], [211, 7, 29, 5003], ...Array.from({ length: 16 }, (_, i) => [1000 + i])];
  for (const colStep of [32, 36]) {
    it(`column segments every ${colStep}`, async () => {
      const prog = programFromAssembly(assemble(rowLoopSource({ rows: 130, columns: 160, colStep, listAt: 0x4000 }), { file: 'rows.s', elementBits: chip.processor.element_bits }));
      for (const budgets of budgetSets) {
        const pair = imagePair(image, 0, true);
        const r = await lockstep(prog, { chip, buses: pair, budgets });
        expect(r.end).toBe('halt');
        // Every update but those of rows without synapses (the kernels serve them) ran fused.
        const n = pair.counts();
        expect(n.float).toBeGreaterThan(0);
        expect(n.feedback).toBeGreaterThan(0);
        expect(n.unfused).toBeGreaterThan(0);
      }
    });
  }
  it('transpose feedback rows read lane by lane in column order (vlds.f, fused updates, the loop\'s pending registers)', async () => {
    // One read of each mirror row's first segment, then the loop, then a halt right after a mirror row's update.
    const src = `
  .text
_start:
  li s0, 40
  li t6, 0
1: vlds.f v1, s0, t6
  vadd.f v3, v3, v1
  addi s0, s0, 1
  li t2, 48
  blt s0, t2, 1b
  li a7, 93
  ecall
`;
    const prog = programFromAssembly(assemble(src, { file: 'mirror.s', elementBits: chip.processor.element_bits }));
    for (const budgets of [[1e9], [3]]) expect((await lockstep(prog, { chip, buses: imagePair(image, 0), budgets })).end).toBe('halt');
    // The list: float rows, then the mirror rows 40..47; the loop ends on a mirror row.
    const loop = programFromAssembly(assemble(rowLoopSource({ rows: 48, columns: 40, colStep: 32, listAt: 0x4000 }), { file: 'rows.s', elementBits: chip.processor.element_bits }));
    for (const budgets of [[1e9], ...Array.from({ length: 12 }, (_, i) => [1000 + i])]) expect((await lockstep(loop, { chip, buses: imagePair(image, 0), budgets })).end).toBe('halt');
  });
  it('a row past the array ends the loop in a trap, with the registers the iteration before left', async () => {
    const prog = programFromAssembly(assemble(rowLoopSource({ rows: 60, columns: 40, colStep: 32, listAt: 0x4000, trapRow: chip.core.rows + 3 }), { file: 'rows.s', elementBits: chip.processor.element_bits }));
    for (const budgets of budgetSets) {
      const r = await lockstep(prog, { chip, buses: imagePair(image, 0, true), budgets });
      expect(r.end).toMatch(/out of range/);
    }
  });
  it('a misaligned list traps as the interpreter does', async () => {
    const prog = programFromAssembly(assemble(rowLoopSource({ rows: 20, columns: 40, colStep: 32, listAt: 0x4002 }), { file: 'rows.s', elementBits: chip.processor.element_bits }));
    const r = await lockstep(prog, { chip, buses: imagePair(image, 0, true), budgets: [1e9] });
    expect(r.end).toMatch(/misaligned|align/);
  });
  it('with the loop turned off (LECHIP_TRANSLATOR_NO_LOOP) the same program gives the same state', async () => {
    const prog = programFromAssembly(assemble(rowLoopSource({ rows: 130, columns: 160, colStep: 36, listAt: 0x4000 }), { file: 'rows.s', elementBits: chip.processor.element_bits }));
    process.env.LECHIP_TRANSLATOR_NO_LOOP = '1';
    try {
      const r = await lockstep(prog, { chip, buses: imagePair(image, 0, true), budgets: [1e9] });
      expect(r.end).toBe('halt');
    } finally {
      delete process.env.LECHIP_TRANSLATOR_NO_LOOP;
    }
  });
});

/**
 * le.s's float block: E segments stored to scratch, the rows listed, then per column segment
 * (vld E; the row loop; advance column and E pointer). `rows` lists the row of each entry (NaN
 * factor at entry 5), columns [c0, c1) in steps of colStep.
 */
function nestSource(o: { rows: number[]; c0: number; c1: number; colStep: number }): string {
  const list = o.rows.map((r, i) => `  li t0, ${r}\n  sw t0, ${8 * i}(s10)\n  li t1, ${i === 5 ? 0x7fc00001 : 0x3a000000 + (i << 14)}\n  sw t1, ${8 * i + 4}(s10)`).join('\n');
  return `
  .text
_start:
  li s5, 0x3000
  li s7, 0x4000
  mv s10, s7
${list}
  addi s10, s10, ${8 * o.rows.length}
  li t6, ${o.c0}
  li a7, ${o.c1}
  mv t5, s5
1: vadc.f v2, 3, t6
  vst v2, 0(t5)
  addi t6, t6, ${o.colStep}
  addi t5, t5, 128
  blt t6, a7, 1b
  li t6, ${o.c0}
  mv t5, s5
  li t1, 7
outer:
7: vld v2, 0(t5)
  mv s8, s7
${ROW_LOOP}
  addi t6, t6, ${o.colStep}
  addi t5, t5, 128
  blt t6, a7, 7b
  li a7, 93
  ecall
`;
}

describe('fast bus: le.s\'s segment loop around the row loop runs with the loops exchanged, exactly as its instructions', () => {
  // 40-72-8 on core 0: rows 0..39 float rows of 72 columns (in -> h), rows 40..47 the mirror of h -> out.
  const image = compileFor(smallNet({ sizes: [40, 72, 8] }), 'ideal');
  const chip = image.manifest.chip;
  const budgetSets = [[1e9], [1009, 97, 3001, 13, 389], [211, 7, 29, 5003], ...Array.from({ length: 12 }, (_, i) => [700 + 37 * i])];
  const float = Array.from({ length: 30 }, (_, i) => (7 * i) % 40);
  const cases: [string, { rows: number[]; c0: number; c1: number; colStep: number }, boolean][] = [
    ['float rows, a NaN factor, segments of 32 with a partial last', { rows: float, c0: 0, c1: 72, colStep: 32 }, true],
    ['a row listed twice, segments of 36', { rows: [...float.slice(0, 10), 3, 3, ...float.slice(10)], c0: 0, c1: 72, colStep: 36 }, true],
    ['columns from 4 on', { rows: float, c0: 4, c1: 72, colStep: 32 }, true],
    ['a transpose feedback row in the list', { rows: [...float.slice(0, 12), 43, ...float.slice(12)], c0: 0, c1: 72, colStep: 32 }, true],
    ['transpose feedback rows only, the last of them listed last', { rows: [40, 41, 42, 43, 44, 45, 46, 47, 41], c0: 0, c1: 72, colStep: 32 }, true],
    ['a row without synapses in the list (the loops stay as they are)', { rows: [...float.slice(0, 12), 140, ...float.slice(12)], c0: 0, c1: 72, colStep: 32 }, false],
    ['segments past the rows\' blocks (the loops stay as they are)', { rows: float, c0: 0, c1: 200, colStep: 32 }, false],
    ['one segment, partial', { rows: float, c0: 0, c1: 30, colStep: 32 }, true],
    ['a last segment past the rows\' blocks (the loops stay as they are)', { rows: float, c0: 0, c1: 100, colStep: 36 }, false],
  ];
  for (const [name, o, exchanged] of cases) {
    it(name, async () => {
      const prog = programFromAssembly(assemble(nestSource(o), { file: 'nest.s', elementBits: chip.processor.element_bits }));
      for (const budgets of budgetSets) expect((await lockstep(prog, { chip, buses: imagePair(image, 0, true), budgets })).end).toBe('halt');
      // Exchanged: the row loop ran fused only in the last segment (every row once per pass, one iteration left to the block).
      const pair = imagePair(image, 0, true);
      const r = await lockstep(prog, { chip, buses: pair, budgets: [1e9] });
      expect(r.end).toBe('halt');
      const segments = Math.ceil((o.c1 - o.c0) / o.colStep);
      const n = pair.counts();
      expect(n.float + n.feedback + n.unfused).toBe(exchanged ? 0 : o.rows.length * segments);
      expect(r.translated.fusedNestUpdates()).toBe(exchanged ? o.rows.length * segments : 0);
    });
  }
  it('runs that end right after the exchanged loops see the registers they leave', async () => {
    // The interpreter alone finds the cycle count at which the last segment starts (pc at `outer`).
    const o = cases[2][1];
    const asm = assemble(nestSource(o), { file: 'nest.s', elementBits: chip.processor.element_bits });
    const prog = programFromAssembly(asm);
    const probe = new Processor({ chip, bus: imagePair(image, 0).a, rngSeed: 7, noiseSeed: 3 });
    probe.load(prog);
    let lastOuter = -1;
    for (let k = 0; k < 1e6 && !probe.halted; k++) {
      if (probe.pc === asm.symbols.outer) lastOuter = probe.cycles;
      probe.run(1);
    }
    expect(lastOuter).toBeGreaterThan(0);
    // First runs that end at every cycle from the last segment's end on (the whole nest takes about
    // rows x 8 instructions more): the exchange runs in those that leave room for all of it and the
    // budget tests in it, and the run then ends at the block after the nest, which sees everything.
    let seen = 0;
    for (let d = 0; d < 96; d++) {
      const pair = imagePair(image, 0, true);
      const r = await lockstep(prog, { chip, buses: pair, budgets: [lastOuter + d + 9 * o.rows.length, 1e9] });
      expect(r.end).toBe('halt');
      if (r.translated.fusedNestUpdates() > 0) seen++;
    }
    expect(seen).toBeGreaterThan(30);
  });
  it('with the exchange turned off (LECHIP_TRANSLATOR_NO_NEST) the same program gives the same state', async () => {
    const prog = programFromAssembly(assemble(nestSource(cases[0][1]), { file: 'nest.s', elementBits: chip.processor.element_bits }));
    process.env.LECHIP_TRANSLATOR_NO_NEST = '1';
    try {
      const pair = imagePair(image, 0, true);
      expect((await lockstep(prog, { chip, buses: pair, budgets: [1e9] })).end).toBe('halt');
      expect(pair.counts().float).toBe(cases[0][1].rows.length * 3);
    } finally {
      delete process.env.LECHIP_TRANSLATOR_NO_NEST;
    }
  });
});

describe('fast bus: every row and column of compiled images through the kernels\' table equals CoreBus', () => {
  const cases: [string, ChipImage][] = [
    ['ideal, transpose feedback', compileFor(smallNet({ sizes: [40, 70, 5] }), 'ideal')],
    ['ideal, random feedback', compileFor(smallNet({ sizes: [40, 70, 5], feedback: 'random' }), 'ideal')],
    ['bss2 (rows by the host, ADC and drivers by the kernels)', compileFor(smallNet({ sizes: [30, 80, 6] }), 'bss2')],
  ];
  for (const [name, image] of cases) {
    it(name, async () => {
      const chip = image.manifest.chip;
      const prog = programFromAssembly(assemble(sweepSource(chip), { file: 'sweep.s', elementBits: chip.processor.element_bits }));
      for (let core = 0; core < image.manifest.system.cores; core++) {
        const r = await lockstep(prog, { chip, buses: imagePair(image, core), budgets: [40, 1e9] });
        expect(r.end).toBe('halt');
        const s = r.translated.stats;
        // On float chips the kernels serve all but trim reads (a few per core); on bss2 the
        // synapse rows (two of ~14 instructions per row) go to the host.
        const hostShare = s.hostBusCalls / (r.instructions - s.hostSteps);
        if (chip.weights.kind === 'float32') expect(hostShare).toBeLessThan(0.01);
        else expect(hostShare).toBeLessThan(0.4);
      }
    });
  }
});
