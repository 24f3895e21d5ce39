/** Worker thread of `lechip robustness`: runs the cells the pool hands it (cli/robustness/cell.ts). */
import { serveTasks } from '../../emulator/workers/pool.js';
import { runCell } from './cell.js';
import type { CellKey, CellProgress, CellResult, SweepSettings } from './keys.js';

/** What the pool sends a worker. */
export interface CellTask {
  settings: SweepSettings;
  key: CellKey;
  cacheDir?: string;
}

serveTasks<CellTask, CellResult, CellProgress>((t, progress) => runCell(t.settings, t.key, t.cacheDir, progress));
