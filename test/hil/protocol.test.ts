/**
 * The frame codec against the byte layout of docs/hil-protocol.md, checked with independent
 * references: header fields at hand-computed offsets, CRC from node:zlib, arrays read back with
 * DataView. Plus a property-based fuzz of the decoder: no input makes it throw.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { crc32 as chipCrc32 } from '../../chip/crc32.js';
import { describe, expect, it } from 'vitest';
import {
  Command,
  decodeFrame,
  encodeFrame,
  ErrorCode,
  FRAME_ERROR,
  FrameReader,
  HEADER_BYTES,
  losslessFloats,
  ndarray,
  type DecodeResult,
  type NdArray,
} from '../../emulator/hil/protocol.js';

function frameWith(json: Record<string, unknown>, arrays: [string, NdArray][] = [], type: number = Command.RUN, id = 7): Uint8Array {
  return encodeFrame(type, id, { json, arrays: new Map(arrays) });
}

/** Recomputes the CRC of a (possibly mutated) frame, as zlib would. */
function fixCrc(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const crc = zlibCrc32(Buffer.from(bytes.subarray(HEADER_BYTES)), zlibCrc32(Buffer.from(bytes.subarray(0, 16))));
  view.setUint32(16, crc >>> 0, true);
  return bytes;
}

describe('frame layout', () => {
  it('writes the header and payload at the documented offsets', () => {
    const f32 = new Float32Array([1.5, -2]);
    const bytes = frameWith({ a: 1 }, [['w', ndarray(f32, [1, 2])]], Command.WRITE_WEIGHTS, 0x01020304);
    const v = new DataView(bytes.buffer);
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('LEHL');
    expect(v.getUint16(4, true)).toBe(1);
    expect(v.getUint16(6, true)).toBe(0x0008);
    expect(v.getUint32(8, true)).toBe(0x01020304);
    // payload: 4 + 7 ('{"a":1}') + 4 + (4 + 1 name + 2 dims x 4 + 8 data) = 36
    expect(v.getUint32(12, true)).toBe(36);
    expect(bytes.length).toBe(20 + 36);
    expect(v.getUint32(16, true)).toBe(zlibCrc32(Buffer.concat([bytes.subarray(0, 16), bytes.subarray(20)])) >>> 0);
    expect(v.getUint32(20, true)).toBe(7);
    expect(Buffer.from(bytes.subarray(24, 31)).toString('utf8')).toBe('{"a":1}');
    expect(v.getUint32(31, true)).toBe(1); // one array
    expect(bytes[35]).toBe(1); // dtype float32
    expect(bytes[36]).toBe(2); // ndim
    expect(v.getUint16(37, true)).toBe(1); // name length
    expect(String.fromCharCode(bytes[39])).toBe('w');
    expect([v.getUint32(40, true), v.getUint32(44, true)]).toEqual([1, 2]);
    expect([v.getFloat32(48, true), v.getFloat32(52, true)]).toEqual([1.5, -2]);
  });

  it("its CRC agrees with chip/crc32.ts's (the fallback where node:zlib has none)", () => {
    const f = frameWith({ x: 'y' }, [['a', ndarray(new Float64Array(1000).map((_, i) => Math.sin(i)))]]);
    expect(new DataView(f.buffer).getUint32(16, true)).toBe(chipCrc32(f.subarray(HEADER_BYTES), chipCrc32(f.subarray(0, 16))));
  });

  it('round-trips JSON and arrays of every dtype', () => {
    const arrays: [string, NdArray][] = [
      ['f32', ndarray(new Float32Array([0.1, -0, Infinity]), [3])],
      ['f64', ndarray(new Float64Array([0.1, 1e-300, NaN, -5]), [2, 2])],
      ['i8', ndarray(new Int8Array([-128, 0, 127]))],
      ['u8', ndarray(new Uint8Array([0, 255]))],
      ['u32', ndarray(new Uint32Array([0, 0xffffffff]))],
      ['scalar', ndarray(new Float32Array([3]), [])],
      ['empty', ndarray(new Float32Array(0), [0, 5])],
      ['名前/ü', ndarray(new Uint8Array([9]))],
    ];
    const bytes = frameWith({ nested: { list: ['x', 1, null], t: true } }, arrays, Command.PRESENT, 99);
    const r = decodeFrame(bytes);
    expect(r.kind).toBe('frame');
    if (r.kind !== 'frame') return;
    expect(r.size).toBe(bytes.length);
    expect(r.frame).toMatchObject({ version: 1, type: Command.PRESENT, requestId: 99 });
    expect(r.frame.payload.json).toEqual({ nested: { list: ['x', 1, null], t: true } });
    expect([...r.frame.payload.arrays.keys()]).toEqual(arrays.map(([k]) => k));
    for (const [k, a] of arrays) {
      const got = r.frame.payload.arrays.get(k)!;
      expect(got.dtype).toBe(a.dtype);
      expect(got.shape).toEqual(a.shape);
      expect(got.data.constructor).toBe(a.data.constructor);
      expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength)).toEqual(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength));
    }
  });

  it('encodes the example frame of docs/hil-protocol.md byte for byte', () => {
    const hex = '4c 45 48 4c 01 00 0c 00 01 00 00 00 08 00 00 00 db 20 ee c1 00 00 00 00 00 00 00 00';
    expect(Buffer.from(encodeFrame(Command.TIME, 1)).toString('hex').match(/../g)!.join(' ')).toBe(hex);
  });

  it('an empty payload is 8 bytes: JSON length 0, array count 0', () => {
    const bytes = encodeFrame(Command.TIME, 1);
    expect(bytes.length).toBe(28);
    const r = decodeFrame(bytes);
    expect(r.kind === 'frame' && r.frame.payload.json).toEqual({});
  });

  it('chooses float32 only when every value survives it', () => {
    expect(losslessFloats([0.5, -0, 3])).toBeInstanceOf(Float32Array);
    expect(Object.is(losslessFloats([-0])[0], -0)).toBe(true);
    expect(losslessFloats([0.1])).toBeInstanceOf(Float64Array);
    expect(losslessFloats([1, NaN, Infinity])).toBeInstanceOf(Float32Array);
    expect(losslessFloats([1e39])).toBeInstanceOf(Float64Array); // beyond float32's range
    expect(losslessFloats([Math.fround(0.1), 16777217])).toBeInstanceOf(Float64Array); // 2^24 + 1 is not a float32
  });
});

