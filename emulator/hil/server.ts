/**
 * The hardware-in-the-loop server: TCP on 127.0.0.1 by default, one chip per connection, requests
 * on a connection answered in order. It protects itself and its other clients with limits on frame
 * size, buffered bytes per connection, run duration and connection count; idle and read timeouts;
 * an optional access token; and a shutdown that lets in-flight requests finish (bounded), refuses
 * new ones with a `shutting_down` error, then closes. No client's mistake or disappearance
 * reaches another connection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { PRESET_NAMES } from '../../chip/spec.js';
import { UserError } from '../../common/diagnostics.js';
import { toolVersion } from '../../common/paths.js';
import type { Chip } from '../chip-interface.js';
import { createEmulatedChip } from '../emulated-chip.js';
import { MAX_THREADS } from '../threads/control.js';
import type { ErrorBody, ServerDescription } from './messages.js';
import { encodeFrame, errorName, ErrorCode, FRAME_ERROR, FRAME_PROGRESS, FrameReader, HEADER_BYTES, PROTOCOL_VERSION, REPLY_BIT, SUPPORTED_VERSIONS, type ErrorCodeValue, type Frame } from './protocol.js';
import { ProtocolFailure, Session } from './session.js';

export interface ServerOptions {
  /** Interface to listen on (default 127.0.0.1: reachable from this machine only). */
  host?: string;
  /** TCP port; 0 (default) lets the system pick one, reported by startServer. */
  port?: number;
  /** When set, HELLO must carry this access token. */
  token?: string;
  /** Largest payload of one frame, bytes (default 256 MiB). */
  maxFrameBytes?: number;
  /** Bytes one connection may hold buffered (received or queued requests); beyond it the server stops
   * reading from that client until it catches up (default 2 x maxFrameBytes + 1 MiB). */
  maxConnectionBytes?: number;
  /** Largest biological duration of one RUN, or count x t_pres of one PRESENT, ms (default 100 000). */
  maxRunMs?: number;
  /** A connection with nothing to do for this long is closed (default 300 s). */
  idleTimeoutS?: number;
  /** A frame that stops arriving half-way for this long closes the connection (default 10 s). */
  readTimeoutS?: number;
  /** Connections served at once; more are refused with `limit_exceeded` (default 64). */
  maxConnections?: number;
  /** Largest `threads` one connection's CONFIGURE may ask for (default: this machine's cores, at most 16). */
  maxThreads?: number;
  /** How long shutdown waits for in-flight requests before closing anyway (default 10 000 ms). */
  shutdownGraceMs?: number;
  /** Makes one connection's chip (default: the in-process emulator, createEmulatedChip). */
  createChip?: () => Promise<Chip>;
  /** One line per event (connections, errors); default silent. */
  log?: (line: string) => void;
}

/** A running server. */
export interface HilServer {
  host: string;
  port: number;
  /** Stops accepting, finishes or refuses in-flight work, closes every connection. */
  close(): Promise<void>;
  /** Open connections now. */
  connections(): number;
}

const MIB = 1024 * 1024;
/** After a fatal error the server keeps draining the client's bytes this long, so the error frame is
 * read before the connection is torn down (a reset would discard it from the client's buffer). */
const LINGER_MS = 1000;

interface Limits {
  maxFrameBytes: number;
  maxConnectionBytes: number;
  maxRunMs: number;
  idleTimeoutMs: number;
  readTimeoutMs: number;
}

