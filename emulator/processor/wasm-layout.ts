/**
 * Where a translated processor keeps its state in WebAssembly linear memory, so that the
 * translated module, the host (the Machine adapter of translator-machine.ts) and the kernels'
 * bus functions all read and write the same bytes. Every region is 16-byte aligned.
 *
 *   +0      x[32]           i32 scalar registers (x0 stays 0)
 *   +128    pc              i32 (read as u32)
 *   +132    wait steps      u32, set when the module stops on `wait`
 *   +144    cycles          f64 (exact integers up to 2^53)
 *   +152    instructions    f64
 *   +256    vregs           32 x vbytes
 *   ...     rng             4 x vbytes x u32: xoshiro128** state of the vbytes lane generators,
 *                           structure of arrays (s0 of every lane, then s1, s2, s3) so that SIMD
 *                           advances four generators per instruction
 *   ...     mem             memory_kib x 1024 bytes, the processor's local memory
 */

/** Bytes of the header (registers, pc, counters) before the vector registers. */
const HEADER_BYTES = 256;

/** Absolute byte addresses of a processor's state regions. */
export interface StateLayout {
  base: number;
  x: number;
  pc: number;
  waitSteps: number;
  cycles: number;
  instructions: number;
  vregs: number;
  rng: number;
  mem: number;
  /** Bytes of the processor's local memory. */
  memBytes: number;
  vbytes: number;
  /** Total bytes from base. */
  bytes: number;
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** The layout of one processor's state at `base` (16-byte aligned). */
export function stateLayout(base: number, vbytes: number, memBytes: number): StateLayout {
  if (base % 16 !== 0) throw new Error(`processor state base ${base} is not 16-byte aligned`);
  const vregs = base + HEADER_BYTES;
  const rng = vregs + align16(32 * vbytes);
  const mem = rng + align16(16 * vbytes);
  const end = mem + align16(memBytes);
  return {
    base, x: base, pc: base + 128, waitSteps: base + 132, cycles: base + 144, instructions: base + 152,
    vregs, rng, mem, memBytes, vbytes, bytes: end - base,
  };
}

/** Bytes a processor's state needs (for the host's allocator). */
export function stateBytes(vbytes: number, memBytes: number): number {
  return stateLayout(0, vbytes, memBytes).bytes;
}

/**
 * Typed views of a state layout over a memory that may grow: `refresh()` re-creates them when
 * the memory's buffer changed (growing detaches the old views).
 */
export class StateViews {
  x!: Int32Array;
  u32!: Uint32Array;
  f64!: Float64Array;
  vregs!: {
    i8: Int8Array; u8: Uint8Array; i16: Int16Array; u16: Uint16Array; i32: Int32Array; u32: Uint32Array; f32: Float32Array;
  };
  mem!: Uint8Array;
  rng!: Uint32Array;
  private buffer: ArrayBuffer | null = null;

  constructor(readonly memory: WebAssembly.Memory, readonly L: StateLayout) {
    this.refresh();
  }

  /** Re-creates the views if the memory grew since they were made. */
  refresh(): void {
    // Growing a non-shared memory detaches the old buffer and empties its views: a cheap test
    // (reading memory.buffer costs more than the check itself on every bus call).
    if (this.buffer !== null && this.x.byteLength !== 0) return;
    const buf = this.memory.buffer as ArrayBuffer;
    if (buf === this.buffer) return;
    this.buffer = buf;
    const L = this.L;
    this.x = new Int32Array(buf, L.x, 32);
    this.u32 = new Uint32Array(buf, L.base, 64);
    this.f64 = new Float64Array(buf, L.base, 32);
    const vb = 32 * L.vbytes;
    this.vregs = {
      i8: new Int8Array(buf, L.vregs, vb), u8: new Uint8Array(buf, L.vregs, vb),
      i16: new Int16Array(buf, L.vregs, vb / 2), u16: new Uint16Array(buf, L.vregs, vb / 2),
      i32: new Int32Array(buf, L.vregs, vb / 4), u32: new Uint32Array(buf, L.vregs, vb / 4), f32: new Float32Array(buf, L.vregs, vb / 4),
    };
    this.mem = new Uint8Array(buf, L.mem, L.memBytes);
    this.rng = new Uint32Array(buf, L.rng, 4 * L.vbytes);
  }

  /** pc as an unsigned address. */
  get pc(): number {
    return this.u32[(this.L.pc - this.L.base) >> 2];
  }
  set pc(v: number) {
    this.u32[(this.L.pc - this.L.base) >> 2] = v >>> 0;
  }
  get waitSteps(): number {
    return this.u32[(this.L.waitSteps - this.L.base) >> 2];
  }
  get cycles(): number {
    return this.f64[(this.L.cycles - this.L.base) >> 3];
  }
  set cycles(v: number) {
    this.f64[(this.L.cycles - this.L.base) >> 3] = v;
  }
  get instructions(): number {
    return this.f64[(this.L.instructions - this.L.base) >> 3];
  }
  set instructions(v: number) {
    this.f64[(this.L.instructions - this.L.base) >> 3] = v;
  }
}

/**
 * Converts lane generator states between the interpreter's layout (LaneRandom.state: four words
 * per lane) and the translated layout (structure of arrays).
 */
export function rngToSoa(aos: Uint32Array, lanes: number, out: Uint32Array): void {
  for (let i = 0; i < lanes; i++) for (let k = 0; k < 4; k++) out[k * lanes + i] = aos[4 * i + k];
}

/** Inverse of rngToSoa. */
export function rngToAos(soa: Uint32Array, lanes: number, out: Uint32Array): void {
  for (let i = 0; i < lanes; i++) for (let k = 0; k < 4; k++) out[4 * i + k] = soa[k * lanes + i];
}
