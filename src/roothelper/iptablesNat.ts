/**
 * The iptables-nft fallback of nftNat.ts, for hosts without the nft binary: the same rules
 * (masquerade of the guest /32 out of the uplink, forward accepts for it, the bridge's
 * isolation drop kept last) in banger's own chains BANGER-POSTROUTING (nat) and
 * BANGER-FORWARD (filter), jumped to from the built-in chains. Every rule carries the same
 * "banger-vm:<id>" / "banger-bridge:<name>" comment. Pure argv builders; the root helper runs them.
 */
import { bridgeRuleComment, vmRuleComment, type NatRequest } from './nftNat.js';

export const IPT_NAT_CHAIN = 'BANGER-POSTROUTING';
export const IPT_FORWARD_CHAIN = 'BANGER-FORWARD';

/** Creates banger's chains and their jumps; each step is guarded by a check (`-C`/`-S`) at run time. */
export function iptablesSetup(bin: string): Array<{ check: string[]; apply: string[] }> {
  return [
    { check: [bin, '-t', 'nat', '-S', IPT_NAT_CHAIN], apply: [bin, '-t', 'nat', '-N', IPT_NAT_CHAIN] },
    { check: [bin, '-t', 'filter', '-S', IPT_FORWARD_CHAIN], apply: [bin, '-t', 'filter', '-N', IPT_FORWARD_CHAIN] },
    {
      check: [bin, '-t', 'nat', '-C', 'POSTROUTING', '-j', IPT_NAT_CHAIN],
      apply: [bin, '-t', 'nat', '-A', 'POSTROUTING', '-j', IPT_NAT_CHAIN],
    },
    {
      check: [bin, '-t', 'filter', '-C', 'FORWARD', '-j', IPT_FORWARD_CHAIN],
      apply: [bin, '-t', 'filter', '-I', 'FORWARD', '1', '-j', IPT_FORWARD_CHAIN],
    },
  ];
}

/** The match words that tag a rule with banger's `comment` (the key iptablesDeleteArgv finds it by). */
function tagged(comment: string): string[] {
  return ['-m', 'comment', '--comment', comment];
}

/**
 * The VM's rules, in order: the two forward accepts (guest out of the uplink; replies back
 * in), each inserted at the head of BANGER-FORWARD, then the masquerade appended to
 * BANGER-POSTROUTING; plus, when asked, the bridge's isolation drop appended last.
 */
export function iptablesAddArgv(bin: string, r: NatRequest, withIsolation: boolean): string[][] {
  const guest = `${r.guestIp}/32`;
  const tag = tagged(vmRuleComment(r.vmId));
  const insertForward = [bin, '-t', 'filter', '-I', IPT_FORWARD_CHAIN, '1'];
  const outbound = ['-i', r.bridge, '-o', r.uplink, '-s', guest];
  const replies = ['-i', r.uplink, '-o', r.bridge, '-d', guest, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED'];
  const rules = [
    [...insertForward, ...outbound, ...tag, '-j', 'ACCEPT'],
    [...insertForward, ...replies, ...tag, '-j', 'ACCEPT'],
    [bin, '-t', 'nat', '-A', IPT_NAT_CHAIN, '-o', r.uplink, '-s', guest, ...tag, '-j', 'MASQUERADE'],
  ];
  if (withIsolation) {
    // Anything from the bridge that is not for the bridge (and not accepted above) is dropped.
    const leavesBridge = ['-i', r.bridge, '!', '-o', r.bridge];
    const isolation = tagged(bridgeRuleComment(r.bridge));
    rules.push([bin, '-t', 'filter', '-A', IPT_FORWARD_CHAIN, ...leavesBridge, ...isolation, '-j', 'DROP']);
  }
  return rules;
}

/**
 * Delete commands for the rules of `table` whose comment is exactly `comment`, from
 * `iptables -t TABLE -S CHAIN` output (each `-A ...` line becomes `-D ...`). Comments are
 * single words, so splitting on spaces is exact.
 */
export function iptablesDeleteArgv(bin: string, table: string, listing: string, comment: string): string[][] {
  return listing
    .split('\n')
    .filter((l) => l.startsWith('-A ') && l.split(' ').includes(comment))
    .map((l) => [
      bin,
      '-t',
      table,
      '-D',
      ...l
        .slice(3)
        .split(' ')
        .map((w) => w.replace(/^"(.*)"$/, '$1')),
    ]);
}

/** True when a `-S` listing still holds a rule of any VM. */
export function iptablesHasVmRules(listing: string): boolean {
  return /--comment "?banger-vm:[0-9a-z]+/.test(listing);
}

/** Undoes iptablesSetup: jumps removed, chains flushed and deleted. */
export function iptablesTeardown(bin: string): string[][] {
  return [
    [bin, '-t', 'nat', '-D', 'POSTROUTING', '-j', IPT_NAT_CHAIN],
    [bin, '-t', 'filter', '-D', 'FORWARD', '-j', IPT_FORWARD_CHAIN],
    [bin, '-t', 'nat', '-F', IPT_NAT_CHAIN],
    [bin, '-t', 'filter', '-F', IPT_FORWARD_CHAIN],
    [bin, '-t', 'nat', '-X', IPT_NAT_CHAIN],
    [bin, '-t', 'filter', '-X', IPT_FORWARD_CHAIN],
  ];
}
