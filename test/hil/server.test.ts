/**
 * The server on real sockets (127.0.0.1) with a small fake chip: every kind of bad client gets an
 * error frame or a clean close, and the server goes on serving a well-behaved client afterwards.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectChip, HilError } from '../../emulator/hil/client.js';
import { Command, encodeFrame, ErrorCode, FRAME_ERROR, FRAME_PROGRESS, HEADER_BYTES, ndarray, REPLY_BIT, type Frame } from '../../emulator/hil/protocol.js';
import { startServer, type HilServer, type ServerOptions } from '../../emulator/hil/server.js';
import { FakeChip, type FakeChipOptions } from './fake-chip.js';
import { RawClient, syntheticImageBytes, waitFor } from './helpers.js';

const image = syntheticImageBytes();
let servers: HilServer[] = [];

afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

interface Started {
  server: HilServer;
  chips: FakeChip[];
  log: string[];
}

async function serve(opts: ServerOptions = {}, fake: FakeChipOptions = {}): Promise<Started> {
  const chips: FakeChip[] = [];
  const log: string[] = [];
  const server = await startServer({
    createChip: async () => {
      const c = new FakeChip(fake);
      chips.push(c);
      return c;
    },
    log: (l) => log.push(l),
    ...opts,
  });
  servers.push(server);
  return { server, chips, log };
}

/** A full, well-behaved session through the library client: proves the server still serves. */
async function healthy(port: number, token?: string): Promise<number[]> {
  const chip = await connectChip({ port, token });
  try {
    await chip.load(image);
    await chip.configure({ chipSeed: 3, seed: 4 });
    await chip.writeInputs({ in: [{ t: 0, value: [0.5, -0.5] }] });
    const rec = await chip.run({ durationMs: 0.1, record: ['out'] });
    expect(rec.steps).toBe(10);
    return rec.record.out.r.at(-1)!;
  } finally {
    await chip.close();
  }
}

function errorOf(f: Frame | 'closed'): { code: number; name: string; message: string; fatal?: boolean; diagnostics?: unknown[] } {
  if (f === 'closed') throw new Error('expected an error frame, the connection closed');
  expect(f.type).toBe(FRAME_ERROR);
  return f.payload.json as never;
}

