/**
 * Firmware benchmarks: the reference interpreter against the translated processor
 * (emulator/processor/translator.ts), in instructions per second, on two loops of the shapes
 * plasticity firmware runs, and the whole LE learning step of the 784-300-100-10 MLP on `ideal`
 * with the firmware doing the learning against the engine's hand-written update kernel.
 *
 *   float-row-update   ideal: per synapse row, c = s * rate (splat), then per 32-column segment
 *                      vld e, vlds.f w, vfma.f w += e * c, vsts.f w  (le.s's float inner loop),
 *                      on a MockBus (rows through the TypeScript bus for both implementations)
 *   ...-fast-bus       the same on a MatrixBus in kernel memory: the interpreter through its
 *                      TypeScript methods, translated code through kernels/bus.ts
 *   fixed-sr           bss2: per row, vlds.b, widen to 16 bits, scale (vmulfs.hs), narrow with
 *                      stochastic rounding (vnarrowsr), vsts.b  (le.s's fixed-point inner loop)
 *   le-step            784-300-100-10 on ideal, MNIST-like sparse inputs, learning every step:
 *                      engine + le.s on the processors (translated) vs engine + update kernel
 *
 * Each figure is the median of R runs (runs of the implementations interleaved). Run with
 * `npm run build && node dist/bench/firmware.js [--runs R] [--quick] [--json]`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ChipImage } from '../chip/image-model.js';
import { copyInput, loadDataset } from '../cli/datasets.js';
import { projectRoot } from '../common/paths.js';
import { compile } from '../compiler/compile.js';
import type { ChipConfig } from '../emulator/chip-interface.js';
import { Engine } from '../emulator/engine.js';
import { FirmwareRuntime } from '../emulator/firmware-runtime.js';
import { realiseModel } from '../emulator/instance.js';
import { engineProcessorFactory, kernelBusLink, MatrixBus } from '../emulator/processor/wasm-bus.js';
import { KernelMemory } from '../emulator/wasm.js';
import type { ChipSpecT } from '../chip/spec.js';
import { loadChip } from '../chip/presets.js';
import { Rng } from '../common/random.js';
import { assemble } from '../isa/assembler.js';
import { MockBus, type ProcessorBus } from '../emulator/processor/bus.js';
import { programFromAssembly, type ProgramImage } from '../emulator/processor/interpreter.js';
import {
  createProcessor, loadTranslator, processorFactory, translatedStateBytes, TranslatedProcessor, type FirmwareProcessor, type ProcessorMode, type TranslatedOptions,
} from '../emulator/processor/translator.js';
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
  /** The bus of one processor, and for the translated one its options (the kernels' fast bus). */
  bus: () => { bus: ProcessorBus; translated?: Partial<TranslatedOptions>; name: string };
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
  const matrix = () => {
    // The same matrix in kernel memory: the interpreter reads it through MatrixBus's TypeScript
    // methods, the translated processor through the kernels (state in the same memory).
    const mem = new KernelMemory(8 << 20);
    const bus = new MatrixBus(mem, rows, cols, ideal.adc);
    bus.weights.set(floatW.subarray(0, rows * cols));
    const base = mem.alloc(translatedStateBytes(ideal));
    return {
      bus, name: 'MatrixBus (kernel memory; translated: kernels/bus.ts)',
      translated: { memory: { memory: mem.memory, base }, kernels: kernelBusLink(mem.k as unknown as Record<string, unknown>, bus.table, { adcNoise: false }) },
    };
  };
  return [
    {
      name: 'float-row-update', chip: ideal, program: fprog,
      bus: () => {
        const b = new MockBus(rows, cols, 'float32');
        b.synapses.set(floatW.subarray(0, rows * cols));
        return { bus: b, name: 'MockBus (TypeScript)' };
      },
    },
    { name: 'float-row-update-fast-bus', chip: ideal, program: fprog, bus: matrix },
    {
      name: 'fixed-sr', chip: bss2, program: xprog,
      bus: () => {
        const b = new MockBus(bss2.core.rows, bss2.core.neurons, 'fixed');
        b.synapses.set(fixedW);
        return { bus: b, name: 'MockBus (TypeScript)' };
      },
    },
  ];
}

