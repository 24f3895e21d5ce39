import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import { MockBus } from '../../emulator/processor/bus.js';
import { adcCode } from '../../isa/lanes.js';
import { lanes, preset, run } from './helpers.js';

const bss2 = preset('bss2');
const ideal = preset('ideal');

/** Splats a into v1 and b into v2, runs `line`, returns lane 0 of v3 (signed w-bit). */
function vv(line: string, w: 8 | 16, a: number, b: number): number {
  const sfx = w === 8 ? 'b' : 'h';
  const { p } = run(`li t0, ${a}\n li t1, ${b}\n vsplat.${sfx} v1, t0\n vsplat.${sfx} v2, t1\n ${line}`);
  const l = lanes(p, 3, w);
  expect(new Set(l).size).toBe(1); // every lane computed the same
  return l[0];
}
/** As vv with the second operand a scalar in t1. */
function vx(line: string, w: 8 | 16, a: number, s: number): number {
  const sfx = w === 8 ? 'b' : 'h';
  const { p } = run(`li t0, ${a}\n li t1, ${s}\n vsplat.${sfx} v1, t0\n ${line}`);
  return lanes(p, 3, w)[0];
}

describe('vector lane arithmetic: 8- and 16-bit', () => {
  it('adds and subtracts modulo or with saturation at the lane limits', () => {
    expect(vv('vadd.b v3, v1, v2', 8, 100, 100)).toBe(-56);
    expect(vv('vadd.bs v3, v1, v2', 8, 100, 100)).toBe(127);
    expect(vv('vadd.bs v3, v1, v2', 8, -100, -100)).toBe(-128);
    expect(vv('vsub.b v3, v1, v2', 8, -128, 1)).toBe(127);
    expect(vv('vsub.bs v3, v1, v2', 8, -128, 1)).toBe(-128);
    expect(vv('vadd.h v3, v1, v2', 16, 30000, 30000)).toBe(60000 - 65536);
    expect(vv('vadd.hs v3, v1, v2', 16, 30000, 30000)).toBe(32767);
    expect(vv('vsub.hs v3, v1, v2', 16, -30000, 30000)).toBe(-32768);
  });

  it('multiplies fractionally: (a*b) >> (w-1), saturating -1 * -1', () => {
    expect(vv('vmulf.b v3, v1, v2', 8, 64, 64)).toBe(32); // 0.5 * 0.5 = 0.25
    expect(vv('vmulf.b v3, v1, v2', 8, -3, 5)).toBe(-1); // floor(-15 / 128)
    expect(vv('vmulf.b v3, v1, v2', 8, -128, -128)).toBe(-128); // 1.0 wraps
    expect(vv('vmulf.bs v3, v1, v2', 8, -128, -128)).toBe(127);
    expect(vv('vmulf.hs v3, v1, v2', 16, -32768, -32768)).toBe(32767);
    expect(vv('vmulf.h v3, v1, v2', 16, 16384, -16384)).toBe(-8192);
    expect(vx('vmulfs.bs v3, v1, t1', 8, 100, 96)).toBe(75); // 100 * 0.75
    expect(vx('vmulfs.hs v3, v1, t1', 16, -20000, 0x14000)).toBe(-10000); // scalar's low 16 bits: 0x4000 = 0.5
  });

  it('multiplies integers modulo or saturating, also by a scalar', () => {
    expect(vv('vmul.b v3, v1, v2', 8, 20, 10)).toBe(-56);
    expect(vv('vmul.bs v3, v1, v2', 8, 20, 10)).toBe(127);
    expect(vv('vmul.bs v3, v1, v2', 8, -20, 10)).toBe(-128);
    expect(vx('vmuls.h v3, v1, t1', 16, 300, 300)).toBe(90000 - 65536);
    expect(vx('vmuls.hs v3, v1, t1', 16, 300, -300)).toBe(-32768);
  });

  it('accumulates fractional products', () => {
    const { p } = run('li t0, 64\n vsplat.b v1, t0\n li t0, 100\n vsplat.b v3, t0\n vmacf.bs v3, v1, v1\n vmacf.bs v3, v1, v1\n vmacf.b v4, v1, v1');
    expect(lanes(p, 3, 8)[0]).toBe(127); // 100 + 32 + 32 saturates
    expect(lanes(p, 4, 8)[0]).toBe(32);
  });

  it('shifts by a scalar (mod w) or an immediate', () => {
    expect(vx('vsra.b v3, v1, t1', 8, -128, 3)).toBe(-16);
    expect(vx('vsrl.b v3, v1, t1', 8, -128, 3)).toBe(16);
    expect(vx('vsll.b v3, v1, t1', 8, 64, 1)).toBe(-128);
    expect(vx('vsll.bs v3, v1, t1', 8, 64, 1)).toBe(127);
    expect(vx('vsll.bs v3, v1, t1', 8, -65, 1)).toBe(-128);
    expect(vx('vsll.b v3, v1, t1', 8, 1, 9)).toBe(2); // 9 mod 8 = 1
    expect(vx('vslli.hs v3, v1, 15', 16, 1, 0)).toBe(32767);
    expect(vx('vsrai.h v3, v1, 4', 16, -256, 0)).toBe(-16);
    expect(vx('vsrli.h v3, v1, 4', 16, -256, 0)).toBe(0x0ff0);
  });

  it('takes signed and unsigned min and max', () => {
    expect(vv('vmin.b v3, v1, v2', 8, -56, 100)).toBe(-56);
    expect(vv('vmin.bu v3, v1, v2', 8, 200, 100)).toBe(100); // 200 is 0xc8
    expect(vv('vmax.b v3, v1, v2', 8, -56, 100)).toBe(100);
    expect(vv('vmax.bu v3, v1, v2', 8, 200, 100)).toBe(-56); // 0xc8 read back signed
    expect(vv('vmax.h v3, v1, v2', 16, -1, -2)).toBe(-1);
    expect(vv('vmin.hu v3, v1, v2', 16, -1, 2)).toBe(2);
  });

  it('compares to masks and selects bitwise', () => {
    const { p } = run(`
      li t0, 0
      li t1, 64
    1: vins.b v1, t0, t0      # v1[i] = i
       addi t0, t0, 1
       blt t0, t1, 1b
      li t0, 10
      vsplat.b v2, t0
      vcmplt.b v3, v1, v2     # mask where i < 10
      vmv v4, v3
      vsel v4, v1, v2         # min(i, 10) by select
      vcmpeq.b v5, v1, v2
      li t0, -1
      vsplat.b v6, t0
      vcmplt.bu v7, v6, v2    # 0xff < 10 unsigned: false
      vcmplt.b v8, v6, v2     # -1 < 10 signed: true
    `);
    const v3 = lanes(p, 3, 8), v4 = lanes(p, 4, 8), v5 = lanes(p, 5, 8);
    for (let i = 0; i < 64; i++) {
      expect(v3[i]).toBe(i < 10 ? -1 : 0);
      expect(v4[i]).toBe(Math.min(i, 10));
      expect(v5[i]).toBe(i === 10 ? -1 : 0);
    }
    expect(lanes(p, 7, 8)[0]).toBe(0);
    expect(lanes(p, 8, 8)[0]).toBe(-1);
  });

  it('does bitwise and/or/xor on whole registers', () => {
    expect(vv('vand v3, v1, v2', 8, 0x3c, 0x0f)).toBe(0x0c);
    expect(vv('vor v3, v1, v2', 8, 0x30, 0x0f)).toBe(0x3f);
    expect(vv('vxor v3, v1, v2', 16, 0x00ff, 0x0f0f)).toBe(0x0ff0);
  });

  it('moves lanes to and from scalar registers, and traps on a bad lane index', () => {
    const { p } = run('li t0, -5\n li t1, 127\n vins.b v1, t0, t1\n vext.b a0, v1, t1\n vext.bu a1, v1, t1\n li t2, 63\n vins.h v2, t0, t2\n vext.hu a2, v2, t2\n vext.h a3, v2, t2');
    expect([p.x[10], p.x[11], p.x[12], p.x[13]]).toEqual([-5, 251, 65531, -5]);
    expect(lanes(p, 1, 8).filter((x) => x !== 0)).toEqual([-5]);
    expect(() => run('li t1, 64\n vext.h a0, v1, t1')).toThrow(/vext\.h: lane index 64 out of range 0\.\.63 for 16-bit lanes/);
  });

  it('widens 8-bit lanes to 16-bit (signed and unsigned) and narrows back with saturation', () => {
    const { p } = run(`
      li t0, -3
      li t1, 0
      vins.b v1, t0, t1
      li t1, 64
      li t0, 100
      vins.b v1, t0, t1
      vwiden.lo v2, v1
      vwidenu.lo v3, v1
      vwiden.hi v4, v1
      li t0, 4
      vsplat.h v5, zero
      li t0, 1000
      vsplat.h v5, t0
      li t0, 2
      vnarrow.lo v6, v5, t0      # 1000 >> 2 = 250 -> 127
      li t0, 3
      vnarrow.hi v6, v5, t0      # 1000 >> 3 = 125
      vwiden.lo v1, v1           # in place
    `);
    expect(lanes(p, 2, 16)[0]).toBe(-3);
    expect(lanes(p, 3, 16)[0]).toBe(253);
    expect(lanes(p, 4, 16)[0]).toBe(100);
    const v6 = lanes(p, 6, 8);
    expect(v6.slice(0, 64).every((x) => x === 127)).toBe(true);
    expect(v6.slice(64).every((x) => x === 125)).toBe(true);
    expect(lanes(p, 1, 16)[0]).toBe(-3);
  });
});

