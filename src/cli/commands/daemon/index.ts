/** `banger daemon status|stop|socket`: inspect or stop bangerd, one verb a file. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { registerSocket } from './socket.js';
import { registerStatus } from './status.js';
import { registerStop } from './stop.js';

export function registerDaemonCommands(program: Command, ctx: CliContext): void {
  const daemon = program.command('daemon').description('inspect or stop the banger daemon (bangerd)');
  for (const register of [registerStatus, registerStop, registerSocket]) register(daemon, ctx);
}
