/**
 * Two-pass assembler for the plasticity processor, derived from isa/table.ts. Pass 1 lays out
 * statements and defines labels; pass 2 encodes. Every mistake becomes a diagnostic with file,
 * line, column and the rule broken, and all of a file's mistakes are reported together as one
 * UserError. Memory map: .text from address 0, .data after it (16-byte aligned unless `dataBase`).
 */
import { UserError, type Diagnostic } from '../common/diagnostics.js';
import { encodeFields, IMM_RANGE, type Fields } from './encoding.js';
import { AsmError, evaluate, hi20, lo12, parseExpr, type Expr, type ExprEnv } from './expr.js';
import { lex, type Token } from './lexer.js';
import { scalarRegister, vectorRegister } from './registers.js';
import { BY_MNEMONIC, syntaxOf } from './table.js';
import type { InstrDef, Operand } from './types.js';

/** What the assembler checks against and where it places .data. */
export interface AssembleOptions {
  /** File name for diagnostics. */
  file?: string;
  /** Lane widths of the target chip (processor.element_bits): vector instructions needing other widths are errors. */
  elementBits?: readonly number[];
  /** Processor memory in bytes (memory_kib * 1024): a larger program is an error. */
  memoryBytes?: number;
  /** Address of .data (default: end of .text rounded up to 16 bytes). */
  dataBase?: number;
  /** Constants defined before the source, as if by `.equ` (how a linker passes rates and addresses in). */
  defines?: Record<string, number>;
}

/** An assembled program: text and data images, symbols, entry and a line map. */
export interface AssembledProgram {
  /** Instruction words of .text, loaded at address 0. */
  text: Uint32Array;
  /** Bytes of .data, loaded at dataBase. */
  data: Uint8Array;
  dataBase: number;
  /** Label and .equ values (addresses are absolute). */
  symbols: Record<string, number>;
  /** Address execution starts at: `_start` if defined, else 0. */
  entry: number;
  /** Source line of each text word (0 for alignment padding), for traps and listings. */
  lines: Uint32Array;
  file?: string;
}

type Section = 'text' | 'data';

interface Stmt {
  line: number;
  /** Directive (with the dot) or mnemonic, lowercased. */
  name: string;
  nameCol: number;
  isDirective: boolean;
  /** Operands split at top-level commas. */
  args: Token[][];
  argCols: number[];
  /** Column just past the name, for "missing operand" diagnostics. */
  endCol: number;
  section: Section;
  offset: number;
  size: number;
  /** Set when pass 1 failed for this statement (pass 2 skips it). */
  failed?: boolean;
}

type SymbolDef =
  | { kind: 'label'; section: Section; offset: number; line: number }
  | { kind: 'equ'; expr: Expr; line: number; section: Section; offset: number; index: number; value?: number; busy?: boolean };

const IGNORED_DIRECTIVES = new Set(['.globl', '.global', '.local', '.type', '.size', '.file', '.ident', '.option', '.attribute', '.weak', '.hidden']);

/** Assembles source text; throws a UserError carrying every diagnostic of the file. */
export function assemble(source: string, opts: AssembleOptions = {}): AssembledProgram {
  return new Assembler(source, opts).run();
}

class Assembler {
  private readonly diags: Diagnostic[] = [];
  private readonly stmts: Stmt[] = [];
  private readonly symbols = new Map<string, SymbolDef>();
  /** Numeric local labels: label -> statement indices and offsets, in order. */
  private readonly locals = new Map<number, { index: number; section: Section; offset: number }[]>();
  private dataBase = 0;
  /** While evaluating: statement index and its absolute address. */
  private cur = { index: 0, addr: 0 };
  private pass2 = false;

  constructor(private readonly source: string, private readonly opts: AssembleOptions) {
    for (const [name, value] of Object.entries(opts.defines ?? {})) {
      if (!/^[A-Za-z_.$][A-Za-z0-9_.$]*$/.test(name) || !Number.isFinite(value)) throw new Error(`assembler: bad define ${name} = ${value}`);
      this.symbols.set(name, { kind: 'equ', expr: { kind: 'num', value, col: 0 }, line: 0, section: 'text', offset: 0, index: 0, value });
    }
  }

