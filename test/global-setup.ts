/**
 * vitest global setup: the CLI tests run `node bin/lechip.js`, which needs dist/ (tsc) and the
 * emulator needs build/kernels.wasm (asc). If either is missing or older than its sources, build
 * it once here, so `npm test` works on a fresh clone right after `npm ci`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const TS_DIRS = ['common', 'compiler', 'chip', 'emulator', 'isa', 'firmware-models', 'cli', 'bench'];

/** Newest modification time (ms) of files under `dirs` whose names end in one of `exts`. */
function newest(dirs: string[], exts: string[], extra: string[] = []): number {
  let t = 0;
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (exts.some((x) => e.name.endsWith(x))) t = Math.max(t, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) walk(join(root, d));
  for (const f of extra) if (existsSync(join(root, f))) t = Math.max(t, statSync(join(root, f)).mtimeMs);
  return t;
}

function mtime(file: string): number {
  const p = join(root, file);
  return existsSync(p) ? statSync(p).mtimeMs : -1;
}

function build(what: string, args: string[]): void {
  process.stderr.write(`[global-setup] building ${what}: node ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    // tsc still emits when other areas have type errors mid-change; report and let the tests decide.
    process.stderr.write(`[global-setup] ${what} build exited with ${r.status}:\n${r.stdout}${r.stderr}\n`);
  }
}

export default function setup(): void {
  if (existsSync(join(root, 'kernels', 'index.ts'))) {
    const src = newest(['kernels'], ['.ts'], ['asconfig.json', 'package.json']);
    if (mtime('build/kernels.wasm') < src) {
      build('build/kernels.wasm', [join(root, 'node_modules/assemblyscript/bin/asc.js'), 'kernels/index.ts', '--target', 'release']);
    }
  }
  const src = newest(TS_DIRS, ['.ts', '.json'], ['tsconfig.json', 'package.json']);
  if (mtime('dist/cli/main.js') < src) {
    build('dist/', [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  }
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('[global-setup] dist/cli/main.js was not built; see the tsc output above');
}
