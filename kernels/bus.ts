// The plasticity processor's bus on the engine's memory: what translated firmware
// (emulator/processor/translator.ts) calls for synapse rows, ADC reads, row drivers and bias
// values instead of the TypeScript bus, so a row segment moves between the engine's weights and a
// vector register without leaving WebAssembly. Each function does exactly what the instruction
// table's semantics (isa/table.ts) do through emulator/core-bus.ts on the same state, or returns
// 1 without touching anything when the host must do it (rows it does not map, codes of fixed-weight
// chips, trims).
//
// Table (written by the host, emulator/processor/wasm-bus.ts):
//   header   +0 rows, +4 columns, +8 address of the row records, +12 address of the column
//            records, +16 ADC bits, +24 ADC min (f64), +32 ADC max (f64), +48 writes dropped on
//            transpose feedback rows since the host last collected them; +52..+60 counters the
//            translator keeps when asked (wasm-bus.ts fusedPathCounts); +20, +40, +44 the
//            translator's (fused-nest.ts NEST_TABLE: float rows disjoint, their span)
//   row      (32 bytes) +0 kind, +4 address of the value at column bcol0, +8 bcol0, +12 bcols,
//            +16 bytes from one column to the next, +20 address of the row driver value (0: none),
//            +24 the translator's (fused-nest.ts NEST_TABLE.fullEnd), +28 run: how many rows from
//            this one on have their row driver values at consecutive addresses (0 when it has none)
//   column   (32 bytes) +0..+20 addresses of r, u, r', e, diff, basal of its neuron (0: none),
//            +24 address of its bias (soma columns; 0: none), +28 run: how many columns from this
//            one on have each of those seven at consecutive addresses (or all 0)
// Float values are copied as bits.

/** Row kinds of the table. */
export const PBUS_ROW_NONE: i32 = 0; // reads 0, writes are ignored
export const PBUS_ROW_FLOAT: i32 = 1; // float32 values read and written here
export const PBUS_ROW_FLOAT_READ: i32 = 2; // read here; writes dropped and counted (transpose feedback)
export const PBUS_ROW_HOST: i32 = 3; // read and written by the host
/** Bytes of the table header, a row record and a column record. */
export const PBUS_HEADER_BYTES: i32 = 64;
export const PBUS_ROW_BYTES: i32 = 32;
export const PBUS_COL_BYTES: i32 = 32;

/** Offset of a row's and a column's run (consecutive addresses from it on; the table's comment). */
// @ts-ignore: decorator
@inline const RUN: usize = 28;

// @ts-ignore: decorator
@inline
function rowRecord(t: usize, row: u32): usize {
  return <usize>load<u32>(t, 8) + (<usize>row) * <usize>PBUS_ROW_BYTES;
}

// @ts-ignore: decorator
@inline
function colRecord(t: usize, col: u32): usize {
  return <usize>load<u32>(t, 12) + (<usize>col) * <usize>PBUS_COL_BYTES;
}

/** Lanes a segment of `lanes` from index `first` covers within `count` (the table's n). */
// @ts-ignore: decorator
@inline
function covered(first: u32, lanes: i32, count: i32): i32 {
  const left = count - <i32>first;
  return left < lanes ? left : lanes;
}

/**
 * vlds.f: lanes of vd (at dst) = synapse row `row` from column col0 on; lanes past the last
 * column and columns outside the row's block read 0. Returns 1 (nothing done) for host rows.
 */
export function pbus_lds_f(t: usize, row: u32, col0: u32, lanes: i32, dst: usize): i32 {
  const rec = rowRecord(t, row);
  const kind = load<i32>(rec);
  if (kind == PBUS_ROW_HOST) return 1;
  const n = covered(col0, lanes, load<i32>(t, 4));
  const bcol0 = load<i32>(rec, 8);
  const c0 = max<i32>(<i32>col0, bcol0);
  const c1 = min<i32>(<i32>col0 + n, bcol0 + load<i32>(rec, 12));
  const base = <usize>load<u32>(rec, 4);
  const step = <usize>load<u32>(rec, 16);
  if (kind != PBUS_ROW_NONE && step == 4 && c0 == <i32>col0 && c1 - c0 == lanes) {
    // The whole register lies in a contiguous row of the block: a straight copy.
    copy16(dst, base + (<usize>(c0 - bcol0) << 2), <usize>lanes << 2);
    return 0;
  }
  memory.fill(dst, 0, <usize>lanes << 2);
  if (kind == PBUS_ROW_NONE) return 0;
  for (let c = c0; c < c1; c++) store<u32>(dst + (<usize>(c - <i32>col0) << 2), load<u32>(base + <usize>(c - bcol0) * step));
  return 0;
}

