/** `lechip asm FILE.s`: assemble processor firmware into a flat LEFW binary (isa/binary.ts). */
import type { Command } from 'commander';
import { loadChip } from '../../chip/presets.js';
import { assemble } from '../../isa/assembler.js';
import { encodeFirmware } from '../../isa/binary.js';
import { readText, siblingPath, writeOutput } from '../files.js';
import { Console } from '../io.js';

interface AsmOptions {
  output?: string;
  chip?: string;
  json?: boolean;
}

/** Registers `asm` on the program (the console defaults to process.stdout / process.stderr). */
export function registerAsm(program: Command, con: Console = new Console({ stdout: process.stdout, stderr: process.stderr })): void {
  program
    .command('asm')
    .description('assemble plasticity-processor firmware (.s) into a firmware binary (.bin)')
    .argument('<FILE.s>', 'assembly source (docs/isa.md)')
    .option('-o, --output <FILE.bin>', 'firmware binary (default: FILE.bin next to the source)')
    .option('--chip <C>', 'check lane widths and memory size against a chip preset or chip JSON file')
    .option('--json', 'print one JSON object on stdout')
    .action((file: string, o: AsmOptions) => {
      const chip = o.chip ? loadChip(o.chip) : undefined;
      const program = assemble(readText(file, 'assembly source'), {
        file,
        elementBits: chip?.processor.element_bits,
        memoryBytes: chip ? chip.processor.memory_kib * 1024 : undefined,
      });
      const output = o.output ?? siblingPath(file, '.bin');
      const bytes = encodeFirmware(program);
      writeOutput(output, bytes, 'firmware binary');
      const report = {
        file, output, bytes: bytes.length, entry: program.entry, text_bytes: program.text.length * 4, data_bytes: program.data.length,
        data_base: program.dataBase, instructions: program.text.length, chip: chip?.name ?? null, symbols: program.symbols,
      };
      if (o.json) con.json(report);
      else {
        con.out(`wrote ${output}: ${report.text_bytes} bytes of text (${report.instructions} words), ${report.data_bytes} bytes of data at 0x${report.data_base.toString(16)}, entry 0x${report.entry.toString(16)}`);
      }
    });
}
