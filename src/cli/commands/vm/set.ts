/** `banger vm set NAME...`: change stopped VMs' resources, or their NAT at any time. */
import type { Command } from 'commander';
import { formatSize, type Vm } from '../../../model/index.js';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { progressPrinter } from '../../progress.js';
import { act, examples, isJson, type Outcome } from '../verb.js';
import { forEachName } from './names.js';
import { specParams, type SpecOptions } from './spec.js';

export function registerSet(vm: Command, ctx: CliContext): Command {
  return vm
    .command('set')
    .argument('<names...>', 'VM names')
    .option('--vcpu <n>', 'virtual CPUs')
    .option('--memory <size>', 'memory, e.g. 2048 (MiB) or 4G')
    .option('--disk-size <size>', 'new size of the /root work disk (it can only grow)')
    .option('--nat', 'switch NAT on (applies at once to a running VM)')
    .option('--no-nat', 'switch NAT off (applies at once to a running VM)')
    .description('change the resources of stopped VMs, or their NAT at any time; one line per VM')
    .addHelpText(
      'after',
      examples([
        'banger vm stop dev && banger vm set dev --vcpu 4 --memory 8G && banger vm start dev',
        'banger vm set a b c --memory 2G',
        'banger vm set dev --nat',
      ]),
    )
    .action(act(ctx, (names: string[], o: SpecOptions, cmd: Command) => setVms(ctx, names, o, isJson(cmd))));
}

/**
 * Applies the same change to each VM in turn (flags are checked once, before any call); with
 * --json, the changed VMs (one object for one name, else an array in argument order).
 */
export async function setVms(
  ctx: CliContext,
  names: readonly string[],
  o: SpecOptions,
  json: boolean,
): Promise<Outcome> {
  const params = specParams(o);
  const changed = new Map<string, Vm>();
  const outcome = await forEachName(ctx, names, async (name) => {
    const { vm: v } = await ctx.daemon.call(
      'vm.set',
      { name, ...params },
      { onProgress: progressPrinter(ctx.output, name) },
    );
    changed.set(name, v);
    if (json) return null;
    const disk = formatSize(v.spec.diskSizeBytes);
    return `${v.name}: ${v.spec.vcpu} vcpu | ${v.spec.memoryMib} MiB | ${disk} disk | NAT ${v.nat ? 'on' : 'off'}`;
  });
  if (json) {
    const vms = names.flatMap((n) => changed.get(n) ?? []);
    printJson(ctx.output, names.length === 1 ? vms[0] : vms);
  }
  return outcome;
}
