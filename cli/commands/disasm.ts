/** `lechip disasm FILE`: list a firmware binary (LEFW) or an ELF32 RISC-V executable as assembly. */
import type { Command } from 'commander';
import { fail } from '../../common/diagnostics.js';
import { decodeFirmware, isFirmwareBinary } from '../../isa/binary.js';
import { disassemble } from '../../isa/disassembler.js';
import { isElf, loadElf } from '../../emulator/processor/elf.js';
import { readBytes } from '../files.js';
import { Console } from '../io.js';

interface Listing {
  format: 'lefw' | 'elf';
  entry: number;
  symbols: Record<string, number>;
  instructions: { address: number; word: number; text: string }[];
}

/** Disassembles the executable parts of a firmware file. */
export function listFirmware(bytes: Uint8Array, file: string): Listing {
  let format: Listing['format'];
  let entry: number;
  let symbols: Record<string, number> = {};
  let code: { addr: number; words: Uint32Array }[];
  if (isFirmwareBinary(bytes)) {
    const fw = decodeFirmware(bytes, file);
    format = 'lefw';
    entry = fw.entry;
    code = [{ addr: 0, words: fw.text }];
  } else if (isElf(bytes)) {
    const elf = loadElf(bytes, file);
    format = 'elf';
    entry = elf.entry;
    symbols = elf.symbols ?? {};
    code = elf.executable.map((s) => {
      const words = new Uint32Array(s.bytes.length >>> 2);
      const dv = new DataView(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
      for (let i = 0; i < words.length; i++) words[i] = dv.getUint32(4 * i, true);
      return { addr: s.addr, words };
    });
  } else {
    return fail('not a lechip firmware binary (magic LEFW) or an ELF executable', { file });
  }
  const instructions = code.flatMap(({ addr, words }) =>
    disassemble(words, { base: addr, symbols }).map((text, i) => ({ address: addr + 4 * i, word: words[i], text })),
  );
  return { format, entry, symbols, instructions };
}

/** Registers `disasm` on the program (the console defaults to process.stdout / process.stderr). */
export function registerDisasm(program: Command, con: Console = new Console({ stdout: process.stdout, stderr: process.stderr })): void {
  program
    .command('disasm')
    .description('disassemble a firmware binary (.bin from lechip asm) or an ELF32 RISC-V executable')
    .argument('<FILE>', 'firmware binary or ELF file')
    .option('--json', 'print one JSON object on stdout')
    .action((file: string, o: { json?: boolean }) => {
      const listing = listFirmware(readBytes(file, 'firmware'), file);
      if (o.json) {
        con.json({ file, ...listing });
        return;
      }
      const labels = new Map<number, string[]>();
      for (const [name, addr] of Object.entries(listing.symbols)) labels.set(addr, [...(labels.get(addr) ?? []), name]);
      const lines: string[] = [`# ${file}: ${listing.format === 'elf' ? 'ELF32 RISC-V executable' : 'lechip firmware binary'}, entry 0x${listing.entry.toString(16)}`];
      for (const ins of listing.instructions) {
        for (const name of labels.get(ins.address) ?? []) lines.push(`${name}:`);
        lines.push(`${ins.address.toString(16).padStart(8, '0')}  ${(ins.word >>> 0).toString(16).padStart(8, '0')}  ${ins.text}`);
      }
      con.out(lines.join('\n'));
    });
}
