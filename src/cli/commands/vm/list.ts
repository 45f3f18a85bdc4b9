/** `banger vm list` (alias `ls`; also `banger ps`): every VM. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { act, examples, isJson, type Outcome } from '../verb.js';
import { renderVmList } from './render.js';

export function registerList(vm: Command, ctx: CliContext): Command {
  return vm
    .command('list')
    .alias('ls')
    .description('list all VMs')
    .addHelpText('after', examples(['banger vm list', "banger vm list --json | jq -r '.[].name'"]))
    .action(act(ctx, (_opts: unknown, cmd: Command) => listVms(ctx, isJson(cmd))));
}

export async function listVms(ctx: CliContext, json: boolean): Promise<Outcome> {
  const { vms } = await ctx.daemon.call('vm.list', {});
  if (json) printJson(ctx.output, vms);
  else ctx.output.out(renderVmList(ctx.output, vms));
  return 'ok';
}