  run(): AssembledProgram {
    const statements = lex(this.source, (line, e) => this.error(line, e.col, e.message));
    this.pass1(statements);
    const textSize = align(this.sectionSize('text'), 4);
    this.dataBase = this.opts.dataBase ?? align(textSize, 16);
    if (this.opts.dataBase !== undefined && this.opts.dataBase < textSize) {
      this.error(1, 1, `dataBase 0x${this.opts.dataBase.toString(16)} overlaps .text, which ends at 0x${textSize.toString(16)}`);
    }
    const dataSize = this.sectionSize('data');
    const textBytes = new Uint8Array(textSize);
    const dataBytes = new Uint8Array(dataSize);
    const lines = new Uint32Array(textSize / 4);
    this.pass2 = true;
    this.stmts.forEach((s, index) => {
      if (s.failed) return;
      const bytes = s.section === 'text' ? textBytes : dataBytes;
      this.cur = { index, addr: this.address(s.section, s.offset) };
      try {
        this.emit(s, bytes);
        if (s.section === 'text') for (let a = s.offset; a < s.offset + s.size; a += 4) if (a % 4 === 0) lines[a / 4] = s.line;
      } catch (e) {
        this.catch(s, e);
      }
    });
    if (this.opts.memoryBytes !== undefined && this.dataBase + dataSize > this.opts.memoryBytes) {
      this.error(this.stmts.at(-1)?.line ?? 1, 1,
        `program needs ${this.dataBase + dataSize} bytes (text ${textSize}, data ${dataSize} at 0x${this.dataBase.toString(16)}) but the processor has ${this.opts.memoryBytes} bytes of memory`);
    }
    const symbols: Record<string, number> = {};
    for (const name of this.symbols.keys()) {
      try {
        symbols[name] = this.symbolValue(name, 0, true);
      } catch (e) {
        if (!(e instanceof AsmError)) throw e;
        // Already reported where the symbol is defined or used.
      }
    }
    if (this.diags.length) {
      this.diags.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
      throw new UserError(this.diags);
    }
    return {
      text: new Uint32Array(textBytes.buffer),
      data: dataBytes,
      dataBase: this.dataBase,
      symbols,
      entry: symbols._start ?? 0,
      lines,
      file: this.opts.file,
    };
  }

  // ------------------------------------------------------------ diagnostics
  private error(line: number, column: number, message: string): void {
    this.diags.push({ file: this.opts.file, line, column, message, severity: 'error' });
  }

  private catch(s: Stmt, e: unknown): void {
    if (e instanceof AsmError) this.error(s.line, e.col, e.message);
    else throw e;
  }

  // ------------------------------------------------------------ pass 1: layout and labels
  private pass1(statements: { line: number; tokens: Token[] }[]): void {
    let section: Section = 'text';
    const counters: Record<Section, number> = { text: 0, data: 0 };
    for (const { line, tokens } of statements) {
      let toks = tokens;
      try {
        // Labels: `name:` or `1:` (any number of them) before a statement.
        while (toks.length >= 2 && toks[1].kind === 'punct' && toks[1].text === ':' && (toks[0].kind === 'id' || toks[0].kind === 'num')) {
          this.defineLabel(toks[0], line, section, counters[section]);
          toks = toks.slice(2);
        }
      } catch (e) {
        if (e instanceof AsmError) this.error(line, e.col, e.message);
        else throw e;
        continue;
      }
      if (toks.length === 0) continue;
      const head = toks[0];
      if (head.kind !== 'id') {
        this.error(line, head.col, `expected an instruction, directive or label, found '${head.text}'`);
        continue;
      }
      const { args, cols } = splitArgs(toks.slice(1), head.col + head.text.length);
      const s: Stmt = {
        line, name: head.text.toLowerCase(), nameCol: head.col, isDirective: head.text.startsWith('.'),
        args, argCols: cols, endCol: head.col + head.text.length, section, offset: counters[section], size: 0,
      };
      this.cur = { index: this.stmts.length, addr: 0 };
      try {
        if (s.isDirective) {
          const switched = this.sectionDirective(s);
          if (switched) {
            section = switched;
            continue;
          }
          if (s.name === '.equ' || s.name === '.set') {
            this.defineEqu(s);
            continue;
          }
          if (IGNORED_DIRECTIVES.has(s.name)) continue;
          s.size = this.directiveSize(s, counters[section]);
        } else {
          if (section !== 'text') throw new AsmError(`instruction '${s.name}' in .data: instructions belong in .text`, s.nameCol);
          if (counters.text % 4 !== 0) throw new AsmError(`instruction at offset ${counters.text} of .text is not 4-byte aligned (add .align 2 before it)`, s.nameCol);
          s.size = 4 * this.instructionWords(s);
        }
      } catch (e) {
        if (!(e instanceof AsmError)) throw e;
        this.error(line, e.col, e.message);
        s.failed = true;
      }
      this.stmts.push(s);
      counters[section] += s.size;
    }
  }

  private sectionSize(section: Section): number {
    let end = 0;
    for (const s of this.stmts) if (s.section === section) end = Math.max(end, s.offset + s.size);
    for (const d of this.symbols.values()) if (d.kind === 'label' && d.section === section) end = Math.max(end, d.offset);
    return end;
  }