describe('hardware random generators and stochastic rounding', () => {
  it("draws each lane from its own seeded xoshiro128** stream (chip seed, core, lane)", () => {
    const { p } = run('vrand.b v1\n vrand.b v2\n vrand.h v3', { rngSeed: 42 });
    const ref = (lane: number) => new Rng(42, `processor-rng/core0/lane${lane}`);
    const v1 = lanes(p, 1, 8), v2 = lanes(p, 2, 8), v3 = lanes(p, 3, 16);
    for (let i = 0; i < 128; i++) {
      const r = ref(i);
      expect(v1[i]).toBe(((r.nextU32() & 0xff) << 24) >> 24);
      expect(v2[i]).toBe(((r.nextU32() & 0xff) << 24) >> 24);
      if (i < 64) expect(v3[i]).toBe(((r.nextU32() & 0xffff) << 16) >> 16);
    }
    const other = run('vrand.b v1', { rngSeed: 43 }).p;
    expect(lanes(other, 1, 8)).not.toEqual(v1);
  });

  it('rounds stochastically without bias in the mean', () => {
    // 320 / 2^8 = 1.25 and -200 / 2^8 = -0.78125: 100 repetitions over 64 lanes each (the seeds are fixed).
    const { p, symbols } = run(`
      li t0, 320
      vsplat.h v1, t0
      li t0, -200
      vsplat.h v2, t0
      li t1, 8
      li t2, 100
      la a0, out
    1: vnarrowsr.lo v3, v1, t1
      vnarrowsr.hi v3, v2, t1
      vst v3, 0(a0)
      addi a0, a0, 128
      addi t2, t2, -1
      bnez t2, 1b
      .data
      out: .space 12800
    `);
    const base = p.mem;
    const outAddr = symbols.out;
    let lo = 0, hi = 0;
    const loVals = new Set<number>();
    for (let k = 0; k < 100; k++) {
      for (let i = 0; i < 128; i++) {
        const v = (base[outAddr + 128 * k + i] << 24) >> 24;
        if (i < 64) {
          lo += v;
          loVals.add(v);
        } else hi += v;
      }
    }
    expect([...loVals].sort()).toEqual([1, 2]); // only the two neighbours
    // Standard error of the mean of Bernoulli(0.25) over 6 400 draws: 0.0054; 0.025 is 4.6 of it.
    expect(Math.abs(lo / (100 * 64) - 1.25)).toBeLessThan(0.025);
    expect(Math.abs(hi / (100 * 64) + 0.78125)).toBeLessThan(0.025);
    // Deterministic narrowing truncates (floor): 1, and -1 for -0.78.
    const det = run('li t0, 320\n vsplat.h v1, t0\n li t1, 8\n vnarrow.lo v3, v1, t1').p;
    expect(lanes(det, 3, 8)[0]).toBe(1);
  });
});

