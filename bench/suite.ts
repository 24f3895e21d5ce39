/**
 * The benchmark harness behind `lechip bench`: a registry of named benchmarks, each run R times
 * (median, min, max), the machine described, and per step benchmark its GFLOP/s (bench/flops.ts),
 * the emulated biological and hardware seconds per wall second, the slowdown against the chip at
 * its speedup, and ratios against the native C baseline, its 128-bit (SSE) build and the TypeScript
 * reference measured in the same run (runs interleaved round-robin). A selection (--filter) pulls
 * in the baselines its ratios need.
 */
import { performance } from 'node:perf_hooks';
import { loadChip } from '../chip/presets.js';
import { toolVersion } from '../common/paths.js';
import { compileBenchmark } from './compile-bench.js';
import { leStepFlops } from './flops.js';
import { leChipBenchmarks } from './le-chip-bench.js';
import { leFirmwareBenchmarks } from './le-firmware-bench.js';
import { leMlpBenchmarks } from './le-mlp-bench.js';
import { threadsBenchmarks } from './threads-bench.js';
import { lifBss2Benchmark } from './lif-bss2.js';
import { manyChipsBenchmarks } from './many-chips-bench.js';
import { wideChipBenchmarks } from './wide-chip-bench.js';
import { describeMachine, machineLine } from './machine.js';
import { isSkipped } from './native.js';
import type { BenchContext, Benchmark, BenchReport, BenchResult, Measurement, Runner, Skipped } from './types.js';

const registry = new Map<string, Benchmark>();

/** Adds a benchmark to the registry (names are unique). */
export function registerBenchmark(b: Benchmark): void {
  if (registry.has(b.name)) throw new Error(`benchmark ${b.name} registered twice`);
  registry.set(b.name, b);
}

/** Every registered benchmark, in registration order (the defaults registered on first use). */
export function listBenchmarks(): Benchmark[] {
  registerDefaults();
  return [...registry.values()];
}

let defaultsDone = false;
function registerDefaults(): void {
  if (defaultsDone) return;
  defaultsDone = true;
  for (const b of leMlpBenchmarks()) registerBenchmark(b);
  for (const b of threadsBenchmarks()) registerBenchmark(b);
  for (const b of manyChipsBenchmarks()) registerBenchmark(b);
  for (const b of leFirmwareBenchmarks()) registerBenchmark(b);
  for (const b of leChipBenchmarks()) registerBenchmark(b);
  for (const b of wideChipBenchmarks()) registerBenchmark(b);
  registerBenchmark(lifBss2Benchmark());
  registerBenchmark(compileBenchmark());
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Rounds to `digits` significant digits (reports stay readable, the JSON stays a number). */
export function sig(v: number, digits = 3): number {
  if (!Number.isFinite(v) || v === 0) return v;
  return Number(v.toPrecision(digits));
}

/**
 * The benchmarks a filter selects, plus the native (full-width and 128-bit), reference and
 * single-thread baselines their ratios use. Only the selected benchmarks pull baselines in, not the
 * baselines pulled in (a two-thread benchmark's single-thread baseline brings no 128-bit build).
 */
export function selectBenchmarks(all: readonly Benchmark[], filter?: string): Benchmark[] {
  if (!filter) return [...all];
  const chosen = new Set(all.filter((b) => b.name.includes(filter)));
  for (const b of [...chosen]) {
    for (const base of all) if ((b.baseline !== undefined && base.name === b.baseline) || (b.floatWeights !== undefined && base.name === b.floatWeights)) chosen.add(base);
    if (b.kind === 'compile') continue;
    for (const base of all)
      if (baselineOf(base, b, 'native') || baselineOf(base, b, 'native128') || baselineOf(base, b, 'reference')) chosen.add(base);
  }
  return all.filter((b) => chosen.has(b));
}

function sameWork(a: Benchmark, b: Benchmark): boolean {
  return a.kind === b.kind && a.sizes !== undefined && b.sizes !== undefined && a.sizes.join(',') === b.sizes.join(',')
    && (a.inputs ?? 'dense') === (b.inputs ?? 'dense');
}

/**
 * Whether `base` is `b`'s baseline of a kind: 'native' the full-width native build (never a
 * narrower one), 'native128' the 128-bit native build, 'reference' the TypeScript reference. The
 * same work on as many chips, and for native code also the same threads.
 */
function baselineOf(base: Benchmark, b: Benchmark, which: 'native' | 'native128' | 'reference'): boolean {
  // Several chips at once compare with their single-chip benchmark only (ratio_vs_single_thread).
  if (!sameWork(base, b) || (base.chips ?? 1) !== (b.chips ?? 1)) return false;
  if (which === 'reference') return base.implementation === 'reference';
  if (base.implementation !== 'native' || (base.threads ?? 1) !== (b.threads ?? 1)) return false;
  return which === 'native128' ? base.vectorBits === 128 : base.vectorBits === undefined;
}

/** Speedups of the physical presets, for the emulated-acceleration columns. */
function presetSpeedups(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ['spikey', 'bss1', 'bss2']) {
    try {
      out[name] = loadChip(name).speedup;
    } catch {
      // A preset that does not load is reported without its column rather than failing the suite.
    }
  }
  return out;
}

