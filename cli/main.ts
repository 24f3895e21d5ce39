/**
 * The `lechip` command line. Exit codes (CONTRACT.md): 0 ok; 1 a user error in a file or a value
 * (each diagnostic on one stderr line, `lechip: error: ...`, never a stack trace); 2 a malformed
 * command line (unknown flag or command, missing argument, a value of the wrong form); 70 a bug.
 * With --json, stdout carries exactly one JSON object, also when the command fails.
 */
import { Command, CommanderError } from 'commander';
import { formatDiagnostic, UserError } from '../common/diagnostics.js';
import { toolVersion } from '../common/paths.js';
import { COMMANDS } from './commands/index.js';
import { Console, type CliIo } from './io.js';

/** Builds the program with every command registered, writing to `con`. */
export function buildProgram(con: Console): Command {
  const program = new Command('lechip')
    .description('Compile Latent Equilibrium networks into images of accelerated analog neuromorphic chips, and run and train them in an emulator.')
    .version(toolVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => con.io.stdout.write(s),
      writeErr: (s) => con.io.stderr.write(s),
      outputError: (s, write) => write(con.colour.red('lechip: error: ') + s.replace(/^error: /, '')),
    });
  // Subcommands made with .command() inherit exitOverride and the output configuration.
  for (const register of COMMANDS) register(program, con);
  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const con = new Console(io);
  const json = argv.includes('--json');
  const program = buildProgram(con);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version exit 0; every other commander error is a malformed command line.
      if (err.exitCode === 0) return 0;
      if (json) con.json({ error: { exit_code: 2, messages: [err.message.replace(/^error: /, '')] } });
      return 2;
    }
    if (err instanceof UserError) {
      const lines = err.diagnostics.map(formatDiagnostic);
      for (const line of lines) con.error(line);
      if (json) con.json({ error: { exit_code: 1, messages: lines, diagnostics: err.diagnostics } });
      return 1;
    }
    io.stderr.write(`lechip: internal error (a bug in lechip, please report it): ${err instanceof Error ? err.stack : String(err)}\n`);
    if (json) con.json({ error: { exit_code: 70, messages: [`internal error: ${err instanceof Error ? err.message : String(err)}`] } });
    return 70;
  }
}
