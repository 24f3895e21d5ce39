/**
 * Where the CLI writes: results on stdout (one JSON object with --json), everything else (progress,
 * summaries, warnings) on stderr, coloured only when stderr is a terminal.
 */
import { Chalk, type ChalkInstance } from 'chalk';

/** A text sink such as process.stdout. */
export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** The streams main() writes to (process.stdout/stderr by default; strings in tests). */
export interface CliIo {
  stdout: OutStream;
  stderr: OutStream;
}

/** Per-invocation output helpers shared by the commands. */
export class Console {
  readonly colour: ChalkInstance;
  readonly stderrIsTTY: boolean;
  constructor(readonly io: CliIo) {
    this.stderrIsTTY = io.stderr.isTTY === true;
    this.colour = new Chalk({ level: this.stderrIsTTY ? 1 : 0 });
  }
  /** A line of information on stderr. */
  info(line: string): void {
    this.io.stderr.write(line + '\n');
  }
  /** A warning on stderr, prefixed `lechip: warning: `. */
  warn(line: string): void {
    this.io.stderr.write(this.colour.yellow('lechip: warning: ') + line + '\n');
  }
  /** An error line on stderr, prefixed `lechip: error: `. */
  error(line: string): void {
    this.io.stderr.write(this.colour.red('lechip: error: ') + line + '\n');
  }
  /** Text on stdout. */
  out(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }
  /** The one JSON object of a --json run, on stdout. */
  json(value: unknown): void {
    this.io.stdout.write(JSON.stringify(value) + '\n');
  }
}
