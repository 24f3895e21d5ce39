/** Shared pieces of the HIL tests: a raw frame-level client, a canonical byte form of results, images. */
import { connect, type Socket } from 'node:net';
import { encodeImage } from '../../chip/image.js';
import { Command, encodeFrame, FrameReader, type DecodeResult, type Frame, type NdArray } from '../../emulator/hil/protocol.js';
import { syntheticImage } from '../image/synthetic-image.js';

/** Bytes of the small synthetic image (2-3-2 on the ideal chip). */
export function syntheticImageBytes(): Uint8Array {
  return encodeImage(syntheticImage('ideal'));
}

/** A client that speaks raw frames (or raw bytes), to test what the library client never sends. */
export class RawClient {
  readonly socket: Socket;
  private readonly reader = new FrameReader({ maxPayloadBytes: 0xffffffff });
  private readonly inbox: DecodeResult[] = [];
  private waiters: ((r: DecodeResult | 'closed') => void)[] = [];
  /** Resolves when the server closed the connection (or it failed). */
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const r of this.reader.push(chunk)) this.deliver(r);
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) w('closed');
        resolve();
      }),
    );
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private deliver(r: DecodeResult): void {
    const w = this.waiters.shift();
    if (w) w(r);
    else this.inbox.push(r);
  }

  /** The next frame from the server, or 'closed' if the connection ends first. */
  next(timeoutMs = 5000): Promise<Frame | 'closed'> {
    const queued = this.inbox.shift();
    const toFrame = (r: DecodeResult | 'closed'): Frame | 'closed' => {
      if (r === 'closed') return r;
      if (r.kind !== 'frame') throw new Error(`server sent an undecodable frame: ${JSON.stringify(r)}`);
      return r.frame;
    };
    if (queued) return Promise.resolve(toFrame(queued));
    if (this.isClosed) return Promise.resolve('closed');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no frame within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((r) => {
        clearTimeout(timer);
        try {
          resolve(toFrame(r));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Sends a request frame and returns the next frame. */
  async call(type: number, id: number, json: Record<string, unknown> = {}, arrays = new Map<string, NdArray>()): Promise<Frame | 'closed'> {
    this.write(encodeFrame(type, id, { json, arrays }));
    return this.next();
  }

  /** HELLO with protocol 1 (and a token when given); returns the reply. */
  hello(token?: string): Promise<Frame | 'closed'> {
    return this.call(Command.HELLO, 1, token === undefined ? { versions: [1], client: 'raw-test' } : { versions: [1], client: 'raw-test', token });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * A canonical byte form of a result (objects with sorted keys, numbers as float64 bits, typed arrays
 * with their type and bytes), so "identical" means identical to the last bit, -0 and NaN included.
 */
export function canonicalBytes(value: unknown): Buffer {
  const parts: Buffer[] = [];
  const tag = (s: string) => parts.push(Buffer.from(s, 'utf8'));
  const walk = (v: unknown): void => {
    if (typeof v === 'number') {
      const b = Buffer.alloc(9);
      b[0] = 0x4e;
      b.writeDoubleLE(v, 1);
      parts.push(b);
    } else if (typeof v === 'string') tag(`s${v.length}:${v}`);
    else if (typeof v === 'boolean' || v === null || v === undefined) tag(`<${String(v)}>`);
    else if (ArrayBuffer.isView(v)) {
      tag(`${v.constructor.name}${v.byteLength}:`);
      parts.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    } else if (Array.isArray(v)) {
      tag(`[${v.length}`);
      v.forEach(walk);
      tag(']');
    } else if (typeof v === 'object') {
      const keys = Object.keys(v as object).sort();
      tag(`{${keys.length}`);
      for (const k of keys) {
        tag(`k${k}`);
        walk((v as Record<string, unknown>)[k]);
      }
      tag('}');
    } else throw new Error(`canonicalBytes: ${typeof v}`);
  };
  walk(value);
  return Buffer.concat(parts);
}

/** Waits until `cond()` holds (polling), or fails after timeoutMs. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
