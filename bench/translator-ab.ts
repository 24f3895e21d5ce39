/**
 * A/B of a translator switch on the firmware learning step, in one process:
 *
 *     npm run build && node dist/bench/translator-ab.js LECHIP_TRANSLATOR_NO_LOOP [rounds] [samples per round]
 *
 * Two chips run examples/mnist-mlp.json on ideal with le.s translated (the setup of
 * bench/le-firmware-bench.ts, MNIST training images): A translated without the environment
 * variable, B with it set to 1 while its processors translate (the switches are read at
 * translation: LECHIP_TRANSLATOR_NO_FUSE, _NO_LOOP, _NO_LIST). Rounds alternate which
 * runs first, so that the machine's drifts fall on both; the ratio is A's time over B's (above 1:
 * B is faster). Also reports A's time per step in the engine and in each processor's run().
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { copyInput, loadDataset } from '../cli/datasets.js';
import { loadChip } from '../chip/presets.js';
import { projectRoot } from '../common/paths.js';
import { compile } from '../compiler/compile.js';
import { Engine } from '../emulator/engine.js';
import { FirmwareRuntime } from '../emulator/firmware-runtime.js';
import { realiseModel } from '../emulator/instance.js';
import { loadTranslator } from '../emulator/processor/translator.js';
import { engineProcessorFactory } from '../emulator/processor/wasm-bus.js';

const STEPS = 100;
const IMAGES = 200;

interface Side {
  present(n: number): void;
  /** Nanoseconds in engine steps and in each processor's run() since the last reset. */
  split: { engine: bigint; processors: bigint[] };
  instructionsPerStep(): number;
}

function side(x: Float32Array, y: Float32Array): Side {
  const text = readFileSync(join(projectRoot(), 'examples', 'mnist-mlp.json'), 'utf8');
  const image = compile(text, { chip: loadChip('ideal'), seed: 1, file: 'examples/mnist-mlp.json' }).image;
  const model = realiseModel(image, {});
  const engine = new Engine(model);
  const runtime = new FirmwareRuntime(image, engine, {}, { timing: 'ideal', dtMs: model.dt_ms, makeProcessor: engineProcessorFactory(image, engine, {}, 'translate') });
  const split = { engine: 0n, processors: runtime.cores.map(() => 0n) };
  // Both sides time their parts (the same overhead on each).
  const step = (k: number) => {
    const t = process.hrtime.bigint();
    engine.step(k, { learn: false, nudge: true });
    split.engine += process.hrtime.bigint() - t;
  };
  runtime.cores.forEach((core, i) => {
    const p = runtime.processor(core)!;
    const run = p.run.bind(p);
    p.run = (budget: number) => {
      const t = process.hrtime.bigint();
      const r = run(budget);
      split.processors[i] += process.hrtime.bigint() - t;
      return r;
    };
  });
  let next = 0;
  return {
    split,
    present(n) {
      for (let i = 0; i < n; i++, next++) {
        const s = next % IMAGES;
        engine.setInput('in', x.subarray(s * 784, (s + 1) * 784));
        engine.setTarget('out', y.subarray(s * 10, (s + 1) * 10));
        runtime.advance(STEPS, step);
      }
    },
    instructionsPerStep: () => {
      const st = runtime.statistics();
      return Math.round(st.instructions / Math.max(1, st.steps));
    },
  };
}

async function main(): Promise<void> {
  const [variable, roundsArg, perArg] = process.argv.slice(2);
  if (!variable || !/^LECHIP_TRANSLATOR_[A-Z_]+$/.test(variable)) {
    console.error('usage: node dist/bench/translator-ab.js LECHIP_TRANSLATOR_<SWITCH> [rounds=30] [samples per round=4]');
    process.exit(2);
  }
  const rounds = Number(roundsArg ?? 30), per = Number(perArg ?? 4);
  await loadTranslator();
  const d = loadDataset('mnist', { inputSize: 784, outputSize: 10, samples: IMAGES, test: 1 });
  const x = new Float32Array(IMAGES * 784), y = new Float32Array(IMAGES * 10);
  for (let i = 0; i < IMAGES; i++) {
    copyInput(d.train, 784, i, x, i * 784);
    y.set(d.train.targets.subarray(i * 10, (i + 1) * 10), i * 10);
  }
  const a = side(x, y);
  process.env[variable] = '1';
  const b = side(x, y);
  // Warm-up (the first present translates, then V8 tiers the modules up); B translates while the switch is set.
  b.present(30);
  delete process.env[variable];
  a.present(30);
  a.present(10);
  b.present(10);
  a.split.engine = 0n;
  a.split.processors.fill(0n);
  let ta = 0, tb = 0;
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const order: [Side, 'a' | 'b'][] = r % 2 ? [[a, 'a'], [b, 'b']] : [[b, 'b'], [a, 'a']];
    const t: Record<string, number> = {};
    for (const [s, name] of order) {
      const t0 = performance.now();
      s.present(per);
      t[name] = performance.now() - t0;
    }
    ta += t.a;
    tb += t.b;
    ratios.push(t.a / t.b);
  }
  ratios.sort((p, q) => p - q);
  const steps = rounds * per * STEPS;
  const us = (ns: bigint) => +(Number(ns) / steps / 1000).toFixed(2);
  console.log(JSON.stringify({
    variable,
    rounds, samples_per_round: per,
    a_steps_per_s: Math.round(steps / (ta / 1000)),
    b_steps_per_s: Math.round(steps / (tb / 1000)),
    ratio_a_over_b_total: +(ta / tb).toFixed(3),
    ratio_median: +ratios[ratios.length >> 1].toFixed(3),
    ratio_quartiles: [+ratios[ratios.length >> 2].toFixed(3), +ratios[(3 * ratios.length) >> 2].toFixed(3)],
    a_us_per_step: { total: +((ta * 1000) / steps).toFixed(2), engine: us(a.split.engine), processors: a.split.processors.map(us) },
    instructions_per_step: { a: a.instructionsPerStep(), b: b.instructionsPerStep() },
  }));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
