import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { leStepFlops, synapses } from '../../bench/flops.js';
import { findCompiler } from '../../bench/native.js';
import { fillRatios, formatReport, listBenchmarks, median, runSuite, selectBenchmarks, summarise } from '../../bench/suite.js';
import type { Benchmark, BenchReport, Measurement } from '../../bench/types.js';
import { registerBench } from '../../cli/commands/bench.js';
import { Console } from '../../cli/io.js';
import { UserError } from '../../common/diagnostics.js';

function fake(name: string, impl: Benchmark['implementation'], kind: Benchmark['kind'], m: Measurement | { skipped: string }): Benchmark {
  return {
    name,
    description: `fake ${name}`,
    kind,
    implementation: impl,
    sizes: kind === 'compile' ? undefined : [2, 3, 1],
    dt_ms: kind === 'compile' ? undefined : 0.01,
    speedup: kind === 'compile' ? undefined : 10_000,
    measure: async () => m,
  };
}

describe('FLOP count of one LE step', () => {
  it('counts a 2-3-1 network by hand', () => {
    // P = 2*3 + 3*1 = 9 synapses, 4 neurons.
    expect(synapses([2, 3, 1])).toBe(9);
    // forward: 2P + 13 per neuron = 18 + 52
    expect(leStepFlops([2, 3, 1], 'forward')).toBe(70);
    // train adds: output error 3*1; W_2^T diff (2*3*1) and times r' (3); updates 2P, one per row
    // (2 + 3), biases 2 * (3 + 1).
    expect(leStepFlops([2, 3, 1], 'train')).toBe(70 + 3 + 6 + 3 + 18 + 5 + 8);
  });

  it('gives the MNIST MLP about 0.54 MFLOP forward and 1.13 MFLOP per training step', () => {
    expect(leStepFlops([784, 300, 100, 10], 'forward')).toBe(2 * 266_200 + 13 * 410);
    expect(leStepFlops([784, 300, 100, 10], 'train')).toBe(1_134_564);
  });
});

