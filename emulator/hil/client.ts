/**
 * The client side of the hardware-in-the-loop connection: a `Chip` whose every method is one
 * request to a `lechip serve` server. An experiment switches between the in-process emulator and
 * a remote chip by one line:
 *
 *   const chip = await createEmulatedChip();
 *   const chip = await connectChip({ host: '127.0.0.1', port: 5555 });
 *
 * Requests may be issued without awaiting the previous one: each carries its own id and the
 * server answers in order. `time()` is synchronous in the Chip interface, so it returns the time
 * the server reported with the last completed reply (every reply carries it); `fetchTime()` asks.
 */
import { connect, type Socket } from 'node:net';
import type { ImageManifest } from '../../chip/image-model.js';
import { UserError, type Diagnostic } from '../../common/diagnostics.js';
import { toolVersion } from '../../common/paths.js';
import type { Chip, ChipConfig, CircuitParameters, PresentOptions, Recording, RunOptions, Schedule } from '../chip-interface.js';
import {
  decodeParameters,
  decodeReadout,
  decodeRecording,
  decodeWeights,
  encodeConfigure,
  encodeHello,
  encodeLoadImage,
  encodeParameters,
  encodePopulation,
  encodePresent,
  encodeReadWeights,
  encodeRun,
  encodeWriteInputs,
  encodeWriteWeights,
  type ErrorBody,
  type ServerDescription,
} from './messages.js';
import { Command, encodeFrame, errorName, FRAME_ERROR, FRAME_PROGRESS, FrameReader, REPLY_BIT, SUPPORTED_VERSIONS, type Frame, type Payload } from './protocol.js';

export interface ConnectOptions {
  /** Server address (default 127.0.0.1). */
  host?: string;
  port: number;
  /** Access token, if the server requires one. */
  token?: string;
  /** Time allowed for connecting and the handshake, ms (default 10 000). */
  connectTimeoutMs?: number;
}

/** An error frame from the server, or the connection failing; a user-facing diagnostic. */
export class HilError extends UserError {
  constructor(
    diagnostics: Diagnostic[],
    /** Protocol error code (docs/hil-protocol.md); 0 when the connection itself failed. */
    readonly code: number,
    /** Lower-case name of the code (`bad_arguments`), or `connection`. */
    readonly codeName: string,
    /** The connection is closed after this error. */
    readonly fatal: boolean,
  ) {
    super(diagnostics);
    this.name = 'HilError';
  }

  /** From an error frame's JSON: bad-argument diagnostics stay exactly as the chip raised them. */
  static fromBody(body: Partial<ErrorBody>): HilError {
    const code = typeof body.code === 'number' ? body.code : 0;
    const name = typeof body.name === 'string' ? body.name : errorName(code);
    const message = typeof body.message === 'string' ? body.message : 'error without a message';
    const diagnostics = Array.isArray(body.diagnostics) && body.diagnostics.length > 0 ? (body.diagnostics as Diagnostic[]) : [{ message: `lechip server: ${name}: ${message}` }];
    return new HilError(diagnostics, code, name, body.fatal === true);
  }

  /** The connection failed or closed (no error frame). */
  static connection(message: string): HilError {
    return new HilError([{ message }], 0, 'connection', true);
  }
}

interface Pending {
  type: number;
  resolve: (p: Payload) => void;
  reject: (e: Error) => void;
  onProgress?: (done: number) => void;
}

/** A chip behind a `lechip serve` connection. */
export class RemoteChip implements Chip {
  private readonly pending = new Map<number, Pending>();
  private readonly reader = new FrameReader({ maxPayloadBytes: 0xffffffff });
  private nextId = 1;
  private failure: HilError | undefined;
  private now = { t_bio_ms: 0, t_hw_us: 0 };
  private closing: Promise<void> | undefined;
  /** What the server said about itself in the handshake (limits, chip, versions). */
  server!: ServerDescription;
  /** The protocol version of this connection's frames: HELLO goes out in the oldest version (any
   * server can read it), every later frame in the version the server chose. */
  version = SUPPORTED_VERSIONS[0];

