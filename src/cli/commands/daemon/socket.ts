/** `banger daemon socket`: the daemon socket's path, for scripts that speak the RPC protocol. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerSocket(daemon: Command, ctx: CliContext): Command {
  return daemon
    .command('socket')
    .description("print the daemon socket's path (for scripts that speak the RPC protocol)")
    .addHelpText('after', examples(['banger daemon socket']))
    .action(act(ctx, () => printSocket(ctx)));
}

export function printSocket(ctx: CliContext): Outcome {
  ctx.output.out(`${ctx.layout.daemonSocket}\n`);
  return 'ok';
}
