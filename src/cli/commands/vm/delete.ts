/** `banger vm delete NAME...` (alias `rm`): stop VMs and remove everything they own. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { act, examples, type Outcome } from '../verb.js';
import { forEachName } from './names.js';

export function registerDelete(vm: Command, ctx: CliContext): Command {
  return vm
    .command('delete')
    .alias('rm')
    .argument('<names...>', 'VM names')
    .description('stop VMs and remove their disks, tap and pinned host keys')
    .addHelpText('after', examples(['banger vm delete dev']))
    .action(act(ctx, (names: string[]) => deleteVms(ctx, names)));
}

export function deleteVms(ctx: CliContext, names: readonly string[]): Promise<Outcome> {
  return forEachName(ctx, names, async (name) => {
    await ctx.daemon.call('vm.delete', { name });
    return `deleted ${name}`;
  });
}
