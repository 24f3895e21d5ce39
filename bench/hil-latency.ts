/**
 * Latency and throughput of the hardware-in-the-loop protocol on loopback (127.0.0.1):
 * - round trip: TIME requests one after another (each waits for its reply), median and p99 in us;
 * - throughput: WRITE_WEIGHTS and READ_WEIGHTS of a 784 x 300 float32 matrix (940 800 bytes), MB/s
 *   (10^6 bytes) of matrix payload per request, from the median request time; the same calls on an
 *   in-process chip are timed too, so the protocol's share of the time can be read off.
 * The server runs in a child process by default (two processes, as a lab connection), or in this
 * process (`--server inprocess`, sharing one event loop with the client).
 *
 *   node dist/bench/hil-latency.js [--json] [--requests N] [--repeats N] [--server child|inprocess]
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { encodeImage } from '../chip/image.js';
import { loadChip } from '../chip/presets.js';
import { toolVersion } from '../common/paths.js';
import { compile } from '../compiler/compile.js';
import type { Chip } from '../emulator/chip-interface.js';
import { createEmulatedChip } from '../emulator/emulated-chip.js';
import { connectChip } from '../emulator/hil/client.js';
import { startServer, type HilServer } from '../emulator/hil/server.js';
import { describeMachine, machineLine } from './machine.js';

export interface HilBenchOptions {
  /** Timed TIME round trips (default 5000, after 500 untimed). */
  requests?: number;
  /** Timed WRITE_WEIGHTS and READ_WEIGHTS each (default 50, after 5 untimed). */
  repeats?: number;
  /** Where the server runs (default child). */
  server?: 'child' | 'inprocess';
  log?: (line: string) => void;
}

export interface Stats {
  median: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

export interface HilBenchReport {
  format: 'lechip/hil-latency@1';
  machine: string;
  tool_version: string;
  server: 'child' | 'inprocess';
  latency: { request: 'TIME'; requests: number } & { [K in keyof Stats as `${K}_us`]: number };
  throughput: {
    matrix: [number, number];
    bytes: number;
    repeats: number;
    write: { median_ms: number; p99_ms: number; mb_per_s: number; in_process_median_ms: number };
    read: { median_ms: number; p99_ms: number; mb_per_s: number; in_process_median_ms: number };
  };
}

const PRE = 784;
const POST = 300;

/** Quantile q of sorted values (nearest rank). */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Median, p99, mean, min and max of some values. */
export function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return {
    median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2,
    p99: quantile(s, 0.99),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    min: s[0],
    max: s[s.length - 1],
  };
}

/** A 784 -> 300 network on the ideal chip (float32 weights, so what is written reads back). */
function benchImage(): Uint8Array {
  const net = {
    format: 'lechip/network@1',
    name: 'hil-bench-784-300',
    populations: {
      in: { size: PRE, role: 'input' },
      out: { size: POST, role: 'output', neuron: { model: 'le', tau_m: 20, activation: 'linear' } },
    },
    projections: [{ from: 'in', to: 'out', init: { kind: 'normal', scale: 0.05, seed: 1 }, plastic: true }],
  };
  return encodeImage(compile(JSON.stringify(net), { chip: loadChip('ideal'), seed: 1 }).image);
}

/** Times `op` n times after `warm` untimed calls; ms per call. */
async function timeEach(n: number, warm: number, op: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warm; i++) await op();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Starts a server in a child process (this file with --serve-child); resolves with its port and a stop function. */
function childServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--serve-child'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`benchmark server exited early (code ${code})`)));
    child.once('message', (m: { port: number }) => {
      child.removeAllListeners('exit');
      const stop = () =>
        new Promise<void>((done) => {
          child.once('exit', () => done());
          child.kill('SIGTERM');
        });
      resolve({ port: m.port, stop });
    });
  });
}

