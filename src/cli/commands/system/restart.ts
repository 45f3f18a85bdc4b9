/** `banger system restart`: restart the root helper, then the daemon; running VMs keep running. */
import type { Command } from 'commander';
import { systemRestart } from '../../../install/index.js';
import type { CliContext } from '../../context.js';
import { act, examples, type Outcome } from '../verb.js';
import { systemDeps } from './deps.js';

export function registerRestart(system: Command, ctx: CliContext): Command {
  return system
    .command('restart')
    .description('restart the root helper, then the daemon; running VMs keep running')
    .addHelpText('after', examples(['sudo banger system restart']))
    .action(act(ctx, () => restart(ctx)));
}

export async function restart(ctx: CliContext): Promise<Outcome> {
  const r = await systemRestart(systemDeps(ctx));
  ctx.output.out(`restarted (supervisor: ${r.supervisor})\n`);
  return 'ok';
}