/** Runs a program to its halt (waits advance the bus); returns instructions and seconds. */
function timeProgram(p: FirmwareProcessor, program: ProgramImage): { instructions: number; seconds: number } {
  p.load(program);
  // Translation is not timed (it happens once per program; translate_ms reports it).
  if (p instanceof TranslatedProcessor) p.translateNow();
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
    let busName = '';
    for (const mode of modes) {
      const b = c.bus();
      busName = b.name;
      procs.set(mode, await createProcessor({ chip: c.chip, bus: b.bus, rngSeed: 1, processor: mode, ...(mode === 'translate' ? b.translated : {}) }));
    }
    // Warm-up (JIT tiers of both, the translation, and V8's tier-up of the translated module:
    // TurboFan compiles it in the background and the next run() call uses it), at least 0.5 s.
    for (let w = 0, t0 = performance.now(); w < 2 || (performance.now() - t0 < 500 && w < 50); w++) {
      for (const mode of modes) timeProgram(procs.get(mode)!, c.program);
    }
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
        info: { chip: c.chip.name, instructions_per_run: instructions, bus: busName, ...(p.translateMs !== undefined ? { translate_ms: Number(p.translateMs.toFixed(1)) } : {}) },
      });
      opts.log?.(`${c.name} ${mode}: ${(median(v) / 1e6).toFixed(2)} M instructions/s`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- the whole LE learning step

/** MNIST training samples (pixels / 255 as lechip train scales them) or, without the data files, sparse random ones. */
export function leSamples(count: number): { x: Float32Array; y: Float32Array; source: string } {
  const x = new Float32Array(count * 784);
  const y = new Float32Array(count * 10);
  try {
    const d = loadDataset('mnist', { inputSize: 784, outputSize: 10, samples: count, test: 1 });
    for (let i = 0; i < count; i++) {
      copyInput(d.train, 784, i, x, i * 784);
      y.set(d.train.targets.subarray(i * 10, (i + 1) * 10), i * 10);
    }
    return { x, y, source: 'MNIST training images' };
  } catch {
    const rng = new Rng(5, 'firmware-bench-samples');
    for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < 0.2 ? rng.uniform() : 0;
    for (let i = 0; i < count; i++) y[i * 10 + rng.int(10)] = 1;
    return { x, y, source: 'sparse random inputs (MNIST files not found)' };
  }
}

type LeVariant = 'kernel' | 'firmware-translated' | 'firmware-interpreted';

/** One engine of the MNIST MLP on ideal, learning by `variant`; run(n) presents n samples and returns seconds. */
function leSetup(image: ChipImage, variant: LeVariant, samples: { x: Float32Array; y: Float32Array }) {
  const config: ChipConfig = {};
  const model = realiseModel(image, config);
  const engine = new Engine(model);
  // T_pres = 1 ms (examples/mnist-mlp.json).
  const stepsPerSample = Math.round(1 / model.dt_ms);
  const runtime = variant === 'kernel' ? null : new FirmwareRuntime(image, engine, config, {
    timing: 'ideal', dtMs: model.dt_ms,
    makeProcessor: variant === 'firmware-translated' ? engineProcessorFactory(image, engine, config, 'translate') : processorFactory('interpret'),
  });
  const total = samples.x.length / 784;
  let next = 0;
  return {
    engine, runtime, stepsPerSample,
    run(n: number): number {
      const t0 = performance.now();
      if (!runtime) {
        const from = next % total;
        const k = Math.min(n, total - from);
        engine.present({ inputs: samples.x.subarray(from * 784, (from + k) * 784), targets: samples.y.subarray(from * 10, (from + k) * 10), count: k, stepsPerSample, learn: true, readout: 'out' });
        next += k;
      } else {
        const step = (k: number) => engine.step(k, { learn: false, nudge: true });
        for (let i = 0; i < n; i++, next++) {
          const s = next % total;
          engine.setInput('in', samples.x.subarray(s * 784, (s + 1) * 784));
          engine.setTarget('out', samples.y.subarray(s * 10, (s + 1) * 10));
          runtime.advance(stepsPerSample, step);
        }
      }
      return (performance.now() - t0) / 1000;
    },
  };
}

/** The LE learning step of the MNIST MLP on ideal: update kernel, translated firmware, interpreted firmware (steps/s). */
export async function leStepBenchmarks(opts: { runs: number; quick: boolean; log?: (s: string) => void }): Promise<FirmwareBenchResult[]> {
  await loadTranslator();
  const chip = loadChip('ideal');
  const text = readFileSync(join(projectRoot(), 'examples', 'mnist-mlp.json'), 'utf8');
  const image = compile(text, { chip, seed: 1, file: 'examples/mnist-mlp.json' }).image;
  const perRun: Record<LeVariant, number> = opts.quick
    ? { kernel: 20, 'firmware-translated': 20, 'firmware-interpreted': 1 }
    : { kernel: 100, 'firmware-translated': 100, 'firmware-interpreted': 3 };
  const samples = leSamples(perRun.kernel * (opts.runs + 1));
  const variants: LeVariant[] = ['kernel', 'firmware-translated', 'firmware-interpreted'];
  const setups = new Map(variants.map((v) => [v, leSetup(image, v, samples)]));
  // Warm-up: JIT tiers, translation, V8's tier-up of the translated modules.
  for (const v of variants) setups.get(v)!.run(perRun[v]);
  for (const t0 = performance.now(); performance.now() - t0 < 500; ) setups.get('firmware-translated')!.run(5);
  const values = new Map<LeVariant, number[]>(variants.map((v) => [v, []]));
  for (let r = 0; r < opts.runs; r++) {
    for (const v of variants) {
      const s = setups.get(v)!;
      const seconds = s.run(perRun[v]);
      values.get(v)!.push((perRun[v] * s.stepsPerSample) / seconds);
    }
  }
  return variants.map((v) => {
    const s = setups.get(v)!;
    const st = s.runtime?.statistics();
    const procs = s.runtime ? s.runtime.cores.map((c) => s.runtime!.processor(c)) : [];
    const info: Record<string, unknown> = {
      network: '784-300-100-10 (examples/mnist-mlp.json) on ideal, processor timing ideal', inputs: samples.source,
      samples_per_run: perRun[v], steps_per_sample: s.stepsPerSample, cores: image.manifest.system.cores,
    };
    if (st) Object.assign(info, { processors: st.processors, instructions_per_step: Math.round(st.instructions / Math.max(1, st.steps)) });
    const tp = procs.filter((p): p is TranslatedProcessor => p instanceof TranslatedProcessor);
    if (tp.length) {
      info.translate_ms = Number(tp.reduce((a, p) => a + p.translateMs, 0).toFixed(1));
      info.host_bus_calls = tp.reduce((a, p) => a + p.stats.hostBusCalls, 0);
      info.host_steps = tp.reduce((a, p) => a + p.stats.hostSteps, 0);
    }
    const v2 = values.get(v)!;
    opts.log?.(`le-step ${v}: ${median(v2).toFixed(0)} steps/s`);
    return { name: 'le-step', implementation: v, median: median(v2), values: v2, unit: 'steps/s' as const, info };
  });
}

// ---------------------------------------------------------------- CLI

async function main(argv: string[]): Promise<void> {
  const runs = Number(argv[argv.indexOf('--runs') + 1]) || 5;
  const quick = argv.includes('--quick');
  const json = argv.includes('--json');
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const machine = describeMachine();
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
  const results = [
    ...(only === null || only === 'loops' ? await loopBenchmarks({ runs, quick, log }) : []),
    ...(only === null || only === 'le-step' ? await leStepBenchmarks({ runs, quick, log }) : []),
  ];
  const ratio = (name: string) => {
    const i = results.find((r) => r.name === name && r.implementation === 'interpret');
    const t = results.find((r) => r.name === name && r.implementation === 'translate');
    return i && t ? t.median / i.median : null;
  };
  const le = (impl: string) => results.find((r) => r.name === 'le-step' && r.implementation === impl)?.median;
  const k = le('kernel'), ft = le('firmware-translated'), fi = le('firmware-interpreted');
  const report = {
    format: 'lechip/firmware-bench@1', machine: machineLine(machine), machine_info: machine, runs, quick, results,
    ratios: {
      'float-row-update translated / interpreted': ratio('float-row-update'),
      'float-row-update-fast-bus translated / interpreted': ratio('float-row-update-fast-bus'),
      'fixed-sr translated / interpreted': ratio('fixed-sr'),
      'le-step cost, translated firmware / update kernel': k && ft ? k / ft : null,
      'le-step cost, interpreted firmware / update kernel': k && fi ? k / fi : null,
    },
  };
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(`${report.machine}\n`);
    for (const r of results) {
      const v = r.unit === 'steps/s' ? `${r.median.toFixed(0).padStart(8)}` : `${(r.median / 1e6).toFixed(2).padStart(8)} M`;
      process.stdout.write(`${r.name.padEnd(18)} ${r.implementation.padEnd(22)} ${v} ${r.unit}   ${JSON.stringify(r.info)}\n`);
    }
    for (const [name, v] of Object.entries(report.ratios)) if (v !== null) process.stdout.write(`${name}: ${v.toFixed(2)}x\n`);
  }
}

if (process.argv[1] && /firmware\.(js|ts)$/.test(process.argv[1])) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
  });
}
