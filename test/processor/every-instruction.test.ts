/**
 * One hand-computed case per instruction of the table, and a check that no instruction is left
 * without one (a new table entry fails this test until it gets its case).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import { MockBus } from '../../emulator/processor/bus.js';
import { INSTRUCTIONS } from '../../isa/table.js';
import { lanes, preset, run } from './helpers.js';
import type { Processor } from '../../emulator/processor/interpreter.js';

const bss2 = preset('bss2');
const ideal = preset('ideal');
const fbits = (x: number) => new Int32Array(new Float32Array([x]).buffer)[0];

interface Case {
  m: string;
  test: () => void;
}
const cases: Case[] = [];

const widthOf = (m: string): 8 | 16 => (/\.(b|bs|bu)$/.test(m) || /^v(and|or|xor|sel)$/.test(m) ? 8 : 16);
const splat = (w: 8 | 16) => (w === 8 ? 'vsplat.b' : 'vsplat.h');

/** vd = op(vs1 = splat a, vs2 = splat b): lane 0 of v3 (and all lanes equal). */
function vvv(m: string, a: number, b: number, out: number): void {
  cases.push({
    m,
    test: () => {
      const w = widthOf(m);
      const { p } = run(`li t0, ${a}\n li t1, ${b}\n ${splat(w)} v1, t0\n ${splat(w)} v2, t1\n ${m} v3, v1, v2`);
      const l = lanes(p, 3, w);
      expect(l.every((x) => x === out), `${m} ${a} ${b}: ${l[0]}`).toBe(true);
    },
  });
}
/** vd = op(vs1 = splat a, scalar s in t1). */
function vvx(m: string, a: number, s: number, out: number, lane = 0): void {
  cases.push({
    m,
    test: () => {
      const w = /^vnarrow/.test(m) ? 16 : widthOf(m);
      const { p } = run(`li t0, ${a}\n li t1, ${s}\n ${splat(w)} v1, t0\n ${m} v3, v1, t1`);
      expect(lanes(p, 3, /^vnarrow/.test(m) ? 8 : w)[lane], `${m} ${a} ${s}`).toBe(out);
    },
  });
}
/** vd = op(vs1 = splat a, immediate). */
function vvi(m: string, a: number, imm: number, out: number): void {
  cases.push({
    m,
    test: () => {
      const w = widthOf(m);
      const { p } = run(`li t0, ${a}\n ${splat(w)} v1, t0\n ${m} v3, v1, ${imm}`);
      expect(lanes(p, 3, w)[0], `${m} ${a} ${imm}`).toBe(out);
    },
  });
}
/** vd = c, then vd = op(vd, vs1 = splat a, vs2 = splat b). */
function vacc(m: string, c: number, a: number, b: number, out: number): void {
  cases.push({
    m,
    test: () => {
      const w = widthOf(m);
      const { p } = run(`li t0, ${a}\n ${splat(w)} v1, t0\n li t0, ${b}\n ${splat(w)} v2, t0\n li t0, ${c}\n ${splat(w)} v3, t0\n ${m} v3, v1, v2`);
      expect(lanes(p, 3, w)[0], `${m}`).toBe(out);
    },
  });
}
/** Float lanes on the ideal chip: v1 = a, v2 = b (v3 = c for fma), result lane 0 as float or as int32 bits. */
function vf(m: string, a: number, b: number, out: number, opts: { c?: number; scalar?: boolean; int?: boolean } = {}): void {
  cases.push({
    m,
    test: () => {
      const second = opts.scalar ? `li t1, ${fbits(b)}` : `li t0, ${fbits(b)}\n vsplat.w v2, t0`;
      const c = opts.c !== undefined ? `li t0, ${fbits(opts.c)}\n vsplat.w v3, t0` : '';
      const { p } = run(`li t0, ${fbits(a)}\n vsplat.w v1, t0\n ${second}\n ${c}\n ${m} v3, v1, ${opts.scalar ? 't1' : 'v2'}`, { chip: ideal });
      expect(lanes(p, 3, opts.int ? 32 : 'f')[0], m).toBe(out);
    },
  });
}
/** A scalar R/I operation: a0 = op(a1 = a, a2 = b or imm). */
function scalar(m: string, a: number, b: number, out: number, imm = false): void {
  cases.push({
    m,
    test: () => {
      const { p } = run(`li a1, ${a}\n li a2, ${b}\n ${m} a0, a1, ${imm ? b : 'a2'}`);
      expect(p.x[10], `${m} ${a} ${b}`).toBe(out);
    },
  });
}
function custom(m: string, test: () => void): void {
  cases.push({ m, test });
}