  private address(section: Section, offset: number): number {
    return section === 'text' ? offset : this.dataBase + offset;
  }

  private defineLabel(t: Token, line: number, section: Section, offset: number): void {
    if (t.kind === 'num') {
      const list = this.locals.get(t.value) ?? [];
      list.push({ index: this.stmts.length, section, offset });
      this.locals.set(t.value, list);
      return;
    }
    if (scalarRegister(t.text) !== undefined || vectorRegister(t.text) !== undefined) {
      throw new AsmError(`'${t.text}' is a register name and cannot be a label`, t.col);
    }
    const prev = this.symbols.get(t.text);
    if (prev) throw new AsmError(`symbol '${t.text}' is already defined ${where(prev.line)}`, t.col);
    this.symbols.set(t.text, { kind: 'label', section, offset, line });
  }

  private defineEqu(s: Stmt): void {
    if (s.args.length !== 2) throw new AsmError(`${s.name} takes 2 operands (name, value), got ${s.args.length}`, s.nameCol);
    const [nameToks, valueToks] = s.args;
    if (nameToks.length !== 1 || nameToks[0].kind !== 'id') throw new AsmError(`${s.name}: expected a symbol name`, s.argCols[0]);
    const name = nameToks[0].text;
    const prev = this.symbols.get(name);
    if (prev) throw new AsmError(`symbol '${name}' is already defined ${where(prev.line)}`, nameToks[0].col);
    this.symbols.set(name, {
      kind: 'equ', expr: parseExpr(valueToks, s.argCols[1]), line: s.line, section: s.section, offset: s.offset, index: this.stmts.length,
    });
  }

  private sectionDirective(s: Stmt): Section | undefined {
    let name = s.name;
    if (name === '.section') {
      const t = s.args[0]?.[0];
      if (!t || t.kind !== 'id') throw new AsmError('.section needs a section name', s.endCol);
      name = t.text;
    }
    if (name === '.text' || name.startsWith('.text.')) return 'text';
    if (['.data', '.rodata', '.bss', '.sdata', '.sbss', '.srodata'].some((p) => name === p || name.startsWith(`${p}.`))) return 'data';
    if (s.name === '.section') throw new AsmError(`unknown section '${name}': use .text, .data, .rodata or .bss`, s.args[0][0].col);
    return undefined;
  }

  /** Bytes a data directive occupies (constants in counts must be known here). */
  private directiveSize(s: Stmt, offset: number): number {
    const count = (i: number) => {
      const v = this.constant(s, i);
      if (v < 0) throw new AsmError(`${s.name} size must not be negative, got ${v}`, s.argCols[i]);
      return v;
    };
    switch (s.name) {
      case '.byte': return this.atLeastOne(s);
      case '.half': case '.short': case '.2byte': return 2 * this.atLeastOne(s);
      case '.word': case '.long': case '.4byte': case '.float': return 4 * this.atLeastOne(s);
      case '.space': case '.zero': case '.skip':
        if (s.args.length < 1 || s.args.length > (s.name === '.zero' ? 1 : 2)) throw new AsmError(`${s.name} takes a size${s.name === '.zero' ? '' : ' and an optional fill byte'}`, s.nameCol);
        return count(0);
      case '.align': case '.p2align': case '.balign': {
        if (s.args.length < 1 || s.args.length > 2) throw new AsmError(`${s.name} takes an alignment and an optional fill byte`, s.nameCol);
        const v = count(0);
        const bytes = s.name === '.balign' ? v : 2 ** v;
        if (s.name === '.balign' ? v === 0 || (v & (v - 1)) !== 0 : v > 16) {
          throw new AsmError(`${s.name} ${v}: alignment must be ${s.name === '.balign' ? 'a power of two' : 'at most 16 (2^16 bytes)'}`, s.argCols[0]);
        }
        return align(offset, bytes) - offset;
      }
      case '.ascii': case '.asciz': case '.string': {
        let n = 0;
        if (s.args.length === 0) throw new AsmError(`${s.name} needs a string`, s.endCol);
        s.args.forEach((a, i) => {
          if (a.length !== 1 || a[0].kind !== 'str') throw new AsmError(`${s.name} operand ${i + 1} must be a string in double quotes`, s.argCols[i]);
          n += a[0].text.length + (s.name === '.ascii' ? 0 : 1);
        });
        return n;
      }
    }
    throw new AsmError(`unknown directive '${s.name}'`, s.nameCol);
  }

  private atLeastOne(s: Stmt): number {
    if (s.args.length === 0) throw new AsmError(`${s.name} needs at least one value`, s.endCol);
    return s.args.length;
  }

  /** A constant needed in pass 1 (sizes, alignment): labels are not yet placed. */
  private constant(s: Stmt, i: number): number {
    return this.eval(s.args[i], s.argCols[i], false);
  }

