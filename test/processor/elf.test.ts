import { describe, expect, it } from 'vitest';
import { UserError } from '../../common/diagnostics.js';
import { assemble } from '../../isa/assembler.js';
import { decodeFirmware, encodeFirmware } from '../../isa/binary.js';
import { MockBus } from '../../emulator/processor/bus.js';
import { isElf, loadElf } from '../../emulator/processor/elf.js';
import { Processor, runToHalt } from '../../emulator/processor/interpreter.js';
import { preset } from './helpers.js';

interface Seg {
  vaddr: number;
  data: Uint8Array;
  memsz: number;
  flags: number;
}

/**
 * Builds a minimal ELF32 little-endian executable by hand, following the System V ABI layout:
 * header (52), program headers (32 each), segment data, .symtab / .strtab / .shstrtab, section headers (40 each).
 */
function buildElf(opts: { entry: number; segs: Seg[]; symbols?: Record<string, number>; machine?: number; cls?: number; data?: number; flags?: number; type?: number }): Uint8Array {
  const parts: number[] = [];
  const u8 = (v: number) => parts.push(v & 0xff);
  const u16 = (v: number) => { u8(v); u8(v >> 8); };
  const u32 = (v: number) => { u16(v); u16(v >>> 16); };
  const phoff = 52;
  let off = phoff + 32 * opts.segs.length;
  const segOff = opts.segs.map((s) => { const o = off; off += s.data.length; return o; });
  // string table: "\0name1\0name2\0"
  const names = Object.keys(opts.symbols ?? {});
  const strtab = [0];
  const nameOff = names.map((n) => { const o = strtab.length; for (const c of n) strtab.push(c.charCodeAt(0)); strtab.push(0); return o; });
  const symtabOff = off;
  const symtabSize = 16 * (names.length + 1);
  off += symtabSize;
  const strtabOff = off;
  off += strtab.length;
  const shstr = [0, ...Array.from('.symtab\0.strtab\0', (c) => c.charCodeAt(0))];
  const shstrOff = off;
  off += shstr.length;
  while (off % 4) off++;
  const shoff = off;
  // ELF header
  [0x7f, 0x45, 0x4c, 0x46, opts.cls ?? 1, opts.data ?? 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0].forEach(u8);
  u16(opts.type ?? 2); u16(opts.machine ?? 243); u32(1); u32(opts.entry); u32(phoff); u32(shoff); u32(opts.flags ?? 0);
  u16(52); u16(32); u16(opts.segs.length); u16(40); u16(4); u16(3);
  opts.segs.forEach((s, i) => { u32(1); u32(segOff[i]); u32(s.vaddr); u32(s.vaddr); u32(s.data.length); u32(s.memsz); u32(s.flags); u32(4); });
  opts.segs.forEach((s) => s.data.forEach(u8));
  // symtab: null symbol, then one FUNC/OBJECT per name in section 1
  for (let i = 0; i < 16; i++) u8(0);
  names.forEach((n, i) => { u32(nameOff[i]); u32(opts.symbols![n]); u32(0); u8(0x12); u8(0); u16(1); });
  strtab.forEach(u8);
  shstr.forEach(u8);
  while (parts.length < shoff) u8(0);
  // section headers: null, .symtab (link 2), .strtab, .shstrtab
  for (let i = 0; i < 40; i++) u8(0);
  const sh = (name: number, type: number, offset: number, size: number, link: number, entsize: number) => {
    u32(name); u32(type); u32(0); u32(0); u32(offset); u32(size); u32(link); u32(0); u32(4); u32(entsize);
  };
  sh(1, 2, symtabOff, symtabSize, 2, 16);
  sh(9, 3, strtabOff, strtab.length, 0, 0);
  sh(0, 3, shstrOff, shstr.length, 0, 0);
  return Uint8Array.from(parts);
}

