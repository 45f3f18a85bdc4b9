/** `banger vm workspace prepare NAME`: copy the repository into the running VM again. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { formatSize } from '../../../../model/index.js';
import type { CliContext } from '../../../context.js';
import { progressPrinter } from '../../../progress.js';
import { act, examples, type Outcome } from '../../verb.js';

interface PrepareOptions {
  path?: string;
  includeUntracked?: boolean;
}

export function registerPrepare(ws: Command, ctx: CliContext): Command {
  return ws
    .command('prepare')
    .argument('<name>', 'VM name')
    .option('--path <path>', 'the repository to copy (default: where the workspace came from)')
    .option('--include-untracked', 'also copy untracked files that are not ignored')
    .description('copy the repository into the running VM again (the previous copy is kept as /root/repo.previous)')
    .addHelpText('after', examples(['banger vm workspace prepare dev']))
    .action(act(ctx, (name: string, o: PrepareOptions) => prepareWorkspace(ctx, name, o)));
}

export async function prepareWorkspace(ctx: CliContext, name: string, o: PrepareOptions): Promise<Outcome> {
  const params = { name, includeUntracked: !!o.includeUntracked, ...(o.path && { path: resolve(o.path) }) };
  const r = await ctx.daemon.call('vm.workspace.prepare', params, { onProgress: progressPrinter(ctx.output, name) });
  ctx.output.out(`${r.vm.name}: ${r.files} files, ${formatSize(r.bytes)} in ${(r.ms / 1000).toFixed(1)}s\n`);
  return 'ok';
}
