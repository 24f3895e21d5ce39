/**
 * `lechip serve` as a command: --json prints where it listens, a client is served, SIGTERM shuts it
 * down cleanly, bad values are user errors. The command is registered on a program built here
 * (cli/main.ts is another area's); signals are delivered with process.emit.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { Console } from '../../cli/io.js';
import { registerServe } from '../../cli/commands/serve.js';
import { UserError } from '../../common/diagnostics.js';
import { connectChip } from '../../emulator/hil/client.js';
import { hilImage } from './chips.js';
import { waitFor } from './helpers.js';

function program() {
  let stdout = '';
  let stderr = '';
  const con = new Console({ stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  const p = new Command('lechip').exitOverride();
  registerServe(p, con);
  return { p, out: () => stdout, err: () => stderr };
}

describe('lechip serve', () => {
  it('prints one JSON object once listening, serves, and stops cleanly on SIGTERM', async () => {
    const { p, out, err } = program();
    const done = p.parseAsync(['serve', '--port', '0', '--token', 'tok', '--max-run-ms', '500', '--json'], { from: 'user' });
    await waitFor(() => out().includes('\n'), 5000, 'the JSON line');
    const info = JSON.parse(out());
    expect(info).toMatchObject({ host: '127.0.0.1', protocol: 2, protocols: [1, 2], token_required: true, limits: { max_run_ms: 500, max_frame_bytes: 256 * 1024 * 1024 } });
    expect(info.port).toBeGreaterThan(0);
    const chip = await connectChip({ port: info.port, token: 'tok' });
    expect(chip.server.limits.max_run_ms).toBe(500);
    expect(await chip.fetchTime()).toEqual({ t_bio_ms: 0, t_hw_us: 0 });
    process.emit('SIGTERM', 'SIGTERM');
    await done;
    expect(out().trim().split('\n')).toHaveLength(1); // exactly one JSON object on stdout
    expect(err()).toMatch(/SIGTERM: finishing in-flight requests/);
    expect(err()).toMatch(/server stopped/);
    await expect(chip.fetchTime()).rejects.toMatchObject({ code: 8 }); // shutting_down notice, then closed
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });

  it('a value out of range is a user error; a port in use is a user error naming it', async () => {
    await expect(program().p.parseAsync(['serve', '--port', '70000'], { from: 'user' })).rejects.toThrow(UserError);
    await expect(program().p.parseAsync(['serve', '--idle-timeout-s', '0'], { from: 'user' })).rejects.toThrow(/--idle-timeout-s must be greater than 0 s/);
    const first = program();
    const running = first.p.parseAsync(['serve', '--json'], { from: 'user' });
    await waitFor(() => first.out().includes('\n'), 5000, 'the first server');
    const port = JSON.parse(first.out()).port;
    await expect(program().p.parseAsync(['serve', '--port', String(port)], { from: 'user' })).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: the port is in use`);
    process.emit('SIGINT', 'SIGINT');
    await running;
  });

  it('as a process (bin/lechip.js): serves a client mid-run of SIGTERM, finishes it, exits 0', async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'lechip.js'), 'serve', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor(() => out.includes('\n'), 20_000, 'the server to listen');
    const { port } = JSON.parse(out);
    const image = await hilImage();
    const chip = await connectChip({ port });
    await chip.load(image.bytes);
    await chip.configure({ chipSeed: 1 });
    // A long run in flight when the signal arrives: it finishes and its reply arrives.
    const run = chip.run({ durationMs: 20_000, record: ['out'], sampleEveryMs: 1000 });
    await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const rec = await run;
    expect(rec.t_bio_ms).toHaveLength(20);
    expect(await exited).toBe(0);
    expect(err).toMatch(/SIGTERM: finishing in-flight requests/);
    expect(out.trim().split('\n')).toHaveLength(1);
    await chip.close();
  });
});