describe('decoder errors', () => {
  const good = frameWith({ duration_ms: 1 }, [['x', ndarray(new Float32Array([1, 2, 3]))]]);

  it('rejects a bad magic at the first wrong byte', () => {
    const r = decodeFrame(Buffer.from('GET / HTTP/1.1\r\n'));
    expect(r).toMatchObject({ kind: 'error', code: ErrorCode.MALFORMED_FRAME, fatal: true });
    expect(decodeFrame(Buffer.from('LX'))).toMatchObject({ kind: 'error', fatal: true });
    expect(decodeFrame(Buffer.from('LE'))).toEqual({ kind: 'need', size: 20 });
  });

  it('rejects a flipped bit anywhere by its CRC', () => {
    for (const at of [4 + 2 /* type */, 8, 17, 25, good.length - 1]) {
      const bad = good.slice();
      bad[at] ^= 0x10;
      const r = decodeFrame(bad);
      expect(r.kind).toBe('error');
      if (r.kind === 'error') expect(r.fatal).toBe(true);
    }
  });

  it('rejects an unsupported version and an oversized payload from the header alone', () => {
    const v3 = good.slice(0, 20);
    new DataView(v3.buffer).setUint16(4, 3, true);
    expect(decodeFrame(v3)).toMatchObject({ kind: 'error', code: ErrorCode.UNSUPPORTED_VERSION, fatal: true, requestId: 7 });
    const r = decodeFrame(good.subarray(0, 20), { maxPayloadBytes: 10 });
    expect(r).toMatchObject({ kind: 'error', code: ErrorCode.PAYLOAD_TOO_LARGE, fatal: true, requestId: 7 });
  });

  it('asks for the rest of a truncated frame', () => {
    expect(decodeFrame(good.subarray(0, 25))).toEqual({ kind: 'need', size: good.length });
  });

  it('a malformed payload with a good CRC is a per-frame error that keeps the framing', () => {
    // good: JSON '{"duration_ms":1}' is 17 bytes, so the array count sits at 20 + 4 + 17 = 41 and
    // array "x" at 45: dtype 45, ndim 46, name length 47, name 49, dims 50, data 54..66.
    expect(new DataView(good.buffer).getUint32(20, true)).toBe(17);
    expect(good.length).toBe(66);
    const cases: [string, (b: Uint8Array, v: DataView) => void][] = [
      ['JSON not an object', (b) => b.set(Buffer.from('[1,2,3,4,5,6,7,8]'), 24)],
      ['JSON not UTF-8', (b) => (b[26] = 0xff)],
      ['unknown dtype', (b) => (b[45] = 9)],
      ['ndim too large', (b) => (b[46] = 9)],
      ['empty name', (b, v) => v.setUint16(47, 0, true)],
      ['array longer than payload', (_, v) => v.setUint32(50, 1000, true)],
      ['two arrays announced, one present', (_, v) => v.setUint32(41, 2, true)],
      ['JSON length past the end', (_, v) => v.setUint32(20, 1000, true)],
    ];
    for (const [what, mutate] of cases) {
      const b = good.slice();
      mutate(b, new DataView(b.buffer));
      const r = decodeFrame(fixCrc(b));
      expect(r, what).toMatchObject({ kind: 'error', code: ErrorCode.MALFORMED_FRAME, fatal: false, requestId: 7, size: good.length });
    }
  });

  it('rejects trailing bytes and duplicate array names', () => {
    const dup = frameWith({}, [['a', ndarray(new Uint8Array([1]))]]);
    // Append a second array header with the same name by hand.
    const extra = Buffer.from([3, 1, 1, 0, 'a'.charCodeAt(0), 1, 0, 0, 0, 5]);
    const grown = new Uint8Array(dup.length + extra.length);
    grown.set(dup);
    grown.set(extra, dup.length);
    const v = new DataView(grown.buffer);
    v.setUint32(12, v.getUint32(12, true) + extra.length, true);
    v.setUint32(24, 2, true); // array count (JSON length 0 → count at 24)
    expect(decodeFrame(fixCrc(grown))).toMatchObject({ kind: 'error', fatal: false, message: expect.stringContaining('twice') });
    v.setUint32(24, 1, true);
    expect(decodeFrame(fixCrc(grown))).toMatchObject({ kind: 'error', fatal: false, message: expect.stringContaining('after the last array') });
  });
});

