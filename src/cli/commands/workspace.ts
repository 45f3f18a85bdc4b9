import type { Command } from 'commander';
import { resolve } from 'node:path';
import { BangerError, formatSize } from '../../model/index.js';
import { ExecHostRunner, writeFileAtomic } from '../../system/index.js';
import { GUEST_PATH, guestExecCommand } from '../../workspace/index.js';
import type { CliContext } from '../context.js';
import { usageError } from '../errors.js';
import { paint } from '../output.js';
import { progressPrinter } from '../progress.js';
import { runSsh } from '../sshSession.js';
import { commandAfterDashes } from '../argv.js';
import { escapeForTerminal, jsonForTerminal } from '../terminalText.js';

export interface WorkspaceCliOptions { includeUntracked?: boolean; branch?: string; from?: string; bootstrap?: boolean; dryRun?: boolean }

/** The vm.create / vm.workspace.plan `workspace` params for `vm run PATH`. */
export function workspaceRequest(path: string, o: WorkspaceCliOptions) {
  return {
    path: resolve(path), includeUntracked: !!o.includeUntracked, noBootstrap: o.bootstrap === false,
    ...(o.branch !== undefined && { branch: o.branch }), ...(o.from !== undefined && { from: o.from }),
  };
}

/** `vm run PATH --dry-run`: the file list on stdout, the summary on stderr; nothing is created. */
export async function dryRun(ctx: CliContext, path: string, o: WorkspaceCliOptions & { nat?: boolean }): Promise<void> {
  const plan = await ctx.daemon.call('vm.workspace.plan', { ...workspaceRequest(path, o), nat: !!o.nat });
  ctx.output.out(plan.files.map((f) => `${f}\n`).join(''));
  const at = plan.commit ? `${plan.commit.slice(0, 12)} on ${plan.branch}` : 'a repository without commits';
  ctx.output.err(`${plan.files.length} files, ${formatSize(plan.bytes)} from ${plan.root} (${at}) would be copied to ${GUEST_PATH}; nothing was created\n`);
  if (plan.submodules.length) ctx.output.err(`submodules are not copied: ${plan.submodules.join(', ')}\n`);
  if (plan.toolFiles.length) ctx.output.err(`tools declared (${plan.toolFiles.join(', ')}): ${o.bootstrap === false ? 'not installed (--no-bootstrap)' : 'mise install runs in the VM'}\n`);
}

/** The guest command of `vm run PATH -- CMD` and `vm exec`: in the workspace, through mise when it applies. */
export function inWorkspace(command: readonly string[]): string[] {
  return command.length ? guestExecCommand(command) : guestExecCommand(['sh', '-c', 'exec "${SHELL:-/bin/bash}" -l']);
}

