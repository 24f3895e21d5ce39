/**
 * The CLI's file access: reading turns a missing or unreadable file into a user error naming it;
 * writing is always atomic (common/fs.ts), so no output is ever half-written.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fail } from '../common/diagnostics.js';
import { writeFileAtomic } from '../common/fs.js';
import { parseJsonText } from '../common/json-text.js';

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory, expected a file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a parent of this path is not a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    default:
      return e.message ?? String(err);
  }
}

/** Reads a file's bytes; failures are user errors naming the file. */
export function readBytes(file: string, what = 'file'): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    return fail(`cannot read ${what}: ${reason(err)}`, { file });
  }
}

/** Reads a UTF-8 text file; failures are user errors naming the file. */
export function readText(file: string, what = 'file'): string {
  return Buffer.from(readBytes(file, what)).toString('utf8');
}

/** Reads and parses a JSON file (syntax errors with line:column). */
export function readJson(file: string, what = 'file'): unknown {
  return parseJsonText(readText(file, what), file);
}

/** Writes an output file atomically; failures are user errors naming the file. */
export function writeOutput(file: string, data: Uint8Array | string, what = 'output'): void {
  try {
    writeFileAtomic(file, data);
  } catch (err) {
    fail(`cannot write ${what}: ${reason(err)}`, { file });
  }
}

/** Hex sha256 of bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `dir/name.json` → `dir/name<ext>`: an output next to its input. */
export function siblingPath(input: string, ext: string): string {
  return join(dirname(input), basename(input, extname(input)) + ext);
}
