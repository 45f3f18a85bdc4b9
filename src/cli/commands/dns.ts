import type { Command } from 'commander';
import type { DnsStatus } from '../../rpc/index.js';
import type { CliContext } from '../context.js';
import { printJson, renderTable } from '../output.js';

export function renderDnsStatus(s: DnsStatus): string {
  const lines = [
    `listening   ${s.listening.length ? s.listening.join(', ') : '(nowhere)'}`,
    `upstreams   ${s.upstreams.length ? s.upstreams.join(', ') : '(none found in /etc/resolv.conf)'}`,
    `resolved    ${s.resolved.present ? (s.resolved.routed ? 'routes ~vm to banger' : `present, ~vm not routed: ${s.resolved.detail}`) : 'not running on this host'}`,
    '',
  ];
  lines.push(s.records.length ? renderTable(['NAME', 'ADDRESS'], s.records.map((r) => [r.name, r.ip])).trimEnd() : 'no records: no VM is running', '');
  if (!s.resolved.routed) lines.push('The host does not resolve .vm through banger yet. Recipes:', '', s.recipes);
  return lines.join('\n');
}

export function registerDnsCommands(program: Command, ctx: CliContext, isJson: (cmd: Command) => boolean): void {
  const dns = program.command('dns').description('the .vm DNS server of the daemon');
  dns.command('status')
    .description('where the .vm server listens, its records, and how the host can resolve .vm')
    .addHelpText('after', '\nExample:\n  banger dns status')
    .action(async (_o, cmd: Command) => {
      const s = await ctx.daemon.call('dns.status', {});
      if (isJson(cmd)) printJson(ctx.output, s);
      else ctx.output.out(renderDnsStatus(s));
    });
}
