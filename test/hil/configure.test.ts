/**
 * CONFIGURE on the wire (protocol version 2): every ChipConfig field reaches the server's chip
 * exactly as the client gave it, and a remote chip configured with each plasticity mode, processor
 * implementation, thread count and synaptic filter gives results identical, bit for bit, to an
 * in-process chip configured the same way. A version 1 connection keeps version 1's meaning: the
 * fields version 2 added are refused by name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Chip, ChipConfig } from '../../emulator/chip-interface.js';
import { connectChip } from '../../emulator/hil/client.js';
import { CONFIG_WIRE, configureFields, decodeConfigure, encodeConfigure } from '../../emulator/hil/messages.js';
import { Command, decodeFrame, encodeFrame, ErrorCode, FRAME_ERROR, ndarray, REPLY_BIT, type Frame, type Payload } from '../../emulator/hil/protocol.js';
import { startServer, type HilServer } from '../../emulator/hil/server.js';
import { hilChipFactory, hilImage } from './chips.js';
import { canonicalBytes, RawClient } from './helpers.js';

const image = await hilImage();
/** The configurations the server's chips received, in order. */
const received: ChipConfig[] = [];
let server: HilServer;

beforeAll(async () => {
  server = await startServer({
    maxThreads: 2,
    createChip: async () => {
      const chip = await hilChipFactory();
      const configure = chip.configure.bind(chip);
      chip.configure = async (c) => {
        received.push(structuredClone(c));
        return configure(c);
      };
      return chip;
    },
  });
});
afterAll(async () => {
  await server?.close();
});

/** Runs with learning (input and target schedules, a RUN, a PRESENT) and reads back what changed. */
async function experiment(chip: Chip, config: ChipConfig) {
  const m = await chip.load(image.bytes);
  await chip.configure(config);
  const input = m.populations.find((p) => p.role === 'input')!;
  const output = m.populations.find((p) => p.role === 'output')!;
  const wave = (k: number) => Array.from({ length: input.size }, (_, i) => Math.fround(0.5 + 0.4 * Math.sin(0.7 * i + k)));
  await chip.writeInputs({ [input.name]: [{ t: 0, value: wave(0) }, { t: 1, value: wave(1) }] }, { [output.name]: [{ t: 0, value: new Array(output.size).fill(0.2) }] });
  const rec = await chip.run({ durationMs: image.durationMs, record: [output.name], learn: true });
  const count = 3;
  const inputs = new Float32Array(count * input.size).map((_, j) => wave(j)[j % input.size]);
  const targets = new Float32Array(count * output.size).fill(0.1);
  const readout = await chip.present({ inputs, inputSize: input.size, targets, count, tPresMs: image.tPresMs, learn: true, readout: output.name });
  const weights = [];
  for (const p of m.projections) weights.push(await chip.readWeights(p.index));
  await chip.close();
  return { rec, readout, weights };
}

const CONFIGS: ChipConfig[] = [
  { chipSeed: 5, seed: 7, plasticity: 'firmware' },
  { chipSeed: 5, seed: 7, plasticity: 'kernel' },
  { chipSeed: 5, seed: 7, processor: 'interpret', processorTiming: 'ideal' },
  { chipSeed: 5, seed: 7, processor: 'translate', processorTiming: 'ideal' },
  { chipSeed: 5, seed: 7, processor: 'auto', threads: 2 },
  { chipSeed: 5, seed: 7, mismatchScale: 2, tauDistribution: 'normal', dtMs: 0.01, noise: { rate: 0.01, tau_s_ms: 0.5, filter_errors: true, filter_targets: false } },
];

