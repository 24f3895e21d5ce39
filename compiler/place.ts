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
 * and the left. This is placement 'pack' (the default): as few cores as possible.
 *
 * Placement 'spread' balances the work per core instead: its synapses, the rows x columns of its
 * blocks, which is what the core's plasticity processor updates every pass. It uses the system's N
 * cores (with --cores auto, as many as 'pack' needs). The chunks are pack's; their columns are cut
 * by the spread. For a cap T on any core's load, chunks are placed whole, each over the cores that
 * have its rows free, taking on each as many columns as fit under T, cut at multiples of 4 (SIMD
 * lanes) except a chunk's last part or a part that fills the core's columns. Four ways of doing it:
 * chunks largest work first or in population order, cores with the most room under T first (ties:
 * least loaded, lowest index) or in index order. For each, a binary search finds the smallest T that
 * places every chunk; the way with the smallest largest load wins (ties: the order listed). Then
 * each chunk's columns are evened out over the cores it is on (4 columns at a time to the least
 * loaded; the same cores, so the same rows) where that does not raise their largest load.
 * Deterministic. When no way places the network on N cores even without a cap, spread falls back
 * to pack (Placed.placement then says 'pack'), and a network pack cannot place is pack's error.
 */
import { fail, UserError } from '../common/diagnostics.js';
import type { ColumnRange } from '../chip/image-model.js';
import { resolveCores } from '../chip/presets.js';
import type { Lowered, NetworkPopulation, Placed, PlacedBlock, SynapseMatrix } from './ir.js';

/** Placement strategies: 'pack' (first fit, fewest cores; the default) or 'spread' (balanced work per core). */
export type Placement = 'pack' | 'spread';
export const PLACEMENTS: readonly Placement[] = ['pack', 'spread'];

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

/** Places a lowered network on `cores` cores (or as many as it needs for 'auto'), packed (default) or spread. */
export function place(l: Lowered, cores: number | 'auto', placement: Placement = 'pack'): Placed {
  const chip = l.chip;
  const rps = rowsPerSignal(l);
  const perChunk = Math.floor(chip.core.rows / rps);
  if (perChunk < 1) fail(`chip ${chip.name}: a core needs at least ${rps} rows to carry one signal (has ${chip.core.rows})`, { pointer: '/core/rows' });
  if (placement !== 'pack' && placement !== 'spread') throw new Error(`place: unknown placement ${JSON.stringify(placement)}`);
  const limit = cores === 'auto' ? Infinity : resolveCores(chip, cores, 0);
  const R = chip.core.rows;
  const N = chip.core.neurons;

  const { tiles, fanIn, chunks } = makeTiles(l, perChunk, N);
  let result: { assignments: Assignment[]; cores: CoreState[] } | { failed: Tile; cores: CoreState[] } | undefined;
  let systemCores = limit;
  if (placement === 'spread') {
    // 'auto': as many cores as pack needs (always placeable with unlimited cores).
    systemCores = cores === 'auto' ? Math.max(1, firstFit(tiles, Infinity, R, N, rps).cores.length) : limit;
    result = spread(chunks, systemCores, R, N, rps);
  }
  // Pack, also when spread finds no placement (then the result says so: placement 'pack').
  const strategy: Placement = result === undefined ? 'pack' : placement;
  if (result === undefined) result = firstFit(tiles, limit, R, N, rps);
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
  const synapses = new Array<number>(used).fill(0);
  for (const b of blocks) synapses[b.core] += b.rows * b.cols;
  return {
    lowered: l,
    placement: strategy,
    system_cores: cores === 'auto' && placement === 'pack' ? Math.max(1, used) : systemCores,
    cores_used: used,
    columns,
    blocks,
    usage: result.cores.map((c, core) => ({ core, rows: c.rows, cols: c.cols, synapses: synapses[core] })),
  };
}

