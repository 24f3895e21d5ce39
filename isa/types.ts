/**
 * Types of the instruction table (isa/table.ts) and of the machine its semantics act on. The
 * assembler, disassembler, decoder, interpreter and docs all read the same `InstrDef` entries.
 */
import type { ProcessorBus } from '../emulator/processor/bus.js';

/** RISC-V base instruction formats (bit layouts of the 32-bit word). */
export type Format = 'R' | 'I' | 'S' | 'B' | 'U' | 'J';

/** Register fields of a word: rd = bits 11:7, rs1 = 19:15, rs2 = 24:20. */
export type RegField = 'rd' | 'rs1' | 'rs2';

/** Instruction classes whose cycle costs a chip gives in `processor.cycles` (chip/spec.ts). */
export const CYCLE_CLASSES = [
  'alu', 'mul', 'div', 'load', 'store', 'branch', 'jump',
  'vector', 'vector_mul', 'vector_row', 'vector_adc', 'wait',
] as const;
/** One of CYCLE_CLASSES. */
export type CycleClass = (typeof CYCLE_CLASSES)[number];

/** One operand of an instruction's assembly syntax and where its value sits in the word. */
export type Operand =
  /** A scalar register x0..x31 in a register field. */
  | { kind: 'xreg'; name: string; field: RegField }
  /** A vector register v0..v31 in a register field. */
  | { kind: 'vreg'; name: string; field: RegField }
  /** The signed 12-bit immediate of an I- or S-format word. */
  | { kind: 'imm'; name: string }
  /** A small unsigned number held in a register field (shift amounts, observable selectors). */
  | { kind: 'uimm'; name: string; field: RegField; min: number; max: number }
  /** `offset(rs1)`: the format's signed 12-bit immediate plus a scalar base register in rs1. */
  | { kind: 'mem'; name: string }
  /** A branch (B) or jump (J) target: an absolute address or label, encoded relative to pc. */
  | { kind: 'target'; name: string }
  /** The 20-bit upper immediate of lui/auipc (0..0xfffff). */
  | { kind: 'upper'; name: string }
  /** A fence's predecessor or successor set: letters of `iorw` (or 0 for none). */
  | { kind: 'fence'; name: string; part: 'pred' | 'succ' };

/** A decoded instruction word: the table entry and its fields (imm sign-extended per format). */
export interface DecodedInstruction {
  def: InstrDef;
  word: number;
  rd: number;
  rs1: number;
  rs2: number;
  /** I/S/B/J: sign-extended immediate; U: the upper immediate already shifted (word & 0xfffff000, signed). */
  imm: number;
}

/** Signature of an instruction's executable semantics. `m.nextPc` is pc + 4 on entry. */
export type Semantics = (m: Machine, d: DecodedInstruction) => void;

/** One instruction of the table. */
export interface InstrDef {
  mnemonic: string;
  /** Extension group, for the docs: RV32I, RV32M or one of the vector groups. */
  group: string;
  operands: Operand[];
  format: Format;
  opcode: number;
  funct3?: number;
  funct7?: number;
  /** Register fields fixed to a value (unused fields are fixed to 0). */
  fixed?: Partial<Record<RegField, number>>;
  /** Further fixed bits (mask, match) beyond opcode/funct3/funct7/fixed fields (ecall's imm, fence's fm). */
  extra?: { mask: number; match: number };
  cycles: CycleClass;
  /** Lane widths the instruction needs the chip to have in processor.element_bits. */
  elements?: (8 | 16 | 32)[];
  /** Semantics in words (one or two lines; the docs print it). */
  summary: string;
  exec: Semantics;
}

/** Views of the vector register file: register r, lane i of width w is view[r * lanes(w) + i]. */
export interface VectorViews {
  i8: Int8Array;
  u8: Uint8Array;
  i16: Int16Array;
  u16: Uint16Array;
  i32: Int32Array;
  u32: Uint32Array;
  f32: Float32Array;
}

/** What the table's semantics act on; emulator/processor/interpreter.ts implements it. */
export interface Machine {
  /** Scalar registers; x[0] is reset to 0 after every instruction. */
  readonly x: Int32Array;
  /** Address of the executing instruction. */
  pc: number;
  /** Address of the next instruction (pc + 4 unless a branch or jump sets it). */
  nextPc: number;
  /** Bytes per vector register (lanes: vbytes, vbytes/2 or vbytes/4). */
  readonly vbytes: number;
  readonly v: VectorViews;
  /** Byte-addressed local memory. */
  readonly mem: Uint8Array;
  /** Checks that [addr, addr+size) is inside memory and aligned to `align` bytes, else traps. */
  checkAccess(addr: number, size: number, align: number, what: string): void;
  /** Called after any store into memory (invalidates decoded instructions there). */
  wrote(addr: number, size: number): void;
  /** Next 32 random bits of lane `lane`'s hardware generator. */
  random(lane: number): number;
  readonly bus: ProcessorBus;
  /** Synapse code range on fixed-weight chips (stores clamp into it); null on float32 chips. */
  readonly weightCodes: { min: number; max: number } | null;
  /** ADC conversion of an analog value into a lane of `laneBits` (8 or 16): see isa/lanes.ts. */
  adcCode(x: number, laneBits: 8 | 16): number;
  /** Scratch buffers of at least vbytes lanes for bus transfers. */
  readonly scratchI32: Int32Array;
  readonly scratchF32: Float32Array;
  /** Stops with a processor trap naming pc and the cause. */
  trap(message: string): never;
  /** System call (a7 selects: 93 exit, 1 print a0). */
  ecall(): void;
  /** Breakpoint: stops the run with reason 'ebreak'. */
  ebreak(): void;
  /** Yields to the host until the analog core has advanced `steps` steps. */
  wait(steps: number): void;
}