describe('handshake', () => {
  it('HELLO returns the protocol, the tool version, the limits and the chip', async () => {
    const { server } = await serve({ maxFrameBytes: 1 << 20, maxRunMs: 500, idleTimeoutS: 30, readTimeoutS: 2 });
    const c = await RawClient.open(server.port);
    const f = await c.hello();
    expect(f !== 'closed' && f.type).toBe(REPLY_BIT | Command.HELLO);
    const d = (f as Frame).payload.json as Record<string, any>;
    expect(d.protocol).toBe(1);
    expect(d.server).toBe('lechip');
    expect(d.tool_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(d.limits).toEqual({ max_frame_bytes: 1 << 20, max_connection_bytes: 2 * (1 << 20) + (1 << 20), max_run_ms: 500, idle_timeout_s: 30, read_timeout_s: 2 });
    expect(d.chip.presets).toEqual(['ideal', 'spikey', 'bss1', 'bss2']);
    c.destroy();
  });

  it('requires HELLO first, and refuses a protocol version it does not speak', async () => {
    const { server } = await serve();
    const c = await RawClient.open(server.port);
    expect(errorOf(await c.call(Command.TIME, 5)).code).toBe(ErrorCode.HELLO_REQUIRED);
    const e = errorOf(await c.call(Command.HELLO, 6, { versions: [7, 8] }));
    expect(e).toMatchObject({ code: ErrorCode.UNSUPPORTED_VERSION, fatal: true });
    await c.closed;
    expect(await healthy(server.port)).toHaveLength(2);
  });

  it('a wrong or missing token is refused and the connection closed; the right one is served', async () => {
    const { server, chips } = await serve({ token: 's3cret' });
    for (const token of ['wrong', undefined]) {
      const c = await RawClient.open(server.port);
      const e = errorOf(await c.hello(token));
      expect(e).toMatchObject({ code: ErrorCode.UNAUTHORISED, name: 'unauthorised', fatal: true });
      await c.closed;
    }
    expect(chips).toHaveLength(0); // no chip was made for a refused client
    await expect(connectChip({ port: server.port, token: 'nope' })).rejects.toMatchObject({ code: ErrorCode.UNAUTHORISED });
    expect(await healthy(server.port, 's3cret')).toHaveLength(2);
  });
});

describe('bad frames and bad requests', () => {
  it('bad magic: error frame, close; the server serves the next client', async () => {
    const { server } = await serve();
    const c = await RawClient.open(server.port);
    c.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(errorOf(await c.next())).toMatchObject({ code: ErrorCode.MALFORMED_FRAME, fatal: true });
    expect(await c.next()).toBe('closed');
    expect(await healthy(server.port)).toHaveLength(2);
  });

  it('bad CRC: error frame, close', async () => {
    const { server } = await serve();
    const c = await RawClient.open(server.port);
    expect((await c.hello()) !== 'closed').toBe(true);
    const f = encodeFrame(Command.TIME, 2);
    f[HEADER_BYTES] ^= 1;
    c.write(f);
    const e = errorOf(await c.next());
    expect(e.code).toBe(ErrorCode.MALFORMED_FRAME);
    expect(e.message).toMatch(/CRC32 mismatch/);
    await c.closed;
    expect(await healthy(server.port)).toHaveLength(2);
  });

  it('an oversized frame is refused from its header, before its payload is read', async () => {
    const { server } = await serve({ maxFrameBytes: 8192 });
    const c = await RawClient.open(server.port);
    await c.hello();
    const big = encodeFrame(Command.LOAD_IMAGE, 2, { arrays: new Map([['image', ndarray(new Uint8Array(100_000))]]) });
    c.write(big.subarray(0, HEADER_BYTES)); // the header alone is enough to refuse it
    const e = errorOf(await c.next());
    expect(e).toMatchObject({ code: ErrorCode.PAYLOAD_TOO_LARGE, fatal: true });
    expect(e.message).toMatch(/100\d{3} bytes exceeds the limit of 8192/);
    await c.closed;
    expect(await healthy(server.port)).toHaveLength(2);
  });

  it('an unknown command gets unknown_command and the connection stays usable', async () => {
    const { server } = await serve();
    const c = await RawClient.open(server.port);
    await c.hello();
    expect(errorOf(await c.call(0x0042, 9))).toMatchObject({ code: ErrorCode.UNKNOWN_COMMAND, name: 'unknown_command' });
    expect(errorOf(await c.call(REPLY_BIT | Command.TIME, 10)).code).toBe(ErrorCode.UNKNOWN_COMMAND);
    const t = await c.call(Command.TIME, 11);
    expect(t !== 'closed' && t.type).toBe(REPLY_BIT | Command.TIME);
    expect(t !== 'closed' && t.requestId).toBe(11);
    c.destroy();
  });

  it('a malformed payload (good CRC) gets an error for that request only', async () => {
    const { server } = await serve();
    const c = await RawClient.open(server.port);
    await c.hello();
    const f = encodeFrame(Command.RUN, 4, { json: { duration_ms: 1 } });
    f[HEADER_BYTES + 4] = '['.charCodeAt(0);
    const { crc32 } = await import('node:zlib');
    new DataView(f.buffer).setUint32(16, crc32(Buffer.from(f.subarray(HEADER_BYTES)), crc32(Buffer.from(f.subarray(0, 16)))) >>> 0, true);
    c.write(f);
    const e = await c.next();
    expect(e !== 'closed' && e.requestId).toBe(4);
    expect(errorOf(e)).toMatchObject({ code: ErrorCode.MALFORMED_FRAME });
    expect(errorOf(e).fatal).toBeUndefined();
    const t = await c.call(Command.TIME, 5);
    expect(t !== 'closed' && t.type).toBe(REPLY_BIT | Command.TIME);
    c.destroy();
  });

  it('requests before LOAD_IMAGE get not_loaded; bad arguments come back as diagnostics', async () => {
    const { server } = await serve({ maxRunMs: 50 });
    const chip = await connectChip({ port: server.port });
    await expect(chip.run({ durationMs: 1 })).rejects.toMatchObject({ code: ErrorCode.NOT_LOADED, codeName: 'not_loaded' });
    await chip.load(image);
    // Checked by the server's argument reader:
    const e1 = await chip.run({ durationMs: -1 }).catch((e) => e);
    expect(e1).toBeInstanceOf(HilError);
    expect(e1).toMatchObject({ code: ErrorCode.BAD_ARGUMENTS, diagnostics: [{ pointer: '/duration_ms', message: 'RUN: must be 0 or more, got -1' }] });
    // Raised by the chip itself, passed through unchanged:
    const e2 = await chip.writeInputs({ nope: [{ t: 0, value: [1] }] }).catch((e) => e);
    expect(e2).toMatchObject({ code: ErrorCode.BAD_ARGUMENTS, diagnostics: [{ pointer: '/inputs/nope', message: "unknown population 'nope'" }] });
    // Over the run limit:
    await expect(chip.run({ durationMs: 51 })).rejects.toMatchObject({ code: ErrorCode.LIMIT_EXCEEDED });
    await expect(chip.present({ inputs: new Float32Array(200), inputSize: 2, count: 100, tPresMs: 1, learn: false, readout: 'out' })).rejects.toMatchObject({ code: ErrorCode.LIMIT_EXCEEDED });
    // ... and the connection still works.
    const rec = await chip.run({ durationMs: 0.05, record: ['h'] });
    expect(rec.record.h.r).toHaveLength(5);
    await chip.close();
  });
});

describe('timeouts, disconnects, limits', () => {
  it('a slow client that sends half a frame and stalls is closed after the read timeout', async () => {
    const { server } = await serve({ readTimeoutS: 0.3, idleTimeoutS: 60 });
    const c = await RawClient.open(server.port);
    await c.hello();
    const f = encodeFrame(Command.WRITE_WEIGHTS, 2, { json: { projection: 0 }, arrays: new Map([['weights', ndarray(new Float32Array(6))]]) });
    const t0 = Date.now();
    c.write(f.subarray(0, 30));
    const e = errorOf(await c.next());
    const waited = Date.now() - t0;
    expect(e).toMatchObject({ code: ErrorCode.TIMEOUT, fatal: true });
    expect(e.message).toMatch(/incomplete frame: 30 bytes/);
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(3000);
    await c.closed;
    expect(await healthy(server.port)).toHaveLength(2);
  });

  it("one client's long request does not make another's bytes, sent in time, look late", async () => {
    // The emulator computes without yielding, so while B's run blocks, A's timer comes due and A's
    // bytes wait in the socket: the server must read them before it believes the timer.
    const { server } = await serve({ readTimeoutS: 0.3 }, { blockMs: 800 });
    const ww = encodeFrame(Command.WRITE_WEIGHTS, 3, { json: { projection: 0 }, arrays: new Map([['weights', ndarray(new Float32Array(6).fill(0.5))]]) });
    const first = Buffer.concat([
      encodeFrame(Command.HELLO, 1, { json: { versions: [1] } }),
      encodeFrame(Command.LOAD_IMAGE, 2, { arrays: new Map([['image', ndarray(image)]]) }),
      ww.subarray(0, 30),
    ]);
    // A runs in another process, so it sends the rest of its frame while this process is blocked.
    const script = `
      const s = require('net').connect(${server.port}, '127.0.0.1', () => {
        s.write(Buffer.from('${first.toString('hex')}', 'hex'), () => process.stdout.write('sent\\n'));
        setTimeout(() => s.write(Buffer.from('${Buffer.from(ww.subarray(30)).toString('hex')}', 'hex')), 500);
      });
      const got = [];
      s.on('data', (d) => got.push(d));
      setTimeout(() => { process.stdout.write(Buffer.concat(got).toString('hex')); s.destroy(); }, 2500);`;
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['-e', script]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise((r) => child.on('exit', r));
    await waitFor(() => out.startsWith('sent'), 10_000, 'A to send its first bytes');
    await new Promise((r) => setTimeout(r, 50));
    // B: a run that blocks the server for 800 ms, from about 100 ms after A's first bytes.
    const b = await RawClient.open(server.port);
    await b.hello();
    await b.call(Command.LOAD_IMAGE, 2, {}, new Map([['image', ndarray(image)]]));
    const t0 = Date.now();
    const run = await b.call(Command.RUN, 3, { duration_ms: 0.05 });
    expect(run !== 'closed' && run.type).toBe(REPLY_BIT | Command.RUN);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
    await exited;
    const { FrameReader } = await import('../../emulator/hil/protocol.js');
    const frames = new FrameReader({ maxPayloadBytes: 1 << 20 }).push(Buffer.from(out.slice('sent\n'.length), 'hex'));
    expect(frames.map((f) => (f.kind === 'frame' ? [f.frame.requestId, f.frame.type] : f.kind))).toEqual([
      [1, REPLY_BIT | Command.HELLO],
      [2, REPLY_BIT | Command.LOAD_IMAGE],
      [3, REPLY_BIT | Command.WRITE_WEIGHTS],
    ]);
    b.destroy();
  });

  it('an idle connection is closed after the idle timeout', async () => {
    const { server, chips } = await serve({ idleTimeoutS: 0.3 });
    const c = await RawClient.open(server.port);
    await c.hello();
    expect(errorOf(await c.next())).toMatchObject({ code: ErrorCode.TIMEOUT, message: 'connection idle for 0.3 s' });
    await c.closed;
    await waitFor(() => chips[0].closed, 3000, 'chip released');
  });

  it('a client that disconnects mid-run does not disturb another; its chip is released after the run', async () => {
    const { server, chips } = await serve({}, { delayMs: 400 });
    const quitter = await connectChip({ port: server.port });
    await quitter.load(image);
    const running = quitter.run({ durationMs: 0.2 }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 100));
    // Leave abruptly, mid-run (no BYE).
    (quitter as unknown as { socket: { destroy(): void } }).socket.destroy();
    expect(await running).toMatchObject({ code: 0, codeName: 'connection' });
    // Another client is served while and after the quitter's run finishes.
    const other = healthy(server.port);
    await expect(other).resolves.toHaveLength(2);
    await waitFor(() => chips[0].closed && chips[1].closed, 3000, 'both chips released');
  });

  it('refuses connections beyond the limit with limit_exceeded', async () => {
    const { server } = await serve({ maxConnections: 2 });
    const a = await RawClient.open(server.port);
    const b = await RawClient.open(server.port);
    await a.hello();
    await b.hello();
    const c = await RawClient.open(server.port);
    expect(errorOf(await c.next())).toMatchObject({ code: ErrorCode.LIMIT_EXCEEDED, fatal: true });
    await c.closed;
    a.destroy();
    await waitFor(() => server.connections() === 1, 3000, 'a slot to free');
    expect(await healthy(server.port)).toHaveLength(2);
    b.destroy();
  });

  it('pipelined requests are answered in order, with PRESENT progress before its reply', async () => {
    const { server } = await serve();
    const c = await RawClient.open(server.port);
    await c.hello();
    const frames = [
      encodeFrame(Command.LOAD_IMAGE, 2, { arrays: new Map([['image', ndarray(image)]]) }),
      encodeFrame(Command.TIME, 3),
      encodeFrame(Command.PRESENT, 4, {
        json: { input_size: 2, count: 4, t_pres_ms: 0.05, learn: false, readout: 'out', progress_every: 2 },
        arrays: new Map([['inputs', ndarray(new Float32Array([1, 0, 0, 1, 1, 1, 0, 0]), [4, 2])]]),
      }),
      encodeFrame(Command.TIME, 5),
    ];
    c.write(Buffer.concat(frames));
    const got: [number, number, unknown][] = [];
    for (let i = 0; i < 6; i++) {
      const f = await c.next();
      if (f === 'closed') throw new Error('closed');
      got.push([f.requestId, f.type, f.type === FRAME_PROGRESS ? f.payload.json.done : undefined]);
    }
    expect(got).toEqual([
      [2, REPLY_BIT | Command.LOAD_IMAGE, undefined],
      [3, REPLY_BIT | Command.TIME, undefined],
      [4, FRAME_PROGRESS, 2],
      [4, FRAME_PROGRESS, 4],
      [4, REPLY_BIT | Command.PRESENT, undefined],
      [5, REPLY_BIT | Command.TIME, undefined],
    ]);
    c.destroy();
  });

  it('a client that floods requests without reading replies is throttled, not buffered without bound', async () => {
    const { server, log } = await serve({ maxFrameBytes: 64 * 1024, maxConnectionBytes: 256 * 1024, readTimeoutS: 0.5 });
    const c = await RawClient.open(server.port);
    await c.hello();
    await c.call(Command.LOAD_IMAGE, 2, {}, new Map([['image', ndarray(image)]]));
    c.socket.pause(); // stop reading replies
    // 100 000 requests whose replies (about 250 bytes each, 25 MB in all) overflow every buffer on the way back.
    const req = encodeFrame(Command.READ_PARAMETERS, 3, { json: { population: 'h' } });
    c.socket.write(Buffer.concat(Array.from({ length: 100_000 }, () => req)));
    // The server stops answering a client that does not read, then closes it after the read timeout.
    await waitFor(() => log.some((l) => l.includes('has not read its replies')), 10_000, 'the server to give up on the client');
    await waitFor(() => server.connections() === 0, 3000, 'the connection to close');
    expect(await healthy(server.port)).toHaveLength(2);
    c.destroy();
  });
});