  // ------------------------------------------------------------ symbols and expressions
  private env(allowLabels: boolean): ExprEnv {
    return {
      symbol: (name, col) => this.symbolValue(name, col, allowLabels),
      local: (label, dir, col) => {
        if (!allowLabels) throw new AsmError(`local label ${label}${dir} cannot be used here (value must be a constant)`, col);
        const list = this.locals.get(label) ?? [];
        const hit = dir === 'b'
          ? [...list].reverse().find((l) => l.index <= this.cur.index)
          : list.find((l) => l.index > this.cur.index);
        if (!hit) throw new AsmError(`undefined local label ${label}${dir} (no '${label}:' ${dir === 'b' ? 'before' : 'after'} this line)`, col);
        return this.address(hit.section, hit.offset);
      },
      dot: (col) => {
        if (!allowLabels) throw new AsmError("'.' cannot be used here (value must be a constant)", col);
        return this.cur.addr;
      },
    };
  }

  private symbolValue(name: string, col: number, allowLabels: boolean): number {
    const def = this.symbols.get(name);
    if (!def) {
      if (scalarRegister(name) !== undefined || vectorRegister(name) !== undefined) {
        throw new AsmError(`register '${name}' where a number or label is expected`, col);
      }
      throw new AsmError(`undefined ${allowLabels || !this.pass2 ? 'label or symbol' : 'symbol'} '${name}'`, col);
    }
    if (def.kind === 'label') {
      if (!allowLabels) throw new AsmError(`label '${name}' cannot be used here (value must be a constant known at this point)`, col);
      return this.address(def.section, def.offset);
    }
    if (def.value !== undefined) return def.value;
    if (def.busy) throw new AsmError(`symbol '${name}' is defined in terms of itself`, col);
    def.busy = true;
    const saved = this.cur;
    // `.` and local labels inside a definition mean the place of the definition, not of the use.
    this.cur = { index: def.index, addr: this.address(def.section, def.offset) };
    try {
      const v = evaluate(def.expr, this.env(allowLabels));
      // Only values that do not depend on label placement may be cached before pass 2.
      if (allowLabels && this.pass2) def.value = v;
      else if (!allowLabels) def.value = v;
      return v;
    } finally {
      def.busy = false;
      this.cur = saved;
    }
  }

  /**
   * A branch or jump operand as a pc-relative offset. As in LLVM's assembler, an expression that
   * involves a label, a local label or `.` is an address; a plain constant is the offset itself.
   */
  private targetOffset(toks: Token[], col: number): number {
    const e = parseExpr(toks, col);
    const v = evaluate(e, this.env(true));
    return this.isAddress(e, new Set()) ? v - this.cur.addr : v;
  }

  private isAddress(e: Expr, seen: Set<string>): boolean {
    switch (e.kind) {
      case 'num': return false;
      case 'local': case 'dot': return true;
      case 'sym': {
        const def = this.symbols.get(e.name);
        if (!def) return false;
        if (def.kind === 'label') return true;
        if (seen.has(e.name)) return false;
        seen.add(e.name);
        return this.isAddress(def.expr, seen);
      }
      case 'unary': case 'fn': return this.isAddress(e.arg, seen);
      case 'binary': return this.isAddress(e.left, seen) || this.isAddress(e.right, seen);
    }
  }

  private eval(toks: Token[], col: number, allowLabels: boolean): number {
    return evaluate(parseExpr(toks, col), this.env(allowLabels));
  }

  // ------------------------------------------------------------ instructions
  /** Words an instruction statement expands to (1 except for some pseudo-instructions). */
  private instructionWords(s: Stmt): number {
    const pseudo = PSEUDO[s.name];
    if (pseudo && pseudo.operands.length === s.args.length) {
      if (s.name === 'li') {
        // li's size depends on its value: when that is not a constant yet, it takes the long form.
        try {
          return liWords(this.eval(s.args[1], s.argCols[1], false));
        } catch (e) {
          if (e instanceof AsmError) return 2;
          throw e;
        }
      }
      return pseudo.words;
    }
    const def = BY_MNEMONIC.get(s.name);
    if (!def && !pseudo) throw new AsmError(`unknown mnemonic '${s.name}'`, s.nameCol);
    return 1;
  }

  private emit(s: Stmt, out: Uint8Array): void {
    if (s.isDirective) return this.emitData(s, out);
    const words = this.encodeInstruction(s);
    if (words.length * 4 !== s.size) throw new Error(`assembler: ${s.name} sized ${s.size} bytes in pass 1, emitted ${words.length * 4}`);
    words.forEach((w, i) => writeU32(out, s.offset + 4 * i, w));
  }

