/**
 * Firmware benchmarks: the reference interpreter against the translated processor
 * (emulator/processor/translator.ts), in instructions per second, on two loops of the shapes
 * plasticity firmware runs, and the whole LE learning step of the 784-300-100-10 MLP on `ideal`
 * with the firmware doing the learning against the engine's hand-written update kernel.
 *
 *   float-row-update   ideal: per synapse row, c = s * rate (splat), then per 32-column segment
 *                      vld e, vlds.f w, vfma.f w += e * c, vsts.f w  (le.s's float inner loop)
 *   fixed-sr           bss2: per row, vlds.b, widen to 16 bits, scale (vmulfs.hs), narrow with
 *                      stochastic rounding (vnarrowsr), vsts.b  (le.s's fixed-point inner loop)
 *   le-step            784-300-100-10 on ideal, MNIST-like sparse inputs, learning every step:
 *                      engine + le.s on the processors (translated) vs engine + update kernel
 *
 * Each figure is the median of R runs (runs of the implementations interleaved). Run with
 * `npm run build && node dist/bench/firmware.js [--runs R] [--quick] [--json]`.
 */
import { performance } from 'node:perf_hooks';
import type { ChipSpecT } from '../chip/spec.js';
import { loadChip } from '../chip/presets.js';
import { Rng } from '../common/random.js';
import { assemble } from '../isa/assembler.js';
import { MockBus, type ProcessorBus } from '../emulator/processor/bus.js';
import { programFromAssembly, type ProgramImage } from '../emulator/processor/interpreter.js';
import { createProcessor, type FirmwareProcessor, type ProcessorMode } from '../emulator/processor/translator.js';
import { describeMachine, machineLine } from './machine.js';

