import type { Command } from 'commander';
import { BangerError, formatDuration } from '../../model/index.js';
import { DaemonUnreachableError } from '../../rpc/index.js';
import { isProcessAlive } from '../../system/index.js';
import type { CliContext } from '../context.js';
import { printJson } from '../output.js';

export function registerDaemonCommands(program: Command, ctx: CliContext, isJson: (cmd: Command) => boolean): void {
  const daemon = program.command('daemon').description('inspect or stop the banger daemon (bangerd)');

  daemon.command('status')
    .description('say whether bangerd is running, with its pid, version, socket and uptime (does not start it)')
    .addHelpText('after', '\nExit status is 0 when the daemon runs and 6 when it does not.\n\nExample:\n  banger daemon status --json')
    .action(async (_o, cmd: Command) => {
      try {
        const info = await ctx.daemon.client.call('ping', {});
        if (isJson(cmd)) printJson(ctx.output, { running: true, ...info, log: ctx.layout.daemonLog });
        else {
          ctx.output.out(`bangerd v${info.version} (commit ${info.commit}) is running: pid ${info.pid}, up ${formatDuration(info.uptimeMs)}\n`
            + `mode     ${info.mode}\nsocket   ${info.socket}\nstate    ${info.stateDir}\nconfig   ${info.configFile}\nlog      ${ctx.layout.daemonLog}\n`);
        }
      } catch (e) {
        if (!(e instanceof DaemonUnreachableError)) throw e;
        if (isJson(cmd)) printJson(ctx.output, { running: false, socket: ctx.layout.daemonSocket });
        else ctx.output.out(`bangerd is not running (socket ${ctx.layout.daemonSocket}); any banger command starts it\n`);
        process.exitCode = 6;
      }
    });

  daemon.command('stop')
    .description('stop bangerd; running VMs keep running and are adopted when it starts again')
    .addHelpText('after', '\nExample:\n  banger daemon stop')
    .action(async () => {
      let pid: number;
      try {
        pid = (await ctx.daemon.client.call('ping', {})).pid;
        await ctx.daemon.client.call('shutdown', {});
      } catch (e) {
        if (!(e instanceof DaemonUnreachableError)) throw e;
        ctx.output.out('bangerd is not running\n');
        return;
      }
      const deadline = Date.now() + 10_000;
      while (isProcessAlive(pid)) {
        if (Date.now() > deadline) throw new BangerError('operation_failed', `bangerd (pid ${pid}) did not exit within 10 s`, { hint: `kill it with \`kill ${pid}\`` });
        await new Promise((r) => setTimeout(r, 25));
      }
      ctx.output.out(`bangerd stopped (was pid ${pid})\n`);
    });

  daemon.command('socket')
    .description("print the daemon socket's path (for scripts that speak the RPC protocol)")
    .addHelpText('after', '\nExample:\n  banger daemon socket')
    .action(() => { ctx.output.out(`${ctx.layout.daemonSocket}\n`); });
}
