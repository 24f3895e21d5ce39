/**
 * Test helper: makes sure build/kernels.wasm is the release build of the current kernels/ sources
 * (rebuilt in memory with asc and renamed into place when a source is newer), so kernel tests never
 * run against a stale binary.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot } from '../../common/paths.js';
import { KernelMemory, kernelsPath } from '../../emulator/wasm.js';

/** Rebuilds build/kernels.wasm when it is missing or older than a kernels/*.ts source. */
export async function ensureKernels(): Promise<void> {
  const root = projectRoot();
  const out = kernelsPath();
  const srcDir = join(root, 'kernels');
  const fresh = () => {
    const newest = Math.max(
      statSync(join(root, 'asconfig.json')).mtimeMs,
      ...readdirSync(srcDir).filter((f) => f.endsWith('.ts')).map((f) => statSync(join(srcDir, f)).mtimeMs),
    );
    return existsSync(out) && statSync(out).mtimeMs >= newest;
  };
  if (fresh()) return;
  // Test files run in parallel processes: one builds, the others wait for it (a stale lock from a
  // killed run is taken over after two minutes).
  mkdirSync(dirname(out), { recursive: true });
  const lock = `${out}.lock`;
  for (const t0 = Date.now(); ; ) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - t0 > 120_000) break;
      await new Promise((r) => setTimeout(r, 200));
      if (fresh()) return;
    }
  }
  try {
    if (!fresh()) await build(root, out);
  } finally {
    try {
      rmdirSync(lock);
    } catch {
      // already gone
    }
  }
}

async function build(root: string, out: string): Promise<void> {
  const asc = (await import('assemblyscript/asc')).default;
  let wasm: Uint8Array | undefined;
  const log: string[] = [];
  const sink = { write: (s: string | Uint8Array) => void log.push(String(s)) };
  const { error } = await asc.main(['kernels/index.ts', '--target', 'release', '--baseDir', root], {
    stdout: sink as never,
    stderr: sink as never,
    writeFile: (name: string, contents: Uint8Array | string) => {
      if (name.endsWith('.wasm')) wasm = contents as Uint8Array;
    },
  });
  if (error || !wasm) throw new Error(`building the kernels failed: ${error?.message ?? 'no output'}\n${log.join('')}`);
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, wasm);
  renameSync(tmp, out);
}

/** A fresh kernel instance with `bytes` of room (after ensureKernels). */
export function kernelMemory(bytes = 1 << 20): KernelMemory {
  return new KernelMemory(bytes);
}
