/** `banger vm ports [NAME...]`: TCP and UDP listeners inside running VMs. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { act, examples, isJson, type Outcome } from '../verb.js';
import { renderVmPorts } from './render.js';

export function registerPorts(vm: Command, ctx: CliContext): Command {
  return vm
    .command('ports')
    .argument('[names...]', 'VM names (default: every running VM)')
    .description('list TCP and UDP listeners inside running VMs, with NAME.vm:PORT endpoints')
    .addHelpText('after', examples(['banger vm ports', 'banger vm ports dev --json']))
    .action(act(ctx, (names: string[], _opts: unknown, cmd: Command) => showPorts(ctx, names, isJson(cmd))));
}

export async function showPorts(ctx: CliContext, names: string[], json: boolean): Promise<Outcome> {
  const { ports } = await ctx.daemon.call('vm.ports', { names });
  if (json) printJson(ctx.output, ports);
  else ctx.output.out(renderVmPorts(ports));
  return 'ok';
}