const code = assemble(`
  .equ counter, 0x100
  _start:
    la t0, counter
    lw a0, 0(t0)
    addi a0, a0, 41
    lw a1, 4(t0)       # in .bss: zero-filled past the file size
    add a0, a0, a1
    li a7, 93
    ecall
`, { dataBase: 0x100 });
const textBytes = new Uint8Array(code.text.buffer);

function minimal(over: Partial<Parameters<typeof buildElf>[0]> = {}): Uint8Array {
  return buildElf({
    entry: 0,
    segs: [
      { vaddr: 0, data: textBytes, memsz: textBytes.length, flags: 5 },
      { vaddr: 0x100, data: Uint8Array.of(1, 0, 0, 0), memsz: 8, flags: 6 },
    ],
    symbols: { _start: 0, counter: 0x100 },
    ...over,
  });
}

describe('ELF loader', () => {
  it('loads a hand-built ELF32 RISC-V executable: segments, bss, entry, symbols', () => {
    const bytes = minimal();
    expect(isElf(bytes)).toBe(true);
    const elf = loadElf(bytes, 'fw.elf');
    expect(elf.entry).toBe(0);
    expect(elf.symbols).toEqual({ _start: 0, counter: 0x100 });
    expect(elf.segments.map((s) => [s.addr, s.bytes.length])).toEqual([[0, textBytes.length], [0x100, 8]]);
    expect(elf.executable.map((s) => s.addr)).toEqual([0]);
    const chip = preset('bss2');
    const p = new Processor({ chip, bus: new MockBus(4, 4) });
    p.mem.fill(0xaa); // the loader must clear memory, including .bss
    p.load(elf);
    const r = runToHalt(p);
    expect(r.exitCode).toBe(42);
  });

  it('rejects malformed or foreign files with the rule broken', () => {
    const err = (b: Uint8Array) => {
      try {
        loadElf(b, 'fw.elf');
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(err(Uint8Array.of(1, 2, 3, 4, 5))).toMatch(/^fw\.elf: not an ELF file/);
    expect(err(minimal({ cls: 2 }))).toMatch(/ELF class 2 \(64-bit\): the processor runs ELF32 only/);
    expect(err(minimal({ data: 2 }))).toMatch(/big-endian/);
    expect(err(minimal({ machine: 62 }))).toMatch(/ELF machine 62 is not RISC-V \(EM_RISCV = 243\)/);
    expect(err(minimal({ flags: 1 }))).toMatch(/compressed instructions \(RVC\)/);
    expect(err(minimal({ flags: 4 }))).toMatch(/hardware floating-point ABI/);
    expect(err(minimal({ type: 1 }))).toMatch(/ELF type 1 is not an executable/);
    expect(err(minimal().slice(0, 100))).toMatch(/truncated ELF/);
    expect(err(minimal().slice(0, 30))).toMatch(/shorter than the 52-byte ELF32 header/);
  });

  it('refuses segments that do not fit processor memory', () => {
    const elf = loadElf(minimal({ segs: [{ vaddr: 0x4000, data: textBytes, memsz: textBytes.length, flags: 5 }] }));
    const p = new Processor({ chip: preset('bss2'), bus: new MockBus(4, 4) });
    expect(() => p.load(elf)).toThrow(/firmware segment at 0x00004000 .* does not fit the processor's memory of 16384 bytes/);
  });
});

describe('LEFW firmware binary', () => {
  it('round-trips a program and rejects damaged files', () => {
    const bin = encodeFirmware(code);
    expect(String.fromCharCode(...bin.slice(0, 4))).toBe('LEFW');
    const back = decodeFirmware(bin);
    expect(Array.from(back.text)).toEqual(Array.from(code.text));
    expect(back.dataBase).toBe(0x100);
    expect(back.entry).toBe(0);
    expect(() => decodeFirmware(bin.slice(0, bin.length - 1), 'x.bin')).toThrow(/x\.bin: firmware binary is \d+ bytes but its header announces/);
    expect(() => decodeFirmware(Uint8Array.of(1, 2, 3, 4))).toThrow(/not a lechip firmware binary/);
  });
});
