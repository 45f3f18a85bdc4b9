/** Hidden maintainer commands (docs/howto/vms.md: `banger internal ...`). Not part of the stable CLI. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { registerRpc } from './rpc.js';

export function registerInternalCommands(program: Command, ctx: CliContext): void {
  // Created through program.command() so it inherits exit and output handling.
  const internal = program.command('internal', { hidden: true }).description('maintainer commands (unstable)');
  registerRpc(internal, ctx);
}
