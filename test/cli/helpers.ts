/** Runs the built CLI (`node bin/lechip.js`) as a user would, in a scratch directory. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'lechip.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Spawns `node bin/lechip.js ...args` in `cwd`. */
export function lechip(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A fresh scratch directory; `files` are written into it. */
export function scratch(files: Record<string, string | Uint8Array> = {}): { dir: string; list: () => string[]; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lechip-cli-'));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  return { dir, list: () => readdirSync(dir).sort(), done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Asserts the shape of a user error: exit 1, every stderr line `lechip: error: ...`, no stack trace. Returns the lines. */
export function userErrorLines(r: CliResult): string[] {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (r.code !== 1) throw new Error(`expected exit 1, got ${r.code}\nstderr: ${r.stderr}`);
  for (const l of lines) if (!l.startsWith('lechip: error: ')) throw new Error(`stderr line is not a diagnostic: ${l}`);
  if (/\n\s+at /.test(r.stderr) || r.stderr.includes('    at ')) throw new Error(`stack trace on stderr:\n${r.stderr}`);
  if (lines.length === 0) throw new Error('no diagnostic on stderr');
  return lines;
}

/** The one JSON object a `--json` command prints on stdout (exactly one line). */
export function oneJson(stdout: string): any {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}
