/** `banger dns status`: where the .vm server listens, its records, and how the host can resolve .vm. */
import type { Command } from 'commander';
import type { DnsStatus } from '../../../rpc/index.js';
import type { CliContext } from '../../context.js';
import { printJson, renderTable } from '../../output.js';
import { act, examples, isJson, type Outcome } from '../verb.js';

export function registerStatus(dns: Command, ctx: CliContext): Command {
  return dns
    .command('status')
    .description('where the .vm server listens, its records, and how the host can resolve .vm')
    .addHelpText('after', examples(['banger dns status']))
    .action(act(ctx, (_o: unknown, cmd: Command) => dnsStatus(ctx, isJson(cmd))));
}

export async function dnsStatus(ctx: CliContext, json: boolean): Promise<Outcome> {
  const s = await ctx.daemon.call('dns.status', {});
  if (json) printJson(ctx.output, s);
  else ctx.output.out(renderDnsStatus(s));
  return 'ok';
}

export function renderDnsStatus(s: DnsStatus): string {
  const resolved = !s.resolved.present
    ? 'not running on this host'
    : s.resolved.routed
      ? 'routes ~vm to banger'
      : `present, ~vm not routed: ${s.resolved.detail}`;
  const lines = [
    `listening   ${s.listening.length ? s.listening.join(', ') : '(nowhere)'}`,
    `upstreams   ${s.upstreams.length ? s.upstreams.join(', ') : '(none found in /etc/resolv.conf)'}`,
    `resolved    ${resolved}`,
    '',
  ];
  const records = s.records.length
    ? renderTable(
        ['NAME', 'ADDRESS'],
        s.records.map((r) => [r.name, r.ip]),
      ).trimEnd()
    : 'no records: no VM is running';
  lines.push(records, '');
  if (!s.resolved.routed) lines.push('The host does not resolve .vm through banger yet. Recipes:', '', s.recipes);
  return lines.join('\n');
}