// ------------------------------------------------------------------ RV32I / RV32M (hand values)
const MIN = -2147483648;
scalar('add', 0x7fffffff, 1, MIN);
scalar('sub', MIN, 1, 0x7fffffff);
scalar('sll', 1, 33, 2);
scalar('slt', -1, 1, 1);
scalar('sltu', -1, 1, 0);
scalar('xor', 0x0f0f, 0x00ff, 0x0ff0);
scalar('srl', -16, 2, 0x3ffffffc);
scalar('sra', -16, 2, -4);
scalar('or', 0x0f00, 0x00f0, 0x0ff0);
scalar('and', 0x0ff0, 0x00ff, 0x00f0);
scalar('addi', -1, -2048, -2049, true);
scalar('slti', -5, -4, 1, true);
scalar('sltiu', 5, -1, 1, true);
scalar('xori', 0x1234, -1, ~0x1234, true);
scalar('ori', 0x1200, 0x34, 0x1234, true);
scalar('andi', -1, 0x7ff, 0x7ff, true);
scalar('slli', 3, 31, MIN, true);
scalar('srli', -1, 31, 1, true);
scalar('srai', -1, 31, -1, true);
scalar('mul', 0x10001, 0x10001, 0x20001); // 2^32 + 2^17 + 1 truncated
scalar('mulh', MIN, MIN, 0x40000000);
scalar('mulhsu', MIN, -1, MIN);
scalar('mulhu', -1, -1, -2);
scalar('div', -7, 2, -3);
scalar('divu', -1, 2, 0x7fffffff);
scalar('rem', -7, 2, -1);
scalar('remu', -1, 10, 5);
custom('lui', () => expect(run('lui a0, 0xfffff').p.x[10]).toBe(-4096));
custom('auipc', () => expect(run('nop\n auipc a0, 1').p.x[10]).toBe(4 + 4096));
custom('jal', () => expect(run('jal a0, 8\n li a1, 1\n nop').p.x.slice(10, 12)).toEqual(Int32Array.of(4, 0)));
custom('jalr', () => expect(run('li t0, 13\n jalr a0, 0(t0)\n li a1, 1\n nop').p.x.slice(10, 12)).toEqual(Int32Array.of(8, 0)));
for (const [m, a, b, taken] of [['beq', 5, 5, true], ['bne', 5, 5, false], ['blt', -1, 1, true], ['bge', -1, 1, false], ['bltu', -1, 1, false], ['bgeu', -1, 1, true]] as const) {
  custom(m, () => expect(run(`li t0, ${a}\n li t1, ${b}\n li a0, 0\n ${m} t0, t1, 8\n li a0, 1\n nop`).p.x[10]).toBe(taken ? 0 : 1));
}
const memCase = `la t0, d\n li t1, -2\n sb t1, 4(t0)\n sh t1, 8(t0)\n sw t1, 12(t0)\n .data\n d: .byte 0x80, 0x01\n .half 0x8000\n .space 12`;
custom('lb', () => expect(run(`${memCase}\n .text\n lb a0, 0(t0)`).p.x[10]).toBe(-128));
custom('lbu', () => expect(run(`${memCase}\n .text\n lbu a0, 0(t0)`).p.x[10]).toBe(128));
custom('lh', () => expect(run(`${memCase}\n .text\n lh a0, 2(t0)`).p.x[10]).toBe(-32768));
custom('lhu', () => expect(run(`${memCase}\n .text\n lhu a0, 2(t0)`).p.x[10]).toBe(32768));
custom('lw', () => expect(run(`${memCase}\n .text\n lw a0, 0(t0)`).p.x[10] >>> 0).toBe(0x80000180));
custom('sb', () => expect(run(`${memCase}\n .text\n lw a0, 4(t0)`).p.x[10]).toBe(0xfe));
custom('sh', () => expect(run(`${memCase}\n .text\n lw a0, 8(t0)`).p.x[10]).toBe(0xfffe));
custom('sw', () => expect(run(`${memCase}\n .text\n lw a0, 12(t0)`).p.x[10]).toBe(-2));
custom('fence', () => expect(run('li a0, 3\n fence\n fence rw, w').p.x[10]).toBe(3));
custom('ecall', () => expect(run('li a0, 9\n li a7, 1\n ecall').p.printed).toEqual([9]));
custom('ebreak', () => {
  const { p } = run('li a0, 1\n ebreak\n li a0, 2\n ret', { noExit: true });
  expect(p.exitCode).toBe(2); // runToHalt resumes after the breakpoint; the entry returns
});

