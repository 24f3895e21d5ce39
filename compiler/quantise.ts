/**
 * Pass 4, quantise: Placed → Quantised. Turns each block's float weights into the codes the
 * synapse array stores. Float chips keep float32 weights (scale 1). Fixed chips get one scale per
 * block, scale = max|w| / qmax, and codes round(w / scale) (half away from zero) clamped to ±qmax,
 * so the largest weight of every block is exactly representable. Reports the error per forward
 * projection and warns when quantisation silently kills most of a projection's weights.
 */
import { fail } from '../common/diagnostics.js';
import type { QuantisationReport } from '../chip/image-model.js';
import type { ChipSpecT } from '../chip/spec.js';
import type { Placed, PlacedBlock, Quantised, QuantisedBlock, SynapseMatrix } from './ir.js';

/** Fraction of zeroed weights above which a projection gets a warning. */
export const ZEROED_WARNING_FRACTION = 0.5;

/** Largest code magnitude: 2^bits − 1 with sign per row (bits are magnitude; the row is the sign), 2^(bits−1) − 1 with sign per synapse. */
export function qmaxOf(chip: ChipSpecT): number {
  const { bits, sign } = chip.weights;
  return sign === 'per_row' ? 2 ** bits - 1 : 2 ** (bits - 1) - 1;
}

/** Rounds half away from zero, so codes are symmetric in the sign of the weight. */
function roundSym(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Quantises every placed block and reports the error per forward projection. */
export function quantise(p: Placed): Quantised {
  const chip = p.lowered.chip;
  const isFloat = chip.weights.kind === 'float32';
  const qmax = isFloat ? 0 : qmaxOf(chip);
  if (!isFloat && (qmax < 1 || qmax > 127)) {
    fail(`chip ${chip.name}: ${chip.weights.bits}-bit weights with sign ${chip.weights.sign} give codes up to ${qmax}; images store codes as int8 (1-127)`, {
      pointer: '/weights/bits',
    });
  }
  const matrices = p.lowered.matrices;
  const blocks: QuantisedBlock[] = p.blocks.map((b) => {
    const m = matrices[b.matrix];
    if (!m.weights) return { ...b, scale: 1 }; // transpose feedback mirrors its forward blocks
    const w = blockWeights(m, b);
    if (isFloat) return { ...b, scale: 1, codes: Float32Array.from(w) };
    let maxAbs = 0;
    for (const x of w) maxAbs = Math.max(maxAbs, Math.abs(x));
    const scale = maxAbs > 0 ? maxAbs / qmax : 1;
    const codes = new Int8Array(w.length);
    for (let i = 0; i < w.length; i++) codes[i] = Math.max(-qmax, Math.min(qmax, roundSym(w[i] / scale)));
    return { ...b, scale, codes };
  });

  const reports: QuantisationReport[] = [];
  const warnings: string[] = [];
  for (const q of p.lowered.network.projections) {
    const mine = blocks.filter((b) => b.projection === q.index && b.kind === 'forward');
    const r = report(mine, matrices);
    reports[q.index] = r;
    if (r.zeroed_fraction > ZEROED_WARNING_FRACTION) {
      warnings.push(
        `quantisation to ${chip.weights.bits} bits zeroes ${Math.round(r.zeroed_fraction * 100)} % of projection ${q.from}→${q.to}'s weights; consider a wider weight init or a chip with more bits`,
      );
    }
  }
  return { placed: p, blocks, reports, warnings };
}

/** A block's weights as the array holds them: [signals][cols], element [s][c] from signal sig0+s to neuron neuron0+c. */
export function blockWeights(m: SynapseMatrix, b: PlacedBlock): Float64Array {
  const w = m.weights!;
  const out = new Float64Array(b.signals * b.cols);
  for (let s = 0; s < b.signals; s++) {
    for (let c = 0; c < b.cols; c++) out[s * b.cols + c] = w[(b.neuron0 + c) * m.signals + b.sig0 + s];
  }
  return out;
}

/** Error of the stored weights (code x scale) against the described ones, over a projection's forward blocks (which tile its matrix exactly once). */
function report(blocks: QuantisedBlock[], matrices: SynapseMatrix[]): QuantisationReport {
  let n = 0;
  let sumSqErr = 0;
  let sumSq = 0;
  let maxAbs = 0;
  let nonzero = 0;
  let zeroed = 0;
  let scaleMin = Infinity;
  let scaleMax = -Infinity;
  for (const b of blocks) {
    scaleMin = Math.min(scaleMin, b.scale);
    scaleMax = Math.max(scaleMax, b.scale);
    const w = blockWeights(matrices[b.matrix], b);
    const codes = b.codes!;
    for (let i = 0; i < w.length; i++) {
      const q = codes[i] * b.scale;
      const err = w[i] - q;
      n++;
      sumSqErr += err * err;
      sumSq += w[i] * w[i];
      maxAbs = Math.max(maxAbs, Math.abs(err));
      if (w[i] !== 0) {
        nonzero++;
        if (codes[i] === 0) zeroed++;
      }
    }
  }
  const rms = n ? Math.sqrt(sumSqErr / n) : 0;
  const rmsW = n ? Math.sqrt(sumSq / n) : 0;
  return {
    rms_error: rms,
    relative_rms_error: rmsW > 0 ? rms / rmsW : 0,
    max_abs_error: maxAbs,
    zeroed_fraction: nonzero ? zeroed / nonzero : 0,
    scale_min: blocks.length ? scaleMin : 1,
    scale_max: blocks.length ? scaleMax : 1,
  };
}
