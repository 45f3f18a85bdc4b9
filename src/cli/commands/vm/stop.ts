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
    .option('--save', "save the guest's memory instead of powering it off: the next `vm start` resumes it where it was")
    .description('power VMs off gracefully (hard stop after a timeout); disks are kept')
    .addHelpText('after', examples(['banger vm stop dev other', 'banger vm stop --save dev']))
    .action(act(ctx, (names: string[], opts: { save?: boolean }) => stopVms(ctx, names, opts.save ?? false)));
}

export function stopVms(ctx: CliContext, names: readonly string[], save = false): Promise<Outcome> {
  return forEachName(ctx, names, async (name) => {
    await ctx.daemon.call('vm.stop', { name, save }, { onProgress: progressPrinter(ctx.output, name) });
    return save ? `saved ${name} (vm start resumes it)` : `stopped ${name}`;
  });
}
