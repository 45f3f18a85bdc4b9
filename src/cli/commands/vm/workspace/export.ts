/**
 * `banger vm workspace export NAME`: the guest's commits and uncommitted changes as a patch
 * that `git am` applies on the host.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../../../system/index.js';
import type { CliContext } from '../../../context.js';
import { paint } from '../../../output.js';
import { escapeForTerminal, jsonForTerminal } from '../../../terminalText.js';
import { act, examples, isJson, type Outcome } from '../../verb.js';

interface ExportOptions {
  baseCommit?: string;
  output?: string;
}

export function registerExport(ws: Command, ctx: CliContext): Command {
  return ws
    .command('export')
    .argument('<name>', 'VM name')
    .option(
      '--base-commit <sha>',
      'export what happened since this commit (default: the commit the workspace was copied at)',
    )
    .option('-o, --output <file>', 'write the patch there instead of stdout')
    .description("write the guest's commits and uncommitted changes as a patch that `git am` applies on the host")
    .addHelpText(
      'after',
      examples([
        'banger vm workspace export dev -o work.patch && git am work.patch',
        'banger vm workspace export dev | git am',
      ]),
    )
    .action(act(ctx, (name: string, o: ExportOptions, cmd: Command) => exportWorkspace(ctx, name, o, isJson(cmd))));
}

export async function exportWorkspace(
  ctx: CliContext,
  name: string,
  o: ExportOptions,
  json: boolean,
): Promise<Outcome> {
  const r = await ctx.daemon.call('vm.workspace.export', { name, ...(o.baseCommit && { baseCommit: o.baseCommit }) });
  const commits = (r.patch.match(/^From [0-9a-f]{40} /gm) ?? []).length;
  const nothingChanged = () => {
    if (commits === 0) ctx.output.err(`nothing changed since ${r.base.slice(0, 12)}\n`);
  };
  if (o.output) {
    writeFileAtomic(resolve(o.output), r.patch, 0o644);
    ctx.output.err(
      `${commits} commit(s) since ${r.base.slice(0, 12)} written to ${o.output};` +
        ` apply with \`git am ${o.output}\`\n`,
    );
  } else if (json) {
    ctx.output.out(`${jsonForTerminal({ base: r.base, commits, patch: r.patch })}\n`);
  } else if (!ctx.output.isTty) {
    // Piped into `git am` or redirected to a file: the patch exactly as the guest made it.
    ctx.output.out(r.patch);
    nothingChanged();
  } else {
    // On a terminal it is for reading, and it was made in the (untrusted) guest: control
    // characters are shown as escapes, so this text is not the patch to apply.
    const shown = escapeForTerminal(r.patch);
    ctx.output.out(shown);
    nothingChanged();
    if (shown !== r.patch) {
      ctx.output.err(
        paint(
          ctx.output,
          'yellow',
          'control characters from the guest were escaped for display; for the' +
            ` exact patch write it to a file: \`banger vm workspace export ${name} -o FILE\` (or redirect stdout)\n`,
        ),
      );
    }
  }
  return 'ok';
}