// ------------------------------------------------------------------ vector lanes (hand values)
vvv('vadd.b', 100, 100, -56); vvv('vadd.bs', 100, 100, 127); vvv('vadd.h', 30000, 30000, -5536); vvv('vadd.hs', 30000, 30000, 32767);
vvv('vsub.b', -128, 1, 127); vvv('vsub.bs', -128, 1, -128); vvv('vsub.h', -32768, 1, 32767); vvv('vsub.hs', -32768, 1, -32768);
vvv('vmul.b', 20, 10, -56); vvv('vmul.bs', 20, 10, 127); vvv('vmul.h', 300, 300, 24464); vvv('vmul.hs', 300, 300, 32767);
vvv('vmulf.b', 64, 64, 32); vvv('vmulf.bs', -128, -128, 127); vvv('vmulf.h', -32768, -32768, -32768); vvv('vmulf.hs', 16384, 16384, 8192);
vvv('vmin.b', -56, 100, -56); vvv('vmin.h', 5, -7, -7); vvv('vmin.bu', 200, 100, 100); vvv('vmin.hu', -1, 2, 2);
vvv('vmax.b', -56, 100, 100); vvv('vmax.h', 5, -7, 5); vvv('vmax.bu', 200, 100, -56); vvv('vmax.hu', -1, 2, -1);
vvv('vcmpeq.b', 3, 3, -1); vvv('vcmpeq.h', 3, 4, 0);
vvv('vcmplt.b', -1, 10, -1); vvv('vcmplt.h', 10, -1, 0); vvv('vcmplt.bu', -1, 10, 0); vvv('vcmplt.hu', 10, -1, -1);
vvv('vand', 0x3c, 0x0f, 0x0c); vvv('vor', 0x30, 0x0f, 0x3f); vvv('vxor', 0x3c, 0x0f, 0x33);
vacc('vmacf.b', 100, 64, 64, -124); vacc('vmacf.bs', 100, 64, 64, 127); vacc('vmacf.h', 30000, 16384, 16384, -27344); vacc('vmacf.hs', 30000, 16384, 16384, 32767);
vacc('vsel', 0x0f, 0x55, 0x22, 0x25); // (0x0f & 0x55) | (0xf0 & 0x22)
vvx('vmuls.b', 20, 10, -56); vvx('vmuls.bs', 20, 10, 127); vvx('vmuls.h', 300, 300, 24464); vvx('vmuls.hs', 300, 300, 32767);
vvx('vmulfs.b', 100, 96, 75); vvx('vmulfs.bs', -128, -128, 127); vvx('vmulfs.h', -20000, 0x4000, -10000); vvx('vmulfs.hs', -32768, -32768, 32767);
vvx('vsll.b', 64, 1, -128); vvx('vsll.bs', 64, 1, 127); vvx('vsll.h', 0x4000, 1, -32768); vvx('vsll.hs', 0x4000, 1, 32767);
vvx('vsrl.b', -128, 3, 16); vvx('vsrl.h', -256, 4, 4080);
vvx('vsra.b', -128, 3, -16); vvx('vsra.h', -256, 4, -16);
vvx('vnarrow.lo', 1000, 2, 127); vvx('vnarrow.hi', 1000, 3, 125, 64);
vvx('vnarrowsr.lo', 768, 8, 3); vvx('vnarrowsr.hi', -768, 8, -3, 64); // no fraction: nothing to round
vvi('vslli.b', 64, 1, -128); vvi('vslli.bs', 64, 1, 127); vvi('vslli.h', 1, 15, -32768); vvi('vslli.hs', 1, 15, 32767);
vvi('vsrli.b', -128, 7, 1); vvi('vsrli.h', -1, 15, 1); vvi('vsrai.b', -128, 7, -1); vvi('vsrai.h', -32768, 15, -1);
custom('vsplat.b', () => expect(lanes(run('li t0, 0x1ff\n vsplat.b v1, t0').p, 1, 8).every((x) => x === -1)).toBe(true));
custom('vsplat.h', () => expect(lanes(run('li t0, 0x18000\n vsplat.h v1, t0').p, 1, 16).every((x) => x === -32768)).toBe(true));
custom('vsplat.w', () => expect(lanes(run('li t0, 0x12345678\n vsplat.w v1, t0', { chip: ideal }).p, 1, 32).every((x) => x === 0x12345678)).toBe(true));
const extSrc = (sfx: string, w: string, chipLane: number) => `li t0, -5\n li t1, ${chipLane}\n vins.${w} v1, t0, t1\n vext.${sfx} a0, v1, t1`;
custom('vins.b', () => expect(lanes(run(extSrc('b', 'b', 127)).p, 1, 8)[127]).toBe(-5));
custom('vins.h', () => expect(lanes(run(extSrc('h', 'h', 63)).p, 1, 16)[63]).toBe(-5));
custom('vins.w', () => expect(lanes(run(extSrc('w', 'w', 31), { chip: ideal }).p, 1, 32)[31]).toBe(-5));
custom('vext.b', () => expect(run(extSrc('b', 'b', 100)).p.x[10]).toBe(-5));
custom('vext.bu', () => expect(run(extSrc('bu', 'b', 100)).p.x[10]).toBe(251));
custom('vext.h', () => expect(run(extSrc('h', 'h', 60)).p.x[10]).toBe(-5));
custom('vext.hu', () => expect(run(extSrc('hu', 'h', 60)).p.x[10]).toBe(65531));
custom('vext.w', () => expect(run(extSrc('w', 'w', 30), { chip: ideal }).p.x[10]).toBe(-5));
for (const [sfx, w, chip] of [['b', 8, bss2], ['h', 16, bss2], ['w', 32, ideal]] as const) {
  custom(`vrand.${sfx}`, () => {
    const { p } = run(`vrand.${sfx} v4`, { chip, rngSeed: 3 });
    const got = lanes(p, 4, w);
    got.forEach((x, i) => expect(x).toBe((new Rng(3, `processor-rng/core0/lane${i}`).nextU32() << (32 - w)) >> (32 - w)));
  });
}
const widenSrc = (m: string) => `li t0, -3\n li t1, 0\n vins.b v1, t0, t1\n li t1, 64\n vins.b v1, t0, t1\n ${m} v2, v1`;
custom('vwiden.lo', () => expect(lanes(run(widenSrc('vwiden.lo')).p, 2, 16).slice(0, 2)).toEqual([-3, 0]));
custom('vwiden.hi', () => expect(lanes(run(widenSrc('vwiden.hi')).p, 2, 16).slice(0, 2)).toEqual([-3, 0]));
custom('vwidenu.lo', () => expect(lanes(run(widenSrc('vwidenu.lo')).p, 2, 16).slice(0, 2)).toEqual([253, 0]));
custom('vwidenu.hi', () => expect(lanes(run(widenSrc('vwidenu.hi')).p, 2, 16).slice(0, 2)).toEqual([253, 0]));
custom('vcvt.f.w', () => expect(lanes(run('li t0, -7\n vsplat.w v1, t0\n vcvt.f.w v2, v1', { chip: ideal }).p, 2, 'f')[0]).toBe(-7));
custom('vcvt.w.f', () => expect(lanes(run(`li t0, ${fbits(-2.5)}\n vsplat.w v1, t0\n vcvt.w.f v2, v1`, { chip: ideal }).p, 2, 32)[0]).toBe(-2));
vf('vadd.f', 1.5, -0.25, 1.25); vf('vsub.f', 1.5, -0.25, 1.75); vf('vmul.f', 1.5, -0.25, -0.375);
vf('vmuls.f', 1.5, 2, 3, { scalar: true }); vf('vfma.f', 1.5, -0.25, 1.125, { c: 1.5 });
vf('vmin.f', 1.5, -0.25, -0.25); vf('vmax.f', 1.5, -0.25, 1.5);
vf('vcmpeq.f', 1.5, 1.5, -1, { int: true }); vf('vcmplt.f', 1.5, -0.25, 0, { int: true });