describe('CONFIGURE, protocol version 2', () => {
  it('lists every ChipConfig field on the wire, and round-trips them all', () => {
    const full: Required<ChipConfig> = {
      chipSeed: 3, seed: 4, mismatchScale: 1.5, mismatch: { tau_m: 0.2, synapse_gain: 0.1 }, tauDistribution: 'normal', calibration: { any: [1, 2] },
      processorTiming: 'cycle', plasticity: 'kernel', processor: 'translate', dtMs: 0.02, threads: 3,
      noise: { membrane: 0.1, rate: 0.2, adc_lsb: 0.01, tau_s_ms: 2, filter_errors: true, filter_targets: false },
    };
    const wire = decodeFrame(encodeFrame(Command.CONFIGURE, 1, encodeConfigure(full)));
    if (wire.kind !== 'frame') throw new Error(JSON.stringify(wire));
    expect(decodeConfigure(wire.frame.payload, 2)).toEqual(full);
    expect(Object.keys(encodeConfigure(full).json).sort()).toEqual(CONFIG_WIRE.map(([, w]) => w).sort());
    expect(configureFields(1)).not.toContain('plasticity');
    expect(configureFields(2)).toEqual(expect.arrayContaining(['plasticity', 'processor', 'threads']));
  });

  it('refuses wrong values by field, and version 2 fields on a version 1 connection by name', () => {
    const p = (json: Record<string, unknown>): Payload => ({ json, arrays: new Map() });
    expect(() => decodeConfigure(p({ plasticity: 'hebb' }), 2)).toThrow(/expected "firmware" or "kernel"/);
    expect(() => decodeConfigure(p({ processor: 'jit' }), 2)).toThrow(/"interpret" or "translate" or "auto"/);
    expect(() => decodeConfigure(p({ threads: 1.5 }), 2)).toThrow(/expected an integer/);
    expect(() => decodeConfigure(p({ noise: { filter_errors: 1 } }), 2)).toThrow(/expected true or false/);
    expect(() => decodeConfigure(p({ plasticity: 'kernel' }), 1)).toThrow(/field "plasticity" needs protocol version 2; this connection speaks 1/);
    expect(() => decodeConfigure(p({ noise: { tau_s_ms: 1 } }), 1)).toThrow(/noise key "tau_s_ms" needs protocol version 2/);
    expect(decodeConfigure(p({ chip_seed: 1, noise: { rate: 0.1 } }), 1)).toEqual({ chipSeed: 1, noise: { rate: 0.1 } });
  });

  it('a remote chip gets exactly the configuration sent, and computes bit for bit what an in-process chip does', async () => {
    const results = [];
    for (const config of CONFIGS) {
      received.length = 0;
      const remote = await experiment(await connectChip({ port: server.port }), config);
      expect(received).toEqual([config]);
      const local = await experiment(await hilChipFactory(), config);
      expect(canonicalBytes(remote).equals(canonicalBytes(local)), JSON.stringify(config)).toBe(true);
      results.push(local);
    }
    // The fields take effect: the kernel learns other weights than the firmware, and says so.
    expect(results[0].rec.processor?.plasticity).toBe('firmware');
    expect(results[1].rec.processor?.plasticity).toBe('kernel');
    expect(canonicalBytes(results[0].weights).equals(canonicalBytes(results[1].weights))).toBe(false);
    // Interpreted and translated firmware agree (the processor choice changes speed, not results).
    expect(canonicalBytes(results[2]).equals(canonicalBytes(results[3]))).toBe(true);
  });

  it('HELLO chooses the highest common version; version 1 gets version 1 exactly', async () => {
    const c2 = await connectChip({ port: server.port });
    expect(c2.version).toBe(2);
    expect(c2.server).toMatchObject({ protocol: 2, protocols: [1, 2], limits: { max_threads: 2 } });
    expect(c2.server.configure_fields).toEqual(configureFields(2));
    await c2.close();

    const raw = await RawClient.open(server.port);
    const hello = (await raw.hello()) as Frame;
    expect(hello.version).toBe(1);
    expect(hello.payload.json.protocol).toBe(1);
    expect(hello.payload.json).not.toHaveProperty('configure_fields');
    expect(hello.payload.json.limits).not.toHaveProperty('max_threads');
    const loaded = (await raw.call(Command.LOAD_IMAGE, 2, {}, new Map([['image', ndarray(image.bytes)]]))) as Frame;
    expect(loaded.type).toBe(REPLY_BIT | Command.LOAD_IMAGE);
    expect(loaded.version).toBe(1); // replies come in the connection's version
    const refused = (await raw.call(Command.CONFIGURE, 3, { chip_seed: 1, plasticity: 'kernel' })) as Frame;
    expect(refused.type).toBe(FRAME_ERROR);
    expect(refused.payload.json).toMatchObject({ code: ErrorCode.BAD_ARGUMENTS, diagnostics: [{ pointer: '/plasticity' }] });
    expect(refused.payload.json.message).toMatch(/needs protocol version 2/);
    const ok = (await raw.call(Command.CONFIGURE, 4, { chip_seed: 1 })) as Frame;
    expect(ok.type).toBe(REPLY_BIT | Command.CONFIGURE);
    raw.destroy();
  });

  it('threads above the server limit are refused with limit_exceeded, and the connection goes on', async () => {
    const chip = await connectChip({ port: server.port });
    await chip.load(image.bytes);
    await expect(chip.configure({ threads: 3 })).rejects.toMatchObject({ code: ErrorCode.LIMIT_EXCEEDED });
    await chip.configure({ threads: 2 });
    await chip.close();
  });
});
