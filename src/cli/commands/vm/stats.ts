/** `banger vm stats [NAME...] [--watch]`: CPU, memory, disk, network and idle time of VMs. */
import type { Command } from 'commander';
import { formatDuration, formatSize, type VmStats } from '../../../model/index.js';
import type { CliContext } from '../../context.js';
import { printJson, renderTable } from '../../output.js';
import { jsonForTerminal } from '../../terminalText.js';
import { act, examples, isJson, type Outcome } from '../verb.js';
import { describeAutoStop } from './render.js';

export function registerStats(vm: Command, ctx: CliContext): Command {
  return vm
    .command('stats')
    .argument('[names...]', 'VM names (default: every running VM)')
    .option('-w, --watch', 'redraw every stats_poll_interval until interrupted (Ctrl-C)')
    .description(
      "show VMs' vCPUs, host CPU% and RSS of the VMM, guest memory, disk use, network bytes, uptime, connections into the guest and when auto-stop would stop them",
    )
    .addHelpText('after', examples(['banger vm stats', 'banger vm stats dev --json', 'banger vm stats --watch']))
    .action(
      act(ctx, (names: string[], o: { watch?: boolean }, cmd: Command) =>
        showStats(ctx, names, isJson(cmd), !!o.watch),
      ),
    );
}

/** Once, or (`watch`) a fresh table, or one JSON line, every poll interval until the process is interrupted. */
export async function showStats(ctx: CliContext, names: string[], json: boolean, watch: boolean): Promise<Outcome> {
  for (;;) {
    const { stats, pollIntervalMs } = await ctx.daemon.call('vm.stats', { names });
    if (!watch) {
      if (json) printJson(ctx.output, stats);
      else ctx.output.out(renderVmStats(stats));
      return 'ok';
    }
    if (json) ctx.output.out(`${jsonForTerminal(stats)}\n`);
    else {
      const clear = ctx.output.isTty ? '\x1b[H\x1b[2J' : '';
      const title = `every ${formatDuration(pollIntervalMs)}, ${new Date().toISOString()} (Ctrl-C to stop)\n\n`;
      ctx.output.out(clear + title + renderVmStats(stats) + (clear ? '' : '\n'));
    }
    await new Promise((r) => setTimeout(r, pollIntervalMs));
  }
}

const size = (n: number | null | undefined) => (n === null || n === undefined ? '-' : formatSize(n));
const pair = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined ? '-' : `${size(a)}/${size(b)}`;

function uptime(s: number | null): string {
  return s === null ? '-' : formatDuration(s * 1000);
}

/** The table; MEM is the guest's used/total, ROOT and WORK allocated/apparent, NET received/sent by the guest. */
export function renderVmStats(rows: readonly VmStats[], now = Date.now()): string {
  if (rows.length === 0) return 'no running VMs (name stopped ones to see their disks)\n';
  return renderTable(
    ['NAME', 'STATE', 'VCPU', 'CPU%', 'MEM', 'VMM RSS', 'ROOT', 'WORK', 'NET RX/TX', 'UP', 'CONN', 'AUTO-STOP'],
    rows.map((s) => [
      s.name,
      s.state,
      String(s.vcpu),
      s.cpuPercent === null ? '-' : s.cpuPercent.toFixed(1),
      s.guest ? pair(s.guest.memUsedBytes, s.guest.memTotalBytes) : s.state === 'running' ? '?' : '-',
      size(s.vmmRssBytes),
      pair(s.disks.root?.allocatedBytes, s.disks.root?.apparentBytes),
      pair(s.disks.work?.allocatedBytes, s.disks.work?.apparentBytes),
      s.net ? pair(s.net.rxBytes, s.net.txBytes) : '-',
      uptime(s.uptimeS),
      s.guest ? String(s.guest.tcpEstablishedIn) : '-',
      s.state === 'running' ? describeAutoStop(s.autoStop, now).replace(/ \(idle since .*\)$/, '') : '-',
    ]),
  );
}
