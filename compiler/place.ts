/**
 * Pass 3, place: Lowered → Placed. Puts every synapse matrix onto cores' synapse arrays.
 *
 * The hardware facts: a core is an array of R rows x N columns (chip.core). A row carries ONE
 * signal across the whole array width (its row driver), so two groups of columns on one core can
 * share rows only if they need the same signals. A neuron circuit is one column. With sign per
 * row (weights.sign 'per_row') each signed signal needs two rows, excitatory and inhibitory.
 *
 * The algorithm (greedy first-fit, deterministic): for every non-input population P, its input
 * signals are its forward inputs (each incoming projection's pre population, in projection order)
 * followed by its feedback inputs (each feedback matrix whose columns are P's neurons). That list is
 * split into chunks of at most floor(R / rows_per_signal) signals (a chunk may span matrices); a
 * neuron whose fan-in exceeds one array spans one column per chunk, and the chunks' currents sum.
 * Each chunk needs P.size columns, split into slices of at most N. Each (chunk, slice) is a tile;
 * tiles of one chunk share rows. A tile goes on the first core with enough free columns and either
 * enough free rows or that chunk's rows already in place; rows and columns are taken from the top
 * and the left.
 */
import { fail, UserError } from '../common/diagnostics.js';
import type { ColumnRange } from '../chip/image-model.js';
import { resolveCores } from '../chip/presets.js';
import type { Lowered, NetworkPopulation, Placed, PlacedBlock, SynapseMatrix } from './ir.js';

/** Rows one signal takes: 2 on chips with sign per row (excitatory + inhibitory), else 1. */
export function rowsPerSignal(l: Lowered): number {
  return l.chip.weights.sign === 'per_row' ? 2 : 1;
}

interface Segment {
  matrix: SynapseMatrix;
  /** First signal of the matrix in this chunk, and how many. */
  sig0: number;
  signals: number;
}

interface Chunk {
  key: number;
  /** Index of the chunk within its population. */
  index: number;
  signals: number;
  segments: Segment[];
}

interface Tile {
  population: NetworkPopulation;
  chunk: Chunk;
  neuron0: number;
  cols: number;
}

interface CoreState {
  rows: number;
  cols: number;
  /** First row of each chunk already on this core. */
  chunkRow0: Map<number, number>;
}

interface Assignment {
  tile: Tile;
  core: number;
  row0: number;
  col0: number;
}

/** Places a lowered network on `cores` cores (or as many as it needs for 'auto'). */
export function place(l: Lowered, cores: number | 'auto'): Placed {
  const chip = l.chip;
  const rps = rowsPerSignal(l);
  const perChunk = Math.floor(chip.core.rows / rps);
  if (perChunk < 1) fail(`chip ${chip.name}: a core needs at least ${rps} rows to carry one signal (has ${chip.core.rows})`, { pointer: '/core/rows' });
  const limit = cores === 'auto' ? Infinity : resolveCores(chip, cores, 0);

  const { tiles, fanIn } = makeTiles(l, perChunk, chip.core.neurons);
  const result = firstFit(tiles, limit, chip.core.rows, chip.core.neurons, rps);
  if ('failed' in result) throw placementError(l, result.failed, tiles, fanIn, limit, rps);

  const blocks: PlacedBlock[] = [];
  const columns: Record<string, ColumnRange[]> = {};
  for (const p of l.network.populations) if (p.role !== 'input') columns[p.name] = [];
  for (const { tile, core, row0, col0 } of result.assignments) {
    columns[tile.population.name].push({ core, col0, count: tile.cols, neuron0: tile.neuron0, chunk: tile.chunk.index });
    let row = row0;
    for (const s of tile.chunk.segments) {
      blocks.push({
        id: blocks.length,
        matrix: s.matrix.id,
        projection: s.matrix.projection,
        kind: s.matrix.kind,
        core,
        row0: row,
        rows: s.signals * rps,
        col0,
        cols: tile.cols,
        sig0: s.sig0,
        signals: s.signals,
        neuron0: tile.neuron0,
        rows_per_signal: rps,
      });
      row += s.signals * rps;
    }
  }
  const used = result.cores.length;
  return {
    lowered: l,
    system_cores: cores === 'auto' ? Math.max(1, used) : limit,
    cores_used: used,
    columns,
    blocks,
    usage: result.cores.map((c, core) => ({ core, rows: c.rows, cols: c.cols })),
  };
}

