/** `banger vm workspace …`: a VM's copy of a repository. */
import type { Command } from 'commander';
import type { CliContext } from '../../../context.js';
import { registerExport } from './export.js';
import { registerPrepare } from './prepare.js';

export function registerWorkspaceCommands(vm: Command, ctx: CliContext): void {
  const ws = vm.command('workspace').description("a VM's copy of a repository: copy it again, or bring the work back");
  registerPrepare(ws, ctx);
  registerExport(ws, ctx);
}
