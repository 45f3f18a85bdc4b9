/**
 * `banger daemon status`: whether bangerd runs, without starting it. A daemon that does not
 * run is exit reason `daemon_unavailable` (6).
 */
import type { Command } from 'commander';
import { formatDuration } from '../../../model/index.js';
import { DaemonUnreachableError } from '../../../rpc/index.js';
import type { CliContext } from '../../context.js';
import { printJson } from '../../output.js';
import { act, examples, isJson, type Outcome } from '../verb.js';

export function registerStatus(daemon: Command, ctx: CliContext): Command {
  return daemon
    .command('status')
    .description('say whether bangerd is running, with its pid, version, socket and uptime (does not start it)')
    .addHelpText(
      'after',
      examples(['banger daemon status --json'], 'Exit status is 0 when the daemon runs and 6 when it does not.'),
    )
    .action(act(ctx, (_o: unknown, cmd: Command) => daemonStatus(ctx, isJson(cmd))));
}

export async function daemonStatus(ctx: CliContext, json: boolean): Promise<Outcome> {
  let info;
  try {
    info = await ctx.daemon.client.call('ping', {});
  } catch (e) {
    if (!(e instanceof DaemonUnreachableError)) throw e;
    if (json) printJson(ctx.output, { running: false, socket: ctx.layout.daemonSocket });
    else ctx.output.out(`bangerd is not running (socket ${ctx.layout.daemonSocket}); any banger command starts it\n`);
    return 'daemon_unavailable';
  }
  if (json) printJson(ctx.output, { running: true, ...info, log: ctx.layout.daemonLog });
  else {
    ctx.output.out(
      `bangerd v${info.version} (commit ${info.commit}) is running: pid ${info.pid},` +
        ` up ${formatDuration(info.uptimeMs)}\n` +
        `mode     ${info.mode}\nsocket   ${info.socket}\nstate    ${info.stateDir}\nconfig   ${info.configFile}\n` +
        `log      ${ctx.layout.daemonLog}\n`,
    );
  }
  return 'ok';
}