/** A chunk with its population: what spread places whole. */
interface PopChunk {
  population: NetworkPopulation;
  chunk: Chunk;
}

/** Chunks and slices (pack's tiles) of every non-input population, in population order. */
function makeTiles(l: Lowered, perChunk: number, colsPerCore: number): { tiles: Tile[]; fanIn: Map<string, number>; chunks: PopChunk[] } {
  const tiles: Tile[] = [];
  const all: PopChunk[] = [];
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
      all.push({ population: p, chunk });
      for (let n0 = 0; n0 < p.size; n0 += colsPerCore) {
        tiles.push({ population: p, chunk, neuron0: n0, cols: Math.min(colsPerCore, p.size - n0) });
      }
    }
  }
  return { tiles, fanIn, chunks: all };
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

/** Columns a chunk puts on one core. */
interface Part {
  core: number;
  cols: number;
}

interface Load {
  rows: number;
  cols: number;
  work: number;
}

/** Columns are cut at multiples of this (SIMD lanes), except a chunk's remainder. */
const LANES = 4;

/**
 * Placement 'spread' (see the header). undefined when no way places the network in `n` cores even
 * without a cap (the caller falls back to pack).
 */
function spread(chunks: PopChunk[], n: number, R: number, N: number, rps: number): { assignments: Assignment[]; cores: CoreState[] } | undefined {
  const rowsOf = (c: PopChunk) => c.chunk.signals * rps;
  const workOf = (c: PopChunk) => rowsOf(c) * c.population.size;
  const total = chunks.reduce((s, c) => s + workOf(c), 0);
  // Largest work first (ties: population order).
  const largest = chunks.map((c, i) => ({ c, i })).sort((a, b) => workOf(b.c) - workOf(a.c) || a.i - b.i).map((x) => x.c);

  // Every core's load stays at most `cap`: chunks whole in `order`, each over the cores with its rows
  // free in `roomiest` order (most room for columns under the cap first) or in index order.
  const fill = (cap: number, order: PopChunk[], roomiest: boolean): { loads: Load[]; parts: Part[][] } | undefined => {
    const loads: Load[] = Array.from({ length: n }, () => ({ rows: 0, cols: 0, work: 0 }));
    const parts: Part[][] = [];
    for (const c of order) {
      const rows = rowsOf(c);
      const room = (ld: Load) => (R - ld.rows < rows ? 0 : Math.min(N - ld.cols, rows === 0 ? N : Math.floor((cap - ld.work) / rows)));
      const cand = loads.map((ld, core) => ({ core, room: room(ld), work: ld.work })).filter((x) => x.room > 0);
      if (roomiest) cand.sort((a, b) => b.room - a.room || a.work - b.work || a.core - b.core);
      let left = c.population.size;
      const got: Part[] = [];
      for (const { core, room } of cand) {
        if (left === 0) break;
        let take = Math.min(left, room);
        // Cut at a multiple of LANES, unless it is the chunk's last part or fills the core's columns.
        if (take < left && take < N - loads[core].cols && take >= LANES) take -= take % LANES;
        got.push({ core, cols: take });
        left -= take;
      }
      if (left > 0) return undefined;
      for (const p of got) add(loads[p.core], rows, p.cols);
      parts.push(got);
    }
    return { loads, parts };
  };

  // For each way of filling, the smallest cap that places everything (binary search; a cap below
  // the mean never does); the way with the smallest cap wins (ties: the first way).
  let best: { loads: Load[]; parts: Part[][]; order: PopChunk[]; cap: number } | undefined;
  for (const [order, roomiest] of [[largest, true], [largest, false], [chunks, true], [chunks, false]] as const) {
    let lo = Math.ceil(total / n) - 1;
    let hi = Math.max(total, 1);
    let found = fill(hi, order, roomiest);
    if (found === undefined) continue;
    if (best !== undefined) hi = Math.min(hi, best.cap);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      const r = fill(mid, order, roomiest);
      if (r) {
        hi = mid;
        found = r;
      } else lo = mid;
    }
    const cap = Math.max(...found.loads.map((ld) => ld.work));
    if (best === undefined || cap < best.cap) best = { ...found, order, cap };
  }
  if (best === undefined) return undefined;
  const { loads, parts, order } = best;

  // Even out each chunk's columns over the cores it is on (same cores, so the same rows), when that keeps the largest load.
  order.forEach((c, i) => {
    const rows = rowsOf(c);
    if (rows === 0 || parts[i].length < 2) return;
    const before = Math.max(...parts[i].map((p) => loads[p.core].work));
    for (const p of parts[i]) add(loads[p.core], rows, p.cols, -1);
    const even = waterFill(loads, parts[i].map((p) => p.core), rows, c.population.size, N);
    const after = Math.max(...even.map((p) => loads[p.core].work + rows * p.cols));
    const keep = even.reduce((s, p) => s + p.cols, 0) === c.population.size && after <= before ? even : parts[i];
    for (const p of keep) add(loads[p.core], rows, p.cols);
    parts[i] = keep;
  });

  // Rows and columns from the top and the left, chunks in the order they were placed, a chunk's cores ascending.
  const at = Array.from({ length: n }, () => ({ rows: 0, cols: 0 }));
  const where = new Map<number, { part: Part; row0: number; col0: number }[]>();
  order.forEach((c, i) => {
    const placed = [];
    for (const p of [...parts[i]].sort((a, b) => a.core - b.core)) {
      placed.push({ part: p, row0: at[p.core].rows, col0: at[p.core].cols });
      at[p.core].rows += rowsOf(c);
      at[p.core].cols += p.cols;
    }
    where.set(c.chunk.key, placed);
  });

  // Assignments in pack's order: population, chunk, slice (neurons ascending with the cores).
  const assignments: Assignment[] = [];
  for (const c of chunks) {
    let neuron0 = 0;
    for (const { part, row0, col0 } of where.get(c.chunk.key)!) {
      assignments.push({ tile: { population: c.population, chunk: c.chunk, neuron0, cols: part.cols }, core: part.core, row0, col0 });
      neuron0 += part.cols;
    }
  }
  let used = 0;
  for (let core = 0; core < n; core++) if (loads[core].cols > 0) used = core + 1;
  const cores: CoreState[] = loads.slice(0, used).map((ld) => ({ rows: ld.rows, cols: ld.cols, chunkRow0: new Map() }));
  return { assignments, cores };
}