describe('summarise and ratios', () => {
  it('median, min, max, GFLOP/s, bio and hardware seconds and the slowdown from the run values', () => {
    const b = fake('x-train', 'engine', 'train', { unit: 'steps/s', values: [] });
    const r = summarise(b, { unit: 'steps/s', values: [3000, 1000, 2000, 5000] }, { bss2: 1000 });
    expect(r.median).toBe(2500);
    expect(r.min).toBe(1000);
    expect(r.max).toBe(5000);
    expect(r.steps_per_s).toBe(2500);
    // 2500 steps/s * 0.01 ms = 25 ms of biology per wall second.
    expect(r.bio_s_per_wall_s).toBe(0.025);
    expect(r.hw_s_per_wall_s).toBe(2.5e-6);
    expect(r.slowdown_vs_chip).toBe(400_000);
    expect(r.slowdown_vs_presets).toEqual({ bss2: 40_000 });
    expect(r.gflops).toBe(Number(((113 * 2500) / 1e9).toPrecision(3)));
    expect(median([5, 1, 3])).toBe(3);
  });

  it('compile benchmarks report wall seconds, no step figures', () => {
    const r = summarise(fake('c', 'compiler', 'compile', { unit: 's', values: [] }), { unit: 's', values: [2, 4, 3] });
    expect(r.wall_s).toBe(3);
    expect(r.steps_per_s).toBeNull();
    expect(r.slowdown_vs_chip).toBeNull();
  });

  it('ratios divide by the native and reference results of the same kind and sizes', () => {
    const bs = [
      fake('n-train', 'native', 'train', { unit: 'steps/s', values: [] }),
      fake('r-train', 'reference', 'train', { unit: 'steps/s', values: [] }),
      fake('e-train', 'engine', 'train', { unit: 'steps/s', values: [] }),
      fake('e-forward', 'engine', 'forward', { unit: 'steps/s', values: [] }),
    ];
    const values = [[40_000], [1_000], [20_000], [30_000]];
    const results = bs.map((b, i) => summarise(b, { unit: 'steps/s', values: values[i] }));
    fillRatios(results, bs);
    expect(results[2].ratio_vs_native).toBe(0.5);
    expect(results[2].ratio_vs_reference).toBe(20);
    // No forward baselines in this set: no ratio rather than a wrong one.
    expect(results[3].ratio_vs_native).toBeNull();
  });

  it('a benchmark on MNIST inputs divides by the native baseline on MNIST inputs, not the dense one', () => {
    const mnist = <T extends Benchmark>(b: T): T => ({ ...b, inputs: 'mnist' });
    const bs = [
      fake('n-train', 'native', 'train', { unit: 'steps/s', values: [] }),
      mnist(fake('n-train-mnist', 'native', 'train', { unit: 'steps/s', values: [] })),
      fake('r-train', 'reference', 'train', { unit: 'steps/s', values: [] }),
      fake('f-train', 'firmware', 'train', { unit: 'steps/s', values: [] }),
      mnist(fake('f-train-mnist', 'firmware', 'train', { unit: 'steps/s', values: [] })),
    ];
    const values = [[40_000], [100_000], [1_000], [10_000], [30_000]];
    const results = bs.map((b, i) => summarise(b, { unit: 'steps/s', values: values[i] }));
    fillRatios(results, bs);
    expect(results[3].ratio_vs_native).toBe(0.25);
    expect(results[4].ratio_vs_native).toBe(0.3);
    // No reference on MNIST inputs in the set.
    expect(results[4].ratio_vs_reference).toBeNull();
  });

  it('a two-thread benchmark divides by the two-thread native baseline and by the (one-thread) reference', () => {
    const two = <T extends Benchmark>(b: T, baseline: string): T => ({ ...b, threads: 2, baseline });
    const bs = [
      fake('n-train', 'native', 'train', { unit: 'steps/s', values: [] }),
      two(fake('n-train-2threads', 'native', 'train', { unit: 'steps/s', values: [] }), 'n-train'),
      fake('r-train', 'reference', 'train', { unit: 'steps/s', values: [] }),
      fake('e-train', 'engine', 'train', { unit: 'steps/s', values: [] }),
      two(fake('e-train-2threads', 'engine', 'train', { unit: 'steps/s', values: [] }), 'e-train'),
    ];
    const values = [[40_000], [50_000], [1_000], [20_000], [25_000]];
    const results = bs.map((b, i) => summarise(b, { unit: 'steps/s', values: values[i] }));
    fillRatios(results, bs);
    expect(results[1].ratio_vs_single_thread).toBe(1.25);
    expect(results[3].ratio_vs_native).toBe(0.5);
    expect(results[4].ratio_vs_native).toBe(0.5);
    expect(results[4].ratio_vs_reference).toBe(25);
    expect(results[4].ratio_vs_single_thread).toBe(1.25);
  });

  it('the two-thread ratio run by run pairs run k with run k of the baseline (same round), beside the ratio of the medians', () => {
    const bs: Benchmark[] = [
      fake('e-train', 'engine', 'train', { unit: 'steps/s', values: [] }),
      { ...fake('e-train-2chips', 'engine', 'train', { unit: 'steps/s', values: [] }), threads: 2, chips: 2, baseline: 'e-train' },
    ];
    // Round 2 is slow for both (the host was busy): run by run the gain stays 1.8-2x.
    const values = [[20_000, 10_000, 21_000], [36_000, 19_000, 42_000]];
    const results = bs.map((b, i) => summarise(b, { unit: 'steps/s', values: values[i] }));
    fillRatios(results, bs);
    expect(results[1].ratio_vs_single_thread).toBe(1.8); // 36 000 / 20 000 (medians)
    expect(results[1].ratio_vs_single_thread_per_run).toEqual({ median: 1.9, min: 1.8, max: 2 });
    expect(results[0].ratio_vs_single_thread_per_run).toBeNull();
    const report = { machine: 'm', machine_info: { load_average_1m: 0 }, runs: 3, quick: false, results } as unknown as BenchReport;
    expect(formatReport(report)).toMatch(/e-train-2chips +2 threads: 1\.8x \(run by run: median 1\.9x, 1\.8-2x\)/);
  });

  it('an int8 weight-kernel benchmark divides by the same work on float weights, run by run too, and a filter pulls that in', () => {
    const bs: Benchmark[] = [
      fake('w-float', 'engine', 'forward', { unit: 'steps/s', values: [] }),
      { ...fake('w-int8', 'engine', 'forward', { unit: 'steps/s', values: [] }), floatWeights: 'w-float' },
    ];
    const values = [[100, 50, 110], [130, 60, 150]];
    const results = bs.map((b, i) => summarise(b, { unit: 'steps/s', values: values[i] }));
    fillRatios(results, bs);
    expect(results[1].ratio_vs_float_weights).toBe(1.3); // 130 / 100 (medians)
    expect(results[1].ratio_vs_float_weights_per_run).toEqual({ median: 1.3, min: 1.2, max: 1.36 });
    expect(results[0].ratio_vs_float_weights).toBeNull();
    expect(results[1].ratio_vs_single_thread).toBeNull();
    const report = { machine: 'm', machine_info: { load_average_1m: 0 }, runs: 3, quick: false, results } as unknown as BenchReport;
    expect(formatReport(report)).toMatch(/int8 weight kernels[^\n]*\n +w-int8 +1\.3x \(run by run: median 1\.3x, 1\.2-1\.36x\)/);
    expect(selectBenchmarks(bs, 'int8').map((b) => b.name)).toEqual(['w-float', 'w-int8']);
    // The registered wide-network benchmarks: the int8 ones name their float twins, two threads their one.
    const wide = selectBenchmarks(listBenchmarks(), 'forward-6bit-mismatch-int8-2threads').map((b) => b.name);
    expect(wide).toEqual([
      'le-wide-1024-4096-4096-10-forward-6bit-mismatch-int8', 'le-wide-1024-4096-4096-10-forward-6bit-mismatch-float-2threads',
      'le-wide-1024-4096-4096-10-forward-6bit-mismatch-int8-2threads',
    ]);
  });

  it('several chips at once divide by their single-chip benchmark only, never by one-chip native or reference figures', () => {
    const bs: Benchmark[] = [
      fake('n-train', 'native', 'train', { unit: 'steps/s', values: [] }),
      { ...fake('n-train-2threads', 'native', 'train', { unit: 'steps/s', values: [] }), threads: 2, baseline: 'n-train' },
      fake('r-train', 'reference', 'train', { unit: 'steps/s', values: [] }),
      fake('e-train', 'engine', 'train', { unit: 'steps/s', values: [] }),
      { ...fake('e-train-2chips', 'engine', 'train', { unit: 'steps/s', values: [] }), threads: 2, chips: 2, baseline: 'e-train' },
    ];
    const values = [[40_000], [50_000], [1_000], [20_000], [36_000]];
    const results = bs.map((b, i) => summarise(b, { unit: 'steps/s', values: values[i] }));
    fillRatios(results, bs);
    expect(results[4].ratio_vs_single_thread).toBe(1.8);
    expect(results[4].ratio_vs_native).toBeNull();
    expect(results[4].ratio_vs_reference).toBeNull();
    expect(results[3].ratio_vs_native).toBe(0.5);
  });

  it('a filter keeps the baselines its ratios need', () => {
    const all = listBenchmarks();
    const filter = 'le-mlp-784-300-100-10-train';
    const names = selectBenchmarks(all, filter).map((b) => b.name);
    // Everything the filter matches (engine, two-thread, firmware, chip benchmarks: the list grows
    // as benchmarks are added), in registration order, plus exactly the baselines their ratios use.
    const matching = all.filter((b) => b.name.includes(filter)).map((b) => b.name);
    expect(matching.length).toBeGreaterThan(5);
    expect(names.filter((n) => n.includes(filter))).toEqual(matching);
    expect(names.filter((n) => !n.includes(filter))).toEqual([
      'le-mlp-784-300-100-10-native-train', 'le-mlp-784-300-100-10-native-train-mnist', 'le-mlp-784-300-100-10-native-train-2threads',
      'le-mlp-784-300-100-10-native-train-2chips',
      'le-mlp-784-300-100-10-native-train-128bit', 'le-mlp-784-300-100-10-native-train-mnist-128bit',
      'le-mlp-784-300-100-10-reference-train',
    ]);
    expect(selectBenchmarks(all, 'train-2threads').map((b) => b.name)).toEqual([
      'le-mlp-784-300-100-10-native-train', 'le-mlp-784-300-100-10-native-train-2threads', 'le-mlp-784-300-100-10-reference-train',
      'le-mlp-784-300-100-10-train', 'le-mlp-784-300-100-10-train-2threads',
    ]);
    expect(selectBenchmarks(all, 'compile').map((b) => b.name)).toEqual(['compile-100k-neurons']);
  });

  it('a 128-bit native build is never the ratio_vs_native baseline: it fills ratio_vs_native_128bit of the same work, and its own ratio_vs_native is over the full-width build', () => {
    const w128 = <T extends Benchmark>(b: T): T => ({ ...b, vectorBits: 128 });
    const mnist = <T extends Benchmark>(b: T): T => ({ ...b, inputs: 'mnist' });
    const two = <T extends Benchmark>(b: T, baseline: string): T => ({ ...b, threads: 2, baseline });
    const f = (name: string, impl: Benchmark['implementation'], kind: Benchmark['kind']) => fake(name, impl, kind, { unit: 'steps/s', values: [] });
    // The 128-bit builds come first, so a lookup that ignored vectorBits would take them as the native baseline.
    const bs = [
      w128(f('n-train-128bit', 'native', 'train')),
      w128(mnist(f('n-train-mnist-128bit', 'native', 'train'))),
      f('n-train', 'native', 'train'),
      mnist(f('n-train-mnist', 'native', 'train')),
      f('n-forward', 'native', 'forward'),
      two(f('n-train-2threads', 'native', 'train'), 'n-train'),
      f('e-train', 'engine', 'train'),
      mnist(f('fw-train-mnist', 'firmware', 'train')),
      f('e-forward', 'engine', 'forward'),
      two(f('e-train-2threads', 'engine', 'train'), 'e-train'),
    ];
    const values = [20_000, 60_000, 40_000, 100_000, 60_000, 50_000, 24_000, 30_000, 30_000, 30_000];
    const results = bs.map((b, i) => summarise(b, { unit: 'steps/s', values: [values[i]] }));
    fillRatios(results, bs);
    const at = (name: string) => results.find((r) => r.name === name)!;
    // Engine and firmware: over the full-width native build, and over the 128-bit one on the same inputs.
    expect([at('e-train').ratio_vs_native, at('e-train').ratio_vs_native_128bit]).toEqual([0.6, 1.2]);
    expect([at('fw-train-mnist').ratio_vs_native, at('fw-train-mnist').ratio_vs_native_128bit]).toEqual([0.3, 0.5]);
    // The 128-bit builds: what 128-bit vectors cost against the full-width build of the same work.
    expect([at('n-train-128bit').ratio_vs_native, at('n-train-128bit').ratio_vs_native_128bit]).toEqual([0.5, 1]);
    expect([at('n-train-mnist-128bit').ratio_vs_native, at('n-train-mnist-128bit').ratio_vs_native_128bit]).toEqual([0.6, 1]);
    expect([at('n-train').ratio_vs_native, at('n-train').ratio_vs_native_128bit]).toEqual([1, 2]);
    // No 128-bit build of that work (forward; two threads): no 128-bit ratio, the native one as before.
    expect([at('e-forward').ratio_vs_native, at('e-forward').ratio_vs_native_128bit]).toEqual([0.5, null]);
    expect([at('e-train-2threads').ratio_vs_native, at('e-train-2threads').ratio_vs_native_128bit]).toEqual([0.6, null]);
    expect(at('n-train-2threads').ratio_vs_native_128bit).toBeNull();
  });

  it('a filter pulls in the 128-bit baseline of the work it selects, and only of that work', () => {
    const w128 = <T extends Benchmark>(b: T): T => ({ ...b, vectorBits: 128 });
    const two = <T extends Benchmark>(b: T, baseline: string): T => ({ ...b, threads: 2, baseline });
    const f = (name: string, impl: Benchmark['implementation'], kind: Benchmark['kind']) => fake(name, impl, kind, { unit: 'steps/s', values: [] });
    const fakes = [
      f('n-train', 'native', 'train'), two(f('n-train-2threads', 'native', 'train'), 'n-train'), w128(f('n-train-128bit', 'native', 'train')),
      f('e-train', 'engine', 'train'), two(f('e-train-2threads', 'engine', 'train'), 'e-train'), f('e-forward', 'engine', 'forward'),
    ];
    const pick = (filter: string) => selectBenchmarks(fakes, filter).map((b) => b.name);
    expect(pick('e-train')).toEqual(['n-train', 'n-train-2threads', 'n-train-128bit', 'e-train', 'e-train-2threads']);
    // Two threads: no 128-bit build of that work; the single-thread baselines pulled in bring none either.
    expect(pick('2threads')).toEqual(['n-train', 'n-train-2threads', 'e-train', 'e-train-2threads']);
    expect(pick('e-forward')).toEqual(['e-forward']);
    // Selecting the 128-bit build pulls in the full-width build its ratio_vs_native divides by.
    expect(pick('128bit')).toEqual(['n-train', 'n-train-128bit']);

    const all = listBenchmarks();
    const P = 'le-mlp-784-300-100-10-';
    // Baselines pulled in for the MNIST firmware benchmark: the native ones on MNIST inputs, both widths.
    const pulled = (filter: string) => selectBenchmarks(all, filter).map((b) => b.name).filter((n) => !n.includes(filter));
    expect(pulled('train-firmware-translated-mnist')).toEqual([`${P}native-train-mnist`, `${P}native-train-mnist-128bit`]);
    expect(pulled(`${P}train-firmware-translated`)).toEqual([
      `${P}native-train`, `${P}native-train-mnist`, `${P}native-train-128bit`, `${P}native-train-mnist-128bit`, `${P}reference-train`,
    ]);
    expect(selectBenchmarks(all, '2threads').some((b) => b.vectorBits !== undefined)).toBe(false);
    expect(selectBenchmarks(all, 'native-train').map((b) => b.name)).toEqual([
      `${P}native-train`, `${P}native-train-mnist`, `${P}native-train-2threads`, `${P}native-train-2chips`, `${P}native-train-128bit`,
      `${P}native-train-mnist-128bit`, `${P}reference-train`,
    ]);
    for (const name of [`${P}native-train-128bit`, `${P}native-train-mnist-128bit`]) {
      const b = all.find((x) => x.name === name)!;
      expect(b.vectorBits).toBe(128);
      expect(b.implementation).toBe('native');
      expect(b.description).toMatch(/without AVX.*128-bit vectors, as WebAssembly SIMD/);
    }
  });

  it('the table has a "vs 128-bit C" column, "-" where there is no 128-bit build of the work', async () => {
    const w128 = <T extends Benchmark>(b: T): T => ({ ...b, vectorBits: 128 });
    const report = await runSuite({
      runs: 1,
      benchmarks: [
        w128(fake('n-train-128bit', 'native', 'train', { unit: 'steps/s', values: [20_000] })),
        fake('n-train', 'native', 'train', { unit: 'steps/s', values: [40_000] }),
        fake('e-train', 'engine', 'train', { unit: 'steps/s', values: [24_000] }),
        fake('e-forward', 'engine', 'forward', { unit: 'steps/s', values: [30_000] }),
      ],
    });
    const lines = formatReport(report).split('\n');
    const head = lines.find((l) => l.startsWith('benchmark'))!;
    expect(head).toMatch(/vs native +vs 128-bit C +vs reference/);
    const cells = (name: string) => lines.find((l) => l.startsWith(name + ' '))!.trim().split(/ {2,}/);
    const col = head.trim().split(/ {2,}/).indexOf('vs 128-bit C');
    expect(cells('e-train')[col]).toBe('1.2x');
    expect(cells('n-train-128bit')[col - 1]).toBe('0.5x');
    expect(cells('e-forward')[col]).toBe('-');
    expect(report.results.find((r) => r.name === 'e-forward')!.ratio_vs_native_128bit).toBeNull();
  });
});

