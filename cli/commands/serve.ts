/**
 * `lechip serve`: the emulated chip behind the hardware-in-the-loop protocol (docs/hil-protocol.md),
 * one chip per connection, until SIGINT or SIGTERM. Prints where it listens: a line on stderr, or
 * with --json one JSON object on stdout as soon as it listens (a script reads the port from it).
 */
import { Option, type Command } from 'commander';
import { fail } from '../../common/diagnostics.js';
import { toolVersion } from '../../common/paths.js';
import { availableParallelism } from 'node:os';
import { PROTOCOL_VERSION, SUPPORTED_VERSIONS } from '../../emulator/hil/protocol.js';
import { startServer } from '../../emulator/hil/server.js';
import type { Console } from '../io.js';
import { checkPositive, intArg, numberArg } from '../options.js';

interface ServeOptions {
  host: string;
  port: number;
  token?: string;
  maxFrameMb: number;
  maxRunMs: number;
  idleTimeoutS: number;
  readTimeoutS: number;
  maxConnections: number;
  maxThreads?: number;
  json?: boolean;
}

export function registerServe(program: Command, con: Console): void {
  program
    .command('serve')
    .description('serve the emulated chip over TCP (hardware-in-the-loop protocol, docs/hil-protocol.md) until SIGINT/SIGTERM')
    .option('--host <HOST>', 'interface to listen on (0.0.0.0 exposes the server to the network)', '127.0.0.1')
    .addOption(new Option('--port <P>', 'TCP port; 0 picks a free one and prints it').argParser(intArg).default(0))
    .addOption(new Option('--token <T>', 'access token every client must send in HELLO (or set LECHIP_TOKEN)').env('LECHIP_TOKEN'))
    .addOption(new Option('--max-frame-mb <N>', 'largest frame payload, MiB').argParser(numberArg).default(256))
    .addOption(new Option('--max-run-ms <N>', 'largest biological duration of one RUN (or count x t_pres of one PRESENT), ms').argParser(numberArg).default(100_000))
    .addOption(new Option('--idle-timeout-s <N>', 'close a connection idle for this long, s').argParser(numberArg).default(300))
    .addOption(new Option('--read-timeout-s <N>', 'close a connection whose frame stops arriving half-way for this long, s').argParser(numberArg).default(10))
    .addOption(new Option('--max-connections <N>', 'connections served at once').argParser(intArg).default(64))
    .addOption(new Option('--max-threads <N>', "largest `threads` one connection's CONFIGURE may ask for (default: this machine's cores, at most 16)").argParser(intArg))
    .option('--json', 'print one JSON object (host, port, protocol, limits) on stdout once listening')
    .action(async (o: ServeOptions) => {
      if (!(o.port >= 0 && o.port <= 65535)) fail(`--port must be between 0 and 65535 (got ${o.port})`);
      checkPositive('--max-frame-mb', o.maxFrameMb, 'MiB');
      checkPositive('--max-run-ms', o.maxRunMs, 'ms');
      checkPositive('--idle-timeout-s', o.idleTimeoutS, 's');
      checkPositive('--read-timeout-s', o.readTimeoutS, 's');
      if (!(o.maxConnections >= 1)) fail(`--max-connections must be 1 or more (got ${o.maxConnections})`);
      if (o.maxThreads !== undefined && !(o.maxThreads >= 1 && o.maxThreads <= 16)) fail(`--max-threads must be from 1 to 16 (got ${o.maxThreads})`);
      const maxThreads = o.maxThreads ?? Math.min(16, availableParallelism());
      if (o.token !== undefined && o.token === '') fail('--token must not be empty');
      const maxFrameBytes = Math.floor(o.maxFrameMb * 1024 * 1024);
      if (maxFrameBytes > 0xffffffff) fail(`--max-frame-mb must be below 4096 MiB, the protocol's largest frame (got ${o.maxFrameMb})`);

      let server;
      try {
        server = await startServer({
          host: o.host,
          port: o.port,
          token: o.token,
          maxFrameBytes,
          maxRunMs: o.maxRunMs,
          idleTimeoutS: o.idleTimeoutS,
          readTimeoutS: o.readTimeoutS,
          maxConnections: o.maxConnections,
          maxThreads,
          log: (line) => con.info(`lechip serve: ${line}`),
        });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const why = e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EADDRNOTAVAIL' ? 'no such local address' : e.message;
        return fail(`cannot listen on ${o.host}:${o.port}: ${why}`);
      }
      const info = {
        host: server.host,
        port: server.port,
        protocol: PROTOCOL_VERSION,
        protocols: [...SUPPORTED_VERSIONS],
        tool_version: toolVersion(),
        pid: process.pid,
        token_required: o.token !== undefined,
        limits: { max_frame_bytes: maxFrameBytes, max_run_ms: o.maxRunMs, idle_timeout_s: o.idleTimeoutS, read_timeout_s: o.readTimeoutS, max_connections: o.maxConnections, max_threads: maxThreads },
      };
      if (o.json) con.json(info);
      else con.info(`lechip serve: listening on ${server.host}:${server.port} (protocol ${SUPPORTED_VERSIONS.join(', ')}${o.token !== undefined ? ', token required' : ''}); Ctrl-C stops`);

      // Runs until a signal; the first one shuts down cleanly, a second one exits at once.
      const s = server;
      await new Promise<void>((resolve) => {
        let stopping = false;
        const onSignal = (sig: NodeJS.Signals) => {
          if (stopping) {
            con.warn(`${sig} again: exiting without waiting`);
            process.exit(130);
          }
          stopping = true;
          con.info(`lechip serve: ${sig}: finishing in-flight requests, refusing new ones`);
          void s.close().then(() => {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
            resolve();
          });
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
    });
}
