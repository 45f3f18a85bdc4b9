/** `banger vm restart NAME...`: restart VMs, waiting until each is ready. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { progressPrinter } from '../../progress.js';
import { act, examples, type Outcome } from '../verb.js';
import { forEachName } from './names.js';

export function registerRestart(vm: Command, ctx: CliContext): Command {
  return vm
    .command('restart')
    .argument('<names...>', 'VM names')
    .description('restart VMs, waiting until each is ready')
    .addHelpText('after', examples(['banger vm restart dev other']))
    .action(act(ctx, (names: string[]) => restartVms(ctx, names)));
}

export function restartVms(ctx: CliContext, names: readonly string[]): Promise<Outcome> {
  return forEachName(ctx, names, async (name) => {
    await ctx.daemon.call('vm.restart', { name }, { onProgress: progressPrinter(ctx.output, name) });
    return `restarted ${name}`;
  });
}
