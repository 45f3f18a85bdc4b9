/** `banger vm start NAME...`: start VMs, waiting until each is ready. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { progressPrinter } from '../../progress.js';
import { act, examples, type Outcome } from '../verb.js';
import { forEachName } from './names.js';

export function registerStart(vm: Command, ctx: CliContext): Command {
  return vm
    .command('start')
    .argument('<names...>', 'VM names')
    .description('start VMs, waiting until each is ready')
    .addHelpText('after', examples(['banger vm start dev other']))
    .action(act(ctx, (names: string[]) => startVms(ctx, names)));
}

export function startVms(ctx: CliContext, names: readonly string[]): Promise<Outcome> {
  return forEachName(ctx, names, async (name) => {
    await ctx.daemon.call('vm.start', { name }, { onProgress: progressPrinter(ctx.output, name) });
    return `started ${name}`;
  });
}