describe('float32 lanes (ideal chip)', () => {
  it('adds, multiplies, fuses multiply-add and converts', () => {
    const f = (x: number) => `li t0, ${new Int32Array(new Float32Array([x]).buffer)[0]}`;
    const { p } = run(`
      ${f(1.5)}
      vsplat.w v1, t0
      ${f(-0.25)}
      vsplat.w v2, t0
      vadd.f v3, v1, v2
      vsub.f v4, v1, v2
      vmul.f v5, v1, v2
      vmv v6, v1
      vfma.f v6, v1, v2       # 1.5 + 1.5 * -0.25
      ${f(2)}
      vmuls.f v7, v1, t0
      vmin.f v8, v1, v2
      vmax.f v9, v1, v2
      ${f(2.5)}
      vsplat.w v10, t0
      vcvt.w.f v11, v10        # round half to even: 2
      li t0, -7
      vsplat.w v12, t0
      vcvt.f.w v13, v12
      vcmplt.f v14, v2, v1
    `, { chip: ideal });
    expect(lanes(p, 3, 'f')[0]).toBe(1.25);
    expect(lanes(p, 4, 'f')[0]).toBe(1.75);
    expect(lanes(p, 5, 'f')[0]).toBe(-0.375);
    expect(lanes(p, 6, 'f')[0]).toBe(1.125);
    expect(lanes(p, 7, 'f')[0]).toBe(3);
    expect(lanes(p, 8, 'f')[0]).toBe(-0.25);
    expect(lanes(p, 9, 'f')[0]).toBe(1.5);
    expect(lanes(p, 11, 32)[0]).toBe(2);
    expect(lanes(p, 13, 'f')[0]).toBe(-7);
    expect(lanes(p, 14, 32)[0]).toBe(-1);
    expect(lanes(p, 3, 'f').length).toBe(32);
  });

  it('rounds the fused multiply-add once', () => {
    // a*b + c with a = b = 1 + 2^-12, c = -1: exact 2^-11 + 2^-24; separately rounded
    // a*b = 1 + 2^-11 (the 2^-24 is lost in float32), minus 1 gives 2^-11.
    const a = 1 + 2 ** -12;
    const bits = (x: number) => new Int32Array(new Float32Array([x]).buffer)[0];
    const { p } = run(`li t0, ${bits(a)}\n vsplat.w v1, t0\n li t0, ${bits(-1)}\n vsplat.w v2, t0\n vfma.f v2, v1, v1\n vmul.f v3, v1, v1\n li t0, ${bits(1)}\n vsplat.w v4, t0\n vsub.f v3, v3, v4`, { chip: ideal });
    expect(lanes(p, 2, 'f')[0]).toBe(2 ** -11 + 2 ** -24);
    expect(lanes(p, 3, 'f')[0]).toBe(2 ** -11);
  });

  it('treats NaN in min/max as missing and converts NaN to INT32_MAX', () => {
    const bits = (x: number) => new Int32Array(new Float32Array([x]).buffer)[0];
    const { p } = run(`li t0, ${bits(NaN)}\n vsplat.w v1, t0\n li t0, ${bits(3)}\n vsplat.w v2, t0\n vmin.f v3, v1, v2\n vmax.f v4, v2, v1\n vcvt.w.f v5, v1\n vcmpeq.f v6, v1, v1`, { chip: ideal });
    expect(lanes(p, 3, 'f')[0]).toBe(3);
    expect(lanes(p, 4, 'f')[0]).toBe(3);
    expect(lanes(p, 5, 32)[0]).toBe(2147483647);
    expect(lanes(p, 6, 32)[0]).toBe(0);
  });

  it('traps lane widths the chip lacks', () => {
    expect(() => run('vsplat.w v1, t0')).toThrow(/vsplat\.w needs 32-bit vector lanes; the target chip has element_bits \[8, 16\]/);
  });
});