  private encodeInstruction(s: Stmt): number[] {
    const pseudo = PSEUDO[s.name];
    const def = BY_MNEMONIC.get(s.name);
    if (pseudo && (pseudo.operands.length === s.args.length || !def)) {
      if (pseudo.operands.length !== s.args.length) throw this.countError(s, pseudo.operands.length, pseudo.syntax);
      const vals = pseudo.operands.map((k, i) => this.pseudoOperand(s, i, k));
      // Range errors of an expansion point at its last operand (the value, label or target).
      const lastCol = s.argCols[s.args.length - 1] ?? s.nameCol;
      let expansion: Expansion[];
      try {
        expansion = pseudo.expand(vals, this.cur.addr, s.size / 4);
      } catch (e) {
        if (e instanceof AsmError && e.col === 0) throw new AsmError(e.message, lastCol);
        throw e;
      }
      return expansion.map(([mn, f, col]) => this.encodeChecked(s, mn, f, col ?? lastCol));
    }
    if (!def) throw new AsmError(`unknown mnemonic '${s.name}'`, s.nameCol);
    this.checkElements(s, def);
    // jalr also reads as `jalr rd, rs1, imm` (the older GNU form).
    if (def.mnemonic === 'jalr' && s.args.length === 3) {
      const f = { rd: this.reg(s, 0, 'x'), rs1: this.reg(s, 1, 'x'), rs2: 0, imm: this.eval(s.args[2], s.argCols[2], true) };
      return [this.encodeChecked(s, 'jalr', f, s.argCols[2])];
    }
    if (s.args.length !== def.operands.length) throw this.countError(s, def.operands.length, syntaxOf(def));
    const f: Fields = { rd: 0, rs1: 0, rs2: 0, imm: 0 };
    let immCol = s.nameCol;
    def.operands.forEach((op, i) => {
      const col = this.operand(s, i, op, f, def);
      if (col !== undefined) immCol = col;
    });
    return [this.encodeChecked(s, def.mnemonic, f, immCol)];
  }

  private checkElements(s: Stmt, def: InstrDef): void {
    const have = this.opts.elementBits;
    if (!have || !def.elements) return;
    const missing = def.elements.filter((w) => !have.includes(w));
    if (missing.length) {
      throw new AsmError(`${def.mnemonic} needs ${def.elements.join(' and ')}-bit vector lanes; the target chip has element_bits [${have.join(', ')}]`, s.nameCol);
    }
  }

  private countError(s: Stmt, n: number, syntax: string): AsmError {
    return new AsmError(`${s.name} takes ${n} operand${n === 1 ? '' : 's'}${n ? ` (${syntax})` : ''}, got ${s.args.length}`, s.nameCol);
  }

  /** Fills the fields of one operand; returns its column when it carries the immediate. */
  private operand(s: Stmt, i: number, op: Operand, f: Fields, def: InstrDef): number | undefined {
    const col = s.argCols[i];
    switch (op.kind) {
      case 'xreg':
        f[op.field] = this.reg(s, i, 'x');
        return undefined;
      case 'vreg':
        f[op.field] = this.reg(s, i, 'v');
        return undefined;
      case 'uimm': {
        const v = this.eval(s.args[i], col, true);
        if (!Number.isInteger(v) || v < op.min || v > op.max) {
          throw new AsmError(`${op.name} ${v} out of range for ${def.mnemonic}: must be in ${op.min}..${op.max}`, col);
        }
        f[op.field] = v;
        return undefined;
      }
      case 'imm':
        f.imm = this.eval(s.args[i], col, true);
        return col;
      case 'upper': {
        const v = this.eval(s.args[i], col, true);
        if (v < 0 || v > 0xfffff) throw new AsmError(`immediate ${v} out of range for ${def.mnemonic}: must be in 0..1048575 (0xfffff; the value is shifted left by 12)`, col);
        f.imm = v << 12;
        return undefined;
      }
      case 'mem': {
        const m = this.mem(s, i);
        f.rs1 = m.base;
        f.imm = m.offset;
        return col;
      }
      case 'target':
        f.imm = this.targetOffset(s.args[i], col);
        return col;
      case 'fence': {
        const v = fenceBits(s.args[i], col);
        f.imm |= op.part === 'pred' ? v << 4 : v;
        return undefined;
      }
    }
  }