describe('runSuite', () => {
  it('interleaves the runs of prepared benchmarks round-robin, honours maxRuns, reports skips and the machine', async () => {
    const order: string[] = [];
    const prepared = (name: string, maxRuns?: number): Benchmark => ({
      ...fake(name, 'native', name.endsWith('train') ? 'train' : 'forward', { unit: 'steps/s', values: [] }),
      measure: undefined,
      async prepare() {
        let k = 0;
        return { unit: 'steps/s', maxRuns, run: () => (order.push(name), 1000 * ++k), info: () => ({ runs_seen: k }) };
      },
    });
    const report = await runSuite({
      runs: 3,
      benchmarks: [prepared('a-forward'), prepared('a-train', 2), fake('gone', 'engine', 'train', { skipped: 'not built' })],
    });
    expect(order).toEqual(['a-forward', 'a-train', 'a-forward', 'a-train', 'a-forward']);
    expect(report.results.map((r) => r.name)).toEqual(['a-forward', 'a-train', 'gone']);
    expect(report.results[0].values).toEqual([1000, 2000, 3000]);
    expect(report.results[0].median).toBe(2000);
    expect(report.results[0].info).toEqual({ runs_seen: 3 });
    expect(report.results[1].runs).toBe(2);
    expect(report.results[2].skipped).toBe('not built');
    expect(typeof report.machine).toBe('string');
    expect(report.machine_info.cores).toBeGreaterThan(0);
    expect(formatReport(report)).toMatch(/\ngone +skipped: not built/);
  });

  it('closes every prepared runner after the runs, and also when a run fails', async () => {
    const closed: string[] = [];
    const closing = (name: string, fail = false): Benchmark => ({
      ...fake(name, 'engine', 'train', { unit: 'steps/s', values: [] }),
      measure: undefined,
      async prepare() {
        return {
          unit: 'steps/s',
          run: () => {
            if (fail) throw new Error(`${name} failed`);
            return 1;
          },
          close: async () => {
            closed.push(name);
          },
        };
      },
    });
    await runSuite({ runs: 2, benchmarks: [closing('a-train'), closing('b-train')] });
    expect(closed).toEqual(['a-train', 'b-train']);
    closed.length = 0;
    await expect(runSuite({ runs: 2, benchmarks: [closing('a-train'), closing('b-train', true)] })).rejects.toThrow('b-train failed');
    expect(closed).toEqual(['a-train', 'b-train']);
  });

  it('benchmarks offering only measure() report their values as given', async () => {
    const report = await runSuite({ runs: 2, benchmarks: [fake('m-forward', 'engine', 'forward', { unit: 'steps/s', values: [10, 30] })] });
    expect(report.results[0].median).toBe(20);
  });
});

