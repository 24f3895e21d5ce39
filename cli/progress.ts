/**
 * Progress of a long job on stderr: done/total, rate and ETA, at most a few times per second
 * (rewritten in place on a terminal, one line per update otherwise).
 */
import type { Console } from './io.js';

/** Formats seconds as 1h02m, 4m05s or 12s. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const t = Math.round(s);
  if (t >= 3600) return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
  if (t >= 60) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${t}s`;
}

/** Throttled progress reporting of one phase of `total` items. */
export class Progress {
  private readonly start = performance.now();
  private last = -Infinity;
  private shown = false;
  private readonly intervalMs: number;

  constructor(
    private readonly console: Console,
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'samples',
  ) {
    // Terminals redraw one line: 4 per second reads smoothly. Logs get a line per second at most.
    this.intervalMs = console.stderrIsTTY ? 250 : 1000;
  }

  /** Reports `done` items finished; prints only if the interval has passed. */
  update(done: number): void {
    const now = performance.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    const s = (now - this.start) / 1000;
    const rate = s > 0 ? done / s : 0;
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const pct = this.total > 0 ? ((100 * done) / this.total).toFixed(1) : '100.0';
    const line = `${this.label}: ${done}/${this.total} ${this.unit} (${pct} %), ${rate.toFixed(1)} ${this.unit}/s, ETA ${formatDuration(eta)}`;
    if (this.console.stderrIsTTY) this.console.io.stderr.write(`\r\x1b[2K${line}`);
    else this.console.info(line);
    this.shown = true;
  }

  /** Ends the phase: clears the in-place line on a terminal. */
  finish(): void {
    if (this.shown && this.console.stderrIsTTY) this.console.io.stderr.write('\r\x1b[2K');
  }
}
