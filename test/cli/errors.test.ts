/**
 * Bad input of each class gets one clear line per mistake (file, pointer or part, rule), exit 1, no
 * stack trace, and leaves no output file behind; a malformed command line exits 2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeImage } from '../../chip/image.js';
import { syntheticImage } from '../image/synthetic-image.js';
import { lechip, ROOT, scratch, userErrorLines } from './helpers.js';

const small = JSON.parse(readFileSync(join(ROOT, 'examples', 'small.json'), 'utf8'));
const mlpText = readFileSync(join(ROOT, 'examples', 'mnist-mlp.json'), 'utf8');

/** examples/small.json with one change applied. */
function variant(change: (net: any) => void): string {
  const n = structuredClone(small);
  change(n);
  return JSON.stringify(n, null, 2);
}

const dirs: (() => void)[] = [];
afterAll(() => dirs.forEach((d) => d()));

/** Compiles `net.json` holding `text` in a scratch dir and checks that nothing but the input remains. */
async function compileFails(text: string, extra: string[] = []): Promise<string[]> {
  const s = scratch({ 'net.json': text });
  dirs.push(s.done);
  const r = await lechip(['compile', 'net.json', ...extra], s.dir);
  const lines = userErrorLines(r);
  expect(r.stdout).toBe('');
  expect(s.list()).toEqual(['net.json']); // no image, no temporary file
  return lines;
}

describe('user errors in a network description (compile)', () => {
  it('malformed JSON: file:line:column and what was expected', async () => {
    const lines = await compileFails('{\n  "format": "lechip/network@1",\n  "name": "x",\n  "populations": { "a": { "size": 2, } }\n}\n');
    expect(lines).toEqual(["lechip: error: net.json:4:38: invalid JSON: trailing comma before '}'"]);
  });

  it('unknown population: the pointer of the reference and the populations there are', async () => {
    const lines = await compileFails(variant((n) => (n.projections[0].from = 'nope')));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lechip: error: net\.json: \/projections\/0\/from: .*"nope".*in, hidden, out/);
  });

  it('weights of the wrong shape: the pointer of the matrix and the expected size', async () => {
    const lines = await compileFails(variant((n) => (n.projections[1].weights = [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]])));
    for (const l of lines) expect(l).toMatch(/^lechip: error: net\.json: \/projections\/1\/weights\/[01]: .*3 .*4/);
  });

  it('negative tau: the pointer, the rule and the unit', async () => {
    const lines = await compileFails(variant((n) => (n.populations.hidden.neuron.tau_m = -5)));
    expect(lines).toEqual(['lechip: error: net.json: /populations/hidden/neuron/tau_m: must be > 0 ms (got -5)']);
  });

  it("tau outside bss2's hardware range: both time bases and the chip's range", async () => {
    const lines = await compileFails(variant((n) => (n.populations.hidden.neuron.tau_m = 5000)), ['--chip', 'bss2']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lechip: error: net\.json: \/populations\/hidden\/neuron\/tau_m: 5000 ms .*5000 us.*bss2.*0\.1-2000 us/);
  });

  it('a chip too small for the network: what is needed and what there is', async () => {
    const lines = await compileFails(mlpText, ['--chip', 'bss2', '--cores', '1', '-o', 'mlp.lechip']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lechip: error: net\.json: \/populations\/h1: .*needs \d+ cores.*the system has 1/);
  });

  it('a missing file is named, not a stack trace', async () => {
    const s = scratch();
    dirs.push(s.done);
    const lines = userErrorLines(await lechip(['compile', 'missing.json'], s.dir));
    expect(lines).toEqual(['lechip: error: missing.json: cannot read network description: no such file']);
  });
});

