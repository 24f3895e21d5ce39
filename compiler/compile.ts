/**
 * The compiler pipeline: one registry of passes (name, one-line description, the IR it dumps),
 * run in order by `compile`, listed by `--help`, and dumped by `--emit`.
 *   validate → lower → place → quantise → timescale → link → emit
 */
import { toolVersion } from '../common/paths.js';
import type { ChipImage } from '../chip/image-model.js';
import type { ChipSpecT } from '../chip/spec.js';
import { emit } from './emit.js';
import type { Lowered, Network, Placed, Quantised, Timed } from './ir.js';
import { link, type Linked } from './link.js';
import { lower } from './lower.js';
import { place, type Placement } from './place.js';
import { quantise } from './quantise.js';
import { timescale } from './timescale.js';
import { validateNetwork } from './validate.js';

export interface CompileOptions {
  /** File name of the description as the user gave it (for diagnostics). */
  file?: string;
  chip: ChipSpecT;
  /** Cores of the system; default the chip's `default_cores`. */
  cores?: number | 'auto';
  /** How the place pass puts blocks on cores: 'pack' (first fit, fewest cores; the default) or 'spread' (synapses per core balanced over the system's cores). */
  placement?: Placement;
  /** Seed of the compile's own draws; default 1. */
  seed?: number;
  /** Tool version written into the image; default lechip's package version. */
  toolVersion?: string;
  /** Euler step the run will use, biological ms, when it is not the description's (the firmware's per-step rates are linked for it). */
  dtMs?: number;
  /** Presentation time the run will use, biological ms, when it is not the description's (the firmware's cap on n is linked for it). */
  tPresMs?: number;
  /** Largest number of analog steps one firmware update may stand for (default: compiler/link.ts updateCap). */
  maxStepsPerUpdate?: number;
}

/** Every intermediate representation of one compile. */
export interface Stages {
  ir: Network;
  lowered: Lowered;
  placed: Placed;
  quantised: Quantised;
  timed: Timed;
  linked: Linked;
}

/** IRs that can be dumped (`--emit`). */
export type StageName = 'ir' | 'lowered' | 'placed' | 'quantised' | 'timed' | 'linked';
export const STAGE_NAMES: readonly StageName[] = ['ir', 'lowered', 'placed', 'quantised', 'timed', 'linked'];

interface PipelineState {
  text: string;
  opts: CompileOptions;
  stages: Partial<Stages>;
  image?: ChipImage;
}

/** One compiler pass: its name, what it does in one line, the IR it produces (if dumpable). */
export interface Pass {
  name: string;
  description: string;
  produces?: StageName;
  run(s: PipelineState): void;
}

function need<T>(v: T | undefined, pass: string): T {
  if (v === undefined) throw new Error(`compiler: pass ${pass} ran before its input existed`);
  return v;
}

/** The passes in pipeline order. */
export const PASSES: readonly Pass[] = [
  {
    name: 'validate',
    description: 'parse the JSON, check schema and semantics (every mistake at once), fill defaults, draw seeded arrays',
    produces: 'ir',
    run: (s) => {
      s.stages.ir = validateNetwork(s.text, { file: s.opts.file, seed: s.opts.seed });
    },
  },
  {
    name: 'lower',
    description: 'neuron circuits per non-input population; a forward synapse matrix per projection, plus feedback matrices for LE',
    produces: 'lowered',
    run: (s) => {
      s.stages.lowered = lower(need(s.stages.ir, 'lower'), s.opts.chip);
    },
  },
  {
    name: 'place',
    description: "put the matrices onto cores (pack: first fit; spread: synapses balanced per core): fan-in in chunks of the array's rows, populations in slices of its columns",
    produces: 'placed',
    run: (s) => {
      const l = need(s.stages.lowered, 'place');
      s.stages.placed = place(l, s.opts.cores ?? l.chip.default_cores, s.opts.placement ?? 'pack');
    },
  },
  {
    name: 'quantise',
    description: "weights to the chip's codes with one scale per block; error report and zeroing warnings per projection",
    produces: 'quantised',
    run: (s) => {
      s.stages.quantised = quantise(need(s.stages.placed, 'quantise'));
    },
  },
  {
    name: 'timescale',
    description: "biological ms to hardware us at the chip's speedup; time constants checked against the chip's ranges",
    produces: 'timed',
    run: (s) => {
      s.stages.timed = timescale(need(s.stages.quantised, 'timescale'));
    },
  },
  {
    name: 'link',
    description: "assemble the plasticity firmware (firmware-models/le.s) and write each core's table: plastic blocks, learning biases, rates",
    produces: 'linked',
    run: (s) => {
      s.stages.linked = link(need(s.stages.timed, 'link'), { dtMs: s.opts.dtMs, tPresMs: s.opts.tPresMs, maxSteps: s.opts.maxStepsPerUpdate });
    },
  },
  {
    name: 'emit',
    description: 'the chip image: manifest (both time units, placement, quantisation reports), typed sections and the linked firmware',
    run: (s) => {
      const linked = need(s.stages.linked, 'emit');
      s.image = emit(linked.timed, { toolVersion: s.opts.toolVersion ?? toolVersion(), firmware: linked.firmware, warnings: linked.warnings });
    },
  },
];

