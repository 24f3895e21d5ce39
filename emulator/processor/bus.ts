/**
 * The interface through which a core's plasticity processor touches its analog core: the synapse
 * array (one row segment at a time), neuron observables and row drivers (analog values; the
 * processor quantises them through its ADC), and the core's clock. `MockBus` is a plain-array
 * implementation for tests and for running firmware without an analog core.
 */

/** Observable selectors of `readObservable` (and of the `vadc` instruction). */
export const OBSERVABLE_KIND = { r: 0, u: 1, rp: 2, e: 3, diff: 4, basal: 5, z: 6 } as const;

/** Parameter selectors of `readParameter` / `writeParameter` (and of `vldp` / `vstp`). */
export const PARAMETER_KIND = { bias: 0, tau_m_trim: 1, tau_r_trim: 2, gain_trim: 3, offset_trim: 4 } as const;

/** What the processor of one core may read and write. Indices are within the core. */
export interface ProcessorBus {
  /** Neuron columns of the core's synapse array. */
  readonly columns: number;
  /** Synapse rows of the core's array. */
  readonly rows: number;
  /** Reads `lanes` synapses of `row` from column `col0` on: codes (Int32Array) on fixed-weight chips, weights (Float32Array) on float chips. */
  readSynapseRow(row: number, col0: number, out: Int32Array | Float32Array, lanes: number): void;
  /** Writes `lanes` synapses of `row` from column `col0` on (codes already within the chip's range). */
  writeSynapseRow(row: number, col0: number, values: Int32Array | Float32Array, lanes: number): void;
  /** Reads observable `kind` (0 r, 1 u, 2 r', 3 e, 4 diff, 5 basal, 6 z: a lif neuron's refractory state, 0 or 1; rate neurons read 0) of `lanes` columns from `col0` on, as analog values. */
  readObservable(kind: number, col0: number, out: Float32Array, lanes: number): void;
  /** Reads the presynaptic values driven onto `lanes` rows from `row0` on, as analog values. */
  readRowDrivers(row0: number, out: Float32Array, lanes: number): void;
  /**
   * Reads neuron parameter `kind` (0 bias, 1 tau_m trim, 2 tau_r trim, 3 gain trim, 4 offset trim)
   * of `lanes` columns from `col0` on: signed DAC codes into an Int32Array, values into a Float32Array.
   */
  readParameter(kind: number, col0: number, out: Int32Array | Float32Array, lanes: number): void;
  /** Writes neuron parameter `kind` of `lanes` columns from `col0` on: DAC codes (the bus clamps them to its range) or values. */
  writeParameter(kind: number, col0: number, values: Int32Array | Float32Array, lanes: number): void;
  /** Euler steps the analog core has advanced while this processor ran (what `rdstep` reads). */
  readonly analogSteps: number;
  /** Advances the analog core by `steps` Euler steps (the host calls it when firmware waits). */
  advanceAnalog(steps: number): void;
}

/** A ProcessorBus over plain arrays: synapses [rows][columns], observables [7][columns], row drivers [rows], parameters [5][columns]. */
export class MockBus implements ProcessorBus {
  /** Synapse codes or weights, row-major [rows][columns]. */
  readonly synapses: Int32Array | Float32Array;
  /** Observables, [kind][columns]. */
  readonly observables: Float32Array;
  readonly rowDrivers: Float32Array;
  /** Neuron parameters [kind][columns]: codes on fixed-weight buses, values on float buses (read and written as stored). */
  readonly parameters: Int32Array | Float32Array;
  /** Analog steps advanced so far. */
  steps = 0;
  /** Called on every advance (tests move observables with it). */
  onAdvance?: (steps: number, bus: MockBus) => void;

  constructor(readonly rows: number, readonly columns: number, kind: 'fixed' | 'float32' = 'fixed') {
    this.synapses = kind === 'fixed' ? new Int32Array(rows * columns) : new Float32Array(rows * columns);
    this.observables = new Float32Array(7 * columns);
    this.rowDrivers = new Float32Array(rows);
    this.parameters = kind === 'fixed' ? new Int32Array(5 * columns) : new Float32Array(5 * columns);
  }

  get analogSteps(): number {
    return this.steps;
  }

  readParameter(kind: number, col0: number, out: Int32Array | Float32Array, lanes: number): void {
    if (kind < 0 || kind > 4 || col0 + lanes > this.columns) throw new Error(`MockBus: bad parameter read ${kind} @${col0}+${lanes}`);
    for (let i = 0; i < lanes; i++) out[i] = this.parameters[kind * this.columns + col0 + i];
  }

  writeParameter(kind: number, col0: number, values: Int32Array | Float32Array, lanes: number): void {
    if (kind < 0 || kind > 4 || col0 + lanes > this.columns) throw new Error(`MockBus: bad parameter write ${kind} @${col0}+${lanes}`);
    for (let i = 0; i < lanes; i++) this.parameters[kind * this.columns + col0 + i] = values[i];
  }

  readSynapseRow(row: number, col0: number, out: Int32Array | Float32Array, lanes: number): void {
    this.check(row, col0, lanes);
    for (let i = 0; i < lanes; i++) out[i] = this.synapses[row * this.columns + col0 + i];
  }

  writeSynapseRow(row: number, col0: number, values: Int32Array | Float32Array, lanes: number): void {
    this.check(row, col0, lanes);
    for (let i = 0; i < lanes; i++) this.synapses[row * this.columns + col0 + i] = values[i];
  }

  readObservable(kind: number, col0: number, out: Float32Array, lanes: number): void {
    if (kind < 0 || kind > 6 || col0 + lanes > this.columns) throw new Error(`MockBus: bad observable read ${kind} @${col0}+${lanes}`);
    for (let i = 0; i < lanes; i++) out[i] = this.observables[kind * this.columns + col0 + i];
  }

  readRowDrivers(row0: number, out: Float32Array, lanes: number): void {
    if (row0 + lanes > this.rows) throw new Error(`MockBus: bad row driver read @${row0}+${lanes}`);
    for (let i = 0; i < lanes; i++) out[i] = this.rowDrivers[row0 + i];
  }

  advanceAnalog(steps: number): void {
    this.steps += steps;
    this.onAdvance?.(steps, this);
  }

  private check(row: number, col0: number, lanes: number): void {
    // The interpreter bounds every access; reaching here out of range is our bug, not the firmware's.
    if (row < 0 || row >= this.rows || col0 < 0 || col0 + lanes > this.columns) {
      throw new Error(`MockBus: synapse access out of range: row ${row}, columns ${col0}..${col0 + lanes - 1}`);
    }
  }
}
