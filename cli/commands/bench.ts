/** `lechip bench`: runs the benchmark suite (bench/suite.ts) and prints a table or one JSON object. */
import type { Command } from 'commander';
import { fail } from '../../common/diagnostics.js';
import { formatReport, listBenchmarks, runSuite, selectBenchmarks } from '../../bench/suite.js';
import { Console } from '../io.js';
import { checkPositiveInt, intArg } from '../options.js';

interface BenchOptions {
  json?: boolean;
  runs?: number;
  filter?: string;
  quick?: boolean;
  list?: boolean;
}

/** Adds `lechip bench [--json] [--runs N] [--filter SUBSTR] [--quick] [--list]` to the program. */
export function registerBench(program: Command, con: Console = new Console({ stdout: process.stdout, stderr: process.stderr })): void {
  program
    .command('bench')
    .description('benchmark the emulator against a native C baseline and the TypeScript reference; machine described, median of several runs')
    .option('--json', 'print one JSON object on stdout')
    .option('--runs <N>', 'timed runs per benchmark (default 5, 3 with --quick)', intArg)
    .option('--filter <SUBSTR>', 'only benchmarks whose name contains SUBSTR (plus the baselines their ratios need)')
    .option('--quick', 'short runs: a smoke test of the suite, noisier numbers')
    .option('--list', 'list the benchmarks and exit')
    .action(async (o: BenchOptions) => {
      checkPositiveInt('--runs', o.runs);
      const all = listBenchmarks();
      if (o.list) {
        const list = all.map((b) => ({ name: b.name, kind: b.kind, implementation: b.implementation, description: b.description }));
        if (o.json) con.json({ benchmarks: list });
        else con.out(list.map((b) => `${b.name.padEnd(44)} ${b.description}`).join('\n'));
        return;
      }
      if (o.filter !== undefined && selectBenchmarks(all, o.filter).length === 0) {
        fail(`--filter '${o.filter}' matches no benchmark; known: ${all.map((b) => b.name).join(', ')}`);
      }
      const report = await runSuite({ runs: o.runs, filter: o.filter, quick: o.quick, log: (line) => con.info(line) });
      if (o.json) con.json(report);
      else con.out(formatReport(report));
    });
}
