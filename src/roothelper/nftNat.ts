/**
 * Pure builders for banger's NAT rules in its own nftables table, so the host's own
 * tables are never touched (docs/howto/networking.md). Every rule of a VM carries the comment
 * "banger-vm:<id>", which is how removal finds exactly that VM's rules.
 *
 * Why the bridge and not the tap: a VM's tap is a port of banger's bridge, so at the IP
 * layer (where the forward hook runs) its packets arrive on the bridge. The VM is told
 * apart by its /32 address. The bridge also gets one isolation rule ("banger-bridge:<name>"),
 * kept last in the chain: whatever the bridge would forward elsewhere that no VM's accept
 * rule took is dropped, so a guest without --nat stays inside even on a host that
 * forwards for someone else.
 */
export interface NatRequest {
  table: string;
  vmId: string;
  guestIp: string;
  bridge: string;
  uplink: string;
}

export function vmRuleComment(vmId: string): string {
  return `banger-vm:${vmId}`;
}

export function bridgeRuleComment(bridge: string): string {
  return `banger-bridge:${bridge}`;
}

/**
 * Script for `nft -f -` that creates the table and chains (idempotently), inserts the VM's
 * forward rules at the head of the chain and its masquerade, and appends the bridge's
 * isolation rule when `withIsolation` (the caller checks the listing first).
 */
export function natAddScript(r: NatRequest, withIsolation: boolean): string {
  const c = `comment "${vmRuleComment(r.vmId)}"`;
  return [
    `table ip ${r.table} {`,
    '  chain postrouting { type nat hook postrouting priority srcnat; policy accept; }',
    '  chain forward { type filter hook forward priority filter; policy accept; }',
    '}',
    `insert rule ip ${r.table} forward iifname "${r.bridge}" oifname "${r.uplink}" ip saddr ${r.guestIp} accept ${c}`,
    `insert rule ip ${r.table} forward iifname "${r.uplink}" oifname "${r.bridge}" ip daddr ${r.guestIp} ct state established,related accept ${c}`,
    `add rule ip ${r.table} postrouting oifname "${r.uplink}" ip saddr ${r.guestIp} masquerade ${c}`,
    ...(withIsolation
      ? [
          `add rule ip ${r.table} forward iifname "${r.bridge}" oifname != "${r.bridge}" drop comment "${bridgeRuleComment(r.bridge)}"`,
        ]
      : []),
    '',
  ].join('\n');
}

export interface RuleHandle {
  chain: string;
  handle: number;
}

/** Handles of the rules whose comment is exactly `comment`, in `nft -a list table` output. */
export function ruleHandles(listing: string, comment: string): RuleHandle[] {
  const marker = `comment "${comment}"`;
  const out: RuleHandle[] = [];
  let chain: string | null = null;
  for (const line of listing.split('\n')) {
    const chainMatch = /^\s*chain (\S+) \{/.exec(line);
    if (chainMatch) {
      chain = chainMatch[1]!;
      continue;
    }
    const handle = /# handle (\d+)\s*$/.exec(line);
    if (chain && handle && line.includes(marker)) out.push({ chain, handle: Number(handle[1]) });
  }
  return out;
}

export function vmRuleHandles(listing: string, vmId: string): RuleHandle[] {
  return ruleHandles(listing, vmRuleComment(vmId));
}

/** True when the listing still holds a rule of any VM. */
export function hasVmRules(listing: string): boolean {
  return /comment "banger-vm:[0-9a-z]+"/.test(listing);
}

export function natDeleteScript(table: string, handles: readonly RuleHandle[]): string {
  return (
    handles.map((h) => `delete rule ip ${table} ${h.chain} handle ${h.handle}`).join('\n') +
    (handles.length ? '\n' : '')
  );
}
