/**
 * One connection's conversation with its own chip: the handshake, the access token, and each
 * command turned into a call on the `Chip` interface. Knows nothing of sockets (server.ts owns
 * those), so every command can be tested on frames alone.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ImageManifest } from '../../chip/image-model.js';
import type { Chip } from '../chip-interface.js';
import {
  configureFields,
  decodeConfigure,
  decodeHello,
  decodeLoadImage,
  decodePopulation,
  decodePresent,
  decodeProjection,
  decodeRun,
  decodeWriteInputs,
  decodeWriteWeights,
  decodeParameters,
  encodeParameters,
  encodeReadout,
  encodeRecording,
  encodeWeights,
  type ServerDescription,
} from './messages.js';
import { Command, commandName, emptyPayload, ErrorCode, SUPPORTED_VERSIONS, type ErrorCodeValue, type Frame, type Payload } from './protocol.js';

/** A request refused with a protocol error code (not a user mistake in the arguments). */
export class ProtocolFailure extends Error {
  constructor(
    readonly code: ErrorCodeValue,
    message: string,
    /** The server closes the connection after sending this error. */
    readonly fatal = false,
  ) {
    super(message);
    this.name = 'ProtocolFailure';
  }
}

export interface SessionOptions {
  /** Makes this connection's chip (called once, at the handshake). */
  createChip: () => Promise<Chip>;
  /** Access token HELLO must carry, if any. */
  token?: string;
  /** Largest biological duration of one RUN, or count x t_pres of one PRESENT, ms. */
  maxRunMs: number;
  /** Largest `threads` a CONFIGURE may ask for (the server's cores are shared by its connections). */
  maxThreads: number;
  /** The server's description for the HELLO reply. */
  description: ServerDescription;
}

/** What the server sends back for a request: a reply payload, and whether to close afterwards. */
export interface SessionReply {
  payload: Payload;
  close?: boolean;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** The HELLO reply at the chosen version: version 1 gets exactly version 1's fields. */
function describeFor(d: ServerDescription, version: number, maxThreads: number): Record<string, unknown> {
  if (version < 2) {
    const { protocols: _p, configure_fields: _c, ...v1 } = d;
    const { max_threads: _m, ...limits } = d.limits;
    return { ...v1, protocol: version, limits };
  }
  return { ...d, protocol: version, protocols: [...SUPPORTED_VERSIONS], limits: { ...d.limits, max_threads: maxThreads }, configure_fields: configureFields(version) };
}

/** A connection's state: handshake done, its chip, the loaded image. */
export class Session {
  private chip: Chip | undefined;
  private manifest: ImageManifest | undefined;
  private greeted = false;
  /** The protocol version chosen at HELLO (undefined before). */
  version: number | undefined;

  constructor(private readonly opts: SessionOptions) {}