/** One measured implementation of one benchmark. */
export interface FirmwareBenchResult {
  name: string;
  implementation: string;
  /** Median instructions per wall second (loop benchmarks) or steps per second (le-step). */
  median: number;
  values: number[];
  unit: 'instructions/s' | 'steps/s';
  info: Record<string, unknown>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// ---------------------------------------------------------------- loop programs

/** le.s's float inner loop over `rows` rows of `cols` columns, `passes` times, a wait between passes. */
export function floatRowUpdateSource(rows: number, cols: number, passes: number): string {
  return `
        .text
        .globl _start
_start:
        li      s0, ${passes}
pass:
        la      s1, cvec          # c per row (float32 bits)
        la      s2, evec          # e per column
        li      s3, 0             # row
        li      s4, ${rows}
        li      s5, ${cols}
row:
        lw      t1, 0(s1)
        vsplat.w v3, t1
        li      t6, 0
        mv      t5, s2
seg:
        vld     v2, 0(t5)
        vlds.f  v4, s3, t6
        vfma.f  v4, v2, v3
        vsts.f  v4, s3, t6
        addi    t6, t6, 32
        addi    t5, t5, 128
        blt     t6, s5, seg
        addi    s1, s1, 4
        addi    s3, s3, 1
        blt     s3, s4, row
        li      t0, 1
        wait    t0
        addi    s0, s0, -1
        bnez    s0, pass
        li      a7, 93
        ecall
        .data
        .align 4
cvec:   .space ${4 * rows}
        .align 4
evec:   .space ${4 * cols}
`;
}

/** le.s's fixed-point inner loop (vec-scale's shape) over `rows` rows of 128 columns, `passes` times. */
export function fixedSrSource(rows: number, passes: number): string {
  return `
        .text
        .globl _start
_start:
        li      s0, ${passes}
        li      s2, 24576         # 0.75 in Q0.15
        li      s3, 7
pass:
        li      s1, 0
        li      s4, ${rows}
row:
        vlds.b  v1, s1, zero
        vwiden.lo v2, v1
        vwiden.hi v3, v1
        vslli.hs v2, v2, 7
        vslli.hs v3, v3, 7
        vmulfs.hs v2, v2, s2
        vmulfs.hs v3, v3, s2
        vnarrowsr.lo v4, v2, s3
        vnarrowsr.hi v4, v3, s3
        vadd.bs v4, v4, v1
        vsts.b  v4, s1, zero
        addi    s1, s1, 1
        blt     s1, s4, row
        li      t0, 1
        wait    t0
        addi    s0, s0, -1
        bnez    s0, pass
        li      a7, 93
        ecall
`;
}

/** Seeds a program's data (c and e vectors) with finite floats. */
function seedFloats(program: ProgramImage, symbols: Record<string, number>, rows: number, cols: number): void {
  const rng = new Rng(3, 'firmware-bench-data');
  const data = program.segments[1];
  const view = new DataView(data.bytes.buffer, data.bytes.byteOffset, data.bytes.byteLength);
  for (let r = 0; r < rows; r++) view.setFloat32(symbols.cvec - data.addr + 4 * r, 1e-3 * (rng.uniform() - 0.5), true);
  for (let c = 0; c < cols; c++) view.setFloat32(symbols.evec - data.addr + 4 * c, rng.uniform() - 0.5, true);
}

interface LoopCase {
  name: string;
  chip: ChipSpecT;
  program: ProgramImage;
  bus: () => ProcessorBus;
}

function loopCases(quick: boolean): LoopCase[] {
  const ideal = loadChip('ideal');
  const bss2 = loadChip('bss2');
  const rows = 256, cols = 256;
  const fsrc = floatRowUpdateSource(rows, cols, quick ? 4 : 20);
  const fasm = assemble(fsrc, { file: 'float-row-update.s', elementBits: ideal.processor.element_bits });
  const fprog = programFromAssembly(fasm);
  seedFloats(fprog, fasm.symbols, rows, cols);
  const xsrc = fixedSrSource(256, quick ? 20 : 100);
  const xprog = programFromAssembly(assemble(xsrc, { file: 'fixed-sr.s', elementBits: bss2.processor.element_bits }));
  const rng = new Rng(4, 'firmware-bench-bus');
  const floatW = Float32Array.from({ length: rows * ideal.core.neurons }, () => rng.normal() * 0.1);
  const fixedW = Int32Array.from({ length: bss2.core.rows * bss2.core.neurons }, () => rng.int(127) - 63);
  return [
    {
      name: 'float-row-update', chip: ideal, program: fprog,
      bus: () => {
        const b = new MockBus(rows, cols, 'float32');
        b.synapses.set(floatW.subarray(0, rows * cols));
        return b;
      },
    },
    {
      name: 'fixed-sr', chip: bss2, program: xprog,
      bus: () => {
        const b = new MockBus(bss2.core.rows, bss2.core.neurons, 'fixed');
        b.synapses.set(fixedW);
        return b;
      },
    },
  ];
}

/** Runs a program to its halt (waits advance the bus); returns instructions and seconds. */
function timeProgram(p: FirmwareProcessor, program: ProgramImage): { instructions: number; seconds: number } {
  p.load(program);
  const t0 = performance.now();
  for (;;) {
    const r = p.run(1e12);
    if (r.reason === 'halt') break;
    if (r.reason === 'wait') p.bus.advanceAnalog(r.waitSteps);
  }
  return { instructions: p.instructions, seconds: (performance.now() - t0) / 1000 };
}

/** The loop benchmarks: interpreter and translated, runs interleaved. */
export async function loopBenchmarks(opts: { runs: number; quick: boolean; log?: (s: string) => void }): Promise<FirmwareBenchResult[]> {
  const out: FirmwareBenchResult[] = [];
  for (const c of loopCases(opts.quick)) {
    const modes: ProcessorMode[] = ['interpret', 'translate'];
    const procs = new Map<ProcessorMode, FirmwareProcessor>();
    for (const mode of modes) procs.set(mode, await createProcessor({ chip: c.chip, bus: c.bus(), rngSeed: 1, processor: mode }));
    // Warm-up (JIT tiers, the translation itself).
    for (const mode of modes) timeProgram(procs.get(mode)!, c.program);
    const values = new Map<ProcessorMode, number[]>(modes.map((m) => [m, []]));
    let instructions = 0;
    for (let r = 0; r < opts.runs; r++) {
      for (const mode of modes) {
        const t = timeProgram(procs.get(mode)!, c.program);
        instructions = t.instructions;
        values.get(mode)!.push(t.instructions / t.seconds);
      }
    }
    for (const mode of modes) {
      const v = values.get(mode)!;
      const p = procs.get(mode)! as FirmwareProcessor & { translateMs?: number; stats?: { hostSteps: number } };
      out.push({
        name: c.name, implementation: mode, median: median(v), values: v, unit: 'instructions/s',
        info: { chip: c.chip.name, instructions_per_run: instructions, bus: 'MockBus (TypeScript)', ...(p.translateMs !== undefined ? { translate_ms: Number(p.translateMs.toFixed(1)) } : {}) },
      });
      opts.log?.(`${c.name} ${mode}: ${(median(v) / 1e6).toFixed(2)} M instructions/s`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- CLI

async function main(argv: string[]): Promise<void> {
  const runs = Number(argv[argv.indexOf('--runs') + 1]) || 5;
  const quick = argv.includes('--quick');
  const json = argv.includes('--json');
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const machine = describeMachine();
  const results = await loopBenchmarks({ runs, quick, log });
  const ratio = (name: string) => {
    const i = results.find((r) => r.name === name && r.implementation === 'interpret');
    const t = results.find((r) => r.name === name && r.implementation === 'translate');
    return i && t ? t.median / i.median : null;
  };
  const report = { format: 'lechip/firmware-bench@1', machine: machineLine(machine), machine_info: machine, runs, quick, results, ratios: { 'float-row-update': ratio('float-row-update'), 'fixed-sr': ratio('fixed-sr') } };
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(`${report.machine}\n`);
    for (const r of results) process.stdout.write(`${r.name.padEnd(20)} ${r.implementation.padEnd(10)} ${(r.median / 1e6).toFixed(2).padStart(8)} M ${r.unit}\n`);
    for (const [k, v] of Object.entries(report.ratios)) process.stdout.write(`${k}: translated / interpreted = ${v?.toFixed(1)}x\n`);
  }
}

if (process.argv[1] && /firmware\.(js|ts)$/.test(process.argv[1])) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
  });
}