/** Chunks and slices of every non-input population, in population order. */
function makeTiles(l: Lowered, perChunk: number, colsPerCore: number): { tiles: Tile[]; fanIn: Map<string, number> } {
  const tiles: Tile[] = [];
  const fanIn = new Map<string, number>();
  let key = 0;
  for (const p of l.network.populations) {
    if (p.role === 'input') continue;
    const inputs = [
      ...l.matrices.filter((m) => m.kind === 'forward' && m.target === p.name),
      ...l.matrices.filter((m) => m.kind === 'feedback' && m.target === p.name),
    ];
    const chunks: Chunk[] = [];
    let cur: Chunk = { key: key++, index: 0, signals: 0, segments: [] };
    chunks.push(cur);
    for (const m of inputs) {
      let off = 0;
      while (off < m.signals) {
        if (cur.signals === perChunk) {
          cur = { key: key++, index: chunks.length, signals: 0, segments: [] };
          chunks.push(cur);
        }
        const take = Math.min(perChunk - cur.signals, m.signals - off);
        cur.segments.push({ matrix: m, sig0: off, signals: take });
        cur.signals += take;
        off += take;
      }
    }
    // A population without inputs still needs its neuron columns: one empty chunk.
    fanIn.set(p.name, inputs.reduce((s, m) => s + m.signals, 0));
    for (const chunk of chunks) {
      for (let n0 = 0; n0 < p.size; n0 += colsPerCore) {
        tiles.push({ population: p, chunk, neuron0: n0, cols: Math.min(colsPerCore, p.size - n0) });
      }
    }
  }
  return { tiles, fanIn };
}

function firstFit(
  tiles: Tile[],
  limit: number,
  R: number,
  N: number,
  rps: number,
): { assignments: Assignment[]; cores: CoreState[] } | { failed: Tile; cores: CoreState[] } {
  const cores: CoreState[] = [];
  const assignments: Assignment[] = [];
  for (const tile of tiles) {
    const rowsNeeded = tile.chunk.signals * rps;
    let placed = false;
    for (let c = 0; c <= cores.length && c < limit; c++) {
      if (c === cores.length) cores.push({ rows: 0, cols: 0, chunkRow0: new Map() });
      const core = cores[c];
      if (N - core.cols < tile.cols) continue;
      let row0 = core.chunkRow0.get(tile.chunk.key);
      if (row0 === undefined) {
        if (R - core.rows < rowsNeeded) continue;
        row0 = core.rows;
        core.rows += rowsNeeded;
        core.chunkRow0.set(tile.chunk.key, row0);
      }
      assignments.push({ tile, core: c, row0, col0: core.cols });
      core.cols += tile.cols;
      placed = true;
      break;
    }
    // A tile always fits an empty core (chunk <= R rows, slice <= N columns), so only the limit stops us.
    if (!placed) return { failed: tile, cores };
  }
  return { assignments, cores };
}

function placementError(l: Lowered, tile: Tile, tiles: Tile[], fanIn: Map<string, number>, limit: number, rps: number): UserError {
  const chip = l.chip;
  const p = tile.population;
  const R = chip.core.rows;
  const N = chip.core.neurons;
  const alone = firstFit(
    tiles.filter((t) => t.population === p),
    Infinity,
    R,
    N,
    rps,
  ).cores.length;
  const total = firstFit(tiles, Infinity, R, N, rps).cores.length;
  const array = `${R} rows x ${N} columns${rps === 2 ? ', 2 rows per signed signal' : ''}`;
  const what = `population ${p.name} (${p.size} neurons, fan-in ${fanIn.get(p.name)} signals)`;
  const hint = `(${chip.name}: ${chip.cores_per_chip} core${chip.cores_per_chip === 1 ? '' : 's'} per chip; use --cores auto or --cores ${total})`;
  const message =
    alone > limit
      ? `${what} needs ${alone} cores of ${array}; the system has ${limit} ${hint}`
      : `${what} does not fit in the ${limit} cores of ${array} left after the populations before it; the whole network needs ${total} ${hint}`;
  return new UserError({ file: l.network.file, pointer: p.pointer, message });
}
