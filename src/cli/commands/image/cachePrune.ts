/** `banger image cache prune [--dry-run]`: free OCI blobs that no image refers to. */
import type { Command } from 'commander';
import { formatBytesIec } from '../../../model/index.js';
import type { CliContext } from '../../context.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerCache(image: Command, ctx: CliContext): Command {
  const cache = image.command('cache').description('the OCI blob cache shared by image pulls');
  cache
    .command('prune')
    .description('remove cached layers and configs that no image refers to, and the warm templates (rebuilt on demand)')
    .option('--dry-run', 'list what would be removed, remove nothing')
    .addHelpText('after', examples(['banger image cache prune --dry-run', 'banger image cache prune']))
    .action(act(ctx, (o: { dryRun?: boolean }) => pruneCache(ctx, o.dryRun ?? false)));
  return cache;
}

export async function pruneCache(ctx: CliContext, dryRun: boolean): Promise<Outcome> {
  const r = await ctx.daemon.call('image.cache.prune', { dryRun });
  for (const b of r.removed)
    ctx.output.out(`${dryRun ? 'would remove' : 'removed'} ${b.digest} (${formatBytesIec(b.size)})\n`);
  ctx.output.out(
    `${dryRun ? 'would free' : 'freed'} ${formatBytesIec(r.freedBytes)} across ${r.removed.length} blob(s) in ${r.dir}\n`,
  );
  const t = r.templates;
  for (const key of t.removed) ctx.output.out(`${dryRun ? 'would remove' : 'removed'} warm template ${key}\n`);
  if (t.removed.length)
    ctx.output.out(
      `${dryRun ? 'would free' : 'freed'} ${formatBytesIec(t.freedBytes)} of warm templates (rebuilt on demand)\n`,
    );
  return 'ok';
}
