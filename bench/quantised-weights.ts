/**
 * The kernels for quantised weights (kernels/quantised.ts) against the float kernels, in one
 * process with the runs interleaved:
 *   kernels   mv_forward / mv_dot_rows against mv_forward_q8 / mv_dot_rows_q8 on one array of
 *             n x n (every signal non-zero, one row block), microseconds per product;
 *   chip      LE dynamics (no learning) of a 1024-4096-4096-10 network on the many-core 6-bit chip
 *             of the compile benchmark (chip seed 1, the preset's mismatch), through the emulated
 *             chip's present(), with ChipConfig.weightKernels 'float', 'int8' and 'auto', on one
 *             and on two threads; steps/s, ratios run by run.
 * The results are identical (test/emulator/quantised-weights.test.ts); this measures where the
 * int8 codes' quarter of the memory traffic outweighs their extra operations, the threshold
 * 'auto' uses (emulator/quantised-format.ts).
 *
 *   node dist/bench/quantised-weights.js [--runs N] [--quick] [--json] [--only kernels|chip]
 */
import { performance } from 'node:perf_hooks';
import { encodeImage } from '../chip/image.js';
import { compile } from '../compiler/compile.js';
import type { Chip, ChipConfig } from '../emulator/chip-interface.js';
import { createEmulatedChip } from '../emulator/emulated-chip.js';
import { KernelMemory, pad4 } from '../emulator/wasm.js';
import { manyCoreChip } from './compile-bench.js';
import { describeMachine } from './machine.js';
import { denseSamples } from './mlp.js';
import { wideNetworkText } from './wide-chip-bench.js';

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sig = (x: number, n = 3) => Number(x.toPrecision(n));

/** One n x n array in both formats, its vectors, and the four products as closures. */
function kernelCase(n: number) {
  const width = pad4(n);
  const cstride = Math.ceil(n / 8) * 8;
  const mem = new KernelMemory(n * (cstride + width * 4) + width * 64 + n * 64 + (1 << 20));
  const C = mem.alloc(n * cstride);
  const codes = new Int8Array(mem.memory.buffer, C, n * cstride);
  const unitVec = mem.allocF32(width);
  const unit = mem.f32(unitVec, width);
  for (let j = 0; j < n; j++) unit[j] = Math.fround(0.01 * (1 + 0.1 * Math.sin(j)));
  const U = mem.alloc(n * 4);
  mem.u32(U, n).fill(unitVec);
  const W = mem.allocF32(n * width);
  const w = mem.f32(W, n * width);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const c = ((k * 31 + j * 17) % 127) - 63;
      codes[k * cstride + j] = c;
      w[k * width + j] = Math.fround(c * unit[j]);
    }
  }
  const s = mem.allocF32(n);
  mem.f32(s, n).fill(0.5);
  const y = mem.allocF32(n);
  const d = mem.allocF32(n);
  mem.f32(d, n).fill(0.1);
  const out = mem.allocF32(n);
  const idx = mem.alloc(n * 4);
  const K = mem.k;
  return {
    floatBytes: n * width * 4,
    forward: () => K.mv_forward(W, width, n, s, y, idx),
    forwardQ8: () => K.mv_forward_q8(C, cstride, U, 0, width, n, s, y, idx),
    dot: () => K.mv_dot_rows(W, width, n, d, s, out),
    dotQ8: () => K.mv_dot_rows_q8(C, cstride, U, 0, width, n, d, s, out),
  };
}

function timeUs(fn: () => void, weights: number): number {
  const reps = Math.max(3, Math.round(2e8 / weights));
  fn();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return ((performance.now() - t0) * 1e3) / reps;
}

function kernels(runs: number, quick: boolean) {
  const sizes = quick ? [512, 2048] : [512, 1024, 2048, 4096];
  return sizes.map((n) => {
    const c = kernelCase(n);
    const t: Record<'forward' | 'forwardQ8' | 'dot' | 'dotQ8', number[]> = { forward: [], forwardQ8: [], dot: [], dotQ8: [] };
    for (let r = 0; r < runs; r++) for (const k of Object.keys(t) as (keyof typeof t)[]) t[k].push(timeUs(c[k], n * n));
    const perRun = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));
    return {
      n, float_mb: sig(c.floatBytes / 1e6), int8_mb: sig((n * Math.ceil(n / 8) * 8) / 1e6),
      forward_us: { float: sig(median(t.forward)), int8: sig(median(t.forwardQ8)) },
      forward_speedup_int8: sig(perRun(t.forward, t.forwardQ8)),
      transposed_us: { float: sig(median(t.dot)), int8: sig(median(t.dotQ8)) },
      transposed_speedup_int8: sig(perRun(t.dot, t.dotQ8)),
    };
  });
}

