/**
 * Lane arithmetic of the vector unit, shared by the instruction semantics and by tests' plain
 * references: saturation, fractional multiply, ADC quantisation, the per-lane random generator.
 */
import { streamKey, xoshiroState } from '../common/random.js';

/** Smallest and largest signed value of a w-bit lane. */
export function laneMin(w: number): number {
  return -(2 ** (w - 1));
}
/** Largest signed value of a w-bit lane. */
export function laneMax(w: number): number {
  return 2 ** (w - 1) - 1;
}

/** Clamps to the signed w-bit range (saturating forms). */
export function saturate(x: number, w: number): number {
  const lo = laneMin(w);
  const hi = laneMax(w);
  return x < lo ? lo : x > hi ? hi : x;
}

/** Wraps to the signed w-bit range (modulo forms). */
export function wrap(x: number, w: number): number {
  return w === 32 ? x | 0 : (x << (32 - w)) >> (32 - w);
}

/** Fractional multiply of two w-bit lanes read as Q0.(w-1) fractions: floor(a*b / 2^(w-1)). */
export function fracMul(a: number, b: number, w: number): number {
  // |a*b| <= 2^30 for w <= 16, so the 32-bit arithmetic shift is exact floor division.
  return (a * b) >> (w - 1);
}

/** Float32 bits of a scalar register value and back. */
const f32buf = new Float32Array(1);
const i32buf = new Int32Array(f32buf.buffer);
/** Reads 32 bits as a float32 value. */
export function bitsToFloat(bits: number): number {
  i32buf[0] = bits;
  return f32buf[0];
}
/** The 32 bits of a float32 value (as a signed integer). */
export function floatToBits(x: number): number {
  f32buf[0] = x;
  return i32buf[0];
}

/** Round half to even (IEEE default rounding) of a finite number. */
export function roundEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds halves up; a half that landed on an odd integer goes back down.
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** float32 -> int32 as RISC-V fcvt.w.s with round-to-nearest-even: saturating, NaN -> INT32_MAX. */
export function floatToInt32(x: number): number {
  if (Number.isNaN(x)) return 2147483647;
  const r = roundEven(x);
  return r >= 2147483647 ? 2147483647 : r <= -2147483648 ? -2147483648 : r;
}

/** RISC-V fmin.s / fmax.s: a NaN operand yields the other; -0 is below +0. */
export function fmin(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? NaN : b;
  if (Number.isNaN(b)) return a;
  if (a === 0 && b === 0) return Object.is(a, -0) || Object.is(b, -0) ? -0 : 0;
  return a < b ? a : b;
}
/** RISC-V fmax.s (see fmin). */
export function fmax(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? NaN : b;
  if (Number.isNaN(b)) return a;
  if (a === 0 && b === 0) return Object.is(a, 0) || Object.is(b, 0) ? 0 : -0;
  return a > b ? a : b;
}

/** ADC range and resolution (chip.adc). */
export interface AdcSpec {
  bits: number;
  min: number;
  max: number;
}

/**
 * The ADC's code for analog value x: clamp(round((x - min)/(max - min) * (2^bits - 1)), 0, 2^bits - 1),
 * rounding halves up; NaN reads as code 0. `noise_lsb` is read noise already drawn, in LSB.
 */
export function adcCode(x: number, adc: AdcSpec, noiseLsb = 0): number {
  const top = 2 ** adc.bits - 1;
  const c = Math.round(((x - adc.min) / (adc.max - adc.min)) * top + noiseLsb);
  if (!(c > 0)) return 0; // also catches NaN
  return c > top ? top : c;
}

/**
 * An ADC code as stored in a lane of `laneBits`: a converter wider than the lane keeps its top
 * laneBits bits (code >> (bits - laneBits)). Codes above 127 in 8-bit lanes are unsigned codes
 * (read them with vext.bu / vwidenu / vminu / vmaxu / vcmpltu).
 */
export function adcLaneCode(code: number, adcBits: number, laneBits: number): number {
  return adcBits > laneBits ? Math.floor(code / 2 ** (adcBits - laneBits)) : code;
}

/**
 * The per-lane hardware random generators: one xoshiro128** state per byte lane, seeded from the
 * chip seed and the core index, so every chip instance and core has its own streams.
 */
export class LaneRandom {
  /** States of all lanes, four words each (exposed for checkpoints). */
  readonly state: Uint32Array;

  constructor(readonly lanes: number, seed: number, core = 0, purpose = 'processor-rng') {
    this.state = new Uint32Array(4 * lanes);
    for (let i = 0; i < lanes; i++) this.state.set(xoshiroState(streamKey(seed, `${purpose}/core${core}/lane${i}`)), 4 * i);
  }

  /** A standard normal draw from lane i (Box-Muller on two 32-bit draws; no cached spare, so the state is all in `state`). */
  normal(i: number): number {
    const u1 = Math.max(this.next(i) / 4294967296, 1e-300);
    const u2 = this.next(i) / 4294967296;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Next raw 32-bit output of lane i (xoshiro128**, as common/random.ts). */
  next(i: number): number {
    const s = this.state;
    const o = 4 * i;
    const s0 = s[o], s1 = s[o + 1];
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const s2 = (s[o + 2] ^ s0) >>> 0;
    const s3 = (s[o + 3] ^ s1) >>> 0;
    s[o + 1] = s1 ^ s2;
    s[o] = s0 ^ s3;
    s[o + 2] = s2 ^ t;
    s[o + 3] = rotl(s3, 11);
    return result;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
