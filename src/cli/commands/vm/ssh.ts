/** `banger vm ssh NAME [-- CMD]`: a shell in a running VM, or a command there. */
import type { Command } from 'commander';
import { commandAfterDashes } from '../../argv.js';
import type { CliContext } from '../../context.js';
import { paint } from '../../output.js';
import { runSsh } from '../../sshSession.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerSsh(vm: Command, ctx: CliContext): Command {
  return vm
    .command('ssh')
    .argument('<name>', 'VM name')
    .allowExcessArguments(true)
    .description('open a shell in a running VM, or run a command there and exit with its status')
    .addHelpText('after', examples(['banger vm ssh dev', 'banger vm ssh dev -- uname -a']))
    .action(act(ctx, (name: string) => sshVm(ctx, name)));
}

export async function sshVm(ctx: CliContext, name: string): Promise<Outcome> {
  const { vm: v, ssh } = await ctx.daemon.call('vm.ssh_target', { name });
  const command = commandAfterDashes(ctx.rawArgv);
  // Raw, as with ssh: the user's own shell or command, on their own terminal.
  const result = await runSsh(ssh, command);
  if (command.length === 0) {
    ctx.output.err(
      paint(ctx.output, 'dim', `vm ${v.name} is still running (stop it with \`banger vm stop ${v.name}\`)\n`),
    );
  }
  if (result.error) throw result.error;
  return { guestStatus: result.code };
}
