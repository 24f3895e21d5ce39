/** Every `lechip` command, in the order `lechip --help` lists them; a new command adds one line. */
import type { Command } from 'commander';
import type { Console } from '../io.js';
import { registerAsm } from './asm.js';
import { registerBench } from './bench.js';
import { registerCalibrate } from './calibrate.js';
import { registerCompile } from './compile.js';
import { registerDisasm } from './disasm.js';
import { registerHilTrain } from './hil-train.js';
import { registerInspect } from './inspect.js';
import { registerRobustness } from './robustness.js';
import { registerRun } from './run.js';
import { registerServe } from './serve.js';
import { registerTrain } from './train.js';

/** Adds one command (with its options and action) to the program. */
export type RegisterCommand = (program: Command, con: Console) => void;

export const COMMANDS: RegisterCommand[] = [
  registerCompile,
  registerInspect,
  registerRun,
  registerTrain,
  registerCalibrate,
  registerRobustness,
  registerServe,
  registerHilTrain,
  registerBench,
  registerAsm,
  registerDisasm,
];
