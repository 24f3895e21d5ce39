/**
 * The float reference of one pass of firmware-models/le.s over a core: what the firmware computes
 * from what it reads through the core's bus (synapse rows, row drivers, the column ADC, the
 * parameter DACs), written as plain arithmetic.
 *
 * Float chips (mode 0): exactly the firmware's float32 operations, so a pass must match bit for bit:
 *   rate_n = f32(f32(n) · rate),  c_s = f32(s_s · rate_n),  W[s][c] = f32(W[s][c] + f32(e_c · c_s))
 *   (rows with c_s = +0 are skipped),  b_c = f32(b_c + f32(e_c · rate_n)).
 * n is the analog steps since the record's last update, capped at the record's max_steps (the table's
 * B_NMAX / BI_NMAX, compiler/link.ts updateCap).
 * Fixed chips (modes 1, 2): the real-valued update the firmware's fixed-point arithmetic rounds
 * stochastically to codes, from the ADC codes it reads (de, ds: codes minus the code of 0):
 *   w = exc − inh (or the signed code) + n · codes_per_product · de_c · ds_s,  clamped to ±qmax
 *   bias code += n · codes_per_unit · de_c (at most ±127 codes per pass: the change passes 8-bit
 *   lanes),  clamped to the bias DAC's range.
 * A pass of the firmware lands within one code of these values (its stochastic rounding), and on
 * average on them. Transpose feedback (mirror) rows get the same rule with r of the columns and
 * diff on the rows; the values are returned separately, since the emulator's bus drops them.
 */
import { biasCodeRange } from '../chip/parameter-dac.js';
import type { ChipSpecT } from '../chip/spec.js';
import type { CoreTable } from '../compiler/link.js';
import type { ProcessorBus } from '../emulator/processor/bus.js';
import { adcCode, adcLaneCode } from '../isa/lanes.js';

const f32 = Math.fround;

/** One synapse row segment of a block after the pass: values per column of the block. */
export interface RowResult {
  row: number;
  col0: number;
  /** Float chips: weights; fixed chips: the signed code w = exc − inh (sign per row) or the code. */
  values: Float64Array;
}

export interface PassResult {
  /** Forward block rows (one entry per signal; on sign-per-row chips the pair's w). */
  rows: RowResult[];
  /** Mirror (transpose feedback) rows the firmware writes and the emulator drops. */
  mirror: RowResult[];
  /** Bias per learning column after the pass: values (float) or DAC codes (fixed). */
  bias: Map<number, number>;
}

/** The inputs of one pass: the chip, the core's table, the steps each record has waited, and the bus to read. */
export interface PassInputs {
  chip: Pick<ChipSpecT, 'adc' | 'weights' | 'parameters'>;
  table: CoreTable;
  /** Analog steps since each record's last update (1 under ideal timing); each record caps it at its max_steps (n = min(steps, max_steps)). */
  steps: number;
  bus: Pick<ProcessorBus, 'readSynapseRow' | 'readRowDrivers' | 'readObservable' | 'readParameter'>;
}

/** The ADC's 16-bit lane code of a value minus the code of 0 (no read noise). */
function adcDelta(chip: PassInputs['chip'], x: number, zero: number): number {
  return adcLaneCode(adcCode(x, chip.adc), chip.adc.bits, 16) - zero;
}

/** Computes the state a pass of le.s leaves, from the state before it. */
export function referencePass(inp: PassInputs): PassResult {
  const { chip, table: t, steps, bus } = inp;
  const float = t.mode === 0;
  const perRow = t.mode === 2;
  const qmax = perRow ? 2 ** chip.weights.bits - 1 : 2 ** (chip.weights.bits - 1) - 1;
  const out: PassResult = { rows: [], mirror: [], bias: new Map() };
  const read = (row: number, col0: number, cols: number): Float64Array => {
    const buf = float ? new Float32Array(cols) : new Int32Array(cols);
    bus.readSynapseRow(row, col0, buf, cols);
    return Float64Array.from(buf);
  };
  for (const b of t.blocks) {
    const drivers = new Float32Array(b.signals * b.rows_per_signal);
    bus.readRowDrivers(b.row0, drivers, drivers.length);
    const obs = new Float32Array(b.cols);
    bus.readObservable(b.obs, b.col0, obs, b.cols);
    const list = b.role === 'mirror' ? out.mirror : out.rows;
    const n = Math.min(steps, b.max_steps);
    if (float) {
      const rateN = f32(f32(n) * f32(b.rate));
      for (let s = 0; s < b.signals; s++) {
        const row = b.row0 + s;
        const w = read(row, b.col0, b.cols);
        const c = f32(drivers[s] * rateN);
        if (!(c === 0 && !Object.is(c, -0))) for (let i = 0; i < b.cols; i++) w[i] = f32(w[i] + f32(obs[i] * c));
        list.push({ row, col0: b.col0, values: w });
      }
    } else {
      const per = n * b.codes_per_product!;
      for (let s = 0; s < b.signals; s++) {
        const row = b.row0 + s * b.rows_per_signal;
        const exc = read(row, b.col0, b.cols);
        const inh = perRow ? read(row + 1, b.col0, b.cols) : null;
        const ds = adcDelta(chip, drivers[s * b.rows_per_signal], t.adc_zero);
        const w = new Float64Array(b.cols);
        for (let i = 0; i < b.cols; i++) {
          const before = inh ? exc[i] - inh[i] : exc[i];
          const v = ds === 0 ? before : before + per * adcDelta(chip, obs[i], t.adc_zero) * ds;
          w[i] = Math.max(-qmax, Math.min(qmax, v));
        }
        list.push({ row, col0: b.col0, values: w });
      }
    }
  }
  for (const bi of t.biases) {
    const n = Math.min(steps, bi.max_steps);
    const e = new Float32Array(bi.cols);
    bus.readObservable(3, bi.col0, e, bi.cols);
    if (float) {
      const bias = new Float32Array(bi.cols);
      bus.readParameter(0, bi.col0, bias, bi.cols);
      const rateN = f32(f32(n) * f32(bi.rate));
      for (let i = 0; i < bi.cols; i++) out.bias.set(bi.col0 + i, f32(bias[i] + f32(e[i] * rateN)));
    } else {
      const codes = new Int32Array(bi.cols);
      bus.readParameter(0, bi.col0, codes, bi.cols);
      const range = biasCodeRange(chip);
      for (let i = 0; i < bi.cols; i++) {
        // The firmware narrows the change through 8-bit lanes: at most 127 codes per pass.
        const delta = Math.max(-128, Math.min(127, n * bi.codes_per_unit! * adcDelta(chip, e[i], t.adc_zero)));
        const v = codes[i] + delta;
        out.bias.set(bi.col0 + i, Math.max(range.min, Math.min(range.max, v)));
      }
    }
  }
  return out;
}
