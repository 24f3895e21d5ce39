import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/random.js';
import { assemble } from '../../isa/assembler.js';
import { adcCode } from '../../isa/lanes.js';
import { MockBus } from '../../emulator/processor/bus.js';
import { loadElf } from '../../emulator/processor/elf.js';
import { Processor, programFromAssembly, runToHalt, type ProgramImage } from '../../emulator/processor/interpreter.js';
import { preset } from './helpers.js';

const ROOT = join(__dirname, '../..');
const EXAMPLES = join(ROOT, 'firmware-models/examples');
const chip = preset('bss2');

/** The same starting core for every run: random 6-bit codes in rows 0..9, random rates. */
function freshBus(): MockBus {
  const bus = new MockBus(chip.core.rows, chip.core.neurons);
  const rng = new Rng(5, 'vec-scale-test');
  for (let i = 0; i < 10 * chip.core.neurons; i++) bus.synapses[i] = rng.int(127) - 63;
  for (let c = 0; c < chip.core.neurons; c++) bus.observables[c] = -1.2 + 3.6 * rng.uniform();
  return bus;
}

interface Outcome {
  synapses: number[];
  result: number[];
  exitCode: number;
  analogSteps: number;
}

function execute(program: ProgramImage): Outcome {
  const bus = freshBus();
  const p = new Processor({ chip, bus, rngSeed: 9 });
  p.load(program);
  const r = runToHalt(p, 1e6);
  const at = program.symbols!.result;
  return { synapses: Array.from(bus.synapses), result: Array.from(p.mem.slice(at, at + 128)), exitCode: r.exitCode!, analogSteps: bus.steps };
}

function hasTool(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}
const haveClang = hasTool('clang') && hasTool('ld.lld');
if (!haveClang) console.warn('firmware.test: clang or ld.lld not found; the C twin of vec-scale is skipped (apt-get install clang lld)');

describe('example firmware vec-scale', () => {
  const asm = assemble(readFileSync(join(EXAMPLES, 'vec-scale.s'), 'utf8'), { file: 'vec-scale.s', elementBits: chip.processor.element_bits });
  const fromAsm = execute(programFromAssembly(asm));

  it('scales each row by 0.75 with stochastic rounding and reads the rates through the ADC', () => {
    const before = freshBus();
    const cols = chip.core.neurons;
    let roundedUp = 0, fractional = 0;
    for (let row = 0; row < 10; row++) {
      for (let c = 0; c < cols; c++) {
        const i = row * cols + c;
        const old = before.synapses[i];
        const now = fromAsm.synapses[i];
        if (row >= 8 || c >= 128) {
          expect(now).toBe(old); // outside the block: untouched
          continue;
        }
        // (old * 128 * 0.75) / 128, rounded stochastically: one of the two neighbouring integers.
        const exact = (old * 128 * 24576) / 32768 / 128;
        expect([Math.floor(exact), Math.ceil(exact)]).toContain(now);
        if (exact !== Math.floor(exact)) {
          fractional++;
          if (now === Math.ceil(exact)) roundedUp++;
        }
      }
    }
    // Both directions occur (the draw is random, not a fixed rounding).
    expect(fractional).toBeGreaterThan(500);
    expect(roundedUp / fractional).toBeGreaterThan(0.3);
    expect(roundedUp / fractional).toBeLessThan(0.7);
    const codes = Array.from({ length: 128 }, (_, c) => adcCode(before.observables[c], chip.adc));
    expect(fromAsm.result).toEqual(codes);
    expect(fromAsm.exitCode).toBe(codes.reduce((a, b) => a + b, 0));
    expect(fromAsm.analogSteps).toBe(8);
  });

  it.skipIf(!haveClang)('gives the same result when written in C and built with clang + lld', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lechip-fw-'));
    try {
      const elfPath = join(dir, 'vec-scale.elf');
      const cc = spawnSync('clang', [
        '--target=riscv32', '-march=rv32im', '-mabi=ilp32', '-nostdlib', '-ffreestanding', '-O2', '-fuse-ld=lld',
        '-T', join(ROOT, 'firmware-models/lechip.ld'), '-o', elfPath, join(EXAMPLES, 'vec-scale.c'),
      ], { encoding: 'utf8' });
      expect(cc.stderr).toBe('');
      expect(cc.status).toBe(0);
      const elf = loadElf(readFileSync(elfPath), 'vec-scale.elf');
      expect(elf.symbols!.result).toBeDefined();
      const fromC = execute(elf);
      expect(fromC.synapses).toEqual(fromAsm.synapses);
      expect(fromC.result).toEqual(fromAsm.result);
      expect(fromC.exitCode).toBe(fromAsm.exitCode);
      expect(fromC.analogSteps).toBe(fromAsm.analogSteps);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
