/** `banger vm workspace prepare NAME`: copy the repository into the running VM again. */
import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { formatSize, WORKSPACE_MODES, type WorkspaceMode } from '../../../../model/index.js';
import type { CliContext } from '../../../context.js';
import { usageError } from '../../../errors.js';
import { printJson } from '../../../output.js';
import { progressPrinter } from '../../../progress.js';
import { act, examples, isJson, type Outcome } from '../../verb.js';

interface PrepareOptions {
  path?: string;
  includeUntracked?: boolean;
  mode: WorkspaceMode;
  readonly?: boolean;
  dryRun?: boolean;
}

export function registerPrepare(ws: Command, ctx: CliContext): Command {
  return ws
    .command('prepare')
    .argument('<name>', 'VM name')
    .option('--path <path>', 'the repository to copy (default: where the workspace came from)')
    .option('--include-untracked', 'also copy untracked files that are not ignored (git mode)')
    .addOption(
      new Option(
        '--mode <mode>',
        'git: the commit and the work-tree changes, tracked files only; full_copy: the whole directory as it is (untracked and ignored files and .git too)',
      )
        .choices(WORKSPACE_MODES)
        .default('git'),
    )
    .option('--readonly', "drop the copy's write bits in the guest once it is in place")
    .option('--dry-run', 'print the files that would be copied, their size, the mode and where; change nothing')
    .description('copy the repository into the running VM again (the previous copy is kept as /root/repo.previous)')
    .addHelpText(
      'after',
      examples([
        'banger vm workspace prepare dev',
        'banger vm workspace prepare dev --mode full_copy --readonly',
        'banger vm workspace prepare dev --mode full_copy --dry-run',
      ]),
    )
    .action(act(ctx, (name: string, o: PrepareOptions, cmd: Command) => prepareWorkspace(ctx, name, o, isJson(cmd))));
}

export async function prepareWorkspace(
  ctx: CliContext,
  name: string,
  o: PrepareOptions,
  json = false,
): Promise<Outcome> {
  if (o.mode === 'full_copy' && o.includeUntracked)
    throw usageError('--include-untracked is for the git mode', 'full_copy already copies untracked and ignored files');
  const params = {
    name,
    includeUntracked: !!o.includeUntracked,
    mode: o.mode,
    readonly: !!o.readonly,
    dryRun: !!o.dryRun,
    ...(o.path && { path: resolve(o.path) }),
  };
  const r = await ctx.daemon.call('vm.workspace.prepare', params, { onProgress: progressPrinter(ctx.output, name) });
  const how = `${r.mode}${r.readonly ? ', read-only' : ''}`;
  if (json) printJson(ctx.output, r.dryRun ? r : { ...r, paths: undefined });
  else if (r.dryRun) {
    ctx.output.out(r.paths.map((p) => `${p}\n`).join(''));
    ctx.output.err(
      `${r.files} files, ${formatSize(r.bytes)} from ${r.root} would be copied to ${r.vm.name}:${r.guestPath}` +
        ` (${how}); nothing was changed\n`,
    );
  } else {
    ctx.output.out(
      `${r.vm.name}: ${r.files} files, ${formatSize(r.bytes)} in ${(r.ms / 1000).toFixed(1)}s to ${r.guestPath} (${how})\n`,
    );
  }
  return 'ok';
}
