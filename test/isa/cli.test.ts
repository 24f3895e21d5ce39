import { Command } from 'commander';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerAsm } from '../../cli/commands/asm.js';
import { registerDisasm } from '../../cli/commands/disasm.js';
import { Console } from '../../cli/io.js';
import { UserError } from '../../common/diagnostics.js';
import { assemble } from '../../isa/assembler.js';
import { decodeFirmware } from '../../isa/binary.js';

const tmp = mkdtempSync(join(tmpdir(), 'lechip-asm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `lechip <args>` with only asm and disasm registered; returns stdout. */
async function cli(args: string[]): Promise<string> {
  let stdout = '';
  const con = new Console({ stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true } });
  const program = new Command('lechip').exitOverride();
  registerAsm(program, con);
  registerDisasm(program, con);
  await program.parseAsync(args, { from: 'user' });
  return stdout;
}

const SRC = `
  _start:
    li t0, 3
  loop:
    vadd.bs v1, v1, v2
    addi t0, t0, -1
    bnez t0, loop
    li a7, 93
    ecall
  .data
  x: .word 7
`;

describe('lechip asm / disasm', () => {
  it('assembles into a LEFW binary next to the source and lists it back', async () => {
    const src = join(tmp, 'fw.s');
    writeFileSync(src, SRC);
    const report = JSON.parse(await cli(['asm', src, '--chip', 'bss2', '--json']));
    expect(report).toMatchObject({ output: join(tmp, 'fw.bin'), entry: 0, text_bytes: 24, data_bytes: 4, data_base: 32, chip: 'bss2' });
    const fw = decodeFirmware(readFileSync(join(tmp, 'fw.bin')));
    expect(Array.from(fw.text)).toEqual(Array.from(assemble(SRC).text));
    const text = await cli(['disasm', join(tmp, 'fw.bin')]);
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/lechip firmware binary, entry 0x0/);
    expect(lines[1]).toBe('00000000  00300293  li t0, 3');
    expect(lines[2]).toMatch(/^00000004  [0-9a-f]{8}  vadd\.bs v1, v1, v2$/);
    expect(lines[4]).toBe('0000000c  fe029ce3  bnez t0, -8  # 0x4');
    const json = JSON.parse(await cli(['disasm', join(tmp, 'fw.bin'), '--json']));
    expect(json.instructions).toHaveLength(6);
    expect(json.instructions[5]).toEqual({ address: 20, word: 0x73, text: 'ecall' });
  });

  it('writes -o and reports assembly errors as diagnostics with line and column', async () => {
    const src = join(tmp, 'bad.s');
    writeFileSync(src, 'nop\n  vadd.b v1, v2, v3\n  addi a0, a0, 4096\n');
    const err = await cli(['asm', src, '--chip', 'ideal', '-o', join(tmp, 'x.bin')]).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message.split('\n')).toEqual([
      `${src}:2:3: vadd.b needs 8-bit vector lanes; the target chip has element_bits [32]`,
      `${src}:3:16: immediate 4096 out of range for addi: must be in -2048..2047`,
    ]);
    writeFileSync(src, 'nop\n');
    await cli(['asm', src, '-o', join(tmp, 'x.bin')]);
    expect(decodeFirmware(readFileSync(join(tmp, 'x.bin'))).text[0]).toBe(0x13);
  });

  it('refuses files that are neither firmware binaries nor ELF', async () => {
    writeFileSync(join(tmp, 'junk.bin'), 'hello world');
    await expect(cli(['disasm', join(tmp, 'junk.bin')])).rejects.toThrow(/not a lechip firmware binary \(magic LEFW\) or an ELF executable/);
  });
});
