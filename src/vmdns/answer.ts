import type { Packet } from 'dns-packet';

/**
 * Answers for the `.vm` zone, as a pure function of a query and a lookup of running
 * VMs. Names outside `.vm` return null: the server forwards them upstream.
 * TTLs are short because a name disappears when its VM stops.
 */
export type RunningVmLookup = (vmName: string) => string | null;

export const VM_TTL_SECONDS = 5;

/** Response codes live in the low four bits of the flags; dns-packet encodes only those. */
export const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

export function isVmName(name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  return n === 'vm' || n.endsWith('.vm');
}

export function answerVmQuery(query: Packet, lookup: RunningVmLookup): Packet | null {
  const q = query.questions?.[0];
  if (!q || !isVmName(q.name)) return null;
  const name = q.name.toLowerCase().replace(/\.$/, '');
  const label = name === 'vm' ? '' : name.slice(0, -3);
  const ip = label && !label.includes('.') ? lookup(label) : null;
  const base: Packet = {
    id: query.id ?? 0,
    type: 'response',
    // Authoritative answer; recursion desired echoed; recursion available (we forward).
    flags: (1 << 10) | ((query.flags ?? 0) & (1 << 8)) | (1 << 7),
    questions: [q],
  };
  if (!ip) return { ...base, flags: (base.flags ?? 0) | RCODE.NXDOMAIN };
  if (q.type === 'A' || (q.type as string) === 'ANY') {
    return { ...base, answers: [{ type: 'A', name: q.name, ttl: VM_TTL_SECONDS, class: 'IN', data: ip }] };
  }
  return base; // the name exists, but has no record of that type (NODATA)
}

/** Nameservers from resolv.conf text, minus addresses that would loop back to us. */
export function upstreamsFrom(resolvConf: string, exclude: readonly string[]): string[] {
  return resolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((ip): ip is string => !!ip && /^\d+\.\d+\.\d+\.\d+$/.test(ip) && !exclude.includes(ip));
}

/**
 * "users:(("dnsmasq",pid=812,fd=4))" from `ss -lunpH` -> "dnsmasq (pid 812)". ss names a
 * process by its main thread (comm), which runtimes rename (Node 24: "MainThread"), so the
 * name comes from `nameOf(pid)` (its executable) when that knows it.
 */
export function portOwnerFromSs(ssOutput: string, nameOf: (pid: number) => string | null = () => null): string | null {
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(ssOutput);
  return m ? `${nameOf(Number(m[2])) ?? m[1]} (pid ${m[2]})` : null;
}