/** Runs the passes up to and including `stopAfter` (a pass name; default all); returns what exists. */
export function runPasses(text: string, opts: CompileOptions, stopAfter?: string): { stages: Partial<Stages>; image?: ChipImage } {
  if (stopAfter !== undefined && !PASSES.some((p) => p.name === stopAfter)) throw new Error(`compiler: no pass named ${stopAfter}`);
  const s: PipelineState = { text, opts, stages: {} };
  for (const pass of PASSES) {
    pass.run(s);
    if (pass.name === stopAfter) break;
  }
  return { stages: s.stages, image: s.image };
}

/** Compiles description text for a chip: the image, every intermediate IR, and the warnings. */
export function compile(text: string, opts: CompileOptions): { image: ChipImage; stages: Stages; warnings: string[] } {
  const { stages, image } = runPasses(text, opts);
  const all = stages as Stages;
  return { image: need(image, 'compile'), stages: all, warnings: [...all.quantised.warnings, ...all.linked.warnings] };
}

/** The pass that produces a dumpable IR (for `--emit NAME`: run up to it). */
export function passProducing(name: StageName): string {
  return PASSES.find((p) => p.produces === name)!.name;
}

/** A JSON-serialisable view of one IR (typed arrays as plain, nested arrays) for `--emit`, headed by the pass that made it. */
export function dumpStage(name: StageName, stages: Partial<Stages>): unknown {
  const pass = PASSES.find((p) => p.produces === name)!;
  return { stage: name, pass: pass.name, description: pass.description, ...(dumpBody(name, stages) as object) };
}

function dumpBody(name: StageName, stages: Partial<Stages>): unknown {
  switch (name) {
    case 'ir':
      return dumpIr(need(stages.ir, 'dump ir'));
    case 'lowered':
      return dumpLowered(need(stages.lowered, 'dump lowered'));
    case 'placed':
      return dumpPlaced(need(stages.placed, 'dump placed'));
    case 'quantised':
      return dumpQuantised(need(stages.quantised, 'dump quantised'));
    case 'timed':
      return dumpTimed(need(stages.timed, 'dump timed'));
    case 'linked':
      return dumpLinked(need(stages.linked, 'dump linked'));
  }
}

/** Row-major flat array → nested [rows][cols] plain arrays. */
function nest(a: ArrayLike<number>, rows: number, cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) out.push(Array.from({ length: cols }, (_, j) => a[i * cols + j]));
  return out;
}

function dumpIr(n: Network): unknown {
  return {
    name: n.name,
    sha256: n.sha256,
    ...(n.file !== undefined ? { file: n.file } : {}),
    seed: n.seed,
    learning: n.learning,
    presentation: n.presentation,
    populations: n.populations.map((p) => ({ ...p, bias: Array.from(p.bias) })),
    projections: n.projections.map((q) => ({ ...q, weights: nest(q.weights, q.post_size, q.pre_size) })),
  };
}

function dumpLowered(l: Lowered): unknown {
  return {
    chip: l.chip.name,
    circuits: l.circuits,
    matrices: l.matrices.map((m) => ({
      ...m,
      weights: m.weights ? nest(m.weights, m.neurons, m.signals) : 'transpose (mirrors the forward matrix)',
    })),
  };
}

function dumpPlaced(p: Placed): unknown {
  const chip = p.lowered.chip;
  return {
    chip: chip.name,
    core: chip.core,
    placement: p.placement,
    system_cores: p.system_cores,
    cores_used: p.cores_used,
    chips: Math.ceil(p.system_cores / chip.cores_per_chip),
    usage: p.usage,
    columns: p.columns,
    blocks: p.blocks,
  };
}

function dumpQuantised(q: Quantised): unknown {
  const net = q.placed.lowered.network;
  return {
    chip: q.placed.lowered.chip.name,
    weights: q.placed.lowered.chip.weights,
    reports: net.projections.map((pr) => ({ projection: pr.index, from: pr.from, to: pr.to, ...q.reports[pr.index] })),
    warnings: q.warnings,
    blocks: q.blocks.map((b) => ({ ...b, codes: b.codes ? nest(b.codes, b.signals, b.cols) : undefined })),
  };
}

function dumpTimed(t: Timed): unknown {
  return {
    speedup: t.speedup,
    dt_ms: t.dt_ms,
    dt_hw_us: t.dt_hw_us,
    t_pres_ms: t.t_pres_ms,
    t_pres_hw_us: t.t_pres_hw_us,
    tau_us: t.tau_us,
  };
}

function dumpLinked(l: Linked): unknown {
  const f = l.firmware;
  if (!f) return { firmware: null, note: 'nothing learns (learning rule none or no plastic projection): no firmware is linked', warnings: l.warnings };
  return {
    firmware: f.name,
    entry: f.entry,
    text_bytes: f.text.length * 4,
    data_base: f.data_base,
    symbols: { le_table: f.symbols.le_table, le_passes: f.symbols.le_passes },
    cores: f.cores,
    warnings: l.warnings,
  };
}