/** Copies `bytes` (a multiple of 16) with v128 loads and stores (neither address need be aligned). */
// @ts-ignore: decorator
@inline
function copy16(dst: usize, src: usize, bytes: usize): void {
  for (let o: usize = 0; o < bytes; o += 16) v128.store(dst + o, v128.load(src + o));
}

/** vsts.f: synapse row `row` from column col0 on = lanes of vs (at src), within the row's block. Returns 1 for rows the host writes. */
export function pbus_sts_f(t: usize, row: u32, col0: u32, lanes: i32, src: usize): i32 {
  const rec = rowRecord(t, row);
  const kind = load<i32>(rec);
  if (kind == PBUS_ROW_HOST) return 1;
  if (kind == PBUS_ROW_NONE) return 0;
  const n = covered(col0, lanes, load<i32>(t, 4));
  const bcol0 = load<i32>(rec, 8);
  const c0 = max<i32>(<i32>col0, bcol0);
  const c1 = min<i32>(<i32>col0 + n, bcol0 + load<i32>(rec, 12));
  if (kind == PBUS_ROW_FLOAT_READ) {
    // A transpose feedback row: the write is dropped (B is W^T by construction) and counted.
    if (c1 > c0) store<u32>(t, load<u32>(t, 48) + 1, 48);
    return 0;
  }
  const base = <usize>load<u32>(rec, 4);
  const step = <usize>load<u32>(rec, 16);
  if (step == 4 && c0 == <i32>col0 && c1 - c0 == lanes) {
    copy16(base + (<usize>(c0 - bcol0) << 2), src, <usize>lanes << 2);
    return 0;
  }
  for (let c = c0; c < c1; c++) store<u32>(base + <usize>(c - bcol0) * step, load<u32>(src + (<usize>(c - <i32>col0) << 2)));
  return 0;
}

/** The analog value at `addr` (0: none, which reads 0.0). */
// @ts-ignore: decorator
@inline
function analog(addr: u32): f32 {
  return addr ? load<f32>(<usize>addr) : 0;
}

/**
 * The ADC code of x in a lane of `laneBits` bits, as isa/lanes.ts adcCode + adcLaneCode without
 * read noise: clamp(round-half-up((x - min) / (max - min) * (2^bits - 1)), 0, 2^bits - 1), NaN -> 0,
 * then the top laneBits bits of a wider code.
 */
// @ts-ignore: decorator
@inline
function adcLane(t: usize, x: f32, laneBits: i32): i32 {
  const bits = load<i32>(t, 16);
  const lo = load<f64>(t, 24);
  const hi = load<f64>(t, 32);
  const top = <f64>((1 << bits) - 1);
  const v = ((<f64>x - lo) / (hi - lo)) * top;
  // Math.round: the floor, plus one when the fraction is at least one half (v - floor(v) is exact).
  let r = Math.floor(v);
  if (v - r >= 0.5) r += 1;
  if (!(r > 0)) return 0; // also NaN
  const code = r > top ? <i32>top : <i32>r;
  return bits > laneBits ? code >> (bits - laneBits) : code;
}

// @ts-ignore: decorator
@inline
function putLane(dst: usize, i: i32, laneBits: i32, v: i32): void {
  if (laneBits == 8) store<u8>(dst + <usize>i, <u8>v);
  else store<u16>(dst + (<usize>i << 1), <u16>v);
}

