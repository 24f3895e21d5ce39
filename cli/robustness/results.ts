/**
 * The results of a robustness sweep on disk: DIR/results.json (settings, fingerprint and every
 * finished cell) and DIR/results.csv (one row per cell, deterministic columns only), both written
 * atomically after each cell, so an interrupted sweep resumes by skipping the cells it finished.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../common/diagnostics.js';
import { writeFileAtomic } from '../../common/fs.js';
import { toolVersion } from '../../common/paths.js';
import { CONDITIONS, cellId, type CellResult, type SweepSettings } from './keys.js';

export const ROBUSTNESS_FORMAT = 'lechip/robustness@1';

/** The settings that decide a cell's result, without the description's text (its sha256 stands for it). */
export function settingsSummary(s: SweepSettings): Record<string, unknown> {
  const { net_text: _text, chip, ...rest } = s;
  return { ...rest, chip: chip.name, chip_description_sha256: createHash('sha256').update(JSON.stringify(chip)).digest('hex') };
}

/** sha256 of the settings summary: a sweep resumes only into a results file with the same. */
export function settingsFingerprint(s: SweepSettings): string {
  return createHash('sha256').update(JSON.stringify(settingsSummary(s))).digest('hex');
}

/** Orders cells by T_pres, tau_s, condition (as CONDITIONS lists them), mismatch scale, chip seed. */
export function sortCells<T extends CellResult>(cells: T[]): T[] {
  const c = (x: CellResult) => CONDITIONS.indexOf(x.condition);
  return [...cells].sort(
    (a, b) => a.t_pres_ms - b.t_pres_ms || a.tau_s_ms - b.tau_s_ms || c(a) - c(b) || a.mismatch_scale - b.mismatch_scale || a.chip_seed - b.chip_seed,
  );
}

/** Columns of results.csv: everything that the seeds determine (no wall times). */
export const CSV_COLUMNS = [
  'mismatch_scale', 'chip_seed', 'condition', 't_pres_ms', 'tau_s_ms', 'dt_ms', 'test_accuracy', 'test_loss',
  'train_samples', 'test_samples', 'tau_gap_before_ms', 'tau_gap_after_ms', 'calib_tau_m_after', 'calib_gain_after',
] as const;

/** The CSV text of a set of cells (sorted; numbers printed in full precision, so equal runs give equal bytes). */
export function toCsv(cells: CellResult[]): string {
  const rows = sortCells(cells).map((r) =>
    [
      r.mismatch_scale, r.chip_seed, r.condition, r.t_pres_ms, r.tau_s_ms, r.dt_ms, r.test_accuracy ?? '', r.test_loss,
      r.train_samples, r.test_samples, r.tau_adaptation?.gap_before_ms ?? '', r.tau_adaptation?.gap_after_ms ?? '',
      r.calibration?.tau_m?.after ?? '', r.calibration?.gain?.after ?? '',
    ].join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

export interface SweepFile {
  format: typeof ROBUSTNESS_FORMAT;
  tool_version: string;
  settings_sha256: string;
  settings: Record<string, unknown>;
  cells: CellResult[];
}

/** The finished cells of DIR/results.json, if it exists and was made with the same settings. */
export function loadFinished(dir: string, s: SweepSettings): CellResult[] {
  const file = join(dir, 'results.json');
  if (!existsSync(file)) return [];
  let f: SweepFile;
  try {
    f = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return fail(`cannot resume: the results file is not valid JSON (${(err as Error).message}); delete it or choose another --out`, { file });
  }
  if (f.format !== ROBUSTNESS_FORMAT) fail(`cannot resume: not a lechip robustness results file (expected "format": "${ROBUSTNESS_FORMAT}")`, { file, pointer: '/format' });
  if (f.settings_sha256 !== settingsFingerprint(s)) {
    const now = settingsSummary(s);
    const diff = Object.keys(now).filter((k) => JSON.stringify(now[k]) !== JSON.stringify(f.settings?.[k]));
    fail(`cannot resume: this sweep was run with other settings (${diff.join(', ') || 'settings'} differ); choose another --out or delete the folder`, { file, pointer: '/settings' });
  }
  return f.cells;
}

/** Writes results.json and results.csv atomically. */
export function saveResults(dir: string, s: SweepSettings, cells: CellResult[]): void {
  const sorted = sortCells(cells);
  const file: SweepFile = { format: ROBUSTNESS_FORMAT, tool_version: toolVersion(), settings_sha256: settingsFingerprint(s), settings: settingsSummary(s), cells: sorted };
  writeFileAtomic(join(dir, 'results.json'), JSON.stringify(file, null, 1) + '\n');
  writeFileAtomic(join(dir, 'results.csv'), toCsv(sorted));
}

/** Mean, sample standard deviation, min and max of test accuracy over chip seeds, per condition, scale, T_pres, tau_s. */
export function aggregate(cells: CellResult[]) {
  const groups = new Map<string, CellResult[]>();
  for (const c of cells) {
    const k = cellId({ ...c, chip_seed: 0 });
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  return sortCells([...groups.values()].map((g) => g[0])).map((first) => {
    const g = groups.get(cellId({ ...first, chip_seed: 0 }))!;
    const acc = g.map((c) => c.test_accuracy ?? NaN);
    const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
    const sd = acc.length > 1 ? Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / (acc.length - 1)) : 0;
    return {
      condition: first.condition,
      mismatch_scale: first.mismatch_scale,
      t_pres_ms: first.t_pres_ms,
      tau_s_ms: first.tau_s_ms,
      seeds: g.length,
      accuracy_mean: mean,
      accuracy_sd: sd,
      accuracy_min: Math.min(...acc),
      accuracy_max: Math.max(...acc),
    };
  });
}
