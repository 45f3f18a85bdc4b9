/** `banger vm create`: create a VM and (unless --no-start) start it, waiting until it is ready. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { progressPrinter, readyLine } from '../../progress.js';
import { act, examples, isJson, type Outcome } from '../verb.js';
import { addSpecOptions, specParams, type SpecOptions } from './spec.js';

export function registerCreate(vm: Command, ctx: CliContext): Command {
  return addSpecOptions(vm.command('create'))
    .description('create a VM and start it (unless --no-start), waiting until it is ready')
    .option('--no-start', 'only create it')
    .addHelpText(
      'after',
      examples([
        'banger vm create --name dev',
        'banger vm create --name big --vcpu 4 --memory 8G --disk-size 32G --no-start',
      ]),
    )
    .action(act(ctx, (opts: SpecOptions & { start: boolean }, cmd: Command) => createVm(ctx, opts, isJson(cmd))));
}

export async function createVm(
  ctx: CliContext,
  opts: SpecOptions & { start: boolean },
  json: boolean,
): Promise<Outcome> {
  const t0 = performance.now();
  const params = { ...specParams(opts), start: opts.start };
  const { vm } = await ctx.daemon.call('vm.create', params, { onProgress: progressPrinter(ctx.output) });
  if (opts.start) readyLine(ctx.output, performance.now() - t0);
  if (json) printJson(ctx.output, vm);
  else ctx.output.out(`${vm.name}\n`);
  return 'ok';
}