/** One client: its socket, its frame reader, its queue of requests, its session (chip). */
class Connection {
  private readonly reader: FrameReader;
  private readonly queue: { frame: Frame; size: number }[] = [];
  /** Size of the frame being processed (its arrays are held until the reply is out). */
  private inFlightBytes = 0;
  private busy = false;
  private paused = false;
  private closing = false;
  private closed = false;
  private stopping = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private readTimer: NodeJS.Timeout | undefined;
  /** Bumped whenever the timers are re-armed: a timer that fires for an older state does nothing. */
  private generation = 0;
  private readonly session: Session;
  /** Resolves once the socket is closed and the chip released. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly limits: Limits,
    session: Session,
    private readonly log: (line: string) => void,
  ) {
    this.session = session;
    this.reader = new FrameReader({ maxPayloadBytes: limits.maxFrameBytes });
    this.done = new Promise((r) => (this.resolveDone = r));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log(`connection ${id}: socket error: ${err.message}`));
    socket.on('close', () => void this.onClose());
    this.rearm();
  }

  /** Bytes of requests received and not yet answered. */
  private get queuedBytes(): number {
    return this.queue.reduce((n, q) => n + q.size, this.inFlightBytes);
  }

  /** Is a request being processed right now? */
  get inFlight(): boolean {
    return this.busy;
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return; // draining after a fatal error: bytes are read and dropped
    for (const r of this.reader.push(chunk)) {
      if (r.kind === 'frame') {
        this.lastVersion = r.frame.version;
        if (this.stopping) this.sendError(r.frame.requestId, ErrorCode.SHUTTING_DOWN, 'server is shutting down; request not run');
        else {
          this.queue.push({ frame: r.frame, size: r.size });
        }
      } else if (r.kind === 'error') {
        this.log(`connection ${this.id}: ${errorName(r.code)}: ${r.message}`);
        if (r.fatal) {
          this.fail(r.requestId, r.code, r.message);
          return;
        }
        this.sendError(r.requestId, r.code, r.message);
      }
    }
    this.rearm();
    void this.pump();
  }

