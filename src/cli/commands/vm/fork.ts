/** `banger vm fork NAME [--name NEW]`: a running VM copied, memory and disks, into a new VM of its own identity. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { progressPrinter } from '../../progress.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerFork(vm: Command, ctx: CliContext): Command {
  return vm
    .command('fork')
    .argument('<name>', 'the running VM to fork')
    .option('--name <new>', 'name of the new VM (a DNS label); generated when omitted')
    .description(
      'snapshot a running VM and restore it as a new VM with its own name, address, MAC, machine-id, host key and disks; the original runs on unchanged',
    )
    .addHelpText('after', examples(['banger vm fork dev --name dev-try']))
    .action(act(ctx, (name: string, opts: { name?: string }) => forkVm(ctx, name, opts.name)));
}

async function forkVm(ctx: CliContext, name: string, as: string | undefined): Promise<Outcome> {
  const { vm } = await ctx.daemon.call(
    'vm.fork',
    { name, ...(as !== undefined && { as }) },
    { onProgress: progressPrinter(ctx.output, name) },
  );
  ctx.output.out(`forked ${name} as ${vm.name} (${vm.guestIp}, ssh ${vm.dnsName})\n`);
  return 'ok';
}
