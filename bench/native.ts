/**
 * The native C baseline (bench/native/le_step.c): finds the system C compiler, builds the baseline
 * once per source/compiler/flags into a cache folder, runs it and parses its JSON line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../common/paths.js';
import type { Skipped } from './types.js';

export type { Skipped };

/** The flags the baseline is built with (RESEARCH.md section 4). */
export const NATIVE_FLAGS = ['-O3', '-march=native', '-ffast-math'];

/**
 * The flags of the 128-bit build: the same code with AVX, AVX2, AVX-512 and FMA switched off, so
 * the compiler vectorises with SSE only (128-bit vectors, 4 float lanes: the width of WebAssembly
 * SIMD). x86-64 only (see buildNative128).
 */
export const NATIVE_FLAGS_128 = ['-O3', '-march=native', '-mno-avx', '-mno-avx2', '-mno-avx512f', '-mno-fma', '-ffast-math'];

/** Flags every build adds to those (part of the cache key): -pthread for the two-thread mode (--threads 2); it changes no code generation. */
const BUILD_FLAGS = ['-pthread'];

/** A built baseline binary. */
export interface NativeBuild {
  binary: string;
  /** The compiler command used and the first line of its `--version`. */
  compiler: string;
  compilerVersion: string;
  flags: string[];
}

/** The JSON line of le_step's benchmark mode (steps/s per run). */
export interface NativeBenchOutput {
  sizes: number[];
  activations: string[];
  steps: number;
  steps_per_sample: number;
  runs: number;
  seed: number;
  /** Samples in the input bank (64 random dense ones, or the --inputs file's). */
  bank: number;
  forward_steps_per_s: number[];
  train_steps_per_s: number[];
  layout: string;
  nonzero_rate_fraction: number[];
  /** Sum of all weights at the end (%.17g): equal for one and two threads. */
  weights_checksum: number;
  threads: number;
  /** Columns of the first layer per thread (two threads: the fastest division timed in the warm-up). */
  division: number[];
}

/** A benchmark run of the baseline, with the build that produced it. */
export interface NativeBenchResult extends NativeBenchOutput {
  compiler: string;
  compilerVersion: string;
  flags: string[];
}

/** True when a value is a Skipped marker. */
export function isSkipped(v: unknown): v is Skipped {
  return typeof v === 'object' && v !== null && typeof (v as Skipped).skipped === 'string';
}

/** The path of le_step.c in the package. */
export function nativeSourcePath(): string {
  return join(projectRoot(), 'bench', 'native', 'le_step.c');
}

function versionLine(cmd: string): string | null {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return null;
  return (r.stdout.split('\n')[0] ?? '').trim() || cmd;
}

/** The first working C compiler among $CC, cc, gcc, clang, with its version line; null when none. */
export function findCompiler(): { command: string; version: string } | null {
  const candidates = [process.env.CC, 'cc', 'gcc', 'clang'].filter((c): c is string => !!c && c.trim() !== '');
  for (const command of candidates) {
    const version = versionLine(command);
    if (version !== null) return { command, version };
  }
  return null;
}