describe('vector memory', () => {
  it('loads and stores whole registers, 4-byte aligned', () => {
    const { p } = run(`
      la t0, src
      vld v1, 0(t0)
      vst v1, 128(t0)
      .data
      src: .byte 1, 2, 3, 4, 5
      .space 251
    `);
    expect(lanes(p, 1, 8).slice(0, 6)).toEqual([1, 2, 3, 4, 5, 0]);
    const src = 32; // 6 text words + 2 exit words, data 16-aligned
    expect(Array.from(p.mem.slice(src + 128, src + 133))).toEqual([1, 2, 3, 4, 5]);
    expect(() => run('li t0, 2\n vld v1, 0(t0)')).toThrow(/vector load at misaligned address 0x00000002/);
    expect(() => run('li t0, 16300\n vst v1, 0(t0)')).toThrow(/vector store at address 0x00003fac outside memory/);
  });
});

describe('synapse rows, ADC and row drivers', () => {
  it('reads and writes one synapse row segment with codes clamped to the weight range', () => {
    const bus = new MockBus(bss2.core.rows, bss2.core.neurons);
    for (let c = 0; c < 256; c++) bus.synapses[5 * 256 + c] = (c % 127) - 63;
    const { p } = run(`
      li t0, 5
      li t1, 128
      vlds.b v1, t0, t1         # columns 128..255
      li t2, 200
      vlds.h v2, t0, t2         # columns 200..255, then zeros
      li t2, 100
      vsplat.b v3, t2
      li t0, 6
      vsts.b v3, t0, zero       # 100 clamps to 63 (6-bit magnitude, sign per row)
      li t2, -100
      vsplat.h v4, t2
      li t2, 224
      vsts.h v4, t0, t2         # columns 224..255 only; -100 clamps to -63
    `, { bus });
    const v1 = lanes(p, 1, 8), v2 = lanes(p, 2, 16);
    for (let i = 0; i < 128; i++) expect(v1[i]).toBe(((128 + i) % 127) - 63);
    for (let i = 0; i < 64; i++) expect(v2[i]).toBe(i < 56 ? ((200 + i) % 127) - 63 : 0);
    const row6 = Array.from(bus.synapses.subarray(6 * 256, 7 * 256));
    expect(row6.slice(0, 128).every((x) => x === 63)).toBe(true);
    expect(row6.slice(128, 224).every((x) => x === 0)).toBe(true);
    expect(row6.slice(224).every((x) => x === -63)).toBe(true);
  });

  it('traps rows and columns outside the array', () => {
    expect(() => run('li t0, 256\n vlds.b v1, t0, zero')).toThrow(/vlds\.b: synapse row 256 out of range 0\.\.255/);
    expect(() => run('li t0, 256\n vadc.b v1, 0, t0')).toThrow(/vadc\.b: column 256 out of range 0\.\.255/);
  });

  it('quantises observables through the ADC: code = clamp(round((x-min)/(max-min)(2^bits-1)))', () => {
    const bus = new MockBus(bss2.core.rows, bss2.core.neurons);
    const values = [0, 2, 5, -3, -1, 0.5, 1.0, -0.999];
    values.forEach((v, i) => (bus.observables[3 * 256 + i] = v)); // e
    const { p } = run('vadc.b v1, 3, zero\n vadc.h v2, 3, zero\n li t0, 254\n vadc.h v3, 3, t0', { bus });
    // bss2: 8 bits over [-1, 2]: 0 -> round(255/3) = 85; 2 -> 255; 0.5 -> 127.5 -> 128 (half up).
    const expected = [85, 255, 255, 0, 0, 128, 170, 0];
    expect(values.map((v) => adcCode(v, bss2.adc))).toEqual(expected);
    const v1 = lanes(p, 1, 8), v2 = lanes(p, 2, 16);
    expected.forEach((c, i) => {
      expect(v1[i] & 0xff).toBe(c); // 8-bit lanes hold unsigned codes (255 reads back as -1 signed)
      expect(v2[i]).toBe(c);
    });
    expect(lanes(p, 3, 16).slice(2).every((x) => x === 0)).toBe(true); // past the last column
  });

  it('keeps the top lane bits of a wider ADC and reads exact floats on float lanes', () => {
    const chip = { ...bss2, adc: { bits: 10, min: 0, max: 1 } };
    const bus = new MockBus(chip.core.rows, chip.core.neurons);
    bus.observables[0] = 1; // code 1023
    bus.observables[1] = 0.5; // round(511.5) = 512
    const { p } = run('vadc.b v1, 0, zero\n vadc.h v2, 0, zero', { chip, bus });
    expect(lanes(p, 1, 8).slice(0, 2).map((x) => x & 0xff)).toEqual([255, 128]);
    expect(lanes(p, 2, 16).slice(0, 2)).toEqual([1023, 512]);
    const fbus = new MockBus(ideal.core.rows, ideal.core.neurons, 'float32');
    fbus.observables[1 * 1024 + 7] = 0.123456789;
    fbus.rowDrivers[9] = -2.5;
    fbus.synapses[3 * 1024 + 5] = 0.75;
    const q = run('li t0, 7\n vadc.f v1, 1, t0\n li t0, 9\n vrowd.f v2, t0\n li t0, 3\n li t1, 5\n vlds.f v3, t0, t1\n vmuls.f v3, v3, zero\n vsts.f v3, t0, t1', { chip: ideal, bus: fbus }).p;
    expect(lanes(q, 1, 'f')[0]).toBe(Math.fround(0.123456789));
    expect(lanes(q, 2, 'f')[0]).toBe(-2.5);
    expect(fbus.synapses[3 * 1024 + 5]).toBe(0);
  });

  it('adds seeded Gaussian read noise in LSB when asked', async () => {
    const { Processor, programFromAssembly, runToHalt } = await import('../../emulator/processor/interpreter.js');
    const { assemble } = await import('../../isa/assembler.js');
    const codes = (noiseSeed: number) => {
      const bus = new MockBus(bss2.core.rows, bss2.core.neurons);
      bus.observables.fill(0.5, 0, 256); // code 127.5 + noise, r observable
      const p = new Processor({ chip: bss2, bus, adcNoiseLsb: 2, noiseSeed });
      p.load(programFromAssembly(assemble('li t1, 0\n li t2, 50\n la a0, out\n1: vadc.h v1, 0, zero\n vst v1, 0(a0)\n addi a0, a0, 128\n addi t1, t1, 1\n blt t1, t2, 1b\n li a7, 93\n ecall\n.data\nout: .space 6400', { elementBits: [8, 16] })));
      runToHalt(p);
      const start = 48; // 10 words of text, data 16-aligned
      return Array.from(new Int16Array(p.mem.buffer.slice(start, start + 6400)));
    };
    const a = codes(1);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    // round(127.5 + 2 N(0,1)): continuous noise makes the rounding unbiased, so the mean is 127.5
    // (without noise the code is 128); spread sqrt(4 + 1/12) LSB. Standard error 0.025 over 3 200 reads.
    expect(Math.abs(mean - 127.5)).toBeLessThan(0.1);
    expect(Math.abs(sd - Math.sqrt(4 + 1 / 12))).toBeLessThan(0.1);
    expect(codes(1)).toEqual(a);
    expect(codes(2)).not.toEqual(a);
  });

  it('reads row drivers of consecutive rows through the ADC', () => {
    const bus = new MockBus(bss2.core.rows, bss2.core.neurons);
    for (let r = 0; r < 256; r++) bus.rowDrivers[r] = (r % 4) * 0.5; // 0, .5, 1, 1.5
    const { p } = run('li t0, 200\n vrowd.h v1, t0', { bus });
    const v = lanes(p, 1, 16);
    for (let i = 0; i < 64; i++) expect(v[i]).toBe(i < 56 ? adcCode(((200 + i) % 4) * 0.5, bss2.adc) : 0);
  });

  it('traps vlds of the wrong kind for the chip', () => {
    const chip = { ...bss2, processor: { ...bss2.processor, element_bits: [8, 16, 32] as (8 | 16 | 32)[] } };
    expect(() => run('vlds.f v1, zero, zero', { chip })).toThrow(/fixed-point synapse codes; use vlds\.b or vlds\.h/);
  });
});