describe('shutdown', () => {
  it('lets the in-flight request finish, refuses the queued one, closes, and stops accepting', async () => {
    const { server, chips } = await serve({ shutdownGraceMs: 5000 }, { delayMs: 300 });
    const c = await RawClient.open(server.port);
    await c.hello();
    await c.call(Command.LOAD_IMAGE, 2, {}, new Map([['image', ndarray(image)]]));
    c.write(Buffer.concat([encodeFrame(Command.RUN, 3, { json: { duration_ms: 0.1 } }), encodeFrame(Command.TIME, 4)]));
    await new Promise((r) => setTimeout(r, 100));
    const closing = server.close();
    const frames: Frame[] = [];
    for (;;) {
      const f = await c.next();
      if (f === 'closed') break;
      frames.push(f);
    }
    await closing;
    expect(frames.map((f) => [f.requestId, f.type === FRAME_ERROR ? (f.payload.json as { code: number }).code : f.type])).toEqual([
      [4, ErrorCode.SHUTTING_DOWN], // queued behind the run: refused at once
      [3, REPLY_BIT | Command.RUN], // in flight: finished and answered
      [0, ErrorCode.SHUTTING_DOWN], // then the connection is closed with a notice
    ]);
    expect(chips[0].closed).toBe(true);
    await expect(
      new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: server.port }, () => resolve('connected'));
        s.on('error', (e: NodeJS.ErrnoException) => reject(e.code));
      }),
    ).rejects.toBe('ECONNREFUSED');
  });

  it('closes anyway when an in-flight request outlasts the grace period', async () => {
    const { server } = await serve({ shutdownGraceMs: 200 }, { delayMs: 2000 });
    const chip = await connectChip({ port: server.port });
    await chip.load(image);
    const run = chip.run({ durationMs: 0.1 }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(await run).toBeInstanceOf(HilError);
  });
});
