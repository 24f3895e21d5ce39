import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyInput, loadDataset, mnistDir, readIdx } from '../../cli/datasets.js';
import { UserError } from '../../common/diagnostics.js';

const tmp = mkdtempSync(join(tmpdir(), 'lechip-ds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('no error');
}

function writeJson(name: string, value: unknown): string {
  const p = join(tmp, name);
  writeFileSync(p, JSON.stringify(value));
  return p;
}

describe('mnist', () => {
  it('reads the official IDX files: known first labels, pixels / 256, one-hot targets', () => {
    const d = loadDataset('mnist', { inputSize: 784, outputSize: 10, samples: 5, test: 3 });
    expect(d.train.count).toBe(5);
    expect(d.test.count).toBe(3);
    // The first labels of the MNIST training and test sets are well known: 5 0 4 1 9 and 7 2 1.
    expect(Array.from(d.train.labels!)).toEqual([5, 0, 4, 1, 9]);
    expect(Array.from(d.test.labels!)).toEqual([7, 2, 1]);
    expect(Array.from(d.train.targets.subarray(0, 10))).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    // Pixels straight from the file (16-byte header), divided by 256.
    const raw = readFileSync(join(mnistDir(), 'train-images-idx3-ubyte'));
    const x = new Float32Array(784 * 2);
    copyInput(d.train, 784, 1, x, 784);
    for (let k = 0; k < 784; k++) expect(x[784 + k]).toBe(raw[16 + 784 + k] / 256);
    expect(Math.max(...x)).toBeLessThan(1);
    expect(Math.max(...x)).toBeGreaterThan(0.9);
  });

  it('refuses a network of the wrong size and more samples than the split has', () => {
    expect(errorOf(() => loadDataset('mnist', { inputSize: 100, outputSize: 10 }))).toContain('has 784 inputs per sample (28 x 28 pixels) but the network');
    expect(errorOf(() => loadDataset('mnist', { inputSize: 784, outputSize: 3 }))).toContain('has 10 classes');
    expect(errorOf(() => loadDataset('mnist', { inputSize: 784, outputSize: 10, samples: 50_001 }))).toContain('at most 50000');
    expect(errorOf(() => loadDataset('mnist', { inputSize: 784, outputSize: 10, test: 10_001 }))).toContain('10000 test samples');
  });

  it('checks the IDX magic number, dimensions and file size', () => {
    const header = (magic: number, dims: number[]) => {
      const b = Buffer.alloc(4 + 4 * dims.length);
      b.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
      return b;
    };
    const f = join(tmp, 'labels');
    writeFileSync(f, Buffer.concat([header(0x803, [3]), Buffer.from([1, 2, 3])]));
    expect(errorOf(() => readIdx(f, 0x801, [3], 3))).toBe(`${f}: IDX header: magic number 0x00000803, expected 0x00000801`);
    writeFileSync(f, Buffer.concat([header(0x801, [4]), Buffer.from([1, 2, 3])]));
    expect(errorOf(() => readIdx(f, 0x801, [4], 3))).toBe(`${f}: IDX file has 11 bytes, its header declares 12`);
    expect(errorOf(() => readIdx(f, 0x801, [3], 3))).toBe(`${f}: IDX header: dimensions 4, expected 3`);
    writeFileSync(f, Buffer.concat([header(0x801, [3]), Buffer.from([1, 2, 3])]));
    expect(Array.from(readIdx(f, 0x801, [3], 2))).toEqual([1, 2]);
  });
});

describe('dataset JSON files', () => {
  const inputs = Array.from({ length: 10 }, (_, i) => [i, -i]);
  const labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];

  it('one-hot targets from labels, and the last 20 % held out without "test"', () => {
    const d = loadDataset(writeJson('a.json', { inputs, labels }), { inputSize: 2, outputSize: 3 });
    expect(d.train.count).toBe(8);
    expect(d.test.count).toBe(2);
    expect(Array.from(d.test.inputs)).toEqual([8, -8, 9, -9]);
    expect(Array.from(d.test.labels!)).toEqual([2, 0]);
    expect(Array.from(d.train.targets.subarray(3, 6))).toEqual([0, 1, 0]);
  });

  it('targets without labels, an explicit test split, and the first N of each', () => {
    const targets = inputs.map(([a]) => [a / 10]);
    const d = loadDataset(writeJson('b.json', { inputs, targets, test: { inputs: [[1, 1], [2, 2]], targets: [[0.5], [0.25]] } }), {
      inputSize: 2,
      outputSize: 1,
      samples: 4,
      test: 1,
    });
    expect(d.train.count).toBe(4);
    expect(d.train.labels).toBeNull();
    expect(Array.from(d.train.targets)).toEqual([0, 0.1, 0.2, 0.3].map(Math.fround));
    expect(d.test.count).toBe(1);
    expect(Array.from(d.test.targets)).toEqual([0.5]);
  });

  it('names the pointer and the rule of each mistake', () => {
    const f = writeJson('c.json', { inputs: [[1, 2], [3], [4, 'x']], labels: [0, 5, 1], extra: 1 });
    const msg = errorOf(() => loadDataset(f, { inputSize: 2, outputSize: 3 }));
    expect(msg.split('\n')).toEqual([
      `${f}: /extra: unknown property 'extra'; a dataset has inputs, targets or labels, test`,
      `${f}: /inputs/1: has 1 values but the network's input population has 2`,
      `${f}: /inputs/2/1: must be a finite number (got "x")`,
      `${f}: /labels/1: must be a class number 0..2 (one per output neuron); got 5`,
    ]);
    const g = writeJson('d.json', { inputs: [[1, 2]] });
    expect(errorOf(() => loadDataset(g, { inputSize: 2, outputSize: 3 }))).toBe(`${g}: /: needs "targets" (one array per sample) or "labels" (one class per sample)`);
    expect(errorOf(() => loadDataset(writeJson('e.json', { inputs, labels }), { inputSize: 2, outputSize: 3, samples: 9 }))).toContain(
      '--samples 9: the dataset has 8 training samples',
    );
  });
});
