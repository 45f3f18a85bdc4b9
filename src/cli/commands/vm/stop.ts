/** `banger vm stop NAME...`: power VMs off gracefully (hard stop after a timeout); disks are kept. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { progressPrinter } from '../../progress.js';
import { act, examples, type Outcome } from '../verb.js';
import { forEachName } from './names.js';

export function registerStop(vm: Command, ctx: CliContext): Command {
  return vm
    .command('stop')
    .argument('<names...>', 'VM names')
    .description('power VMs off gracefully (hard stop after a timeout); disks are kept')
    .addHelpText('after', examples(['banger vm stop dev other']))
    .action(act(ctx, (names: string[]) => stopVms(ctx, names)));
}

export function stopVms(ctx: CliContext, names: readonly string[]): Promise<Outcome> {
  return forEachName(ctx, names, async (name) => {
    await ctx.daemon.call('vm.stop', { name }, { onProgress: progressPrinter(ctx.output, name) });
    return `stopped ${name}`;
  });
}