  /** Encodes with the immediate range checked for the format; `col` points at the immediate. */
  private encodeChecked(s: Stmt, mnemonic: string, f: Fields, col: number): number {
    const def = BY_MNEMONIC.get(mnemonic);
    if (!def) throw new Error(`assembler: no table entry ${mnemonic}`);
    const range = IMM_RANGE[def.format];
    const isTarget = def.operands.some((o) => o.kind === 'target');
    if (range) {
      if (isTarget) {
        const target = f.imm + this.cur.addr;
        if (f.imm < range.min || f.imm > range.max) {
          throw new AsmError(`target 0x${(target >>> 0).toString(16)} out of range for ${mnemonic}: offset ${f.imm} bytes must be within ${range.min}..${range.max}`, col);
        }
        // Odd offsets cannot be encoded; offsets of 2 mod 4 can (RISC-V's C extension uses them) and trap when taken.
        if (f.imm % 2 !== 0) throw new AsmError(`target 0x${(target >>> 0).toString(16)} of ${mnemonic} is at an odd offset (${f.imm}); targets must be even`, col);
      } else if (f.imm < range.min || f.imm > range.max) {
        throw new AsmError(`immediate ${f.imm} out of range for ${mnemonic}: must be in ${range.min}..${range.max}`, col);
      }
    }
    return encodeFields(def, f);
  }

  private reg(s: Stmt, i: number, kind: 'x' | 'v'): number {
    const toks = s.args[i];
    const col = s.argCols[i];
    const text = toks.map((t) => t.text).join('');
    const n = toks.length === 1 && toks[0].kind === 'id' ? (kind === 'x' ? scalarRegister(toks[0].text) : vectorRegister(toks[0].text)) : undefined;
    if (n === undefined) {
      const want = kind === 'x' ? 'a scalar register (x0..x31 or an ABI name like a0, t1, sp)' : 'a vector register (v0..v31)';
      throw new AsmError(`operand ${i + 1} of ${s.name} must be ${want}, got '${text || '(nothing)'}'`, col);
    }
    return n;
  }

  private mem(s: Stmt, i: number): { base: number; offset: number } {
    const toks = s.args[i];
    const col = s.argCols[i];
    const n = toks.length;
    if (n < 3 || toks[n - 1].text !== ')' || toks[n - 3].text !== '(' || toks[n - 2].kind !== 'id') {
      throw new AsmError(`operand ${i + 1} of ${s.name} must be a memory operand offset(register), e.g. 8(sp), got '${toks.map((t) => t.text).join('')}'`, col);
    }
    const base = scalarRegister(toks[n - 2].text);
    if (base === undefined) throw new AsmError(`base of a memory operand must be a scalar register, got '${toks[n - 2].text}'`, toks[n - 2].col);
    const offset = n === 3 ? 0 : this.eval(toks.slice(0, n - 3), col, true);
    return { base, offset };
  }

  private pseudoOperand(s: Stmt, i: number, kind: PseudoKind): number | { base: number; offset: number } {
    switch (kind) {
      case 't': return this.targetOffset(s.args[i], s.argCols[i]);
      case 'x': return this.reg(s, i, 'x');
      case 'v': return this.reg(s, i, 'v');
      case 'e': return this.eval(s.args[i], s.argCols[i], true);
      case 'm': return this.mem(s, i);
    }
  }

  // ------------------------------------------------------------ data
  private emitData(s: Stmt, out: Uint8Array): void {
    const o = s.offset;
    const values = (bytes: number, lo: number, hi: number) => {
      s.args.forEach((a, i) => {
        const v = this.eval(a, s.argCols[i], true);
        if (v < lo || v > hi) throw new AsmError(`value ${v} out of range for ${s.name}: must be in ${lo}..${hi}`, s.argCols[i]);
        for (let k = 0; k < bytes; k++) out[o + bytes * i + k] = (v >>> (8 * k)) & 0xff;
      });
    };
    switch (s.name) {
      case '.byte': return values(1, -128, 255);
      case '.half': case '.short': case '.2byte': return values(2, -32768, 65535);
      case '.word': case '.long': case '.4byte': return values(4, -2147483648, 4294967295);
      case '.float': {
        const dv = new DataView(out.buffer, out.byteOffset);
        s.args.forEach((a, i) => dv.setFloat32(o + 4 * i, floatValue(a, s.argCols[i]), true));
        return;
      }
      case '.space': case '.zero': case '.skip': case '.align': case '.p2align': case '.balign': {
        const fillArg = 1;
        let fill = 0;
        if (s.args.length > fillArg && s.name !== '.zero') {
          fill = this.eval(s.args[fillArg], s.argCols[fillArg], true);
          if (fill < -128 || fill > 255) throw new AsmError(`fill byte ${fill} out of range: must be in -128..255`, s.argCols[fillArg]);
        }
        // Alignment padding in .text is nops where whole words are padded, as GNU as does.
        const nops = s.section === 'text' && s.name.includes('align') && s.args.length === 1 && o % 4 === 0;
        for (let k = 0; k < s.size; k++) out[o + k] = nops ? NOP_BYTES[k % 4] : fill;
        return;
      }
      case '.ascii': case '.asciz': case '.string': {
        let p = o;
        for (const a of s.args) {
          for (const ch of a[0].text) {
            const c = ch.charCodeAt(0);
            if (c > 255) throw new AsmError(`character '${ch}' is not a byte; strings hold Latin-1 characters`, a[0].col);
            out[p++] = c;
          }
          if (s.name !== '.ascii') out[p++] = 0;
        }
        return;
      }
    }
  }
}