describe('user errors in an image (inspect, run)', () => {
  const bytes = encodeImage(syntheticImage());

  it('a truncated image', async () => {
    const s = scratch({ 'img.lechip': bytes.subarray(0, bytes.length - 3) });
    dirs.push(s.done);
    for (const cmd of [['inspect', 'img.lechip'], ['run', 'img.lechip', '--duration', '1']]) {
      const lines = userErrorLines(await lechip(cmd, s.dir));
      expect(lines).toEqual([`lechip: error: img.lechip: file: truncated: ${bytes.length - 3} bytes, the header says ${bytes.length}`]);
    }
  });

  it('a flipped byte in a section', async () => {
    const bad = bytes.slice();
    const at = bad.length - 2; // inside the last section's payload
    bad[at] ^= 0x40;
    const s = scratch({ 'img.lechip': bad });
    dirs.push(s.done);
    const lines = userErrorLines(await lechip(['inspect', 'img.lechip'], s.dir));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lechip: error: img\.lechip: section 'firmware:data' \(bytes \d+\.\.\d+\): CRC32 mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\); the image is corrupted$/);
  });

  it('a file that is not an image', async () => {
    const s = scratch({ 'net.json': JSON.stringify(small) });
    dirs.push(s.done);
    const lines = userErrorLines(await lechip(['inspect', 'net.json'], s.dir));
    expect(lines[0]).toMatch(/^lechip: error: net\.json: header \(bytes 0\.\.8\): bad magic .*not a lechip image$/);
  });
});

describe('malformed command lines exit 2', () => {
  it('an unknown flag', async () => {
    const r = await lechip(['compile', 'x.json', '--frobnicate'], ROOT);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("lechip: error: unknown option '--frobnicate'");
    expect(r.stderr).not.toContain('    at ');
  });

  it('a missing argument', async () => {
    const r = await lechip(['inspect'], ROOT);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("lechip: error: missing required argument 'IMAGE'");
  });

  it('an unknown command', async () => {
    const r = await lechip(['frobnicate'], ROOT);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("lechip: error: unknown command 'frobnicate'");
  });

  it('a flag value of the wrong form (--cores x) is 2; a well-formed value out of range (--cores 0) is 1', async () => {
    const s = scratch({ 'net.json': JSON.stringify(small) });
    dirs.push(s.done);
    const bad = await lechip(['compile', 'net.json', '--cores', 'x'], s.dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/lechip: error: option '--cores <N\|auto>' argument 'x' is invalid/);
    const zero = await lechip(['compile', 'net.json', '--cores', '0'], s.dir);
    expect(userErrorLines(zero)).toEqual(['lechip: error: --cores must be a positive integer (got 0)']);
    expect(s.list()).toEqual(['net.json']);
  });

  it('train without --dataset', async () => {
    const r = await lechip(['train', 'examples/small.json'], ROOT);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--dataset <mnist|FILE.json>' not specified");
  });
});

describe('--json', () => {
  it('prints exactly one JSON object on success and on failure', async () => {
    const s = scratch({ 'net.json': JSON.stringify(small) });
    dirs.push(s.done);
    const ok = await lechip(['compile', 'net.json', '--json'], s.dir);
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const obj = JSON.parse(lines[0]);
    expect(obj).toMatchObject({ image: 'net.lechip', cores_used: 1, chips: 1, warnings: [], seed: 1, chip: 'ideal' });
    expect(s.list()).toEqual(['net.json', 'net.lechip']);

    const insp = await lechip(['inspect', 'net.lechip', '--json'], s.dir);
    expect(insp.code).toBe(0);
    expect(insp.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(insp.stdout).image_sha256).toBe(obj.image_sha256);

    const failed = await lechip(['inspect', 'nothing.lechip', '--json'], s.dir);
    expect(failed.code).toBe(1);
    expect(failed.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(failed.stdout).error.messages).toEqual(['nothing.lechip: cannot read image: no such file']);

    const malformed = await lechip(['inspect', '--json', '--bogus'], s.dir);
    expect(malformed.code).toBe(2);
    expect(JSON.parse(malformed.stdout).error.exit_code).toBe(2);
  });
});
