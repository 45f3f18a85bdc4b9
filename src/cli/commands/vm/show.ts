/** `banger vm show NAME`: the full record of one VM, with its runtime when it runs. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { act, examples, isJson, type Outcome } from '../verb.js';
import { renderVmShow } from './render.js';

export function registerShow(vm: Command, ctx: CliContext): Command {
  return vm
    .command('show')
    .argument('<name>', 'VM name, id or unique id prefix')
    .description('show the full record of one VM')
    .addHelpText('after', examples(['banger vm show devbox --json']))
    .action(act(ctx, (name: string, _opts: unknown, cmd: Command) => showVm(ctx, name, isJson(cmd))));
}

export async function showVm(ctx: CliContext, name: string, json: boolean): Promise<Outcome> {
  const { vm: v, runtime, autoStop, forwards } = await ctx.daemon.call('vm.show', { name });
  if (json) printJson(ctx.output, { ...v, runtime, autoStop, forwards });
  else ctx.output.out(renderVmShow(v, runtime, { autoStop, forwards }));
  return 'ok';
}