/** vadc.f: lane i = observable `kind` of column col0 + i (exact float32); lanes past the last column read 0. */
export function pbus_adc_f(t: usize, kind: i32, col0: u32, lanes: i32, dst: usize): void {
  const n = covered(col0, lanes, load<i32>(t, 4));
  if (n == lanes && lanes <= load<i32>(colRecord(t, col0), RUN)) {
    // Consecutive addresses: one copy (or zeros) instead of a lookup per lane.
    const a = <usize>load<u32>(colRecord(t, col0) + (<usize>kind << 2));
    if (a) memory.copy(dst, a, <usize>lanes << 2);
    else memory.fill(dst, 0, <usize>lanes << 2);
    return;
  }
  for (let i = 0; i < lanes; i++) {
    const v: f32 = i < n ? analog(load<u32>(colRecord(t, col0 + <u32>i) + (<usize>kind << 2))) : 0;
    store<f32>(dst + (<usize>i << 2), v);
  }
}

/** vadc.b / vadc.h without read noise: lane i = the ADC code of observable `kind` of column col0 + i; lanes past the last column read 0. */
export function pbus_adc_i(t: usize, kind: i32, col0: u32, lanes: i32, dst: usize, laneBits: i32): void {
  const n = covered(col0, lanes, load<i32>(t, 4));
  for (let i = 0; i < lanes; i++) {
    const v = i < n ? adcLane(t, analog(load<u32>(colRecord(t, col0 + <u32>i) + (<usize>kind << 2))), laneBits) : 0;
    putLane(dst, i, laneBits, v);
  }
}

/** vrowd.f: lane i = the value on the row driver of row row0 + i; lanes past the last row read 0. */
export function pbus_rowd_f(t: usize, row0: u32, lanes: i32, dst: usize): void {
  const n = covered(row0, lanes, load<i32>(t, 0));
  if (n == lanes && lanes <= load<i32>(rowRecord(t, row0), RUN)) {
    memory.copy(dst, <usize>load<u32>(rowRecord(t, row0), 20), <usize>lanes << 2);
    return;
  }
  for (let i = 0; i < lanes; i++) {
    const v: f32 = i < n ? analog(load<u32>(rowRecord(t, row0 + <u32>i), 20)) : 0;
    store<f32>(dst + (<usize>i << 2), v);
  }
}

/** vrowd.b / vrowd.h without read noise: lane i = the ADC code of the row driver of row row0 + i. */
export function pbus_rowd_i(t: usize, row0: u32, lanes: i32, dst: usize, laneBits: i32): void {
  const n = covered(row0, lanes, load<i32>(t, 0));
  for (let i = 0; i < lanes; i++) {
    const v = i < n ? adcLane(t, analog(load<u32>(rowRecord(t, row0 + <u32>i), 20)), laneBits) : 0;
    putLane(dst, i, laneBits, v);
  }
}

/** vldp.f of the bias (sel 0): lane i = the bias of column col0 + i's neuron (soma columns; others 0). Returns 1 for other parameters (the host's). */
export function pbus_ldp_f(t: usize, sel: i32, col0: u32, lanes: i32, dst: usize): i32 {
  if (sel != 0) return 1;
  const n = covered(col0, lanes, load<i32>(t, 4));
  if (n == lanes && lanes <= load<i32>(colRecord(t, col0), RUN)) {
    const a = <usize>load<u32>(colRecord(t, col0), 24);
    if (a) memory.copy(dst, a, <usize>lanes << 2);
    else memory.fill(dst, 0, <usize>lanes << 2);
    return 0;
  }
  for (let i = 0; i < lanes; i++) {
    const v: f32 = i < n ? analog(load<u32>(colRecord(t, col0 + <u32>i), 24)) : 0;
    store<f32>(dst + (<usize>i << 2), v);
  }
  return 0;
}

/** vstp.f of the bias (sel 0): the bias of column col0 + i's neuron = lane i (soma columns). Returns 1 for other parameters. */
export function pbus_stp_f(t: usize, sel: i32, col0: u32, lanes: i32, src: usize): i32 {
  if (sel != 0) return 1;
  const n = covered(col0, lanes, load<i32>(t, 4));
  if (n == lanes && lanes <= load<i32>(colRecord(t, col0), RUN)) {
    const a = <usize>load<u32>(colRecord(t, col0), 24);
    if (a) memory.copy(a, src, <usize>lanes << 2);
    return 0;
  }
  for (let i = 0; i < n; i++) {
    const a = load<u32>(colRecord(t, col0 + <u32>i), 24);
    if (a) store<u32>(<usize>a, load<u32>(src + (<usize>i << 2)));
  }
  return 0;
}
