/**
 * Which projections of a fixed-point chip run on the kernels for quantised weights
 * (kernels/quantised.ts), and their format: per presynaptic row the unit vector of its row block
 * (block scale x the synaptic-input gain of each column on this chip instance, float32, the same
 * constant realiseModel multiplies the codes by). Rows covered by the same blocks share a vector.
 *
 * The int8 kernels give bit-identical results but cost about twice the float kernels' operations
 * per weight (a widening, a conversion and a multiply by the unit before the multiply-add), so
 * they pay only where the float weights stream from memory. Measured on the 2-core EPYC
 * (bench/quantised-weights.ts, docs/engine.md "Kernels for quantised weights"): x0.56-0.69 on
 * arrays of 1-4 MB, forward x1.25-1.28 but transposed x0.74-0.8 at 17 MB, both x1.23-1.38 at
 * 67 MB; a 1024-4096-4096-10 network (84 MB of floats) steps x1.31 faster on int8. 'auto' picks
 * them from WEIGHT_KERNEL_AUTO_BYTES of float weights per array.
 */
import type { ChipImage } from '../chip/image-model.js';
import type { ChipConfig } from './chip-interface.js';
import { Q8_MAX, type QuantisedFormat } from './engine.js';
import { synapseGainOf } from './instance.js';
import { UserError } from '../common/diagnostics.js';

/** How the synapse-array products run on fixed-point chips (ChipConfig.weightKernels). */
export type WeightKernels = 'auto' | 'float' | 'int8';

/** 'auto' runs a projection on int8 codes from this many bytes of float weights (16 MiB: half this machine's L3). */
export const WEIGHT_KERNEL_AUTO_BYTES = 16 * 2 ** 20;

/** The chosen mode, checked (a bad value is a user's configuration error). */
export function weightKernelsMode(config: ChipConfig): WeightKernels {
  const mode = config.weightKernels ?? 'auto';
  if (mode !== 'auto' && mode !== 'float' && mode !== 'int8') {
    throw new UserError({ message: `weight kernels must be 'auto', 'float' or 'int8' (got ${JSON.stringify(mode)})` });
  }
  return mode;
}

/** Whether a chip's weights are codes the int8 kernels can hold (fixed point, magnitudes up to 127). */
export function int8Weights(image: ChipImage): boolean {
  const w = image.manifest.chip.weights;
  if (w.kind === 'float32') return false;
  const qmax = w.sign === 'per_row' ? 2 ** w.bits - 1 : 2 ** (w.bits - 1) - 1;
  return qmax <= Q8_MAX;
}

/**
 * The quantised format of every projection that runs on int8 codes: none on float chips or with
 * 'float'; with 'int8' every projection with forward blocks; with 'auto' those with at least
 * WEIGHT_KERNEL_AUTO_BYTES of float weights whose weights the engine's own update kernel does not
 * learn (it learns floats, off the code grid). `kernelLearns` says whether it does.
 */
export function quantisedFormats(image: ChipImage, config: ChipConfig, kernelLearns: boolean): Map<number, QuantisedFormat> {
  const mode = weightKernelsMode(config);
  const out = new Map<number, QuantisedFormat>();
  if (mode === 'float' || !int8Weights(image)) return out;
  const m = image.manifest;
  const gainOf = synapseGainOf(m, config);
  for (const j of m.projections) {
    const blocks = m.blocks.filter((b) => b.projection === j.index && b.kind === 'forward' && b.section);
    if (blocks.length === 0) continue;
    if (mode === 'auto') {
      const floatBytes = j.pre_size * Math.ceil(j.post_size / 4) * 16;
      if (floatBytes < WEIGHT_KERNEL_AUTO_BYTES || (kernelLearns && j.plastic && m.learning.rule === 'le')) continue;
    }
    // Rows covered by the same blocks share one unit vector.
    const cover: number[][] = Array.from({ length: j.pre_size }, () => []);
    blocks.forEach((b, bi) => {
      for (let s = 0; s < b.signals; s++) cover[b.sig0 + s].push(bi);
    });
    const vectorOf = new Map<string, number>();
    const vectors: Float32Array[] = [];
    const unitOfRow = new Int32Array(j.pre_size);
    for (let k = 0; k < j.pre_size; k++) {
      const key = cover[k].join(',');
      let v = vectorOf.get(key);
      if (v === undefined) {
        const u = new Float32Array(j.post_size);
        for (const bi of cover[k]) {
          const b = blocks[bi];
          for (let c = 0; c < b.cols; c++) u[b.neuron0 + c] = gainOf(b.core, b.col0 + c) * b.scale;
        }
        v = vectors.length;
        vectors.push(u);
        vectorOf.set(key, v);
      }
      unitOfRow[k] = v;
    }
    const units = new Float32Array(vectors.length * j.post_size);
    vectors.forEach((u, v) => units.set(u, v * j.post_size));
    out.set(j.index, { units, unitOfRow });
  }
  return out;
}
