/** `banger vm exec NAME -- CMD`: a command in a VM's workspace, exiting with its status. */
import type { Command } from 'commander';
import { BangerError, type Vm } from '../../../model/index.js';
import { ExecHostRunner } from '../../../system/index.js';
import { guestExecCommand } from '../../../workspace/index.js';
import { commandAfterDashes } from '../../argv.js';
import type { CliContext } from '../../context.js';
import { usageError } from '../../errors.js';
import { paint } from '../../output.js';
import { progressPrinter } from '../../progress.js';
import { runSsh } from '../../sshSession.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerExec(vm: Command, ctx: CliContext): Command {
  return vm
    .command('exec')
    .argument('<name>', 'VM name')
    .option('--auto-prepare', "copy the repository again first when the host's HEAD moved since the last copy")
    .allowExcessArguments(true)
    .description(
      "run a command in a VM's workspace (/root/repo, through `mise exec` when the repository uses mise)," +
        ' exiting with its status',
    )
    .addHelpText('after', examples(['banger vm exec dev -- npm test', 'banger vm exec dev --auto-prepare -- make']))
    .action(act(ctx, (name: string, o: { autoPrepare?: boolean }) => execInVm(ctx, name, !!o.autoPrepare)));
}

export async function execInVm(ctx: CliContext, name: string, autoPrepare: boolean): Promise<Outcome> {
  const command = commandAfterDashes(ctx.rawArgv);
  if (command.length === 0) throw usageError('give the command after --', `e.g. \`banger vm exec ${name} -- ls\``);
  const { vm: shown } = await ctx.daemon.call('vm.show', { name });
  if (!shown.workspace) {
    throw new BangerError('bad_request', `VM ${shown.name} has no workspace to run in`, {
      hint:
        'create one with `banger vm run PATH`, or run it without a workspace:' +
        ` \`banger vm ssh ${shown.name} -- ${command.join(' ')}\``,
    });
  }
  const { vm: v, ssh } = await ctx.daemon.call('vm.ssh_target', { name });
  if (autoPrepare) await prepareIfHeadMoved(ctx, v);
  // The command's output goes to the terminal raw, as with ssh: it is the user's own command.
  const result = await runSsh(ssh, guestExecCommand(command));
  if (result.error) throw result.error;
  return { guestStatus: result.code };
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
