/**
 * Basic blocks of a firmware image for the translator: the code reachable from the start pcs by
 * static control flow, split at branches, jumps, branch and jump targets (labels), return sites,
 * `wait`, `ecall`, `ebreak` and instructions the chip cannot execute. Indirect jumps (`jalr`) end
 * a block; their targets are found at run time (and a target the program keeps reaching becomes
 * a start pc of the next translation).
 */
import { decode } from '../../isa/decoder.js';
import type { DecodedInstruction, InstrDef } from '../../isa/types.js';

/** Conditional branches (B format). */
export const BRANCHES = new Set(['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu']);

/** How control leaves a block after its last instruction. */
export type BlockExit =
  /** Conditional branch: target or fall-through. */
  | 'branch'
  /** jal: a pc-relative jump. */
  | 'jal'
  /** jalr: an indirect jump. */
  | 'jalr'
  /** wait: return to the host when steps > 0, else fall through. */
  | 'wait'
  /** ecall, ebreak or an instruction the chip lacks: the host executes it. */
  | 'host'
  /** The next address starts another block or is not code. */
  | 'fall';

/** One basic block. */
export interface Block {
  /** Address of the first instruction. */
  start: number;
  instrs: DecodedInstruction[];
  /** Address after the last instruction. */
  end: number;
  exit: BlockExit;
}

/** The blocks of a program and the address range their instructions occupy. */
export interface ControlFlow {
  /** Blocks in address order. */
  blocks: Block[];
  byStart: Map<number, Block>;
  /** Lowest instruction address and the address after the highest (0, 0 when empty). */
  codeLo: number;
  codeHi: number;
}

/** Kind of control transfer of an instruction. */
function transfer(def: InstrDef, allowed: boolean): BlockExit | null {
  if (!allowed) return 'host';
  const m = def.mnemonic;
  if (BRANCHES.has(m)) return 'branch';
  if (m === 'jal' || m === 'jalr' || m === 'wait') return m;
  if (m === 'ecall' || m === 'ebreak') return 'host';
  return null;
}

/**
 * Finds the blocks reachable from `starts` in `mem` (instructions are read from memory, so what
 * runs is what is translated). `allowed` tells whether the chip has an instruction's lane widths.
 */
export function findBlocks(mem: Uint8Array, starts: number[], allowed: (def: InstrDef) => boolean): ControlFlow {
  const decoded = new Map<number, DecodedInstruction>();
  const leaders = new Set<number>();
  const work: number[] = [];
  const fetch = (pc: number): DecodedInstruction | null => {
    if ((pc & 3) !== 0 || pc < 0 || pc + 4 > mem.length) return null;
    return decode(mem[pc] | (mem[pc + 1] << 8) | (mem[pc + 2] << 16) | (mem[pc + 3] << 24));
  };
  const push = (pc: number, leader: boolean) => {
    pc >>>= 0;
    if (leader) leaders.add(pc);
    if (!decoded.has(pc)) work.push(pc);
  };
  for (const s of starts) push(s, true);
  while (work.length > 0) {
    const pc = work.pop()!;
    if (decoded.has(pc)) continue;
    const d = fetch(pc);
    if (!d) continue; // not code: reaching it at run time traps in the host
    decoded.set(pc, d);
    const kind = transfer(d.def, allowed(d.def));
    const next = (pc + 4) >>> 0;
    switch (kind) {
      case null:
        push(next, false);
        break;
      case 'branch':
        push(pc + d.imm, true);
        push(next, true);
        break;
      case 'jal':
        push(pc + d.imm, true);
        if (d.rd !== 0) push(next, true); // a call returns here
        break;
      case 'jalr': {
        if (d.rd !== 0) push(next, true);
        const target = staticJalrTarget(decoded.get(pc - 4) ?? fetch(pc - 4), pc - 4, d);
        if (target !== null) push(target, true);
        break;
      }
      case 'wait':
      case 'host':
        // The host resumes here after a wait, a print, a breakpoint.
        push(next, true);
        break;
    }
  }

  const addrs = [...decoded.keys()].sort((a, b) => a - b);
  const blocks: Block[] = [];
  let cur: Block | null = null;
  for (const a of addrs) {
    if (cur && (a !== cur.end || leaders.has(a))) {
      cur.exit = 'fall';
      blocks.push(cur);
      cur = null;
    }
    const d = decoded.get(a)!;
    if (!cur) cur = { start: a, instrs: [], end: a, exit: 'fall' };
    cur.instrs.push(d);
    cur.end = a + 4;
    const kind = transfer(d.def, allowed(d.def));
    if (kind !== null) {
      cur.exit = kind;
      blocks.push(cur);
      cur = null;
    }
  }
  if (cur) blocks.push(cur);
  const byStart = new Map(blocks.map((b) => [b.start, b]));
  return {
    blocks, byStart,
    codeLo: blocks.length ? blocks[0].start : 0,
    codeHi: blocks.length ? blocks[blocks.length - 1].end : 0,
  };
}

/**
 * The target of `jalr` when the instruction before it (in the same block) set its base register
 * to a constant: `auipc`/`lui` + `jalr` (the `call`/`tail` pseudo-instructions). Null otherwise.
 */
export function staticJalrTarget(prev: DecodedInstruction | null, prevPc: number, d: DecodedInstruction): number | null {
  if (!prev || d.rs1 === 0 || prev.rd !== d.rs1) return null;
  const m = prev.def.mnemonic;
  if (m === 'auipc') return (((prevPc + prev.imm + d.imm) | 0) & ~1) >>> 0;
  if (m === 'lui') return (((prev.imm + d.imm) | 0) & ~1) >>> 0;
  return null;
}