export function registerWorkspaceCommands(vm: Command, ctx: CliContext, isJson: (cmd: Command) => boolean): void {
  vm.command('exec')
    .argument('<name>', 'VM name')
    .option('--auto-prepare', "copy the repository again first when the host's HEAD moved since the last copy")
    .allowExcessArguments(true)
    .description("run a command in a VM's workspace (/root/repo, through `mise exec` when the repository uses mise), exiting with its status")
    .addHelpText('after', '\nExamples:\n  banger vm exec dev -- npm test\n  banger vm exec dev --auto-prepare -- make')
    .action(async (name: string, o: { autoPrepare?: boolean }) => {
      const command = commandAfterDashes(ctx.rawArgv);
      if (command.length === 0) throw usageError('give the command after --', `e.g. \`banger vm exec ${name} -- ls\``);
      const { vm: shown } = await ctx.daemon.call('vm.show', { name });
      if (!shown.workspace) throw new BangerError('bad_request', `VM ${shown.name} has no workspace to run in`, { hint: `create one with \`banger vm run PATH\`, or run it without a workspace: \`banger vm ssh ${shown.name} -- ${command.join(' ')}\`` });
      let { vm: v, ssh } = await ctx.daemon.call('vm.ssh_target', { name });
      if (o.autoPrepare && v.workspace) {
        const head = await new ExecHostRunner().run(['git', '-C', v.workspace.hostPath, 'rev-parse', '-q', '--verify', 'HEAD'], { allowFailure: true });
        if (head.exitCode === 0 && head.stdout.trim() !== v.workspace.baseCommit) {
          ctx.output.err(paint(ctx.output, 'dim', `host HEAD moved (${v.workspace.baseCommit?.slice(0, 12) ?? 'none'} -> ${head.stdout.trim().slice(0, 12)}): copying the workspace again\n`));
          ({ vm: v } = await ctx.daemon.call('vm.workspace.prepare', { name: v.name }, { onProgress: progressPrinter(ctx.output, v.name) }));
        }
      }
      // The command's output goes to the terminal raw, as with ssh: it is the user's own command.
      const result = await runSsh(ssh, guestExecCommand(command));
      if (result.error) throw result.error;
      process.exitCode = result.code;
    });

  const ws = vm.command('workspace').description("a VM's copy of a repository: copy it again, or bring the work back");
  ws.command('prepare')
    .argument('<name>', 'VM name')
    .option('--path <path>', 'the repository to copy (default: where the workspace came from)')
    .option('--include-untracked', 'also copy untracked files that are not ignored')
    .description('copy the repository into the running VM again (the previous copy is kept as /root/repo.previous)')
    .addHelpText('after', '\nExample:\n  banger vm workspace prepare dev')
    .action(async (name: string, o: { path?: string; includeUntracked?: boolean }) => {
      const r = await ctx.daemon.call('vm.workspace.prepare', { name, includeUntracked: !!o.includeUntracked, ...(o.path && { path: resolve(o.path) }) }, { onProgress: progressPrinter(ctx.output, name) });
      ctx.output.out(`${r.vm.name}: ${r.files} files, ${formatSize(r.bytes)} in ${(r.ms / 1000).toFixed(1)}s\n`);
    });
  ws.command('export')
    .argument('<name>', 'VM name')
    .option('--base-commit <sha>', 'export what happened since this commit (default: the commit the workspace was copied at)')
    .option('-o, --output <file>', 'write the patch there instead of stdout')
    .description("write the guest's commits and uncommitted changes as a patch that `git am` applies on the host")
    .addHelpText('after', '\nExamples:\n  banger vm workspace export dev -o work.patch && git am work.patch\n  banger vm workspace export dev | git am')
    .action(async (name: string, o: { baseCommit?: string; output?: string }, cmd: Command) => {
      const r = await ctx.daemon.call('vm.workspace.export', { name, ...(o.baseCommit && { baseCommit: o.baseCommit }) });
      const commits = (r.patch.match(/^From [0-9a-f]{40} /gm) ?? []).length;
      if (o.output) {
        writeFileAtomic(resolve(o.output), r.patch, 0o644);
        ctx.output.err(`${commits} commit(s) since ${r.base.slice(0, 12)} written to ${o.output}; apply with \`git am ${o.output}\`\n`);
      } else if (isJson(cmd)) {
        ctx.output.out(`${jsonForTerminal({ base: r.base, commits, patch: r.patch })}\n`);
      } else if (!ctx.output.isTty) {
        // Piped into `git am` or redirected to a file: the patch exactly as the guest made it.
        ctx.output.out(r.patch);
        if (commits === 0) ctx.output.err(`nothing changed since ${r.base.slice(0, 12)}\n`);
      } else {
        // On a terminal it is for reading, and it was made in the (untrusted) guest: control
        // characters are shown as escapes, so this text is not the patch to apply.
        const shown = escapeForTerminal(r.patch);
        ctx.output.out(shown);
        if (commits === 0) ctx.output.err(`nothing changed since ${r.base.slice(0, 12)}\n`);
        if (shown !== r.patch) {
          ctx.output.err(paint(ctx.output, 'yellow', `control characters from the guest were escaped for display; for the exact patch write it to a file: \`banger vm workspace export ${name} -o FILE\` (or redirect stdout)\n`));
        }
      }
    });
}
