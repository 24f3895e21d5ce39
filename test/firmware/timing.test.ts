/**
 * Processor timing in the co-simulation (emulator/firmware-runtime.ts). Under cycle timing the
 * analog core advances one step per dt_hw_us · clock_mhz cycles the processor spends (bss2: 0.01 us
 * steps at 250 MHz = 2.5 cycles), `rdstep` reads the steps completed when the instruction starts,
 * and `wait n` resumes n steps later; under ideal timing no step passes while firmware runs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChipImage } from '../../chip/image-model.js';
import { loadChip } from '../../chip/presets.js';
import { assemble } from '../../isa/assembler.js';
import { ensureKernels } from '../kernels/kernels-build.js';
import { compileFor, engineWithFirmware, smallNet } from './helpers.js';

beforeAll(ensureKernels);

const PROBE = `
        .text
_start: rdstep  t0                # cycle 0: no step has completed
        li      t1, 1000
1:      addi    t1, t1, -1        # 1000 x (1 + 2) cycles on bss2
        bnez    t1, 1b
        rdstep  t2                # at cycle 3002
        la      t5, result
        sw      t0, 0(t5)
        sw      t2, 4(t5)
        li      t3, 5
        wait    t3
        rdstep  t4
        sw      t4, 8(t5)
2:      li      t3, 1
        wait    t3
        j       2b
        .data
        .align 4
result: .space 16
`;

/** The small network's image with its firmware replaced by the probe program on every firmware core. */
function probeImage(chip: string): ChipImage {
  const image = compileFor(smallNet(), chip);
  const prog = assemble(PROBE, { file: 'probe.s' });
  const fw = image.manifest.firmware!;
  image.sections.set(fw.text_section, Uint32Array.from(prog.text));
  image.sections.set(fw.symbols_section!, new TextEncoder().encode(JSON.stringify(prog.symbols)));
  for (const c of fw.cores!) image.sections.set(c.data_section, prog.data);
  fw.data_base = prog.dataBase;
  fw.entry = prog.entry;
  return Object.assign(image, { probe: prog.symbols.result });
}

function results(mem: Uint8Array, at: number): number[] {
  const w = new DataView(mem.buffer, mem.byteOffset);
  return [0, 4, 8].map((o) => w.getInt32(at + o, true));
}

describe('processor timing', () => {
  it('cycle timing on bss2: the analog core advances one step per 2.5 cycles the firmware spends; wait n resumes n steps on', () => {
    const chip = loadChip('bss2');
    const cps = ((0.01 * 1000) / chip.speedup) * chip.processor.clock_mhz;
    expect(cps).toBe(2.5);
    const image = probeImage('bss2');
    const { engine, runtime } = engineWithFirmware(image, { chipSeed: 1 }, 'cycle');
    runtime.advance(2000, (n) => engine.step(n, { learn: false, nudge: true }));
    expect(engine.steps).toBe(2000);
    expect(runtime.counter.steps).toBe(2000);
    const at = (image as ChipImage & { probe: number }).probe;
    const [t0, t2, t4] = results(runtime.processor(runtime.cores[0])!.mem, at);
    expect(t0).toBe(0);
    // rdstep (1) + li (1) + 1000 x (addi 1 + bnez 2) = 3002 cycles have passed: floor(3002 / 2.5) steps.
    expect(t2).toBe(Math.floor(3002 / cps));
    // la (2) + 2 sw (2) + li (1) + wait: issued within step 1201's interval, it resumes 5 steps later.
    const waitAt = 3002 + 1 + 2 + 2 + 1;
    expect(t4).toBe(Math.floor(waitAt / cps) + 5);
  });

  it('ideal timing: no step passes while firmware runs; wait n lets exactly n steps pass', () => {
    const image = probeImage('bss2');
    const { engine, runtime } = engineWithFirmware(image, { chipSeed: 1 }, 'ideal');
    runtime.advance(50, (n) => engine.step(n, { learn: false, nudge: true }));
    const [t0, t2, t4] = results(runtime.processor(runtime.cores[0])!.mem, (image as ChipImage & { probe: number }).probe);
    expect([t0, t2, t4]).toEqual([0, 0, 5]);
    expect(engine.steps).toBe(50);
  });

  it('le.s under cycle timing on bss2: analog steps elapsed = cycles used / 2.5 + one step per wait', () => {
    const image = compileFor(smallNet({ sizes: [20, 30, 5] }), 'bss2');
    const { engine, runtime } = engineWithFirmware(image, { chipSeed: 1 }, 'cycle');
    engine.setInput('in', Array.from({ length: 20 }, (_, i) => (i % 3) / 3));
    engine.setTarget('out', Array.from({ length: 5 }, (_, i) => i / 5));
    runtime.advance(20000, (n) => engine.step(n, { learn: false, nudge: true }));
    const s = runtime.statistics();
    expect(s.processors).toBe(1);
    const passes = s.passes[0]!;
    expect(passes).toBeGreaterThan(5);
    // The processor is never idle but for its `wait 1` per pass: steps = cycles / 2.5 + passes,
    // give or take the pass in progress.
    const perPass = s.cycles / passes;
    const predicted = s.cycles / 2.5 + passes;
    expect(Math.abs(predicted - 20000)).toBeLessThanOrEqual(perPass / 2.5 + 2);
    expect(s.busy_hw_us_max).toBeCloseTo(s.cycles / 250, 9);
    // Each block record's last update lies within the last pass.
    expect(runtime.counter.steps - 20000).toBe(0);
  });

  it('ideal vs cycle on the same bss2 network: ideal makes one pass per step, cycle far fewer', () => {
    const image = compileFor(smallNet(), 'bss2');
    const run = (timing: 'ideal' | 'cycle') => {
      const { engine, runtime } = engineWithFirmware(image, { chipSeed: 1 }, timing);
      engine.setInput('in', [0.9, 0.1, 0.6, 0, 0.35]);
      engine.setTarget('out', [0.8, -0.4, 0.3]);
      runtime.advance(2000, (n) => engine.step(n, { learn: false, nudge: true }));
      return runtime.statistics();
    };
    const ideal = run('ideal');
    const cycle = run('cycle');
    expect(ideal.passes[0]).toBe(2000);
    const perPass = ideal.cycles / 2000;
    // Under cycle timing a pass takes its cycles' worth of analog steps (~700 steps of 2.5 cycles
    // here), not one; a pass costs somewhat more there (scaling the rates by n > 1 takes a loop).
    expect(cycle.passes[0]!).toBeGreaterThan(0);
    expect(cycle.passes[0]!).toBeLessThan(ideal.passes[0]! / 100);
    const cyclePerPass = cycle.cycles / cycle.passes[0]!;
    expect(cyclePerPass).toBeGreaterThan(perPass);
    expect(cyclePerPass).toBeLessThan(2 * perPass);
  });
});
