/**
 * The Python client (examples/python, standard library only) against a server started here, run
 * with the machine's python3: its results must equal an in-process run of the same chip exactly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Chip } from '../../emulator/chip-interface.js';
import { startServer, type HilServer } from '../../emulator/hil/server.js';
import { hilChipFactory, hilImage } from './chips.js';

const root = join(import.meta.dirname, '..', '..');
const example = join(root, 'examples', 'python', 'hil_example.py');
let server: HilServer;
let dir: string;
let imageFile: string;
const image = await hilImage();

function python(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('python3', args, { env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(async () => {
  server = await startServer({ createChip: hilChipFactory, token: 'py-token' });
  dir = mkdtempSync(join(tmpdir(), 'lechip-hil-py-'));
  imageFile = join(dir, 'net.lechip');
  writeFileSync(imageFile, image.bytes);
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The example's sequence in process: load, configure, constant input, run, weights. */
async function inProcess(chipSeed: number, seed: number, rate: number, durationMs: number) {
  const chip: Chip = await hilChipFactory();
  const m = await chip.load(image.bytes);
  await chip.configure({ chipSeed, seed });
  const inputs = Object.fromEntries(m.populations.filter((p) => p.role === 'input').map((p) => [p.name, [{ t: 0, value: new Array(p.size).fill(rate) }]]));
  const out = m.populations.find((p) => p.role === 'output')!;
  await chip.writeInputs(inputs);
  const rec = await chip.run({ durationMs, record: [out.name] });
  const w = await chip.readWeights(0);
  const pre = m.projections[0].pre_size;
  await chip.close();
  return { rec, out: out.name, w0: Array.from(w.subarray(0, pre)) };
}