  /** Handles one request frame; throws ProtocolFailure, UserError (bad arguments) or a bug. */
  async handle(frame: Frame, progress: (done: number) => void): Promise<SessionReply> {
    const name = commandName(frame.type);
    if (!name) throw new ProtocolFailure(ErrorCode.UNKNOWN_COMMAND, `unknown command type 0x${frame.type.toString(16).padStart(4, '0')}`);
    if (name === 'HELLO') return this.hello(frame.payload);
    if (name === 'BYE') return { payload: emptyPayload(), close: true };
    if (!this.greeted || !this.chip) throw new ProtocolFailure(ErrorCode.HELLO_REQUIRED, `${name} before HELLO: the first request on a connection must be HELLO`);
    const chip = this.chip;
    if (name === 'TIME') return { payload: { json: { ...this.timeOf(chip) }, arrays: new Map() } };
    if (name === 'LOAD_IMAGE') {
      const bytes = decodeLoadImage(frame.payload);
      this.manifest = undefined;
      const manifest = await chip.load(bytes);
      this.manifest = manifest;
      return this.withTime({ json: { manifest }, arrays: new Map() });
    }
    const manifest = this.manifest;
    if (!manifest) throw new ProtocolFailure(ErrorCode.NOT_LOADED, `${name}: no image loaded on this connection; send LOAD_IMAGE first`);
    switch (frame.type) {
      case Command.CONFIGURE: {
        const config = decodeConfigure(frame.payload, this.version);
        if (config.threads !== undefined && config.threads > this.opts.maxThreads) {
          throw new ProtocolFailure(ErrorCode.LIMIT_EXCEEDED, `CONFIGURE: threads ${config.threads} exceeds this server's limit of ${this.opts.maxThreads} per connection (results are identical with fewer)`);
        }
        await chip.configure(config);
        return this.withTime(emptyPayload());
      }
      case Command.WRITE_INPUTS: {
        const { inputs, targets } = decodeWriteInputs(frame.payload);
        await chip.writeInputs(inputs, targets);
        return this.withTime(emptyPayload());
      }
      case Command.RUN: {
        const o = decodeRun(frame.payload);
        if (o.durationMs > this.opts.maxRunMs) {
          throw new ProtocolFailure(ErrorCode.LIMIT_EXCEEDED, `RUN of ${o.durationMs} ms exceeds this server's limit of ${this.opts.maxRunMs} ms (biological) per request; split the run`);
        }
        return this.withTime(encodeRecording(await chip.run(o)));
      }
      case Command.PRESENT: {
        const o = decodePresent(frame.payload);
        const total = o.count * o.tPresMs;
        if (total > this.opts.maxRunMs) {
          throw new ProtocolFailure(ErrorCode.LIMIT_EXCEEDED, `PRESENT of ${o.count} samples x ${o.tPresMs} ms = ${total} ms exceeds this server's limit of ${this.opts.maxRunMs} ms (biological) per request; present fewer samples per request`);
        }
        const readout = await chip.present(o.progressEvery !== undefined ? { ...o, onProgress: progress } : o);
        return this.withTime(encodeReadout(readout, o.count));
      }
      case Command.READ_WEIGHTS: {
        const projection = decodeProjection('READ_WEIGHTS', frame.payload);
        const w = await chip.readWeights(projection);
        const p = manifest.projections[projection];
        return this.withTime(encodeWeights(w, p ? [p.post_size, p.pre_size] : undefined));
      }
      case Command.WRITE_WEIGHTS: {
        const { projection, weights } = decodeWriteWeights(frame.payload);
        await chip.writeWeights(projection, weights);
        return this.withTime(emptyPayload());
      }
      case Command.READ_PARAMETERS: {
        const population = decodePopulation('READ_PARAMETERS', frame.payload);
        return this.withTime(encodeParameters(await chip.readParameters(population)));
      }
      case Command.WRITE_PARAMETERS: {
        const population = decodePopulation('WRITE_PARAMETERS', frame.payload);
        await chip.writeParameters(population, decodeParameters('WRITE_PARAMETERS', frame.payload));
        return this.withTime(emptyPayload());
      }
      case Command.RESET:
        await chip.reset();
        return this.withTime(emptyPayload());
    }
    throw new Error(`command ${name} has no handler`);
  }

  private async hello(p: Payload): Promise<SessionReply> {
    const h = decodeHello(p);
    if (this.greeted) throw new ProtocolFailure(ErrorCode.BAD_ARGUMENTS, 'HELLO was already received on this connection');
    const common = SUPPORTED_VERSIONS.filter((v) => h.versions.includes(v));
    if (common.length === 0) {
      throw new ProtocolFailure(ErrorCode.UNSUPPORTED_VERSION, `client speaks protocol versions ${h.versions.join(', ')}; this server speaks ${SUPPORTED_VERSIONS.join(', ')}`, true);
    }
    const version = Math.max(...common);
    if (this.opts.token !== undefined) {
      // Compare digests in constant time, so the reply time says nothing about the token.
      if (h.token === undefined || !timingSafeEqual(digest(h.token), digest(this.opts.token))) {
        throw new ProtocolFailure(ErrorCode.UNAUTHORISED, h.token === undefined ? 'this server requires an access token in HELLO' : 'wrong access token', true);
      }
    }
    this.chip = await this.opts.createChip();
    this.greeted = true;
    this.version = version;
    return { payload: { json: describeFor(this.opts.description, version, this.opts.maxThreads), arrays: new Map() } };
  }

  private timeOf(chip: Chip): { t_bio_ms: number; t_hw_us: number } {
    try {
      const t = chip.time();
      return { t_bio_ms: t.t_bio_ms, t_hw_us: t.t_hw_us };
    } catch {
      // A chip without an image may not know its time yet.
      return { t_bio_ms: 0, t_hw_us: 0 };
    }
  }

  /** Every reply carries the chip's time after the request, so a client's time() is exact. */
  private withTime(p: Payload): SessionReply {
    if (this.chip) p.json.time = this.timeOf(this.chip);
    return { payload: p };
  }

  /** Releases the chip (after the last request finished). */
  async close(): Promise<void> {
    const chip = this.chip;
    this.chip = undefined;
    if (chip) await chip.close();
  }
}