function cli() {
  let stdout = '';
  let stderr = '';
  const con = new Console({ stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  const program = new Command('lechip').exitOverride();
  registerBench(program, con);
  return { run: (args: string[]) => program.parseAsync(['bench', ...args], { from: 'user' }), out: () => stdout, err: () => stderr };
}

describe('lechip bench', () => {
  it('--list --json names every registered benchmark', async () => {
    const c = cli();
    await c.run(['--list', '--json']);
    const names = JSON.parse(c.out()).benchmarks.map((b: { name: string }) => b.name);
    expect(names).toContain('le-mlp-784-300-100-10-native-forward');
    expect(names).toContain('le-mlp-784-300-100-10-native-train');
    expect(names).toContain('le-mlp-784-300-100-10-reference-forward');
    expect(names).toContain('compile-100k-neurons');
  });

  it('a filter that matches nothing is a user error naming the known benchmarks', async () => {
    await expect(cli().run(['--filter', 'no-such-bench'])).rejects.toThrow(UserError);
    await expect(cli().run(['--runs', '0'])).rejects.toThrow(/--runs must be a positive integer/);
  });

  it.skipIf(!findCompiler())('--json prints the CONTRACT.md object for the native and reference baselines', async () => {
    const c = cli();
    await c.run(['--json', '--quick', '--runs', '2', '--filter', 'reference-forward']);
    const report = JSON.parse(c.out()) as BenchReport;
    const byName = new Map(report.results.map((r) => [r.name, r]));
    const ref = byName.get('le-mlp-784-300-100-10-reference-forward')!;
    const nat = byName.get('le-mlp-784-300-100-10-native-forward')!;
    expect(nat.runs).toBe(2);
    expect(nat.steps_per_s).toBeGreaterThan(0);
    expect(ref.steps_per_s).toBeGreaterThan(0);
    // bio s per wall s = steps/s * dt (0.01 ms) / 1000; the slowdown is the ideal chip's 10^4 over it.
    expect(nat.bio_s_per_wall_s! / ((nat.steps_per_s! * 0.01) / 1000)).toBeCloseTo(1, 3);
    expect(nat.slowdown_vs_chip! / (10_000 / nat.bio_s_per_wall_s!)).toBeCloseTo(1, 3);
    expect(ref.ratio_vs_native! / (ref.steps_per_s! / nat.steps_per_s!)).toBeCloseTo(1, 2);
    expect(nat.ratio_vs_native).toBe(1);
    expect(typeof report.machine).toBe('string');
  });
});