  /** Answers queued requests one at a time, in order. */
  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closed && !this.closing) {
        const { frame, size } = this.queue.shift()!;
        this.inFlightBytes = size;
        this.rearm();
        await this.process(frame);
        this.inFlightBytes = 0;
        // A client that does not read its replies is not sent more: wait until its buffer drains.
        if (this.socket.writableLength > this.limits.maxConnectionBytes) await this.drained();
      }
    } finally {
      this.busy = false;
      this.rearm();
      if (this.stopping && !this.closing && !this.closed) this.fail(0, ErrorCode.SHUTTING_DOWN, 'server is shutting down; connection closed');
      if (this.closed) await this.release();
    }
  }

  private async process(frame: Frame): Promise<void> {
    try {
      const reply = await this.session.handle(frame, (done) => this.send(FRAME_PROGRESS, frame.requestId, { json: { done } }));
      this.send(REPLY_BIT | frame.type, frame.requestId, reply.payload);
      if (reply.close) this.closeGracefully();
    } catch (err) {
      if (err instanceof ProtocolFailure) {
        this.log(`connection ${this.id}: ${errorName(err.code)}: ${err.message}`);
        if (err.fatal) this.fail(frame.requestId, err.code, err.message);
        else this.sendError(frame.requestId, err.code, err.message);
      } else if (err instanceof UserError) {
        this.sendError(frame.requestId, ErrorCode.BAD_ARGUMENTS, err.message, { diagnostics: err.diagnostics });
      } else {
        const e = err as Error;
        this.log(`connection ${this.id}: internal error: ${e?.stack ?? String(err)}`);
        this.sendError(frame.requestId, ErrorCode.INTERNAL, `internal error in the server: ${e?.message ?? String(err)}`);
      }
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      let finished = false;
      // Checked after the I/O phase, as in expire(): a drain already signalled by the socket wins.
      const timer = setTimeout(() => {
        setImmediate(() => {
          if (finished) return;
          finished = true;
          this.log(`connection ${this.id}: client has not read its replies for ${this.limits.readTimeoutMs} ms; closing`);
          this.socket.destroy();
          resolve();
        });
      }, this.limits.readTimeoutMs);
      const done = () => {
        finished = true;
        clearTimeout(timer);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  private send(type: number, requestId: number, payload: Parameters<typeof encodeFrame>[2]): void {
    if (this.closed || this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(encodeFrame(type, requestId, payload, this.version));
  }

  /** Frames go out in the version chosen at HELLO; before it, in the version of the client's last frame. */
  private get version(): number {
    return this.session.version ?? this.lastVersion;
  }
  private lastVersion = SUPPORTED_VERSIONS[0];

  private sendError(requestId: number, code: ErrorCodeValue, message: string, extra: Partial<ErrorBody> = {}): void {
    const body: ErrorBody = { code, name: errorName(code), message, ...extra };
    this.send(FRAME_ERROR, requestId, { json: body as unknown as Record<string, unknown> });
  }

  /** Sends a fatal error, then closes: stops reading frames, drains the client's bytes briefly. */
  fail(requestId: number, code: ErrorCodeValue, message: string): void {
    if (this.closing || this.closed) return;
    this.sendError(requestId, code, message, { fatal: true });
    this.closeGracefully();
  }

  private closeGracefully(): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    this.queue.length = 0;
    this.clearTimers();
    if (this.paused) this.socket.resume();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  /** Shutdown: queued requests are refused, the one in flight finishes, then the connection closes. */
  beginShutdown(): void {
    this.stopping = true;
    for (const { frame: f } of this.queue.splice(0)) this.sendError(f.requestId, ErrorCode.SHUTTING_DOWN, 'server is shutting down; request not run');
    if (!this.busy) this.fail(0, ErrorCode.SHUTTING_DOWN, 'server is shutting down; connection closed');
  }

  /** Ends the connection now (shutdown grace expired). */
  destroy(): void {
    this.socket.destroy();
  }

  /** Keeps exactly the timers and flow control the current state calls for. */
  private rearm(): void {
    this.clearTimers();
    if (this.closing || this.closed) return;
    const buffered = this.reader.pendingBytes + this.queuedBytes;
    if (buffered > this.limits.maxConnectionBytes && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (buffered <= this.limits.maxConnectionBytes && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    if (this.reader.pendingBytes > 0 && !this.paused) {
      const have = this.reader.pendingBytes;
      this.readTimer = this.expire(this.limits.readTimeoutMs, () => {
        this.log(`connection ${this.id}: incomplete frame (${have} bytes) stalled for ${this.limits.readTimeoutMs} ms`);
        this.fail(0, ErrorCode.TIMEOUT, `incomplete frame: ${have} bytes received, then nothing for ${this.limits.readTimeoutMs / 1000} s`);
      });
    } else if (this.reader.pendingBytes === 0 && this.queue.length === 0 && !this.busy) {
      this.idleTimer = this.expire(this.limits.idleTimeoutMs, () => {
        this.log(`connection ${this.id}: idle for ${this.limits.idleTimeoutMs} ms`);
        this.fail(0, ErrorCode.TIMEOUT, `connection idle for ${this.limits.idleTimeoutMs / 1000} s`);
      });
    }
  }

  /**
   * A timeout that acts only if nothing happened meanwhile. The emulator computes a request without
   * yielding, so a timer can come due while bytes the client sent in time still wait in the socket:
   * the check is deferred past the event loop's I/O phase (setImmediate), where those bytes are read
   * and re-arm the timers, which makes this callback stale.
   */
  private expire(ms: number, action: () => void): NodeJS.Timeout {
    const generation = this.generation;
    return setTimeout(() => {
      setImmediate(() => {
        if (generation === this.generation && !this.closing && !this.closed) action();
      });
    }, ms);
  }

  private clearTimers(): void {
    this.generation++;
    clearTimeout(this.idleTimer);
    clearTimeout(this.readTimer);
    this.idleTimer = this.readTimer = undefined;
  }

  private async onClose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    this.queue.length = 0;
    this.log(`connection ${this.id}: closed`);
    // A request still running (the client left mid-run) finishes first; its reply goes nowhere.
    if (!this.busy) await this.release();
  }

  private released = false;
  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      await this.session.close();
    } catch (err) {
      this.log(`connection ${this.id}: closing its chip failed: ${(err as Error)?.message ?? String(err)}`);
    }
    this.resolveDone();
  }
}

/** Starts a server; resolves once it listens, with the port it got. */
export async function startServer(opts: ServerOptions = {}): Promise<HilServer> {
  const maxFrameBytes = opts.maxFrameBytes ?? 256 * MIB;
  const limits: Limits = {
    maxFrameBytes,
    maxConnectionBytes: Math.max(opts.maxConnectionBytes ?? 2 * maxFrameBytes + MIB, maxFrameBytes + HEADER_BYTES),
    maxRunMs: opts.maxRunMs ?? 100_000,
    idleTimeoutMs: (opts.idleTimeoutS ?? 300) * 1000,
    readTimeoutMs: (opts.readTimeoutS ?? 10) * 1000,
  };
  const maxConnections = opts.maxConnections ?? 64;
  const maxThreads = opts.maxThreads ?? Math.min(MAX_THREADS, availableParallelism());
  const graceMs = opts.shutdownGraceMs ?? 10_000;
  const createChip = opts.createChip ?? createEmulatedChip;
  const log = opts.log ?? (() => {});
  const host = opts.host ?? '127.0.0.1';
  const live = new Set<Connection>();
  let nextId = 1;
  let stopping = false;

  const describe = (connection: number): ServerDescription => ({
    protocol: PROTOCOL_VERSION,
    server: 'lechip',
    tool_version: toolVersion(),
    chip: { emulated: true, backend: 'lechip-emulator', presets: [...PRESET_NAMES] },
    limits: {
      max_frame_bytes: limits.maxFrameBytes,
      max_connection_bytes: limits.maxConnectionBytes,
      max_run_ms: limits.maxRunMs,
      idle_timeout_s: limits.idleTimeoutMs / 1000,
      read_timeout_s: limits.readTimeoutMs / 1000,
    },
    connection,
  });

  const server: Server = createServer({ noDelay: true }, (socket) => {
    const id = nextId++;
    if (stopping || live.size >= maxConnections) {
      const code = stopping ? ErrorCode.SHUTTING_DOWN : ErrorCode.LIMIT_EXCEEDED;
      const message = stopping ? 'server is shutting down' : `server is serving its limit of ${maxConnections} connections; try again later`;
      log(`connection ${id} from ${socket.remoteAddress}:${socket.remotePort}: refused: ${message}`);
      socket.on('error', () => {});
      socket.end(encodeFrame(FRAME_ERROR, 0, { json: { code, name: errorName(code), message, fatal: true } }));
      socket.resume();
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
      return;
    }
    log(`connection ${id} from ${socket.remoteAddress}:${socket.remotePort}`);
    const session = new Session({ createChip, token: opts.token, maxRunMs: limits.maxRunMs, maxThreads, description: describe(id) });
    const conn = new Connection(id, socket, limits, session, log);
    live.add(conn);
    void conn.done.then(() => live.delete(conn));
  });
  server.on('error', (err) => log(`server error: ${err.message}`));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  log(`lechip HIL server (protocol ${SUPPORTED_VERSIONS.join(', ')}) listening on ${host}:${port}`);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      stopping = true;
      const listenerClosed = new Promise<void>((r) => server.close(() => r()));
      for (const c of live) c.beginShutdown();
      const all = Promise.all([...live].map((c) => c.done));
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((r) => (timer = setTimeout(() => r('expired'), graceMs)));
      if ((await Promise.race([all, expired])) === 'expired') {
        log(`shutdown: ${[...live].filter((c) => c.inFlight).length} request(s) still running after ${graceMs} ms; closing their connections`);
        for (const c of live) c.destroy();
      }
      clearTimeout(timer);
      await listenerClosed;
      log('lechip HIL server stopped');
    })();
    return closing;
  };

  return { host, port, close, connections: () => live.size };
}