function emptyResult(b: Benchmark): BenchResult {
  return {
    name: b.name,
    description: b.description,
    kind: b.kind,
    implementation: b.implementation,
    unit: null,
    runs: 0,
    median: null,
    min: null,
    max: null,
    values: [],
    steps_per_s: null,
    samples_per_s: null,
    flops_per_step: null,
    gflops: null,
    ratio_vs_native: null,
    ratio_vs_native_128bit: null,
    ratio_vs_reference: null,
    threads: b.threads ?? 1,
    ratio_vs_single_thread: null,
    ratio_vs_single_thread_per_run: null,
    ratio_vs_float_weights: null,
    ratio_vs_float_weights_per_run: null,
    bio_s_per_wall_s: null,
    hw_s_per_wall_s: null,
    speedup: null,
    slowdown_vs_chip: null,
    slowdown_vs_presets: null,
    wall_s: null,
  };
}

/** Turns one benchmark's raw values into its report row (ratios are filled in afterwards). */
export function summarise(b: Benchmark, m: Measurement | Skipped, presets: Record<string, number> = {}): BenchResult {
  const r = emptyResult(b);
  if (isSkipped(m)) return { ...r, skipped: m.skipped };
  if (m.values.length === 0) throw new Error(`benchmark ${b.name} measured nothing`);
  const med = median(m.values);
  r.unit = m.unit;
  r.runs = m.values.length;
  r.median = sig(med, 4);
  r.min = sig(Math.min(...m.values), 4);
  r.max = sig(Math.max(...m.values), 4);
  r.values = m.values.map((v) => sig(v, 4));
  if (m.info) r.info = m.info;
  if (m.unit === 's') {
    r.wall_s = sig(med, 4);
    return r;
  }
  r.steps_per_s = Math.round(med);
  r.samples_per_s = sig(med / 100, 4);
  if (b.sizes && (b.kind === 'forward' || b.kind === 'train')) {
    r.flops_per_step = leStepFlops(b.sizes, b.kind);
    r.gflops = sig((r.flops_per_step * med) / 1e9, 3);
  }
  if (b.dt_ms !== undefined) {
    const bio = (med * b.dt_ms) / 1000;
    r.bio_s_per_wall_s = sig(bio, 4);
    if (b.speedup !== undefined) {
      r.speedup = b.speedup;
      r.hw_s_per_wall_s = sig(bio / b.speedup, 4);
      r.slowdown_vs_chip = sig(b.speedup / bio, 4);
    }
    const names = Object.keys(presets);
    if (names.length) r.slowdown_vs_presets = Object.fromEntries(names.map((n) => [n, sig(presets[n] / bio, 4)]));
  }
  return r;
}

/**
 * Fills ratio_vs_native, ratio_vs_native_128bit and ratio_vs_reference from the baselines of the
 * same kind and sizes, and ratio_vs_single_thread from a multi-thread benchmark's named baseline.
 * A 128-bit native build's own ratio_vs_native divides by the full-width build of its work: what
 * the narrower vectors cost.
 */
