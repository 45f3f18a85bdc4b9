/**
 * `banger vm run [PATH] [-- CMD]`: create and start a VM, then a shell or a command in it;
 * with PATH, in a copy of that repository.
 */
import type { Command } from 'commander';
import { BangerError, formatSize } from '../../../model/index.js';
import { GUEST_PATH, guestExecCommand } from '../../../workspace/index.js';
import type { CliContext } from '../../context.js';
import { runGuestCommand, type GuestCommand } from '../../guestCommand.js';
import { paint } from '../../output.js';
import { progressPrinter, readyLine } from '../../progress.js';
import { runPtySession } from '../../ptySession.js';
import { runSsh } from '../../sshSession.js';
import { act, examples, type Outcome } from '../verb.js';
import { forwardSpecsFrom, forwardsForRun } from './forward.js';
import { readRunInvocation, type RunFlags } from './runArgs.js';
import { addSpecOptions, specParams, type SpecOptions } from './spec.js';
import { inWorkspace, workspaceRequest, type WorkspaceCliOptions } from './workspaceParams.js';

type RunOptions = SpecOptions & WorkspaceCliOptions & RunFlags & { forward?: string[] };

const DESCRIPTION =
  'create and start a VM, wait until it is ready, then open a shell in it (or run a command and' +
  ' exit with its status); with PATH, a copy of that repository is the working directory';

const EXAMPLES = [
  'banger vm run                          # a shell in a fresh VM',
  'banger vm run --rm -- echo ok          # run a command (through the guest agent), exit with its status, delete the VM',
  'banger vm run ./repo                   # a shell in /root/repo, a copy of ./repo',
  'banger vm run --rm ./repo -- make test # run the tests in a throwaway copy',
  'banger vm run ./repo --dry-run         # what would be copied',
  'banger vm run --name dev --vcpu 4 --memory 4G',
  'banger vm run --nat -- curl -sI https://deb.debian.org',
  'banger vm run --vmm qemu -- uname -a',
  'banger vm run -p 8080:80 -p 3000       # forward guest ports to 127.0.0.1 (see `vm forward`)',
];

export function registerRun(vm: Command, ctx: CliContext): Command {
  return addSpecOptions(vm.command('run'))
    .description(DESCRIPTION)
    .argument('[path]', 'a git repository to copy into /root/repo (tracked files, as in the work tree)')
    .option('--rm', 'delete the VM afterwards (kept when it failed to become ready, for `vm logs`)')
    .option('-d, --detach', 'create, start and prepare, then return without attaching')
    .option('--include-untracked', 'also copy untracked files that are not ignored')
    .option('--dry-run', 'print the files that would be copied and their size; create nothing')
    .option(
      '--branch <name>',
      "the guest's branch: the host's branch of that name, else a new one (default: the host's current branch)",
    )
    .option('--from <ref>', 'check out this commit, branch or tag instead of HEAD (the work tree is then not copied)')
    .option('--no-bootstrap', 'do not install the tools the repository declares (.mise.toml, .tool-versions)')
    .option(
      '-p, --forward <[local:]guest>',
      'forward a guest TCP port to 127.0.0.1:LOCAL (repeatable)',
      (v, a: string[] = []) => [...a, v],
    )
    .allowExcessArguments(true)
    .addHelpText('after', examples(EXAMPLES))
    .action(act(ctx, (path: string | undefined, opts: RunOptions) => runVm(ctx, path, opts)));
}