/** Runs the benchmark and returns its report. */
export async function runHilLatencyBench(opts: HilBenchOptions = {}): Promise<HilBenchReport> {
  const requests = opts.requests ?? 5000;
  const repeats = opts.repeats ?? 50;
  const where = opts.server ?? 'child';
  const log = opts.log ?? (() => {});
  const image = benchImage();

  let server: HilServer | undefined;
  let child: { port: number; stop: () => Promise<void> } | undefined;
  let port: number;
  if (where === 'inprocess') {
    server = await startServer({ maxRunMs: 1 });
    port = server.port;
  } else {
    child = await childServer();
    port = child.port;
  }
  try {
    const chip = await connectChip({ port });
    await chip.load(image);
    await chip.configure({ chipSeed: 0, seed: 1 });

    log(`hil-latency: ${requests} TIME round trips`);
    const rtt = stats((await timeEach(requests, Math.min(500, requests), () => chip.fetchTime())).map((ms) => ms * 1000));

    const w = new Float32Array(PRE * POST);
    for (let i = 0; i < w.length; i++) w[i] = Math.fround(Math.sin(i) * 0.1);
    // Correctness first: what is written is what reads back (the ideal chip stores float32).
    await chip.writeWeights(0, w);
    const back = await chip.readWeights(0);
    if (back.length !== w.length || back.some((v, i) => v !== w[i])) throw new Error('hil-latency: weights read back differ from those written');

    log(`hil-latency: ${repeats} x WRITE_WEIGHTS and READ_WEIGHTS of ${POST} x ${PRE} float32`);
    const write = stats(await timeEach(repeats, 5, () => chip.writeWeights(0, w)));
    const read = stats(await timeEach(repeats, 5, () => chip.readWeights(0)));
    await chip.close();

    // The same calls without the connection: the chip's own share.
    const local: Chip = await createEmulatedChip();
    await local.load(image);
    await local.configure({ chipSeed: 0, seed: 1 });
    const localWrite = stats(await timeEach(repeats, 5, () => local.writeWeights(0, w)));
    const localRead = stats(await timeEach(repeats, 5, () => local.readWeights(0)));
    await local.close();

    const bytes = w.byteLength;
    const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);
    return {
      format: 'lechip/hil-latency@1',
      machine: machineLine(describeMachine()),
      tool_version: toolVersion(),
      server: where,
      latency: { request: 'TIME', requests, median_us: rtt.median, p99_us: rtt.p99, mean_us: rtt.mean, min_us: rtt.min, max_us: rtt.max },
      throughput: {
        matrix: [POST, PRE],
        bytes,
        repeats,
        write: { median_ms: write.median, p99_ms: write.p99, mb_per_s: mbps(write.median), in_process_median_ms: localWrite.median },
        read: { median_ms: read.median, p99_ms: read.p99, mb_per_s: mbps(read.median), in_process_median_ms: localRead.median },
      },
    };
  } finally {
    await server?.close();
    await child?.stop();
  }
}

/** The report as text. */
export function formatHilBench(r: HilBenchReport): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  const t = r.throughput;
  return [
    `HIL protocol on loopback (${r.server} server), lechip ${r.tool_version}, ${r.machine}`,
    `round trip (TIME, ${r.latency.requests} requests): median ${f(r.latency.median_us)} us, p99 ${f(r.latency.p99_us)} us, min ${f(r.latency.min_us)} us, max ${f(r.latency.max_us)} us`,
    `WRITE_WEIGHTS ${t.matrix[0]} x ${t.matrix[1]} float32 (${t.bytes} bytes): median ${f(t.write.median_ms, 2)} ms = ${f(t.write.mb_per_s)} MB/s (in process ${f(t.write.in_process_median_ms, 2)} ms)`,
    `READ_WEIGHTS  ${t.matrix[0]} x ${t.matrix[1]} float32 (${t.bytes} bytes): median ${f(t.read.median_ms, 2)} ms = ${f(t.read.mb_per_s)} MB/s (in process ${f(t.read.in_process_median_ms, 2)} ms)`,
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--serve-child')) {
    const server = await startServer({ maxRunMs: 1 });
    process.send?.({ port: server.port });
    await new Promise<void>((resolve) => process.once('SIGTERM', () => void server.close().then(resolve)));
    return 0;
  }
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (flag: string) => {
    const v = value(flag);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} expects a positive integer, got ${v}`);
    return n;
  };
  const server = value('--server');
  if (server !== undefined && server !== 'child' && server !== 'inprocess') throw new Error(`--server expects child or inprocess, got ${server}`);
  const report = await runHilLatencyBench({ requests: num('--requests'), repeats: num('--repeats'), server, log: (l) => process.stderr.write(l + '\n') });
  if (argv.includes('--json')) process.stdout.write(JSON.stringify(report) + '\n');
  else process.stdout.write(formatHilBench(report) + '\n');
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      process.stderr.write(`hil-latency: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
