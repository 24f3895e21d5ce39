/** Register names: RISC-V's ABI names for x0..x31 and the vector registers v0..v31. */

/** ABI name of each scalar register (x8 is printed s0; fp is accepted as an alias). */
export const ABI_NAMES = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
] as const;

const SCALAR = new Map<string, number>();
ABI_NAMES.forEach((n, i) => {
  SCALAR.set(n, i);
  SCALAR.set(`x${i}`, i);
});
SCALAR.set('fp', 8);

/** Number of a scalar register name (x0..x31 or ABI, case-insensitive), or undefined. */
export function scalarRegister(name: string): number | undefined {
  return SCALAR.get(name.toLowerCase());
}

/** Number of a vector register name v0..v31 (case-insensitive), or undefined. */
export function vectorRegister(name: string): number | undefined {
  const m = /^v([0-9]|[12][0-9]|3[01])$/i.exec(name);
  return m ? Number(m[1]) : undefined;
}