/** Puts (sign 1) or takes back (sign -1) a chunk's part of `cols` columns on a core. */
function add(ld: Load, rows: number, cols: number, sign: 1 | -1 = 1): void {
  ld.rows += sign * rows;
  ld.cols += sign * cols;
  ld.work += sign * rows * cols;
}

/**
 * A chunk's `size` columns over the cores `on`, LANES at a time, each unit to the core whose load
 * (with what it got so far) is least (ties: lowest index); cores left without columns are dropped.
 * Fewer than `size` columns in all when the cores lack free columns.
 */
function waterFill(loads: Load[], on: number[], rows: number, size: number, N: number): Part[] {
  const cores = [...on].sort((a, b) => a - b);
  const got = cores.map(() => 0);
  let left = size;
  while (left > 0) {
    let pick = -1;
    for (let j = 0; j < cores.length; j++) {
      if (N - loads[cores[j]].cols - got[j] <= 0) continue;
      if (pick < 0 || loads[cores[j]].work + rows * got[j] < loads[cores[pick]].work + rows * got[pick]) pick = j;
    }
    if (pick < 0) break;
    const take = Math.min(LANES, left, N - loads[cores[pick]].cols - got[pick]);
    got[pick] += take;
    left -= take;
  }
  return cores.map((core, j) => ({ core, cols: got[j] })).filter((p) => p.cols > 0);
}
