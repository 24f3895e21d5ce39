/** What machine a benchmark ran on: CPU model, cores, SIMD flags, memory, load, Node. */
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';

/** The machine description written into every benchmark report. */
export interface MachineInfo {
  cpu: string;
  /** Logical cores this process may use. */
  cores: number;
  /** SIMD extensions the CPU reports (from /proc/cpuinfo; empty elsewhere). */
  simd: string[];
  memory_gib: number;
  platform: string;
  arch: string;
  node: string;
  v8: string;
  /** 1-minute load average when the run started: above `cores` means the timings were shared. */
  load_average_1m: number;
}

function cpuinfo(): string | null {
  try {
    return existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : null;
  } catch {
    return null;
  }
}

/** Describes this machine. */
export function describeMachine(): MachineInfo {
  const info = cpuinfo();
  const model = info?.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const flags = new Set((info?.match(/^flags\s*:\s*(.+)$/m)?.[1] ?? '').split(/\s+/));
  const simd = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'neon', 'asimd'].filter((f) => flags.has(f));
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return {
    cpu: model,
    cores,
    simd,
    memory_gib: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    platform: os.platform(),
    arch: os.arch(),
    node: process.version,
    v8: process.versions.v8,
    load_average_1m: Number(os.loadavg()[0].toFixed(2)),
  };
}

/** One line: "CPU, N cores (simd), Node vX, platform arch". */
export function machineLine(m: MachineInfo): string {
  const simd = m.simd.length ? ` (${m.simd.join(' ')})` : '';
  return `${m.cpu}, ${m.cores} cores${simd}, ${m.memory_gib} GiB, Node ${m.node}, ${m.platform} ${m.arch}`;
}
