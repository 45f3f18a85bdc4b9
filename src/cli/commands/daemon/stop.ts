/** `banger daemon stop`: stop bangerd and wait until it is gone; running VMs keep running. */
import type { Command } from 'commander';
import { BangerError } from '../../../model/index.js';
import { DaemonUnreachableError } from '../../../rpc/index.js';
import { isProcessAlive } from '../../../system/index.js';
import type { CliContext } from '../../context.js';
import { act, examples, type Outcome } from '../verb.js';

export function registerStop(daemon: Command, ctx: CliContext): Command {
  return daemon
    .command('stop')
    .description('stop bangerd; running VMs keep running and are adopted when it starts again')
    .addHelpText('after', examples(['banger daemon stop']))
    .action(act(ctx, () => stopDaemon(ctx)));
}

export async function stopDaemon(ctx: CliContext): Promise<Outcome> {
  let pid: number;
  try {
    pid = (await ctx.daemon.client.call('ping', {})).pid;
    await ctx.daemon.client.call('shutdown', {});
  } catch (e) {
    if (!(e instanceof DaemonUnreachableError)) throw e;
    ctx.output.out('bangerd is not running\n');
    return 'ok';
  }
  const deadline = Date.now() + 10_000;
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) {
      throw new BangerError('operation_failed', `bangerd (pid ${pid}) did not exit within 10 s`, {
        hint: `kill it with \`kill ${pid}\``,
      });
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  ctx.output.out(`bangerd stopped (was pid ${pid})\n`);
  return 'ok';
}
