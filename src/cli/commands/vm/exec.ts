/** `banger vm exec NAME [--guest-path DIR] -- CMD`: a command in a VM (its workspace, or DIR), exiting with its status. */
import type { Command } from 'commander';
import { BangerError, type Vm } from '../../../model/index.js';
import { ExecHostRunner } from '../../../system/index.js';
import { GUEST_PATH, guestExecCommand } from '../../../workspace/index.js';
import { commandAfterDashes } from '../../argv.js';
import type { CliContext } from '../../context.js';
import { usageError } from '../../errors.js';
import { runGuestCommand } from '../../guestCommand.js';
import { paint } from '../../output.js';
import { progressPrinter } from '../../progress.js';
import { act, examples, type Outcome } from '../verb.js';

interface ExecOptions {
  autoPrepare?: boolean;
  guestPath?: string;
}

export function registerExec(vm: Command, ctx: CliContext): Command {
  return vm
    .command('exec')
    .argument('<name>', 'VM name')
    .option('--auto-prepare', "copy the repository again first when the host's HEAD moved since the last copy")
    .option('--guest-path <dir>', 'run in this directory of the guest (absolute) instead of the workspace')
    .allowExcessArguments(true)
    .description(
      "run a command in a VM through its agent: in its workspace (/root/repo, through `mise exec` when the repository uses mise), or /root without one, or --guest-path; exits with the command's status",
    )
    .addHelpText(
      'after',
      examples([
        'banger vm exec dev -- npm test',
        'banger vm exec dev --auto-prepare -- make',
        'banger vm exec dev --guest-path /var/log -- ls -l',
        'git diff | banger vm exec dev -- git apply   # stdin is forwarded when it is not a terminal',
      ]),
    )
    .action(act(ctx, (name: string, o: ExecOptions) => execInVm(ctx, name, o)));
}

export async function execInVm(ctx: CliContext, name: string, o: ExecOptions): Promise<Outcome> {
  const command = commandAfterDashes(ctx.rawArgv);
  if (command.length === 0) throw usageError('give the command after --', `e.g. \`banger vm exec ${name} -- ls\``);
  const guestPath = o.guestPath === undefined ? undefined : checkGuestPath(o.guestPath);
  const { vm: v } = await ctx.daemon.call('vm.show', { name });
  if (o.autoPrepare && !v.workspace)
    throw new BangerError('bad_request', `VM ${v.name} has no workspace to copy again (--auto-prepare)`, {
      hint: 'create one with `banger vm run PATH`, or leave out --auto-prepare',
    });
  if (o.autoPrepare) await prepareIfHeadMoved(ctx, v);
  const dir = guestPath ?? (v.workspace ? GUEST_PATH : undefined);
  // In a directory: through the workspace's mise when it declares tools; else the bare command in /root.
  const argv = dir ? guestExecCommand(command, dir) : command;
  return runGuestCommand(ctx, { name: v.name, argv, ...(dir !== undefined && { cwd: dir }) });
}

/** --guest-path: an absolute guest directory (its existence is the guest's to say). */
export function checkGuestPath(p: string): string {
  if (!p.startsWith('/') || p.includes('\0') || p.length > 4096)
    throw usageError(`--guest-path must be an absolute path in the guest, got "${p}"`, 'e.g. --guest-path /root/src');
  return p;
}

/** --auto-prepare: copies the repository again when the host's HEAD is not the commit the workspace was copied at. */
async function prepareIfHeadMoved(ctx: CliContext, v: Vm): Promise<void> {
  if (!v.workspace) return;
  const argv = ['git', '-C', v.workspace.hostPath, 'rev-parse', '-q', '--verify', 'HEAD'];
  const head = await new ExecHostRunner().run(argv, { allowFailure: true });
  if (head.exitCode !== 0 || head.stdout.trim() === v.workspace.baseCommit) return;
  const from = v.workspace.baseCommit?.slice(0, 12) ?? 'none';
  ctx.output.err(
    paint(
      ctx.output,
      'dim',
      `host HEAD moved (${from} -> ${head.stdout.trim().slice(0, 12)}): copying the workspace again\n`,
    ),
  );
  await ctx.daemon.call('vm.workspace.prepare', { name: v.name }, { onProgress: progressPrinter(ctx.output, v.name) });
}
