import { describe, expect, it } from 'vitest';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32, hex32 } from '../../chip/crc32.js';
import { decodeImage, encodeImage } from '../../chip/image.js';
import type { ChipImage, SectionData } from '../../chip/image-model.js';
import { UserError } from '../../common/diagnostics.js';
import { Rng } from '../../common/random.js';
import { syntheticImage } from './synthetic-image.js';

const FILE = 'small.lechip';

/** The error decodeImage raises, as the one line the CLI prints. */
function refusal(bytes: Uint8Array): string {
  try {
    decodeImage(bytes, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as UserError).message;
  }
  throw new Error('image was accepted');
}

// An encoder written from docs/image-format.md alone, independent of chip/image.ts, so the tests
// pin the documented layout and can build files that break one rule at a time.
interface RawEntry { kind: number; dtype: number; payload: Uint8Array }
function rawImage(manifest: unknown, entries: RawEntry[], opt: { version?: number; padByte?: number } = {}): Uint8Array {
  const m = Buffer.from(JSON.stringify(manifest), 'utf8');
  const tableEnd = 32 + 16 * entries.length;
  let pos = tableEnd + 4 + m.length;
  const offsets = entries.map((e) => {
    pos = Math.ceil(pos / 8) * 8;
    const at = pos;
    pos += e.payload.length;
    return at;
  });
  const out = Buffer.alloc(pos, opt.padByte ?? 0);
  out.write('LECHIPIM', 0, 'latin1');
  out.writeUInt32LE(opt.version ?? 1, 8);
  out.writeUInt32LE(pos, 12);
  out.writeUInt32LE(m.length, 16);
  out.writeUInt32LE(zlibCrc32(m), 20);
  out.writeUInt32LE(entries.length, 24);
  out.writeUInt32LE(0, 28);
  entries.forEach((e, i) => {
    const t = 32 + 16 * i;
    out.writeUInt16LE(e.kind, t);
    out.writeUInt16LE(e.dtype, t + 2);
    out.writeUInt32LE(offsets[i], t + 4);
    out.writeUInt32LE(e.payload.length, t + 8);
    out.writeUInt32LE(zlibCrc32(e.payload), t + 12);
    out.set(e.payload, offsets[i]);
  });
  out.writeUInt32LE(zlibCrc32(out.subarray(0, tableEnd)), tableEnd);
  m.copy(out, tableEnd + 4);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

const KIND = { synapse_block: 1, bias: 2, neuron_params: 3, firmware_text: 4, firmware_data: 5, symbols: 6 } as const;
const DTYPE = { f32: 1, i8: 2, u8: 3, u32: 4 } as const;

function leBytes(data: SectionData): Uint8Array {
  if (data instanceof Float32Array) {
    const b = Buffer.alloc(data.length * 4);
    data.forEach((v, i) => b.writeFloatLE(v, i * 4));
    return b;
  }
  if (data instanceof Uint32Array) {
    const b = Buffer.alloc(data.length * 4);
    data.forEach((v, i) => b.writeUInt32LE(v, i * 4));
    return b;
  }
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
}

function rawEntries(img: ChipImage): RawEntry[] {
  return img.manifest.sections.map((s) => ({ kind: KIND[s.kind], dtype: DTYPE[s.dtype], payload: leBytes(img.sections.get(s.name)!) }));
}

describe('crc32', () => {
  it('gives the standard check value of "123456789"', () => {
    expect(crc32(Buffer.from('123456789', 'ascii'))).toBe(0xcbf43926);
    expect(hex32(0xcbf43926)).toBe('0xcbf43926');
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('agrees with zlib on random data of every length up to 300 and on 1 MB, also when continued', () => {
    const rng = new Rng(5, 'crc-test');
    for (let len = 0; len <= 300; len++) {
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = rng.int(256);
      expect(crc32(b)).toBe(zlibCrc32(b));
      const cut = rng.int(len + 1);
      expect(crc32(b.subarray(cut), crc32(b.subarray(0, cut)))).toBe(zlibCrc32(b));
    }
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    expect(crc32(big)).toBe(zlibCrc32(big));
  });
});

describe('image encode/decode', () => {
  it('round-trips a synthetic image with every dtype, bit for bit', () => {
    const img = syntheticImage();
    // Values that a careless encoding would lose: extremes of each type, -0, NaN, infinities, subnormals.
    const f = img.sections.get('block:0') as Float32Array;
    f.set([-0, Number.NaN, Number.POSITIVE_INFINITY, -3.4028234663852886e38, 1.401298464324817e-45, 0.1]);
    (img.sections.get('block:1') as Int8Array).set([-128, 127, 0, -1, 1, 64]);
    (img.sections.get('firmware:text') as Uint32Array).set([0, 0xffffffff, 0x80000000]);
    (img.sections.get('firmware:data') as Uint8Array).set([0, 255, 128, 1, 254]);
    const bytes = encodeImage(img);
    const back = decodeImage(bytes, FILE);
    expect(back.manifest).toEqual(JSON.parse(JSON.stringify(img.manifest)));
    expect([...back.sections.keys()]).toEqual([...img.sections.keys()]);
    for (const [name, data] of img.sections) {
      const got = back.sections.get(name)!;
      expect(got.constructor).toBe(data.constructor);
      expect(Buffer.from(leBytes(got))).toEqual(Buffer.from(leBytes(data)));
    }
    expect(Object.is((back.sections.get('block:0') as Float32Array)[0], -0)).toBe(true);
    // And a second encode is byte-identical (the format is canonical).
    expect(Buffer.from(encodeImage(back))).toEqual(Buffer.from(bytes));
  });

  it('writes exactly the layout of docs/image-format.md', () => {
    const img = syntheticImage();
    const bytes = encodeImage(img);
    expect(Buffer.from(bytes)).toEqual(Buffer.from(rawImage(img.manifest, rawEntries(img))));
    const view = Buffer.from(bytes);
    expect(view.subarray(0, 8).toString('latin1')).toBe('LECHIPIM');
    expect(view.readUInt32LE(8)).toBe(1);
    expect(view.readUInt32LE(12)).toBe(bytes.length);
    for (let i = 0; i < 6; i++) expect(view.readUInt32LE(32 + 16 * i + 4) % 8).toBe(0);
  });

  it('refuses every truncation of the file', () => {
    const bytes = encodeImage(syntheticImage());
    for (let len = 0; len < bytes.length; len++) {
      const msg = refusal(bytes.subarray(0, len));
      expect(msg.startsWith(`${FILE}: `)).toBe(true);
      expect(msg).not.toContain('\n');
      if (len >= 8) expect(msg).toMatch(/truncated|beyond the end of the file/);
    }
  });

  it('refuses a flip of any single byte and of any single bit', () => {
    const bytes = encodeImage(syntheticImage());
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0xff, 1 << (i % 8)]) {
        const bad = bytes.slice();
        bad[i] ^= mask;
        const msg = refusal(bad);
        expect(msg.startsWith(`${FILE}: `)).toBe(true);
        expect(msg).not.toContain('\n');
      }
    }
  });

  it('names the part and rule of a flipped byte', () => {
    const img = syntheticImage();
    const bytes = encodeImage(img);
    const view = Buffer.from(bytes);
    const sec1 = view.readUInt32LE(32 + 16 + 4); // offset of 'block:1'
    const bad = bytes.slice();
    bad[sec1 + 2] ^= 0x10;
    const stored = view.readUInt32LE(32 + 16 + 12);
    const computed = zlibCrc32(bad.subarray(sec1, sec1 + 6));
    expect(refusal(bad)).toBe(
      `${FILE}: section 'block:1' (bytes ${sec1}..${sec1 + 6}): CRC32 mismatch (stored ${hex32(stored)}, computed ${hex32(computed)}); the image is corrupted`,
    );
    const m = bytes.slice();
    m[32 + 16 * 6 + 4 + 10] ^= 1;
    expect(refusal(m)).toMatch(/^small\.lechip: manifest \(bytes \d+\.\.\d+\): CRC32 mismatch/);
    const h = bytes.slice();
    h[12] ^= 1;
    expect(refusal(h)).toMatch(/^small\.lechip: header and section table \(bytes 0\.\.128\): CRC32 mismatch/);
    // Padding between the manifest and the first section must be zero.
    const manifestEnd = 32 + 16 * 6 + 4 + view.readUInt32LE(16);
    const firstSection = view.readUInt32LE(32 + 4);
    if (firstSection > manifestEnd) {
      const p = bytes.slice();
      p[manifestEnd] = 7;
      expect(refusal(p)).toContain(`padding before section 'block:0' (byte ${manifestEnd}): is 0x07, must be zero`);
    }
  });

  it('refuses a trailing byte, a bad magic and an unknown version', () => {
    const img = syntheticImage();
    const bytes = encodeImage(img);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(refusal(longer)).toBe(`${FILE}: file: 1 trailing bytes after the ${bytes.length} bytes the header declares`);
    const magic = bytes.slice();
    magic[0] = 'X'.charCodeAt(0);
    expect(refusal(magic)).toContain('bad magic "XECHIPIM", expected "LECHIPIM"');
    expect(refusal(Buffer.from('{"format": "lechip/network@1"}'))).toContain('not a lechip image');
    expect(refusal(rawImage(img.manifest, rawEntries(img), { version: 2 }))).toBe(
      `${FILE}: header (bytes 8..12): unknown format version 2; this lechip reads version 1`,
    );
  });

  it('refuses a table and manifest that disagree, even with every CRC valid', () => {
    const img = syntheticImage();
    const entries = rawEntries(img);
    const m = JSON.parse(JSON.stringify(img.manifest));
    // A section the manifest does not list.
    const extra = [...entries, { kind: KIND.symbols, dtype: DTYPE.u8, payload: new Uint8Array([1, 2, 3]) }];
    expect(refusal(rawImage(m, extra))).toBe(`${FILE}: manifest: lists 6 sections but the section table has 7`);
    // Kind, dtype and length each disagree.
    const kind = entries.map((e, i) => (i === 2 ? { ...e, kind: KIND.neuron_params } : e));
    expect(refusal(rawImage(m, kind))).toContain("section 'bias:h': the section table says kind 'neuron_params' but the manifest says 'bias'");
    const dtype = entries.map((e, i) => (i === 5 ? { ...e, dtype: DTYPE.i8 } : e));
    expect(refusal(rawImage(m, dtype))).toContain("section 'firmware:data': the section table says dtype 'i8' but the manifest says 'u8'");
    const len = entries.map((e, i) => (i === 3 ? { ...e, payload: new Uint8Array(12) } : e));
    expect(refusal(rawImage(m, len))).toContain("section 'bias:out': the section table says 12 bytes but the manifest says 2 x f32 = 8 bytes");
    // Order: the same sections swapped in the table.
    const swapped = [entries[1], entries[0], ...entries.slice(2)];
    expect(refusal(rawImage(m, swapped))).toContain("section 'block:0': the section table says dtype 'i8' but the manifest says 'f32'");
    // A manifest that refers to a section the image does not hold.
    const dangling = JSON.parse(JSON.stringify(img.manifest));
    dangling.blocks[0].section = 'block:9';
    expect(refusal(rawImage(dangling, entries))).toBe(
      `${FILE}: manifest: /blocks/0/section: refers to section 'block:9', which the image does not hold`,
    );
    // Non-zero padding, with every CRC valid.
    expect(refusal(rawImage(m, entries, { padByte: 0xaa }))).toMatch(/padding before section '[^']+' \(byte \d+\): is 0xaa, must be zero/);
  });

  it('decodes an image that holds no sections', () => {
    const img = syntheticImage();
    img.manifest.sections = [];
    img.manifest.blocks = [];
    img.manifest.populations = img.manifest.populations.map((p) => ({ ...p, bias_section: undefined }));
    delete img.manifest.firmware;
    img.sections.clear();
    const back = decodeImage(encodeImage(img), FILE);
    expect(back.sections.size).toBe(0);
  });
});