const NOP_BYTES = [0x13, 0x00, 0x00, 0x00];

function where(line: number): string {
  return line === 0 ? 'by the assembler options (defines)' : `at line ${line}`;
}

function align(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

function writeU32(out: Uint8Array, o: number, w: number): void {
  out[o] = w & 0xff;
  out[o + 1] = (w >>> 8) & 0xff;
  out[o + 2] = (w >>> 16) & 0xff;
  out[o + 3] = (w >>> 24) & 0xff;
}

/** Splits tokens at commas outside parentheses. */
function splitArgs(toks: Token[], endCol: number): { args: Token[][]; cols: number[] } {
  if (toks.length === 0) return { args: [], cols: [] };
  const args: Token[][] = [[]];
  const cols: number[] = [toks[0].col];
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'punct' && t.text === '(') depth++;
    if (t.kind === 'punct' && t.text === ')') depth--;
    if (t.kind === 'punct' && t.text === ',' && depth === 0) {
      args.push([]);
      cols.push(t.col + 1);
      continue;
    }
    if (args[args.length - 1].length === 0) cols[cols.length - 1] = t.col;
    args[args.length - 1].push(t);
  }
  void endCol;
  return { args, cols };
}

function fenceBits(toks: Token[], col: number): number {
  if (toks.length === 1 && toks[0].kind === 'num' && toks[0].value === 0) return 0;
  if (toks.length === 1 && toks[0].kind === 'id' && /^i?o?r?w?$/.test(toks[0].text) && toks[0].text) {
    const t = toks[0].text;
    return (t.includes('i') ? 8 : 0) | (t.includes('o') ? 4 : 0) | (t.includes('r') ? 2 : 0) | (t.includes('w') ? 1 : 0);
  }
  throw new AsmError(`fence operand must be a set of i, o, r, w in that order (e.g. rw, iorw) or 0, got '${toks.map((t) => t.text).join('')}'`, col);
}

function floatValue(toks: Token[], col: number): number {
  let sign = 1;
  let i = 0;
  if (toks[0]?.kind === 'punct' && (toks[0].text === '-' || toks[0].text === '+')) {
    sign = toks[0].text === '-' ? -1 : 1;
    i = 1;
  }
  const t = toks[i];
  if (toks.length === i + 1 && t && (t.kind === 'float' || t.kind === 'num')) return sign * t.value;
  if (toks.length === i + 1 && t && t.kind === 'id' && /^(inf|infinity|nan)$/i.test(t.text)) return /^nan$/i.test(t.text) ? NaN : sign * Infinity;
  throw new AsmError(`.float operand must be a number like 1.5, -2e-3, inf or nan, got '${toks.map((x) => x.text).join('')}'`, col);
}

// ---------------------------------------------------------------- pseudo-instructions
/** Operand kinds: scalar/vector register, absolute value, branch target (as offset), memory. */
type PseudoKind = 'x' | 'v' | 'e' | 't' | 'm';
type PseudoValue = number | { base: number; offset: number };
/** A real instruction to encode: mnemonic, fields, and the column its immediate came from. */
type Expansion = [string, Fields, number?];

interface Pseudo {
  operands: PseudoKind[];
  syntax: string;
  words: number;
  expand(v: PseudoValue[], pc: number, words: number): Expansion[];
}

const fx = (rd: number, rs1: number, rs2: number, imm: number): Fields => ({ rd, rs1, rs2, imm });
const n = (v: PseudoValue) => v as number;

/** Words `li` needs for a constant value. */
function liWords(v: number): number {
  if (v < -2147483648 || v > 4294967295) return 2;
  const x = v | 0;
  if (x >= -2048 && x <= 2047) return 1;
  return lo12(x) === 0 ? 1 : 2;
}

function branchZero(mn: string, swap: boolean): Pseudo {
  return {
    operands: ['x', 't'], syntax: 'rs, target', words: 1,
    expand: ([r, t]) => [[mn, swap ? fx(0, 0, n(r), n(t)) : fx(0, n(r), 0, n(t))]],
  };
}
function branchSwap(mn: string): Pseudo {
  return { operands: ['x', 'x', 't'], syntax: 'rs, rt, target', words: 1, expand: ([a, b, t]) => [[mn, fx(0, n(b), n(a), n(t))]] };
}
function pcrelPair(first: 'auipc', second: string, link: number, linkBase: number, v: number, pc: number): Expansion[] {
  const off = v - pc;
  return [[first, fx(link, 0, 0, hi20(off) << 12)], [second, fx(link === 0 ? 0 : link, linkBase, 0, lo12(off))]];
}

