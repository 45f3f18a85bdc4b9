/**
 * Pure builders for banger's NAT rules in its own nftables table, so the host's own
 * tables are never touched (SPEC 7). Every rule of a VM carries the comment
 * "banger-vm:<id>", which is how removal finds exactly that VM's rules.
 */
export interface NatRequest {
  table: string;
  vmId: string;
  guestIp: string;
  tap: string;
  uplink: string;
}

export function vmRuleComment(vmId: string): string {
  return `banger-vm:${vmId}`;
}

/** Script for `nft -f -` that creates the table and chains (idempotently) and adds the VM's rules. */
export function natAddScript(r: NatRequest): string {
  const c = `comment "${vmRuleComment(r.vmId)}"`;
  return [
    `table ip ${r.table} {`,
    '  chain postrouting { type nat hook postrouting priority srcnat; policy accept; }',
    '  chain forward { type filter hook forward priority filter; policy accept; }',
    '}',
    `add rule ip ${r.table} postrouting ip saddr ${r.guestIp}/32 oifname "${r.uplink}" masquerade ${c}`,
    `add rule ip ${r.table} forward iifname "${r.tap}" oifname "${r.uplink}" accept ${c}`,
    `add rule ip ${r.table} forward iifname "${r.uplink}" oifname "${r.tap}" ct state established,related accept ${c}`,
    '',
  ].join('\n');
}

export interface RuleHandle {
  chain: string;
  handle: number;
}

/** Finds the handles of a VM's rules in `nft -a list table ip <table>` output. */
export function vmRuleHandles(listing: string, vmId: string): RuleHandle[] {
  const marker = `comment "${vmRuleComment(vmId)}"`;
  const out: RuleHandle[] = [];
  let chain: string | null = null;
  for (const line of listing.split('\n')) {
    const chainMatch = /^\s*chain (\S+) \{/.exec(line);
    if (chainMatch) { chain = chainMatch[1]!; continue; }
    const handle = /# handle (\d+)\s*$/.exec(line);
    if (chain && handle && line.includes(marker)) out.push({ chain, handle: Number(handle[1]) });
  }
  return out;
}

export function natDeleteScript(table: string, handles: readonly RuleHandle[]): string {
  return handles.map((h) => `delete rule ip ${table} ${h.chain} handle ${h.handle}`).join('\n') + (handles.length ? '\n' : '');
}
