/**
 * Test helper: makes sure build/kernels-shared.wasm (asconfig target release-shared) is built from
 * the current kernels/ sources, rebuilding it under a lock when a source is newer, like
 * test/kernels/kernels-build.ts does for build/kernels.wasm.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot } from '../../common/paths.js';
import { setSharedKernelModule, sharedKernelsPath } from '../../emulator/threads/shared-kernels.js';
import { ensureKernels } from '../kernels/kernels-build.js';

/** Rebuilds build/kernels-shared.wasm when missing or stale (and build/kernels.wasm likewise). */
export async function ensureSharedKernels(): Promise<void> {
  await ensureKernels();
  const root = projectRoot();
  const out = sharedKernelsPath();
  const srcDir = join(root, 'kernels');
  const fresh = () => {
    const newest = Math.max(
      statSync(join(root, 'asconfig.json')).mtimeMs,
      ...readdirSync(srcDir).filter((f) => f.endsWith('.ts')).map((f) => statSync(join(srcDir, f)).mtimeMs),
    );
    return existsSync(out) && statSync(out).mtimeMs >= newest;
  };
  if (fresh()) return;
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
  const { error } = await asc.main(['kernels/shared.ts', '--target', 'release-shared', '--baseDir', root], {
    stdout: sink as never,
    stderr: sink as never,
    writeFile: (name: string, contents: Uint8Array | string) => {
      if (name.endsWith('.wasm')) wasm = contents as Uint8Array;
    },
  });
  if (error || !wasm) throw new Error(`building the shared kernels failed: ${error?.message ?? 'no output'}\n${log.join('')}`);
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, wasm);
  renameSync(tmp, out);
  setSharedKernelModule(new WebAssembly.Module(wasm));
}