/** The usual RISC-V pseudo-instructions (GNU as expansions), plus vmv. */
export const PSEUDO: Record<string, Pseudo> = {
  nop: { operands: [], syntax: '', words: 1, expand: () => [['addi', fx(0, 0, 0, 0)]] },
  li: {
    operands: ['x', 'e'], syntax: 'rd, imm32', words: 0,
    expand: ([rd, v], _pc, words) => {
      const x = n(v);
      if (x < -2147483648 || x > 4294967295) throw new AsmError(`li value ${x} does not fit in 32 bits: must be in -2147483648..4294967295`, 0);
      const w = x | 0;
      if (words === 1 && w >= -2048 && w <= 2047) return [['addi', fx(n(rd), 0, 0, w)]];
      if (words === 1) return [['lui', fx(n(rd), 0, 0, hi20(w) << 12)]];
      return [['lui', fx(n(rd), 0, 0, hi20(w) << 12)], ['addi', fx(n(rd), n(rd), 0, lo12(w))]];
    },
  },
  la: { operands: ['x', 'e'], syntax: 'rd, symbol', words: 2, expand: ([rd, v], pc) => pcrelPair('auipc', 'addi', n(rd), n(rd), n(v), pc) },
  call: { operands: ['e'], syntax: 'symbol', words: 2, expand: ([v], pc) => pcrelPair('auipc', 'jalr', 1, 1, n(v), pc) },
  tail: {
    operands: ['e'], syntax: 'symbol', words: 2,
    expand: ([v], pc) => {
      const off = n(v) - pc;
      return [['auipc', fx(6, 0, 0, hi20(off) << 12)], ['jalr', fx(0, 6, 0, lo12(off))]];
    },
  },
  mv: { operands: ['x', 'x'], syntax: 'rd, rs', words: 1, expand: ([rd, rs]) => [['addi', fx(n(rd), n(rs), 0, 0)]] },
  not: { operands: ['x', 'x'], syntax: 'rd, rs', words: 1, expand: ([rd, rs]) => [['xori', fx(n(rd), n(rs), 0, -1)]] },
  neg: { operands: ['x', 'x'], syntax: 'rd, rs', words: 1, expand: ([rd, rs]) => [['sub', fx(n(rd), 0, n(rs), 0)]] },
  seqz: { operands: ['x', 'x'], syntax: 'rd, rs', words: 1, expand: ([rd, rs]) => [['sltiu', fx(n(rd), n(rs), 0, 1)]] },
  snez: { operands: ['x', 'x'], syntax: 'rd, rs', words: 1, expand: ([rd, rs]) => [['sltu', fx(n(rd), 0, n(rs), 0)]] },
  sltz: { operands: ['x', 'x'], syntax: 'rd, rs', words: 1, expand: ([rd, rs]) => [['slt', fx(n(rd), n(rs), 0, 0)]] },
  sgtz: { operands: ['x', 'x'], syntax: 'rd, rs', words: 1, expand: ([rd, rs]) => [['slt', fx(n(rd), 0, n(rs), 0)]] },
  j: { operands: ['t'], syntax: 'target', words: 1, expand: ([t]) => [['jal', fx(0, 0, 0, n(t))]] },
  jal: { operands: ['t'], syntax: 'target', words: 1, expand: ([t]) => [['jal', fx(1, 0, 0, n(t))]] },
  jr: { operands: ['x'], syntax: 'rs', words: 1, expand: ([rs]) => [['jalr', fx(0, n(rs), 0, 0)]] },
  jalr: { operands: ['x'], syntax: 'rs', words: 1, expand: ([rs]) => [['jalr', fx(1, n(rs), 0, 0)]] },
  ret: { operands: [], syntax: '', words: 1, expand: () => [['jalr', fx(0, 1, 0, 0)]] },
  fence: { operands: [], syntax: '', words: 1, expand: () => [['fence', fx(0, 0, 0, 0xff)]] },
  beqz: branchZero('beq', false),
  bnez: branchZero('bne', false),
  bgez: branchZero('bge', false),
  bltz: branchZero('blt', false),
  blez: branchZero('bge', true),
  bgtz: branchZero('blt', true),
  bgt: branchSwap('blt'),
  ble: branchSwap('bge'),
  bgtu: branchSwap('bltu'),
  bleu: branchSwap('bgeu'),
  vmv: { operands: ['v', 'v'], syntax: 'vd, vs', words: 1, expand: ([vd, vs]) => [['vor', fx(n(vd), n(vs), n(vs), 0)]] },
};
