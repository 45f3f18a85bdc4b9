/**
 * Where a registry may not send us: this host's own addresses (loopback, unspecified) and
 * link-local ones (cloud metadata services live at 169.254.169.254). A remote registry names
 * redirect targets and token services; following it onto those addresses would let it reach
 * services that trust only this host (SSRF). Hosts are classified by IP (node:net BlockList),
 * never by spelling: `0.0.0.0`, `127.1`, `[::ffff:127.0.0.1]` are all caught. Names are checked
 * at connect time on every address they resolve to, so a name that resolves (or re-resolves)
 * to a blocked address is refused too.
 */
import dns, { type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** The errno-style code of a refused connection (errors.ts maps it to a BangerError). */
export const BLOCKED_CODE = 'EBANGERBLOCKED';

const BLOCKED = new BlockList();
BLOCKED.addSubnet('127.0.0.0', 8, 'ipv4');
BLOCKED.addSubnet('0.0.0.0', 8, 'ipv4');
BLOCKED.addSubnet('169.254.0.0', 16, 'ipv4');
// ::/96 holds :: (unspecified), ::1 (loopback) and the deprecated IPv4-compatible addresses.
BLOCKED.addSubnet('::', 96, 'ipv6');
BLOCKED.addSubnet('fe80::', 10, 'ipv6');
// IPv4-mapped forms of the above (BlockList already applies v4 rules to them; explicit anyway).
BLOCKED.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
BLOCKED.addSubnet('::ffff:0.0.0.0', 104, 'ipv6');
BLOCKED.addSubnet('::ffff:169.254.0.0', 112, 'ipv6');

/** Whether `address` (an IP literal, IPv6 with or without brackets) is one a registry may not send us to. */
export function isBlockedAddress(address: string): boolean {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(a);
  if (family === 0) return false;
  return BLOCKED.check(a, family === 6 ? 'ipv6' : 'ipv4');
}

/** The error a refused target fails with (code BLOCKED_CODE). */
export function blockedError(host: string, address: string): NodeJS.ErrnoException {
  const shown = host === address ? host : `${host} (${address})`;
  const e = new Error(
    `${shown} is a loopback, unspecified or link-local address of this host`,
  ) as NodeJS.ErrnoException;
  e.code = BLOCKED_CODE;
  return e;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request that resolves every address of a name and refuses the
 * connection when any of them is blocked (so no address order or retry reaches one).
 */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  const all: LookupAllOptions = { ...options, all: true };
  dns.lookup(hostname, all, (err, addrs) => {
    if (err) return callback(err, []);
    const bad = addrs.find((a) => isBlockedAddress(a.address));
    if (bad) return callback(blockedError(hostname, bad.address), []);
    if (addrs.length === 0) {
      const e = new Error(`${hostname} has no address`) as NodeJS.ErrnoException;
      e.code = 'ENOTFOUND';
      return callback(e, []);
    }
    if (options.all) return callback(null, addrs);
    callback(null, addrs[0]!.address, addrs[0]!.family);
  });
}