export function fillRatios(results: BenchResult[], benchmarks: readonly Benchmark[]): void {
  const byName = new Map(benchmarks.map((b) => [b.name, b]));
  for (const r of results) {
    const b = byName.get(r.name);
    if (!b || r.steps_per_s === null) continue;
    const over = (name: string | undefined) => {
      const base = name === undefined ? undefined : results.find((x) => x.name === name);
      if (!base || base.steps_per_s === null) return null;
      const n = Math.min(r.values.length, base.values.length);
      const perRun = Array.from({ length: n }, (_, k) => r.values[k] / base.values[k]);
      return {
        ratio: sig(r.steps_per_s! / base.steps_per_s, 3),
        perRun: n > 0 ? { median: sig(median(perRun), 3), min: sig(Math.min(...perRun), 3), max: sig(Math.max(...perRun), 3) } : null,
      };
    };
    const one = over(b.baseline);
    if (one) [r.ratio_vs_single_thread, r.ratio_vs_single_thread_per_run] = [one.ratio, one.perRun];
    const floats = over(b.floatWeights);
    if (floats) [r.ratio_vs_float_weights, r.ratio_vs_float_weights_per_run] = [floats.ratio, floats.perRun];
    for (const which of ['native', 'native128', 'reference'] as const) {
      const base = results.find((x) => {
        const xb = byName.get(x.name);
        return xb !== undefined && baselineOf(xb, b, which) && x.steps_per_s !== null;
      });
      if (!base || base.steps_per_s === null) continue;
      // From the medians before rounding to whole steps would change little; use the rounded medians.
      const ratio = sig(r.steps_per_s / base.steps_per_s, 3);
      if (which === 'native') r.ratio_vs_native = ratio;
      else if (which === 'native128') r.ratio_vs_native_128bit = ratio;
      else r.ratio_vs_reference = ratio;
    }
  }
}

/** Options of one suite run. */
export interface SuiteOptions {
  runs?: number;
  filter?: string;
  quick?: boolean;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** Benchmarks to run instead of the registry's (tests). */
  benchmarks?: Benchmark[];
}

/**
 * Runs the selected benchmarks and returns the report. Runs interleave round-robin (run 1 of every
 * benchmark, then run 2, ...), so a change in the machine's load during the suite hits every
 * benchmark alike and the ratios stay fair.
 */
