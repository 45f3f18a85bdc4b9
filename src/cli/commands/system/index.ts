/** `banger system install|status|restart|uninstall`: the system-wide install (docs/reference/security.md), one verb a file. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { registerInstall } from './install.js';
import { registerRestart } from './restart.js';
import { registerStatus } from './status.js';
import { registerUninstall } from './uninstall.js';

export function registerSystemCommands(program: Command, ctx: CliContext): void {
  const system = program
    .command('system')
    .description('install banger system-wide (a daemon owned by you, a root helper), and manage that install');
  for (const register of [registerInstall, registerStatus, registerRestart, registerUninstall]) register(system, ctx);
}
