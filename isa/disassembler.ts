/**
 * Disassembler derived from the instruction table. Its output assembles back to the same words:
 * branch and jump targets are printed as pc-relative offsets (as LLVM prints and reads them), words
 * that are not instructions as `.word 0x...`, and the usual aliases (li, mv, j, ret, ...) only where
 * the assembler expands them to exactly that word.
 */
import { decode } from './decoder.js';
import { ABI_NAMES } from './registers.js';
import type { DecodedInstruction, Operand } from './types.js';

/** How the disassembler prints. */
export interface DisassembleOptions {
  /** Address of the first word (default 0). */
  base?: number;
  /** Print pseudo-instruction aliases (default true). */
  aliases?: boolean;
  /** Print `xN` instead of ABI names. */
  numericRegisters?: boolean;
  /** Append the absolute target address of branches and jumps as a comment (`# 0x40 <loop>`). */
  targets?: boolean;
  /** Symbols to name branch targets in that comment (implies targets). */
  symbols?: Record<string, number>;
}

/** Disassembles words (one line of assembly each, without addresses). */
export function disassemble(words: Uint32Array, opts: DisassembleOptions = {}): string[] {
  const base = opts.base ?? 0;
  const names = symbolNames(opts.symbols);
  return Array.from(words, (w, i) => {
    const pc = (base + 4 * i) >>> 0;
    const d = decode(w);
    if (!d) return `.word ${hex(w >>> 0)}`;
    let text = formatInstruction(d, pc, opts);
    if ((opts.targets || names) && d.def.operands.some((o) => o.kind === 'target')) {
      const abs = (pc + d.imm) >>> 0;
      const name = names?.get(abs);
      text += `  # ${hex(abs)}${name ? ` <${name}>` : ''}`;
    }
    return text;
  });
}

function symbolNames(symbols?: Record<string, number>): Map<number, string> | undefined {
  if (!symbols) return undefined;
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(symbols)) if (!m.has(v >>> 0)) m.set(v >>> 0, k);
  return m;
}

/** Hex with 0x prefix (negative values as -0x...). */
export function hex(x: number): string {
  return x < 0 ? `-0x${(-x).toString(16)}` : `0x${x.toString(16)}`;
}

/** One decoded instruction at `pc` as assembly text. */
export function formatInstruction(d: DecodedInstruction, pc: number, opts: DisassembleOptions = {}): string {
  const x = (n: number) => (opts.numericRegisters ? `x${n}` : ABI_NAMES[n]);
  if (opts.aliases !== false) {
    const a = alias(d, pc, x);
    if (a !== undefined) return a;
  }
  const ops = d.def.operands.map((o) => operandText(o, d, pc, x));
  return ops.length ? `${d.def.mnemonic} ${ops.join(', ')}` : d.def.mnemonic;
}

function target(d: DecodedInstruction, _pc: number): string {
  // A plain number is a pc-relative offset to the assembler, so the text is base-independent.
  return String(d.imm);
}

function operandText(o: Operand, d: DecodedInstruction, pc: number, x: (n: number) => string): string {
  switch (o.kind) {
    case 'xreg':
      return x(d[o.field]);
    case 'vreg':
      return `v${d[o.field]}`;
    case 'imm':
      return String(d.imm);
    case 'uimm':
      return String(d[o.field]);
    case 'mem':
      return `${d.imm}(${x(d.rs1)})`;
    case 'target':
      return target(d, pc);
    case 'upper':
      return hex(d.imm >>> 12);
    case 'fence': {
      const bits = o.part === 'pred' ? (d.imm >> 4) & 0xf : d.imm & 0xf;
      return fenceSet(bits);
    }
  }
}

/** A fence set's letters (i = 8, o = 4, r = 2, w = 1), `0` when empty. */
export function fenceSet(bits: number): string {
  const s = 'iorw'.split('').filter((_, i) => bits & (8 >> i)).join('');
  return s || '0';
}

/** The alias for a word, when the assembler's expansion of that alias is exactly this word. */
function alias(d: DecodedInstruction, pc: number, x: (n: number) => string): string | undefined {
  const { rd, rs1, rs2, imm } = d;
  switch (d.def.mnemonic) {
    case 'addi':
      if (rd === 0 && rs1 === 0 && imm === 0) return 'nop';
      if (rs1 === 0) return `li ${x(rd)}, ${imm}`;
      if (imm === 0) return `mv ${x(rd)}, ${x(rs1)}`;
      return undefined;
    case 'xori':
      return imm === -1 ? `not ${x(rd)}, ${x(rs1)}` : undefined;
    case 'sub':
      return rs1 === 0 ? `neg ${x(rd)}, ${x(rs2)}` : undefined;
    case 'sltiu':
      return imm === 1 ? `seqz ${x(rd)}, ${x(rs1)}` : undefined;
    case 'sltu':
      return rs1 === 0 ? `snez ${x(rd)}, ${x(rs2)}` : undefined;
    case 'slt':
      if (rs2 === 0) return `sltz ${x(rd)}, ${x(rs1)}`;
      if (rs1 === 0) return `sgtz ${x(rd)}, ${x(rs2)}`;
      return undefined;
    case 'beq':
      return rs2 === 0 ? `beqz ${x(rs1)}, ${target(d, pc)}` : undefined;
    case 'bne':
      return rs2 === 0 ? `bnez ${x(rs1)}, ${target(d, pc)}` : undefined;
    case 'bge':
      if (rs1 === 0) return `blez ${x(rs2)}, ${target(d, pc)}`;
      if (rs2 === 0) return `bgez ${x(rs1)}, ${target(d, pc)}`;
      return undefined;
    case 'blt':
      if (rs2 === 0) return `bltz ${x(rs1)}, ${target(d, pc)}`;
      if (rs1 === 0) return `bgtz ${x(rs2)}, ${target(d, pc)}`;
      return undefined;
    case 'jal':
      if (rd === 0) return `j ${target(d, pc)}`;
      if (rd === 1) return `jal ${target(d, pc)}`;
      return undefined;
    case 'jalr':
      if (imm !== 0) return undefined;
      if (rd === 0 && rs1 === 1) return 'ret';
      if (rd === 0) return `jr ${x(rs1)}`;
      if (rd === 1) return `jalr ${x(rs1)}`;
      return undefined;
    case 'fence':
      return imm === 0xff ? 'fence' : undefined;
    case 'vor':
      return rs1 === rs2 ? `vmv v${rd}, v${rs1}` : undefined;
    default:
      return undefined;
  }
}
