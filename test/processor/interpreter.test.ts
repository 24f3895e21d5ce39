import { describe, expect, it } from 'vitest';
import { assemble } from '../../isa/assembler.js';
import { MockBus } from '../../emulator/processor/bus.js';
import { Processor, programFromAssembly } from '../../emulator/processor/interpreter.js';
import { preset } from './helpers.js';

const LOOP = `
    li t0, 0              # alu
    li t1, 10             # alu
  loop:
    addi t0, t0, 1        # alu
    vadd.b v1, v1, v2     # vector
    vmulf.bs v3, v1, v1   # vector_mul
    blt t0, t1, loop      # branch
    lw a0, 64(zero)       # load
    li a7, 93             # alu
    ecall                 # alu
`;

function load(src: string, chipName: 'bss2' | 'spikey' | 'ideal' = 'bss2', bus = new MockBus(8, 8)) {
  const chip = preset(chipName);
  const p = new Processor({ chip, bus });
  p.load(programFromAssembly(assemble(src, { elementBits: chip.processor.element_bits })));
  return { p, chip, bus };
}

describe('interpreter cycle accounting', () => {
  it('charges each instruction its class cost from the chip table (hand-summed)', () => {
    const { p, chip } = load(LOOP);
    const c = chip.processor.cycles;
    // 2 li, 10 x (addi + vadd + vmulf + blt), lw, li, ecall
    const expected = 2 * c.alu + 10 * (c.alu + c.vector + c.vector_mul + c.branch) + c.load + 2 * c.alu;
    expect(expected).toBe(2 + 10 * (1 + 2 + 4 + 2) + 2 + 2); // bss2: alu 1, vector 2, vector_mul 4, branch 2, load 2
    const r = p.run(1e6);
    expect(r.reason).toBe('halt');
    expect(r.cycles).toBe(expected);
    expect(p.cycles).toBe(expected);
    expect(p.instructions).toBe(2 + 40 + 3);
    expect(p.hwTimeUs).toBeCloseTo(expected / chip.processor.clock_mhz, 12);
    expect(r.hwUs).toBeCloseTo(expected / 250, 12); // bss2 runs at 250 MHz
  });

  it('uses each preset its own costs and clock', () => {
    const { p, chip } = load(LOOP.replace('vadd.b v1, v1, v2', 'vadd.f v1, v1, v2').replace('vmulf.bs v3, v1, v1', 'vmul.f v3, v1, v1'), 'ideal');
    p.run(1e6);
    expect(p.cycles).toBe(45); // one cycle each on ideal
    expect(p.hwTimeUs).toBe(45 / chip.processor.clock_mhz);
  });

  it('stops at the cycle budget and resumes where it stopped', () => {
    const { p } = load(LOOP);
    const a = p.run(20);
    expect(a.reason).toBe('budget');
    expect(a.cycles).toBeGreaterThanOrEqual(20);
    expect(a.cycles).toBeLessThan(20 + 4); // at most one instruction past the budget
    const b = p.run(1e6);
    expect(b.reason).toBe('halt');
    expect(a.cycles + b.cycles).toBe(96);
  });

  it('returns to the host at wait with the steps to advance, then continues', () => {
    const { p } = load('li t0, 3\n wait t0\n wait zero\n li t0, 5\n wait t0\n li a7, 93\n ecall');
    const r1 = p.run(1e6);
    expect(r1).toMatchObject({ reason: 'wait', waitSteps: 3 });
    expect(p.pc).toBe(8);
    const r2 = p.run(1e6);
    expect(r2).toMatchObject({ reason: 'wait', waitSteps: 5 }); // wait 0 does not stop
    expect(p.run(1e6).reason).toBe('halt');
    expect(p.cycles).toBe(7); // seven instructions, alu and wait cost 1 on bss2
  });

  it('stops at ebreak and resumes after it', () => {
    const { p } = load('li a0, 1\n ebreak\n li a0, 2\n li a7, 93\n ecall');
    expect(p.run(100).reason).toBe('ebreak');
    expect(p.x[10]).toBe(1);
    expect(p.run(100)).toMatchObject({ reason: 'halt', exitCode: 2 });
  });

  it('snapshots and restores the complete state, so a run continues identically', () => {
    const src = `
      li s0, 0
      li s1, 50
    1: vrand.b v1
      vadd.b v2, v2, v1
      li t0, 1
      wait t0
      addi s0, s0, 1
      blt s0, s1, 1b
      li t0, 0
      vext.b a0, v2, t0
      li a7, 93
      ecall
    `;
    const straight = load(src).p;
    while (straight.run(1e6).reason !== 'halt');
    const first = load(src).p;
    for (let i = 0; i < 20; i++) first.run(1e6);
    const state = first.snapshot();
    const resumed = load(src).p;
    resumed.restore(state);
    while (resumed.run(1e6).reason !== 'halt');
    expect(resumed.exitCode).toBe(straight.exitCode);
    expect(Array.from(resumed.v.u8)).toEqual(Array.from(straight.v.u8));
    expect(resumed.cycles).toBe(straight.cycles);
  });

  it('restores the ADC read-noise stream too', () => {
    const src = 'li s0, 0\n li s1, 30\n1: vadc.h v1, 0, zero\n vadd.h v2, v2, v1\n li t0, 1\n wait t0\n addi s0, s0, 1\n blt s0, s1, 1b\n li a7, 93\n ecall';
    const make = () => {
      const chip = preset('bss2');
      const bus = new MockBus(chip.core.rows, chip.core.neurons);
      bus.observables.fill(0.3);
      const p = new Processor({ chip, bus, adcNoiseLsb: 1.5, noiseSeed: 4 });
      p.load(programFromAssembly(assemble(src, { elementBits: [8, 16] })));
      return p;
    };
    const straight = make();
    while (straight.run(1e6).reason !== 'halt');
    const first = make();
    for (let i = 0; i < 12; i++) first.run(1e6);
    const resumed = make();
    resumed.restore(first.snapshot());
    while (resumed.run(1e6).reason !== 'halt');
    expect(Array.from(resumed.v.u8)).toEqual(Array.from(straight.v.u8));
    expect(new Set(Array.from(straight.v.i16.subarray(64, 128))).size).toBeGreaterThan(1); // the noise differs per lane
  });

  it('re-decodes instructions that the program overwrote', () => {
    // Patch the second instruction (li a0, 1) into li a0, 7 after it ran once.
    const { p } = load(`
      li s0, 0
    again:
      li a0, 1
      bnez s0, done
      li s0, 1
      la t0, again
      li t1, 0x00700513   # addi a0, zero, 7
      sw t1, 0(t0)
      j again
    done:
      li a7, 93
      ecall
    `);
    expect(p.run(1e6).exitCode).toBe(7);
  });

  it('refuses a chip without a cost for some instruction class', () => {
    const chip = preset('bss2');
    const { vector_adc: _drop, ...cycles } = chip.processor.cycles;
    void _drop;
    expect(() => new Processor({ chip: { ...chip, processor: { ...chip.processor, cycles } }, bus: new MockBus(1, 1) })).toThrow(
      /\/processor\/cycles\/vector_adc: the chip gives no cycle cost for instruction class 'vector_adc'/,
    );
  });
});