async function chipDynamics(runs: number, quick: boolean) {
  const sizes = quick ? [256, 1024, 1024, 10] : [1024, 4096, 4096, 10];
  const text = wideNetworkText(sizes);
  const t0 = performance.now();
  const { image } = compile(text, { chip: manyCoreChip(), seed: 1, cores: 'auto' });
  const compileS = (performance.now() - t0) / 1e3;
  const bytes = encodeImage(image);
  const samples = 2;
  const stepsPerSample = quick ? 20 : 50;
  const data = denseSamples(samples, sizes[0], sizes[sizes.length - 1]);
  const configs: { mode: 'float' | 'int8' | 'auto'; threads: number }[] = [];
  for (const threads of [1, 2]) for (const mode of ['float', 'int8', 'auto'] as const) configs.push({ mode, threads });
  const label = (c: (typeof configs)[number]) => `${c.mode}-${c.threads}t`;
  const chips: Chip[] = [];
  for (const c of configs) {
    const chip = await createEmulatedChip();
    await chip.load(bytes);
    const config: ChipConfig = { chipSeed: 1, seed: 1, weightKernels: c.mode, threads: c.threads };
    await chip.configure(config);
    chips.push(chip);
  }
  const present = (i: number) =>
    chips[i].present({ inputs: data.x, inputSize: sizes[0], count: samples, tPresMs: stepsPerSample * 0.01, learn: false, readout: 'out' });
  const outs: Float32Array[] = [];
  for (let i = 0; i < chips.length; i++) outs.push(await present(i)); // warm-up
  const identical = outs.every((o) => Buffer.from(o.buffer).equals(Buffer.from(outs[0].buffer)));
  const rate: number[][] = configs.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < configs.length; i++) {
      const t = performance.now();
      await present(i);
      rate[i].push((samples * stepsPerSample) / ((performance.now() - t) / 1e3));
    }
  }
  for (const chip of chips) await chip.close();
  const synapses = sizes.slice(1).reduce((a, n, l) => a + n * sizes[l], 0);
  const at = (mode: string, threads: number) => configs.findIndex((c) => c.mode === mode && c.threads === threads);
  /** Median over runs of run k's ratio a / b (the same round). */
  const ratio = (a: number, b: number) => sig(median(rate[a].map((x, k) => x / rate[b][k])));
  return {
    network: sizes.join('-'), synapses, float_mb: sig((synapses * 4) / 1e6), cores: image.manifest.system.cores_used,
    compile_s: sig(compileS), steps_per_run: samples * stepsPerSample, outputs_identical: identical,
    steps_per_s: Object.fromEntries(configs.map((c, i) => [label(c), sig(median(rate[i]))])),
    speedup_vs_float_same_threads: Object.fromEntries(
      configs.filter((c) => c.mode !== 'float').map((c) => [label(c), ratio(at(c.mode, c.threads), at('float', c.threads))]),
    ),
    two_threads_vs_one: Object.fromEntries(['float', 'int8', 'auto'].map((m) => [m, ratio(at(m, 2), at(m, 1))])),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (f: string) => args.includes(f);
  const value = (f: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);
  const runs = Number(value('--runs') ?? 5);
  const quick = flag('--quick');
  const only = value('--only');
  const report: Record<string, unknown> = { machine: describeMachine(), runs };
  if (only !== 'chip') report.kernels = kernels(runs, quick);
  if (only !== 'kernels') report.chip = await chipDynamics(runs, quick);
  if (flag('--json')) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  for (const k of (report.kernels as ReturnType<typeof kernels>) ?? []) {
    console.log(`${k.n} x ${k.n} (${k.float_mb} MB float, ${k.int8_mb} MB int8): forward ${k.forward_us.float} / ${k.forward_us.int8} us (int8 x${k.forward_speedup_int8}), transposed ${k.transposed_us.float} / ${k.transposed_us.int8} us (int8 x${k.transposed_speedup_int8})`);
  }
  if (report.chip) console.log(JSON.stringify(report.chip));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
