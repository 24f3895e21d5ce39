/**
 * Loader of ELF32 little-endian RISC-V executables (as clang --target=riscv32 and lld build them):
 * checks class, byte order, machine (EM_RISCV = 243), type and the RV32IM soft-float ABI, copies
 * PT_LOAD segments (zero-filled up to p_memsz) and reads symbols from .symtab when present.
 * Layout per the System V ABI (ELF header, program headers, section headers).
 */
import { fail } from '../../common/diagnostics.js';
import type { ProgramImage } from './interpreter.js';

/** ELF machine number of RISC-V. */
export const EM_RISCV = 243;
const PT_LOAD = 1;
const PF_X = 1;
const SHT_SYMTAB = 2;
const EF_RISCV_RVC = 0x1;
const EF_RISCV_FLOAT_ABI = 0x6;
const EF_RISCV_RVE = 0x8;

/** A loaded ELF: the program image plus its executable segments (for disassembly). */
export interface ElfProgram extends ProgramImage {
  executable: { addr: number; bytes: Uint8Array }[];
}

/** True when the bytes start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Parses an ELF32 RISC-V executable; a malformed or foreign file is a UserError naming the rule. */
export function loadElf(bytes: Uint8Array, file?: string): ElfProgram {
  const bad = (message: string): never => fail(message, { file });
  if (!isElf(bytes)) bad('not an ELF file (the first bytes are not 0x7f "ELF")');
  if (bytes.length < 52) bad(`truncated ELF: ${bytes.length} bytes, shorter than the 52-byte ELF32 header`);
  if (bytes[4] !== 1) bad(`ELF class ${bytes[4]} (${bytes[4] === 2 ? '64-bit' : 'unknown'}): the processor runs ELF32 only (build with --target=riscv32)`);
  if (bytes[5] !== 1) bad(`ELF data encoding ${bytes[5]} (${bytes[5] === 2 ? 'big-endian' : 'unknown'}): the processor is little-endian`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const type = u16(16);
  if (type !== 2) bad(`ELF type ${type} is not an executable (ET_EXEC = 2): link the firmware (clang -fuse-ld=lld with firmware-models/lechip.ld)`);
  const machine = u16(18);
  if (machine !== EM_RISCV) bad(`ELF machine ${machine} is not RISC-V (EM_RISCV = ${EM_RISCV})`);
  const flags = u32(36);
  if (flags & EF_RISCV_RVC) bad('ELF uses compressed instructions (RVC): the processor implements RV32IM only (build with -march=rv32im)');
  if (flags & EF_RISCV_FLOAT_ABI) bad('ELF uses a hardware floating-point ABI: build with -mabi=ilp32');
  if (flags & EF_RISCV_RVE) bad('ELF targets RV32E: build with -march=rv32im');
  const entry = u32(24);
  const phoff = u32(28), shoff = u32(32);
  const phentsize = u16(42), phnum = u16(44), shentsize = u16(46), shnum = u16(48);
  if (phnum === 0) bad('ELF has no program headers, so nothing to load');
  if (phentsize < 32) bad(`ELF program header size ${phentsize} is below ELF32's 32 bytes`);
  if (phoff + phnum * phentsize > bytes.length) bad(`truncated ELF: program headers at ${phoff} (${phnum} x ${phentsize} bytes) run past the file's ${bytes.length} bytes`);

  const segments: { addr: number; bytes: Uint8Array }[] = [];
  const executable: { addr: number; bytes: Uint8Array }[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (u32(o) !== PT_LOAD) continue;
    const offset = u32(o + 4), vaddr = u32(o + 8), filesz = u32(o + 16), memsz = u32(o + 20), pflags = u32(o + 24);
    if (filesz > memsz) bad(`ELF segment ${i}: file size ${filesz} exceeds memory size ${memsz}`);
    if (offset + filesz > bytes.length) bad(`truncated ELF: segment ${i} (${filesz} bytes at offset ${offset}) runs past the file's ${bytes.length} bytes`);
    const seg = new Uint8Array(memsz);
    seg.set(bytes.subarray(offset, offset + filesz));
    segments.push({ addr: vaddr, bytes: seg });
    if (pflags & PF_X) executable.push({ addr: vaddr, bytes: seg.subarray(0, filesz) });
  }
  if (segments.length === 0) bad('ELF has no PT_LOAD segment, so nothing to load');

  const symbols: Record<string, number> = {};
  if (shoff !== 0 && shnum > 0) {
    if (shentsize < 40) bad(`ELF section header size ${shentsize} is below ELF32's 40 bytes`);
    if (shoff + shnum * shentsize > bytes.length) bad(`truncated ELF: section headers at ${shoff} run past the file's ${bytes.length} bytes`);
    const section = (k: number) => {
      const o = shoff + k * shentsize;
      return { type: u32(o + 4), offset: u32(o + 16), size: u32(o + 20), link: u32(o + 24) };
    };
    for (let k = 0; k < shnum; k++) {
      const s = section(k);
      if (s.type !== SHT_SYMTAB) continue;
      if (s.link >= shnum) bad(`ELF .symtab links to string table ${s.link}, but there are ${shnum} sections`);
      const str = section(s.link);
      if (s.offset + s.size > bytes.length || str.offset + str.size > bytes.length) bad('truncated ELF: the symbol or string table runs past the end of the file');
      for (let o = s.offset + 16; o + 16 <= s.offset + s.size; o += 16) {
        const name = cString(bytes, str.offset + u32(o), str.offset + str.size);
        const info = bytes[o + 12] & 0xf;
        const shndx = u16(o + 14);
        // Skip file and section symbols, and undefined ones.
        if (!name || info === 3 || info === 4 || shndx === 0) continue;
        symbols[name] = u32(o + 4);
      }
    }
  }
  return { segments, executable, entry, symbols, file };
}

function cString(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end && bytes[i] !== 0; i++) s += String.fromCharCode(bytes[i]);
  return s;
}
