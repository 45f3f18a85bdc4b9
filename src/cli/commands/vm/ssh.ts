/**
 * `banger vm ssh NAME [--agent] [-- CMD]`: a shell in a running VM, or a command there. Over
 * ssh when the guest's sshd listens on port 22 (asked of its agent through the daemon);
 * otherwise, or with --agent, through the guest agent: a terminal session (src/cli/ptySession.ts)
 * for a shell, or for a command when stdin is a terminal; a plain streamed command otherwise.
 */
import type { Command } from 'commander';
import { BangerError } from '../../../model/index.js';
import { commandAfterDashes } from '../../argv.js';
import type { CliContext } from '../../context.js';
import { runGuestCommand } from '../../guestCommand.js';
import { paint } from '../../output.js';
import { runPtySession } from '../../ptySession.js';
import { runSsh } from '../../sshSession.js';
import { act, examples, type Outcome } from '../verb.js';

interface SshOptions {
  agent?: boolean;
}

export function registerSsh(vm: Command, ctx: CliContext): Command {
  return vm
    .command('ssh')
    .argument('<name>', 'VM name')
    .option('--agent', 'use a terminal session through the guest agent even when the guest runs sshd')
    .allowExcessArguments(true)
    .description(
      'open a shell in a running VM, or run a command there and exit with its status; over ssh when the guest runs sshd on port 22, else through the guest agent (a terminal session: no sshd needed)',
    )
    .addHelpText(
      'after',
      examples(['banger vm ssh dev', 'banger vm ssh dev -- uname -a', 'banger vm ssh --agent dev   # no ssh involved']),
    )
    .action(act(ctx, (name: string, o: SshOptions) => sshVm(ctx, name, o)));
}

async function sshVm(ctx: CliContext, name: string, o: SshOptions = {}): Promise<Outcome> {
  const command = commandAfterDashes(ctx.rawArgv);
  const viaAgent = o.agent || !(await guestRunsSshd(ctx, name));
  if (viaAgent) {
    if (command.length > 0 && !process.stdin.isTTY) return runGuestCommand(ctx, { name, argv: command });
    const outcome = await runPtySession(ctx, { name, argv: command });
    if (command.length === 0) stillRunning(ctx, name);
    return outcome;
  }
  const { vm: v, ssh } = await ctx.daemon.call('vm.ssh_target', { name });
  // Raw, as with ssh: the user's own shell or command, on their own terminal.
  const result = await runSsh(ssh, command);
  if (command.length === 0) stillRunning(ctx, v.name);
  if (result.error) throw result.error;
  return { guestStatus: result.code };
}

/**
 * Whether a TCP listener on port 22 runs in the guest (from its agent's `ports`). A guest whose
 * agent cannot say (an image without one) is taken to run sshd: ssh is all it offers.
 */
async function guestRunsSshd(ctx: CliContext, name: string): Promise<boolean> {
  try {
    const { ports } = await ctx.daemon.call('vm.ports', { names: [name] });
    return ports.some((p) => p.port === 22 && p.proto.startsWith('tcp'));
  } catch (e) {
    if (e instanceof BangerError && e.code === 'operation_failed') return true;
    throw e;
  }
}

function stillRunning(ctx: CliContext, name: string): void {
  ctx.output.err(paint(ctx.output, 'dim', `vm ${name} is still running (stop it with \`banger vm stop ${name}\`)\n`));
}
