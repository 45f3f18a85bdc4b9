/**
 * `banger vm …`: create, inspect and control sandbox VMs, one verb a file. The order here is
 * the order `banger vm --help` lists them in.
 */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { registerCreate } from './create.js';
import { registerDelete } from './delete.js';
import { registerExec } from './exec.js';
import { registerForward } from './forward.js';
import { registerHealth } from './health.js';
import { registerFork } from './fork.js';
import { registerKill } from './kill.js';
import { registerList } from './list.js';
import { registerLogs } from './logs.js';
import { registerPause, registerResume } from './pause.js';
import { registerPing } from './ping.js';
import { registerPorts } from './ports.js';
import { registerPrune } from './prune.js';
import { registerRestart } from './restart.js';
import { registerRun } from './run.js';
import { registerSet } from './set.js';
import { registerShow } from './show.js';
import { registerSsh } from './ssh.js';
import { registerStart } from './start.js';
import { registerStats } from './stats.js';
import { registerStop } from './stop.js';
import { registerWorkspaceCommands } from './workspace/index.js';

const VERBS: ReadonlyArray<(vm: Command, ctx: CliContext) => unknown> = [
  registerExec,
  registerWorkspaceCommands,
  registerRun,
  registerCreate,
  registerStart,
  registerStop,
  registerRestart,
  registerPause,
  registerResume,
  registerFork,
  registerSet,
  registerKill,
  registerDelete,
  registerPrune,
  registerSsh,
  registerLogs,
  registerList,
  registerPorts,
  registerStats,
  registerForward,
  registerShow,
  registerHealth,
  registerPing,
];

export function registerVmCommands(program: Command, ctx: CliContext): void {
  const vm = program.command('vm').description('create, inspect and control sandbox VMs');
  for (const register of VERBS) register(vm, ctx);
}