/** The folder compiled baselines are cached in (node_modules/.cache/lechip-bench, else the temp folder). */
export function nativeCacheDir(): string {
  const nm = join(projectRoot(), 'node_modules');
  const dir = existsSync(nm) ? join(nm, '.cache', 'lechip-bench') : join(tmpdir(), 'lechip-bench');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Compiles le_step.c unless a binary for the same source, compiler and flags is cached. Returns
 * Skipped when there is no C compiler or the compile fails (the message says which).
 */
export function buildNative(opts: { cacheDir?: string; flags?: string[] } = {}): NativeBuild | Skipped {
  const cc = findCompiler();
  if (!cc) return { skipped: 'no C compiler found' };
  const source = nativeSourcePath();
  if (!existsSync(source)) return { skipped: `native baseline source not found: ${source}` };
  const flags = opts.flags ?? NATIVE_FLAGS;
  const hash = createHash('sha256')
    .update(readFileSync(source))
    .update('\0' + cc.command + '\0' + cc.version + '\0' + [...flags, ...BUILD_FLAGS].join(' '))
    .digest('hex')
    .slice(0, 16);
  const dir = opts.cacheDir ?? nativeCacheDir();
  mkdirSync(dir, { recursive: true });
  const binary = join(dir, `le_step-${hash}`);
  const build: NativeBuild = { binary, compiler: cc.command, compilerVersion: cc.version, flags };
  if (existsSync(binary)) return build;
  // Compile to a private name, then rename: concurrent builds never see a half-written binary.
  const partial = `${binary}.${process.pid}.tmp`;
  const r = spawnSync(cc.command, [...flags, ...BUILD_FLAGS, '-o', partial, source, '-lm'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error || r.status !== 0) {
    rmSync(partial, { force: true });
    const why = (r.error?.message ?? r.stderr ?? '').trim().split('\n').slice(0, 3).join(' ');
    return { skipped: `C compiler ${cc.command} failed on le_step.c: ${why}` };
  }
  renameSync(partial, binary);
  return build;
}

/**
 * buildNative with NATIVE_FLAGS_128. Skipped on an architecture other than x86-64 (`arch`, default
 * process.arch), whose compilers know neither the flags nor a narrower vector unit to fall back to.
 */
export function buildNative128(opts: { cacheDir?: string; arch?: string } = {}): NativeBuild | Skipped {
  const arch = opts.arch ?? process.arch;
  if (arch !== 'x64') return { skipped: `128-bit build defined for x86-64 only (this is ${arch})` };
  return buildNative({ cacheDir: opts.cacheDir, flags: NATIVE_FLAGS_128 });
}

/** Runs the built baseline with arguments; returns its stdout (throws on a crash: our bug). */
export function runNativeBinary(build: NativeBuild, args: string[], timeoutMs = 600_000): string {
  const r = spawnSync(build.binary, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`le_step ${args.join(' ')} exited with ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Options of the native benchmark mode. */
export interface NativeBenchOptions {
  /** Steps per run and mode (forward, train); default 20 000. */
  steps?: number;
  runs?: number;
  sizes?: number[];
  stepsPerSample?: number;
  seed?: number;
  /** Which kinds to time (default both, alternating per run). */
  mode?: 'forward' | 'train' | 'both';
  /** A file of samples instead of random dense inputs: float32, per sample the inputs then the targets. */
  inputs?: string;
  /** 1 (default) or 2: the first layer's pass split by columns over two threads. */
  threads?: number;
}

function benchArgs(opts: NativeBenchOptions): string[] {
  return [
    '--steps', String(opts.steps ?? 20_000),
    '--runs', String(opts.runs ?? 5),
    '--sizes', (opts.sizes ?? [784, 300, 100, 10]).join(','),
    '--steps-per-sample', String(opts.stepsPerSample ?? 100),
    '--seed', String(opts.seed ?? 1),
    '--mode', opts.mode ?? 'both',
    ...(opts.inputs ? ['--inputs', opts.inputs] : []),
    ...(opts.threads ? ['--threads', String(opts.threads)] : []),
  ];
}

function parseBench(stdout: string, build: NativeBuild): NativeBenchResult {
  const line = stdout.trim().split('\n').pop() ?? '';
  const out = JSON.parse(line) as NativeBenchOutput;
  return { ...out, compiler: build.compiler, compilerVersion: build.compilerVersion, flags: build.flags };
}

/** Builds (or reuses) the baseline and runs its benchmark mode: forward and/or train steps/s per run. */
export function runNativeBench(opts: NativeBenchOptions = {}, build: NativeBuild | Skipped = buildNative()): NativeBenchResult | Skipped {
  if (isSkipped(build)) return build;
  return parseBench(runNativeBinary(build, benchArgs(opts)), build);
}

/** Runs `copies` processes of the benchmark mode at the same time (independent networks, one per core); their results in order. */
export async function runNativeBenchCopies(opts: NativeBenchOptions, build: NativeBuild, copies: number): Promise<NativeBenchResult[]> {
  const args = benchArgs(opts);
  const one = () =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(build.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`le_step ${args.join(' ')} exited with ${code}: ${err.trim()}`))));
    });
  const outs = await Promise.all(Array.from({ length: copies }, one));
  return outs.map((o) => parseBench(o, build));
}