describe('python client (examples/python)', () => {
  it('the example connects, loads, runs and prints what an in-process run gives, to the last bit', async () => {
    const r = await python([example, '--port', String(server.port), '--image', imageFile, '--chip-seed', '5', '--seed', '3', '--rate', '0.25', '--duration', String(image.durationMs), '--json'], { LECHIP_TOKEN: 'py-token' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout);
    const want = await inProcess(5, 3, 0.25, image.durationMs);
    expect(got.population).toBe(want.out);
    expect(got.steps).toBe(want.rec.steps);
    expect(got.t_bio_ms).toBe(want.rec.t_bio_ms.at(-1));
    expect(got.t_hw_us).toBe(want.rec.t_hw_us.at(-1));
    expect(got.r_last).toEqual(want.rec.record[want.out].r.at(-1));
    expect(got.u_last).toEqual(want.rec.record[want.out].u.at(-1));
    expect(got.weights_0_first_row).toEqual(want.w0);
    expect(got.time.t_bio_ms).toBe(want.rec.t_bio_ms.at(-1));
  });

  it('a wrong token ends the example with exit 1 and the server\'s reason', async () => {
    const r = await python([example, '--port', String(server.port), '--image', imageFile, '--token', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unauthorised \(9\): wrong access token/);
  });

  it('every command works from Python: weights, parameters, present with progress, errors with diagnostics', async () => {
    const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(join(root, 'examples', 'python'))})
from lechip_client import Chip, LechipError
out = {}
with Chip(port=${server.port}, token="py-token") as chip:
    m = chip.load(open(${JSON.stringify(imageFile)}, "rb").read())
    chip.configure(chip_seed=2, seed=9)
    w = chip.read_weights(0)
    w[0][0] = 0.75
    chip.write_weights(0, w)
    out["w_back"] = chip.read_weights(0)
    p = chip.read_parameters(m["populations"][1]["name"])
    out["param_keys"] = sorted(p)
    chip.write_parameters(m["populations"][1]["name"], bias=[0.5] * len(p["bias"]))
    out["bias_back"] = chip.read_parameters(m["populations"][1]["name"])["bias"]
    size_in = m["populations"][0]["size"]
    outp = [q for q in m["populations"] if q["role"] == "output"][0]
    progress = []
    out["readout"] = chip.present([[0.5] * size_in, [1.0] * size_in, [0.0] * size_in], size_in, 3, ${image.tPresMs}, False, outp["name"],
                                  on_progress=progress.append, progress_every=1)
    out["progress"] = progress
    out["time"] = chip.fetch_time()
    chip.reset()
    out["time_after_reset"] = chip.time()
    try:
        chip.run(1.0, record=["no-such-population"])
    except LechipError as e:
        out["error"] = [e.code, e.name, e.fatal]
    out["still_alive"] = chip.fetch_time()
print(json.dumps(out))
`;
    const r = await python(['-c', script]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout);

    // The same sequence in process.
    const chip = await hilChipFactory();
    const m = await chip.load(image.bytes);
    await chip.configure({ chipSeed: 2, seed: 9 });
    const w = await chip.readWeights(0);
    w[0] = 0.75;
    await chip.writeWeights(0, w);
    const pre = m.projections[0].pre_size;
    const wBack = Array.from(await chip.readWeights(0));
    const hidden = m.populations[1].name;
    const p = await chip.readParameters(hidden);
    await chip.writeParameters(hidden, { bias: new Float32Array(p.bias.length).fill(0.5) });
    const biasBack = Array.from((await chip.readParameters(hidden)).bias);
    const sizeIn = m.populations[0].size;
    const outp = m.populations.find((q) => q.role === 'output')!;
    const inputs = new Float32Array([...new Array(sizeIn).fill(0.5), ...new Array(sizeIn).fill(1), ...new Array(sizeIn).fill(0)]);
    const readout = await chip.present({ inputs, inputSize: sizeIn, count: 3, tPresMs: image.tPresMs, learn: false, readout: outp.name });
    const t = chip.time();
    await chip.close();

    expect(got.w_back.flat()).toEqual(wBack);
    expect(got.w_back[0]).toHaveLength(pre);
    expect(got.param_keys).toEqual(['bias', 'gain', 'offset', 'tau_m_us', 'tau_r_us']);
    expect(got.bias_back).toEqual(biasBack);
    expect(got.readout.flat()).toEqual(Array.from(readout));
    expect(got.progress).toEqual([1, 2, 3]);
    expect(got.time).toEqual(t);
    expect(got.time_after_reset).toEqual({ t_bio_ms: 0, t_hw_us: 0 });
    expect(got.error).toEqual([5, 'bad_arguments', false]);
    expect(got.still_alive).toEqual({ t_bio_ms: 0, t_hw_us: 0 });
  });

  it('speaks protocol 2: plasticity, processor and threads reach the chip, and learning gives the in-process weights', async () => {
    const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(join(root, 'examples', 'python'))})
from lechip_client import Chip
out = {}
with Chip(port=${server.port}, token="py-token") as chip:
    out["protocol"] = [chip.server["protocol"], chip.version, "plasticity" in chip.server["configure_fields"]]
    m = chip.load(open(${JSON.stringify(imageFile)}, "rb").read())
    runs = {}
    for plasticity in ("firmware", "kernel"):
        chip.configure(chip_seed=4, seed=2, plasticity=plasticity, processor="interpret", threads=1)
        inp = [q for q in m["populations"] if q["role"] == "input"][0]
        outp = [q for q in m["populations"] if q["role"] == "output"][0]
        chip.write_inputs({inp["name"]: [(0.0, [0.6] * inp["size"])]}, {outp["name"]: [(0.0, [0.2] * outp["size"])]})
        rec = chip.run(${image.durationMs}, record=[outp["name"]], learn=True)
        runs[plasticity] = {"w": chip.read_weights(0), "who": rec["processor"]["plasticity"]}
    out["runs"] = runs
print(json.dumps(out))
`;
    const r = await python(['-c', script]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got.protocol).toEqual([2, 2, true]);
    const chip = await hilChipFactory();
    const m = await chip.load(image.bytes);
    for (const plasticity of ['firmware', 'kernel'] as const) {
      await chip.configure({ chipSeed: 4, seed: 2, plasticity, processor: 'interpret', threads: 1 });
      const inp = m.populations.find((q) => q.role === 'input')!;
      const outp = m.populations.find((q) => q.role === 'output')!;
      await chip.writeInputs({ [inp.name]: [{ t: 0, value: new Array(inp.size).fill(0.6) }] }, { [outp.name]: [{ t: 0, value: new Array(outp.size).fill(0.2) }] });
      const rec = await chip.run({ durationMs: image.durationMs, record: [outp.name], learn: true });
      expect(got.runs[plasticity].who).toBe(rec.processor!.plasticity);
      expect(got.runs[plasticity].w.flat()).toEqual(Array.from(await chip.readWeights(0)));
    }
    await chip.close();
    expect(got.runs.firmware.w).not.toEqual(got.runs.kernel.w);
  });
});
