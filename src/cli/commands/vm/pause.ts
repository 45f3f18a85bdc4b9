/** `banger vm pause NAME...` and `vm resume NAME...`: stop and restart the vCPUs; memory stays. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { act, examples, type Outcome } from '../verb.js';
import { forEachName } from './names.js';

export function registerPause(vm: Command, ctx: CliContext): Command {
  return vm
    .command('pause')
    .argument('<names...>', 'VM names')
    .description('stop the VMs\' vCPUs; memory stays (they show "paused" until `vm resume`)')
    .addHelpText('after', examples(['banger vm pause dev']))
    .action(act(ctx, (names: string[]) => suspendVms(ctx, names, 'vm.pause')));
}

export function registerResume(vm: Command, ctx: CliContext): Command {
  return vm
    .command('resume')
    .argument('<names...>', 'VM names')
    .description("run paused VMs again (the guest's clock is stepped to the host's)")
    .addHelpText('after', examples(['banger vm resume dev']))
    .action(act(ctx, (names: string[]) => suspendVms(ctx, names, 'vm.resume')));
}

function suspendVms(ctx: CliContext, names: readonly string[], method: 'vm.pause' | 'vm.resume'): Promise<Outcome> {
  return forEachName(ctx, names, async (name) => {
    await ctx.daemon.call(method, { name });
    return `${method === 'vm.pause' ? 'paused' : 'resumed'} ${name}`;
  });
}
