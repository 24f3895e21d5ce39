// xoshiro128** in linear memory, bit-identical to common/random.ts (Rng.nextU32), with Box-Muller
// normals computed in float64 exactly as Rng.normal (pairs, the spare kept in the state record).
// The host seeds a record with xoshiroState(streamKey(seed, purpose)).
//
// State record (RNG_BYTES bytes, 8-byte aligned):
//   +0  u32 s[4]   xoshiro128** state
//   +16 f64        spare normal
//   +24 i32        1 when the spare is valid

/** Size of one generator state record in bytes. */
export const RNG_BYTES: i32 = 32;

// @ts-ignore: decorator
@inline
function rotl(x: u32, k: u32): u32 {
  return (x << k) | (x >>> (32 - k));
}

/** Next raw 32-bit output of the generator whose state record is at st. */
export function rng_next_u32(st: usize): u32 {
  let s0 = load<u32>(st);
  let s1 = load<u32>(st, 4);
  let s2 = load<u32>(st, 8);
  let s3 = load<u32>(st, 12);
  const result = rotl(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl(s3, 11);
  store<u32>(st, s0);
  store<u32>(st, s1, 4);
  store<u32>(st, s2, 8);
  store<u32>(st, s3, 12);
  return result;
}

/** Next standard normal (Box-Muller on two 32-bit uniforms, the second value kept as spare). */
export function rng_normal(st: usize): f64 {
  if (load<i32>(st, 24) != 0) {
    store<i32>(st, 0, 24);
    return load<f64>(st, 16);
  }
  let u1 = <f64>rng_next_u32(st) / 4294967296.0;
  if (u1 < 1e-300) u1 = 1e-300;
  const u2 = <f64>rng_next_u32(st) / 4294967296.0;
  const r = Math.sqrt(-2.0 * Math.log(u1));
  const angle = 2.0 * Math.PI * u2;
  store<f64>(st, r * Math.sin(angle), 16);
  store<i32>(st, 1, 24);
  return r * Math.cos(angle);
}

/** Writes n float32 values scale * N(0, 1) to out. */
export function rng_fill_normal(st: usize, out: usize, n: i32, scale: f64): void {
  for (let i = 0; i < n; i++) store<f32>(out + (<usize>i << 2), <f32>(scale * rng_normal(st)));
}
