/** `banger vm set NAME`: change a stopped VM's resources, or its NAT at any time. */
import type { Command } from 'commander';
import { formatSize } from '../../../model/index.js';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { progressPrinter } from '../../progress.js';
import { act, examples, isJson, type Outcome } from '../verb.js';
import { specParams, type SpecOptions } from './spec.js';

export function registerSet(vm: Command, ctx: CliContext): Command {
  return vm
    .command('set')
    .argument('<name>', 'VM name')
    .option('--vcpu <n>', 'virtual CPUs')
    .option('--memory <size>', 'memory, e.g. 2048 (MiB) or 4G')
    .option('--disk-size <size>', 'new size of the /root work disk (it can only grow)')
    .option('--nat', 'switch NAT on (applies at once to a running VM)')
    .option('--no-nat', 'switch NAT off (applies at once to a running VM)')
    .description('change the resources of a stopped VM, or its NAT at any time')
    .addHelpText(
      'after',
      examples([
        'banger vm stop dev && banger vm set dev --vcpu 4 --memory 8G && banger vm start dev',
        'banger vm set dev --nat',
      ]),
    )
    .action(act(ctx, (name: string, o: SpecOptions, cmd: Command) => setVm(ctx, name, o, isJson(cmd))));
}

export async function setVm(ctx: CliContext, name: string, o: SpecOptions, json: boolean): Promise<Outcome> {
  const params = { name, ...specParams(o) };
  const { vm: v } = await ctx.daemon.call('vm.set', params, { onProgress: progressPrinter(ctx.output, name) });
  if (json) printJson(ctx.output, v);
  else {
    const disk = formatSize(v.spec.diskSizeBytes);
    const nat = v.nat ? 'on' : 'off';
    ctx.output.out(`${v.name}: ${v.spec.vcpu} vcpu | ${v.spec.memoryMib} MiB | ${disk} disk | NAT ${nat}\n`);
  }
  return 'ok';
}