export async function runVm(ctx: CliContext, path: string | undefined, opts: RunOptions): Promise<Outcome> {
  const { repo, command } = readRunInvocation(ctx.rawArgv, path, opts);
  if (repo && opts.dryRun) return dryRun(ctx, repo, opts);
  const forwards = forwardSpecsFrom(opts.forward ?? []);
  const t0 = performance.now();
  const { vm, ssh } = await ctx.daemon.call(
    'vm.create',
    {
      ...specParams(opts),
      start: true,
      ...(repo && { workspace: workspaceRequest(repo, opts) }),
      // A command runs through the agent: ready is the agent's answer, sshd is not waited for.
      ...(command.length > 0 && !opts.detach && { ready: 'agent' as const }),
    },
    { onProgress: progressPrinter(ctx.output) },
  );
  readyLine(ctx.output, performance.now() - t0);
  await forwardsForRun(ctx, vm.name, forwards, !!opts.rm);
  if (opts.detach) {
    ctx.output.out(`${vm.name}\n`);
    const exec = repo ? `, \`banger vm exec ${vm.name} -- CMD\`` : '';
    ctx.output.err(
      paint(
        ctx.output,
        'dim',
        `vm ${vm.name} is running: \`banger vm ssh ${vm.name}\`${exec}, stop it with \`banger vm stop ${vm.name}\`\n`,
      ),
    );
    return 'ok';
  }
  if (command.length > 0) {
    const run = repo ? { argv: guestExecCommand(command), cwd: GUEST_PATH } : { argv: command };
    return commandMode(ctx, { name: vm.name, ...run }, !!opts.rm);
  }
  // An image without sshd (pulled from a registry): the shell is a terminal session through the agent.
  if (!repo && !(await imageServesSsh(ctx, vm.imageName))) {
    const outcome = await runPtySession(ctx, { name: vm.name, argv: [] });
    if (opts.rm) await ctx.daemon.call('vm.delete', { name: vm.name });
    return outcome;
  }
  // The shell talks to the terminal raw, as with ssh: it is the user's own session.
  const result = repo ? await runSsh(ssh, inWorkspace([]), { interactive: true }) : await runSsh(ssh, []);
  if (opts.rm) {
    await ctx.daemon.call('vm.delete', { name: vm.name });
  } else {
    ctx.output.err(
      paint(ctx.output, 'dim', `vm ${vm.name} is still running (stop it with \`banger vm stop ${vm.name}\`)\n`),
    );
  }
  if (result.error) throw result.error;
  return { guestStatus: result.code };
}

/** Whether VMs of this image run sshd: every image but an OCI one that has none (and does not install it). */
async function imageServesSsh(ctx: CliContext, imageName: string | null): Promise<boolean> {
  if (!imageName) return true;
  const { image } = await ctx.daemon.call('image.show', { name: imageName });
  return !image.oci || image.oci.sshd || image.oci.installSshd;
}

/**
 * `vm run [PATH] -- CMD`: the command through the agent (src/cli/guestCommand.ts); with --rm
 * the VM is deleted whatever happened, and a failure says that the command did not complete.
 */
async function commandMode(ctx: CliContext, cmd: GuestCommand, rm: boolean): Promise<Outcome> {
  const vm = { name: cmd.name };
  let outcome: Outcome;
  try {
    outcome = await runGuestCommand(ctx, cmd);
  } catch (e) {
    if (!rm) throw e;
    await ctx.daemon.call('vm.delete', { name: vm.name });
    if (!(e instanceof BangerError)) throw e;
    throw new BangerError(e.code, `${e.message} (VM ${vm.name} deleted: --rm)`, {
      ...(e.hint !== undefined && { hint: e.hint }),
      ...(e.opId !== undefined && { opId: e.opId }),
    });
  }
  if (rm) await ctx.daemon.call('vm.delete', { name: vm.name });
  return outcome;
}

/** `vm run PATH --dry-run`: the file list on stdout, the summary on stderr; nothing is created. */
export async function dryRun(
  ctx: CliContext,
  path: string,
  o: WorkspaceCliOptions & { nat?: boolean },
): Promise<Outcome> {
  const plan = await ctx.daemon.call('vm.workspace.plan', { ...workspaceRequest(path, o), nat: !!o.nat });
  ctx.output.out(plan.files.map((f) => `${f}\n`).join(''));
  const at = plan.commit ? `${plan.commit.slice(0, 12)} on ${plan.branch}` : 'a repository without commits';
  ctx.output.err(
    `${plan.files.length} files, ${formatSize(plan.bytes)} from ${plan.root} (${at}) would be copied to` +
      ` ${GUEST_PATH}; nothing was created\n`,
  );
  if (plan.submodules.length) ctx.output.err(`submodules are not copied: ${plan.submodules.join(', ')}\n`);
  if (plan.toolFiles.length) {
    const what = o.bootstrap === false ? 'not installed (--no-bootstrap)' : 'mise install runs in the VM';
    ctx.output.err(`tools declared (${plan.toolFiles.join(', ')}): ${what}\n`);
  }
  return 'ok';
}
