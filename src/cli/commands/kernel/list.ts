/** `banger kernel list [--available]` (alias `ls`): installed kernels, or the catalog. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { formatAge, printJson, renderTable } from '../../output.js';
import { act, examples, isJson, type Outcome } from '../verb.js';

export function registerList(kernel: Command, ctx: CliContext): Command {
  return kernel
    .command('list')
    .alias('ls')
    .option('--available', 'list the catalog instead')
    .description('list installed kernels (or, with --available, the catalog)')
    .addHelpText('after', examples(['banger kernel list', 'banger kernel list --available']))
    .action(
      act(ctx, (o: { available?: boolean }, cmd: Command) =>
        o.available ? listCatalog(ctx, isJson(cmd)) : listKernels(ctx, isJson(cmd)),
      ),
    );
}

export async function listKernels(ctx: CliContext, json: boolean): Promise<Outcome> {
  const { kernels } = await ctx.daemon.call('kernel.list', {});
  if (json) printJson(ctx.output, kernels);
  else if (!kernels.length) ctx.output.out('no kernels installed: see `banger kernel list --available`\n');
  else {
    const rows = kernels.map((k) => [k.name, k.version ?? '-', k.source, formatAge(k.createdAt)]);
    ctx.output.out(renderTable(['NAME', 'VERSION', 'SOURCE', 'CREATED'], rows));
  }
  return 'ok';
}

export async function listCatalog(ctx: CliContext, json: boolean): Promise<Outcome> {
  const { kernels } = await ctx.daemon.call('kernel.catalog', {});
  if (json) printJson(ctx.output, kernels);
  else {
    const rows = kernels.map((k) => [
      k.name,
      k.installed ? 'yes' : 'no',
      k.firecracker ? 'firecracker, qemu' : 'qemu',
      k.source,
      k.description,
    ]);
    ctx.output.out(renderTable(['NAME', 'INSTALLED', 'VMM', 'SOURCE', 'DESCRIPTION'], rows));
  }
  return 'ok';
}