  private constructor(
    private readonly socket: Socket,
    private readonly where: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(HilError.connection(`connection to lechip server at ${where} failed: ${err.code ?? err.message}`)));
    socket.on('close', () => this.fail(HilError.connection(`connection to lechip server at ${where} closed`)));
  }

  /** Connects and performs the handshake. */
  static async connect(opts: ConnectOptions): Promise<RemoteChip> {
    const host = opts.host ?? '127.0.0.1';
    const where = `${host}:${opts.port}`;
    const timeoutMs = opts.connectTimeoutMs ?? 10_000;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port: opts.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(HilError.connection(`cannot connect to lechip server at ${where}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(HilError.connection(`cannot connect to lechip server at ${where}: ${err.code === 'ECONNREFUSED' ? 'connection refused (is `lechip serve` running on that port?)' : (err.code ?? err.message)}`));
      });
    });
    const chip = new RemoteChip(socket, where);
    const timer = setTimeout(() => chip.fail(HilError.connection(`lechip server at ${where} did not answer HELLO within ${timeoutMs} ms`)), timeoutMs);
    try {
      const reply = await chip.request(Command.HELLO, encodeHello({ versions: [...SUPPORTED_VERSIONS], client: `lechip-ts/${toolVersion()}`, token: opts.token }));
      chip.server = reply.json as unknown as ServerDescription;
      if (!SUPPORTED_VERSIONS.includes(chip.server.protocol)) {
        throw HilError.connection(`server at ${where} answered with protocol ${chip.server.protocol}; this client speaks ${SUPPORTED_VERSIONS.join(', ')}`);
      }
      chip.version = chip.server.protocol;
      return chip;
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private onData(chunk: Buffer): void {
    for (const r of this.reader.push(chunk)) {
      if (r.kind === 'error') {
        this.fail(HilError.connection(`bad frame from lechip server at ${this.where}: ${r.message}`));
        this.socket.destroy();
        return;
      }
      if (r.kind === 'frame') this.onFrame(r.frame);
    }
  }

  private onFrame(f: Frame): void {
    if (f.type === FRAME_ERROR) {
      const err = HilError.fromBody(f.payload.json as Partial<ErrorBody>);
      const p = this.pending.get(f.requestId);
      if (p) {
        this.pending.delete(f.requestId);
        p.reject(err);
      }
      // An error not tied to a request (timeout, shutdown) or a fatal one ends the connection.
      if (err.fatal || !p) this.fail(err);
      return;
    }
    const p = this.pending.get(f.requestId);
    if (!p) return;
    if (f.type === FRAME_PROGRESS) {
      const done = f.payload.json.done;
      if (typeof done === 'number') p.onProgress?.(done);
      return;
    }
    this.pending.delete(f.requestId);
    if (f.type !== (REPLY_BIT | p.type)) {
      p.reject(HilError.connection(`lechip server at ${this.where} answered request type 0x${p.type.toString(16)} with frame type 0x${f.type.toString(16)}`));
      return;
    }
    const t = f.payload.json.time as { t_bio_ms?: unknown; t_hw_us?: unknown } | undefined;
    if (t && typeof t.t_bio_ms === 'number' && typeof t.t_hw_us === 'number') this.now = { t_bio_ms: t.t_bio_ms, t_hw_us: t.t_hw_us };
    p.resolve(f.payload);
  }

  /** Marks the connection failed and rejects everything waiting. */
  private fail(err: HilError): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (!this.socket.destroyed) this.socket.destroy();
  }

  /** Sends one request and waits for its reply payload (or its error). */
  request(type: number, payload: Payload, onProgress?: (done: number) => void): Promise<Payload> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    return new Promise<Payload>((resolve, reject) => {
      this.pending.set(id, { type, resolve, reject, onProgress });
      this.socket.write(encodeFrame(type, id, payload, this.version));
    });
  }

  async load(image: Uint8Array): Promise<ImageManifest> {
    const reply = await this.request(Command.LOAD_IMAGE, encodeLoadImage(image));
    return reply.json.manifest as ImageManifest;
  }

  async configure(config: ChipConfig): Promise<void> {
    await this.request(Command.CONFIGURE, encodeConfigure(config));
  }

  async writeInputs(inputs: Record<string, Schedule>, targets?: Record<string, Schedule>): Promise<void> {
    await this.request(Command.WRITE_INPUTS, encodeWriteInputs(inputs, targets));
  }

  async run(options: RunOptions): Promise<Recording> {
    return decodeRecording(await this.request(Command.RUN, encodeRun(options)));
  }

  async present(options: PresentOptions): Promise<Float32Array> {
    const reply = await this.request(Command.PRESENT, encodePresent(options), options.onProgress);
    return decodeReadout(reply);
  }

  async readWeights(projection: number): Promise<Float32Array> {
    return decodeWeights(await this.request(Command.READ_WEIGHTS, encodeReadWeights(projection)));
  }

  async writeWeights(projection: number, weights: ArrayLike<number>): Promise<void> {
    await this.request(Command.WRITE_WEIGHTS, encodeWriteWeights(projection, weights));
  }

  async readParameters(population: string): Promise<CircuitParameters> {
    return decodeParameters('READ_PARAMETERS reply', await this.request(Command.READ_PARAMETERS, encodePopulation(population))) as CircuitParameters;
  }

  async writeParameters(population: string, params: Partial<CircuitParameters>): Promise<void> {
    await this.request(Command.WRITE_PARAMETERS, encodeParameters(params, population));
  }

  async reset(): Promise<void> {
    await this.request(Command.RESET, { json: {}, arrays: new Map() });
  }

  /** The chip's time after the last completed request. */
  time(): { t_bio_ms: number; t_hw_us: number } {
    return { ...this.now };
  }

  /** Asks the server for the chip's time (one round trip; the latency benchmark's probe). */
  async fetchTime(): Promise<{ t_bio_ms: number; t_hw_us: number }> {
    const reply = await this.request(Command.TIME, { json: {}, arrays: new Map() });
    return { t_bio_ms: reply.json.t_bio_ms as number, t_hw_us: reply.json.t_hw_us as number };
  }

  /** Says BYE (the server releases the chip) and closes the connection; safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.failure) {
        try {
          await this.request(Command.BYE, { json: {}, arrays: new Map() });
        } catch {
          // The server may already be gone; closing is all that is left to do.
        }
      }
      this.fail(HilError.connection(`connection to lechip server at ${this.where} was closed by this client`));
    })();
    return this.closing;
  }
}

/** Connects to a `lechip serve` server; the result is a Chip like createEmulatedChip()'s. */
export function connectChip(opts: ConnectOptions): Promise<RemoteChip> {
  return RemoteChip.connect(opts);
}