// ------------------------------------------------------------------ memory, synapses, ADC, time
custom('vld', () => expect(lanes(run('la t0, d\n vld v1, 0(t0)\n .data\n d: .byte 9, 8\n .space 126').p, 1, 8).slice(0, 3)).toEqual([9, 8, 0]));
custom('vst', () => {
  const { p, symbols } = run('li t0, 7\n vsplat.b v1, t0\n la t0, d\n vst v1, 0(t0)\n .data\n d: .space 128');
  expect(Array.from(p.mem.slice(symbols.d, symbols.d + 128)).every((x) => x === 7)).toBe(true);
});
function coreBus(kind: 'fixed' | 'float32'): MockBus {
  const chip = kind === 'fixed' ? bss2 : ideal;
  const bus = new MockBus(chip.core.rows, chip.core.neurons, kind);
  for (let i = 0; i < bus.synapses.length; i++) bus.synapses[i] = kind === 'fixed' ? (i % 5) - 2 : (i % 5) * 0.25;
  bus.observables.fill(0.5);
  bus.rowDrivers.fill(2);
  return bus;
}
const cols = (chipBus: MockBus, row: number, c0: number, n: number) => Array.from(chipBus.synapses.subarray(row * chipBus.columns + c0, row * chipBus.columns + c0 + n));
for (const [sfx, w] of [['b', 8], ['h', 16]] as const) {
  custom(`vlds.${sfx}`, () => {
    const bus = coreBus('fixed');
    const { p } = run(`li t0, 3\n li t1, 10\n vlds.${sfx} v1, t0, t1`, { bus });
    expect(lanes(p, 1, w)).toEqual(cols(bus, 3, 10, 1024 / w)); // 128 or 64 lanes
  });
  custom(`vsts.${sfx}`, () => {
    const bus = coreBus('fixed');
    run(`li t0, -70\n vsplat.${sfx} v1, t0\n li t0, 3\n li t1, 10\n vsts.${sfx} v1, t0, t1`, { bus });
    expect(cols(bus, 3, 10, 1024 / w).every((x) => x === -63)).toBe(true); // clamped to the 6-bit magnitude
    expect(bus.synapses[3 * 256 + 9]).toBe((3 * 256 + 9) % 5 - 2);
  });
  custom(`vadc.${sfx}`, () => {
    const { p } = run(`li t1, 4\n vadc.${sfx} v1, 2, t1`, { bus: coreBus('fixed') });
    expect(lanes(p, 1, w)[0] & 0xff).toBe(128); // 0.5 on [-1, 2] at 8 bits: 127.5 rounds up
  });
  custom(`vrowd.${sfx}`, () => {
    const { p } = run(`li t0, 250\n vrowd.${sfx} v1, t0`, { bus: coreBus('fixed') });
    expect(lanes(p, 1, w).slice(0, 7).map((x) => x & 0xff)).toEqual([255, 255, 255, 255, 255, 255, 0]); // 2 is full scale; rows past 255 read 0
  });
}
custom('vlds.f', () => {
  const bus = coreBus('float32');
  expect(lanes(run('li t0, 3\n li t1, 10\n vlds.f v1, t0, t1', { chip: ideal, bus }).p, 1, 'f')).toEqual(cols(bus, 3, 10, 32));
});
custom('vsts.f', () => {
  const bus = coreBus('float32');
  run(`li t0, ${fbits(-0.125)}\n vsplat.w v1, t0\n li t0, 3\n li t1, 1000\n vsts.f v1, t0, t1`, { chip: ideal, bus });
  expect(cols(bus, 3, 1000, 24).every((x) => x === -0.125)).toBe(true); // 24 columns left in the row
});
custom('vadc.f', () => expect(lanes(run('vadc.f v1, 5, zero', { chip: ideal, bus: coreBus('float32') }).p, 1, 'f')[31]).toBe(0.5));
custom('vrowd.f', () => expect(lanes(run('li t0, 1000\n vrowd.f v1, t0', { chip: ideal, bus: coreBus('float32') }).p, 1, 'f').slice(22, 26)).toEqual([2, 2, 0, 0]));
custom('wait', () => {
  const bus = coreBus('fixed');
  const p: Processor = run('li t0, 4\n wait t0\n wait t0', { bus }).p;
  expect(bus.steps).toBe(8);
  expect(p.halted).toBe(true);
});

