/** `banger vm health NAME...`: each VM's agent (boot id, uptime, version, hostname) and whether its sshd answers. */
import type { Command } from 'commander';
import type { CliContext } from '../../context.js';
import { paint, printJson, renderTable } from '../../output.js';
import { escapeForTerminalLine } from '../../terminalText.js';
import { act, examples, isJson, type Outcome } from '../verb.js';

export function registerHealth(vm: Command, ctx: CliContext): Command {
  return vm
    .command('health')
    .argument('<names...>', 'VM names')
    .description(
      "ask each VM's guest agent for its health (boot id, uptime, agent version, hostname) and check that sshd answers; exits 1 when an agent does not answer",
    )
    .addHelpText('after', examples(['banger vm health dev', 'banger vm health dev web --json']))
    .action(act(ctx, (names: string[], _o: unknown, cmd: Command) => showHealth(ctx, names, isJson(cmd))));
}

export async function showHealth(ctx: CliContext, names: string[], json: boolean): Promise<Outcome> {
  const { vms } = await ctx.daemon.call('vm.health', { names });
  if (json) printJson(ctx.output, vms);
  else {
    const e = escapeForTerminalLine; // hostname and version come from the guest
    ctx.output.out(
      renderTable(
        ['NAME', 'AGENT', 'SSH', 'UPTIME', 'HOSTNAME', 'AGENT VERSION', 'BOOT ID'],
        vms.map((v) => [
          v.name,
          v.ok ? paint(ctx.output, 'green', 'ok') : paint(ctx.output, 'red', 'down'),
          v.ssh ? 'ok' : 'no',
          v.health ? formatUptime(v.health.uptime_s) : '-',
          v.health ? e(v.health.hostname) : '-',
          v.health ? e(v.health.agent_version) : '-',
          v.health ? e(v.health.boot_id) : '-',
        ]),
      ),
    );
    for (const v of vms) if (v.error) ctx.output.err(`banger: ${v.name}: ${escapeForTerminalLine(v.error)}\n`);
  }
  return vms.every((v) => v.ok) ? 'ok' : 'failure';
}

/** "42s", "5m12s", "3h04m", "2d03h". */
export function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}