describe('FrameReader', () => {
  it('yields the same frames however the stream is cut', () => {
    const frames = [frameWith({ a: 1 }), frameWith({}, [['w', ndarray(new Float32Array(1000).fill(0.25))]], Command.WRITE_WEIGHTS, 2), encodeFrame(Command.TIME, 3)];
    const stream = Buffer.concat(frames);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 20 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const reader = new FrameReader({ maxPayloadBytes: 1 << 20 });
        const got: DecodeResult[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          got.push(...reader.push(stream.subarray(prev, p)));
          prev = p;
        }
        expect(got.map((r) => r.kind)).toEqual(['frame', 'frame', 'frame']);
        expect(got.map((r) => (r.kind === 'frame' ? r.frame.requestId : -1))).toEqual([7, 2, 3]);
        expect(reader.pendingBytes).toBe(0);
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it('stops after a fatal error and skips a frame with a bad payload', () => {
    const bad = frameWith({ a: 1 });
    bad[24] = '['.charCodeAt(0); // JSON is now '["a":1}': invalid
    fixCrc(bad);
    const reader = new FrameReader({ maxPayloadBytes: 1 << 20 });
    const r = reader.push(Buffer.concat([bad, encodeFrame(Command.TIME, 9), Buffer.from('XXXX'), encodeFrame(Command.TIME, 10)]));
    expect(r.map((x) => [x.kind, x.kind === 'error' ? x.fatal : x.kind === 'frame' ? x.frame.requestId : 0])).toEqual([
      ['error', false],
      ['frame', 9],
      ['error', true],
    ]);
    expect(reader.push(encodeFrame(Command.TIME, 11))).toEqual([]);
  });
});

describe('decoder fuzz (property-based)', () => {
  const valid = [
    frameWith({ duration_ms: 5, record: ['out'] }),
    frameWith({ projection: 0 }, [['weights', ndarray(new Float32Array([0.5, -1, 2, 3]), [2, 2])]], Command.WRITE_WEIGHTS, 3),
    frameWith({ code: 5, message: 'x' }, [], FRAME_ERROR, 0),
    frameWith({}, [['a', ndarray(new Int8Array([1, -1]))], ['b', ndarray(new Float64Array([1]), [1, 1, 1, 1])]], Command.PRESENT, 1),
  ];

  /** For a complete input, the outcome in the property's terms: a frame or a decode error. */
  function outcome(bytes: Uint8Array): 'frame' | 'error' {
    const r = decodeFrame(bytes, { maxPayloadBytes: 1 << 16 });
    expect(['frame', 'error', 'need']).toContain(r.kind);
    if (r.kind === 'frame') {
      expect(r.size).toBeLessThanOrEqual(bytes.length);
      return 'frame';
    }
    if (r.kind === 'error') {
      expect(typeof r.message).toBe('string');
      expect(Object.values(ErrorCode)).toContain(r.code);
    }
    return 'error'; // 'need' on a complete input: a truncated frame, reported as such by the reader's timeout
  }

  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expect(() => outcome(bytes)).not.toThrow();
      }),
      { numRuns: 3000, seed: 1 },
    );
  });

  it('random bytes behind a valid header (good CRC) never throw and never pass as a frame unless they parse', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffff }), (payload, type) => {
        const b = new Uint8Array(HEADER_BYTES + payload.length);
        b.set([0x4c, 0x45, 0x48, 0x4c]);
        const v = new DataView(b.buffer);
        v.setUint16(4, 1, true);
        v.setUint16(6, type, true);
        v.setUint32(12, payload.length, true);
        b.set(payload, HEADER_BYTES);
        fixCrc(b);
        const r = decodeFrame(b);
        expect(r.kind === 'frame' || (r.kind === 'error' && !r.fatal)).toBe(true);
      }),
      { numRuns: 3000, seed: 2 },
    );
  });

  it('mutated valid frames (flips, truncations, insertions), with and without a fixed CRC, never throw', () => {
    const mutation = fc.record({
      which: fc.integer({ min: 0, max: valid.length - 1 }),
      flips: fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 4 }),
      cut: fc.option(fc.nat()),
      insert: fc.option(fc.record({ at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) })),
      recrc: fc.boolean(),
    });
    fc.assert(
      fc.property(mutation, (m) => {
        let b = valid[m.which].slice();
        for (const f of m.flips) b[f.at % b.length] ^= f.xor;
        if (m.insert) {
          const at = m.insert.at % (b.length + 1);
          b = Buffer.concat([b.subarray(0, at), m.insert.bytes, b.subarray(at)]);
        }
        if (m.cut !== null) b = b.slice(0, m.cut % (b.length + 1));
        if (m.recrc && b.length >= HEADER_BYTES) fixCrc(b);
        const changed = Buffer.compare(Buffer.from(b), Buffer.from(valid[m.which])) !== 0;
        const o = outcome(b);
        // Unchanged bytes decode; without a fixed CRC, any change inside header or payload is caught.
        if (!changed) expect(o).toBe('frame');
        if (changed && !m.recrc && m.insert === null && m.cut === null) expect(o).toBe('error');
      }),
      { numRuns: 3000, seed: 3 },
    );
  });
});