export async function runSuite(opts: SuiteOptions = {}): Promise<BenchReport> {
  const runs = opts.runs ?? (opts.quick ? 3 : 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, got ${runs}`);
  const log = opts.log ?? (() => {});
  const all = opts.benchmarks ?? listBenchmarks();
  const selected = selectBenchmarks(all, opts.filter);
  const machineInfo = describeMachine();
  const started = new Date().toISOString();
  const t0 = performance.now();
  const ctx: BenchContext = { runs, quick: opts.quick ?? false, log };
  // Prepared benchmarks interleave; those that only offer measure() time their runs in one go first.
  const measured: (Measurement | Skipped | undefined)[] = [];
  const runners: (Runner | Skipped | undefined)[] = [];
  let results: BenchResult[];
  try {
    for (const b of selected) {
      let r: Runner | Skipped | undefined;
      let m: Measurement | Skipped | undefined;
      if (b.prepare) {
        log(`${b.name}: preparing`);
        r = await b.prepare(ctx);
      } else if (b.measure) {
        log(`${b.name}: measuring ${runs} runs`);
        m = await b.measure(ctx);
      } else {
        throw new Error(`benchmark ${b.name} has neither prepare nor measure`);
      }
      const skip = r ?? m;
      if (isSkipped(skip)) log(`${b.name}: skipped (${skip.skipped})`);
      runners.push(r);
      measured.push(m);
    }
    const values: number[][] = selected.map(() => []);
    for (let k = 0; k < runs; k++) {
      log(`run ${k + 1} of ${runs}`);
      for (let i = 0; i < selected.length; i++) {
        const r = runners[i];
        if (r === undefined || isSkipped(r) || k >= Math.min(runs, r.maxRuns ?? runs)) continue;
        values[i].push(await r.run());
      }
    }
    const presets = presetSpeedups();
    results = selected.map((b, i) => {
      const r = runners[i];
      const m = r === undefined ? measured[i]! : isSkipped(r) ? r : { unit: r.unit, values: values[i], info: r.info?.() };
      return summarise(b, m, presets);
    });
  } finally {
    // Runners that started workers end them, also when a run failed.
    for (const r of runners) if (r !== undefined && !isSkipped(r)) await r.close?.();
  }
  fillRatios(results, selected);
  return {
    format: 'lechip/bench@1',
    machine: machineLine(machineInfo),
    machine_info: machineInfo,
    tool_version: toolVersion(),
    started,
    runs,
    quick: ctx.quick,
    filter: opts.filter ?? null,
    wall_s: sig((performance.now() - t0) / 1000, 4),
    results,
  };
}

/** The report as a readable table (one row per benchmark) with the machine line on top. */
export function formatReport(report: BenchReport): string {
  const lines = [`machine: ${report.machine}`, `runs: ${report.runs}${report.quick ? ' (quick)' : ''}, load average at start ${report.machine_info.load_average_1m}`];
  const head = ['benchmark', 'median', 'min', 'max', 'GFLOP/s', 'vs native', 'vs 128-bit C', 'vs reference', 'bio s/wall s', 'slower than chip'];
  const fmt = (v: number | null, suffix = '') => (v === null ? '-' : `${v}${suffix}`);
  const rows = report.results.map((r) => {
    if (r.skipped) return [r.name, `skipped: ${r.skipped}`, ...head.slice(2).map(() => '')];
    const unit = r.unit === 's' ? ' s' : '';
    const num = (v: number | null) => (v === null ? '-' : r.unit === 's' ? `${v}${unit}` : String(Math.round(v)));
    return [
      r.name,
      r.unit === 's' ? num(r.median) : `${num(r.median)} steps/s`,
      num(r.min),
      num(r.max),
      fmt(r.gflops),
      fmt(r.ratio_vs_native, 'x'),
      fmt(r.ratio_vs_native_128bit, 'x'),
      fmt(r.ratio_vs_reference, 'x'),
      fmt(r.bio_s_per_wall_s),
      r.slowdown_vs_chip === null ? '-' : `${r.slowdown_vs_chip}x @ ${r.speedup}`,
    ];
  });
  const width = head.map((h, c) => Math.max(h.length, ...rows.filter((row) => !row[1].startsWith('skipped')).map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells[1].startsWith('skipped')
      ? `${cells[0].padEnd(width[0])}  ${cells[1]}`
      : cells.map((s, c) => (c === 0 ? s.padEnd(width[c]) : s.padStart(width[c]))).join('  ');
  lines.push(line(head));
  for (const row of rows) lines.push(line(row));
  /** A section of one ratio per benchmark that has it, with its run-by-run median and range. */
  const ratios = (title: string, of: (r: BenchResult) => [string, BenchResult['ratio_vs_single_thread_per_run']] | null) => {
    const rows = report.results.flatMap((r) => {
      const v = of(r);
      if (!v) return [];
      const p = v[1];
      return [`  ${r.name.padEnd(width[0])}  ${v[0]}${p ? ` (run by run: median ${p.median}x, ${p.min}-${p.max}x)` : ''}`];
    });
    if (rows.length) lines.push('', title, ...rows);
  };
  ratios('threads (steps/s over the single-thread benchmark measured in the same run):', (r) =>
    r.ratio_vs_single_thread === null ? null : [`${r.threads} threads: ${r.ratio_vs_single_thread}x`, r.ratio_vs_single_thread_per_run]);
  ratios('int8 weight kernels (steps/s over the same work on float weights measured in the same run):', (r) =>
    r.ratio_vs_float_weights === null ? null : [`${r.ratio_vs_float_weights}x`, r.ratio_vs_float_weights_per_run]);
  const presets = report.results.find((r) => r.slowdown_vs_presets)?.slowdown_vs_presets;
  if (presets) {
    lines.push('');
    lines.push('slowdown against the physical presets (chip speedup / emulated bio s per wall s):');
    for (const r of report.results) {
      if (!r.slowdown_vs_presets) continue;
      lines.push(`  ${r.name.padEnd(width[0])}  ${Object.entries(r.slowdown_vs_presets).map(([n, v]) => `${n} ${v}x`).join(', ')}`);
    }
  }
  return lines.join('\n');
}