custom('vldp.h', () => {
  const bus = coreBus('fixed');
  for (let c = 0; c < 256; c++) bus.parameters[2 * 256 + c] = c - 100; // tau_r trim codes
  const { p } = run('li t1, 200\n vldp.h v1, 2, t1', { bus });
  expect(lanes(p, 1, 16).slice(0, 3)).toEqual([100, 101, 102]);
  expect(lanes(p, 1, 16).slice(55, 58)).toEqual([155, 0, 0]); // columns past 255 read 0
});
custom('vstp.h', () => {
  const bus = coreBus('fixed');
  run('li t0, -300\n vsplat.h v1, t0\n li t1, 250\n vstp.h v1, 0, t1', { bus });
  expect(Array.from(bus.parameters.subarray(248, 256))).toEqual([0, 0, -300, -300, -300, -300, -300, -300]);
});
custom('vldp.f', () => {
  const bus = coreBus('float32');
  bus.parameters[4 * 1024 + 7] = 0.125; // offset trim of column 7
  const { p } = run('li t1, 7\n vldp.f v1, 4, t1', { chip: ideal, bus });
  expect(lanes(p, 1, 'f').slice(0, 2)).toEqual([0.125, 0]);
});
custom('vstp.f', () => {
  const bus = coreBus('float32');
  run(`li t0, ${fbits(-0.75)}\n vsplat.w v1, t0\n li t1, 1000\n vstp.f v1, 0, t1`, { chip: ideal, bus });
  expect(Array.from(bus.parameters.subarray(999, 1002))).toEqual([0, -0.75, -0.75]);
  expect(bus.parameters[1023]).toBe(-0.75); // 24 columns left; parameter 1 untouched
  expect(bus.parameters[1024]).toBe(0);
});
custom('rdstep', () => {
  const bus = coreBus('fixed');
  const { p } = run('li t0, 3\n wait t0\n rdstep a1\n wait t0\n rdstep a2', { bus });
  expect([p.x[11], p.x[12]]).toEqual([3, 6]);
});

describe('every instruction has a hand-computed case', () => {
  it('covers the whole table', () => {
    const covered = new Set(cases.map((c) => c.m));
    expect(INSTRUCTIONS.map((d) => d.mnemonic).filter((m) => !covered.has(m))).toEqual([]);
  });
  for (const c of cases) it(c.m, c.test);
});
