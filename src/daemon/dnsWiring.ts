import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { BangerError } from '../model/index.js';
import type { OpCtx } from '../opctx/index.js';
import type { PrivilegedOps } from '../privops/index.js';
import type { DnsStatus } from '../rpc/index.js';
import type { Store } from '../store/index.js';
import type { HostRunner } from '../system/index.js';
import { dnsRecipes, resolvedPresent, routesVmDomain, upstreamsFrom, VmDnsServer } from '../vmdns/index.js';
import type { CleanupStack } from './cleanupStack.js';

/** The host's resolvers, re-read per forwarded query so resolv.conf changes apply at once. */
function readUpstreams(exclude: string[]): string[] {
  try {
    return upstreamsFrom(readFileSync('/etc/resolv.conf', 'utf8'), exclude);
  } catch {
    return [];
  }
}

export interface DnsWiringDeps {
  config: Config;
  store: Store;
  runner: HostRunner;
  privileged: PrivilegedOps;
  log: Logger;
}

export interface DnsWiring {
  /** Listens on the bridge address (call once the bridge exists) and routes .vm through systemd-resolved. */
  listenOnBridge(): Promise<void>;
  /** `dns.status`: what listens, the records, the resolved routing, the upstreams and recipes. */
  status(): Promise<DnsStatus>;
}

/**
 * banger's DNS for NAME.vm: the server on dns_listen now (its close pushed onto `undo`),
 * and on the bridge address once the bridge exists (at once if it already does). Guests
 * resolve through the bridge address; with systemd-resolved, the host's own lookups of
 * NAME.vm are routed there too.
 */
export async function startDns(deps: DnsWiringDeps, ctx: OpCtx, undo: CleanupStack): Promise<DnsWiring> {
  const { config, store, runner, privileged, log } = deps;
  const exclude = [config.bridge_ip, config.dns_listen.host];
  const dns = new VmDnsServer({
    lookup: (name) => store.vms.runningIpByName(name),
    upstreams: () => readUpstreams(exclude),
    runner,
    log,
  });
  await dns.listen(config.dns_listen.host, config.dns_listen.port);
  undo.push('close DNS', () => dns.close());
  let resolvedDetail = resolvedPresent()
    ? 'not routed yet (no VM has started since the daemon did)'
    : 'systemd-resolved is not running on this host';
  const listenOnBridge = async () => {
    try {
      await dns.listen(config.bridge_ip, 53);
    } catch (e) {
      log.warn('guests cannot use banger DNS on the bridge', {
        error: (e as Error).message,
        hint: (e as BangerError).hint,
      });
      return;
    }
    if (!resolvedPresent()) return;
    try {
      await privileged.routeDnsDomain({}, ctx);
      resolvedDetail = `~vm routed to ${config.bridge_ip} on ${config.bridge_name}`;
    } catch (e) {
      resolvedDetail = `routing ~vm failed: ${(e as Error).message}`;
      log.warn('could not route .vm through systemd-resolved', { error: (e as Error).message });
    }
  };
  const status = async (): Promise<DnsStatus> => {
    const present = resolvedPresent();
    let routed = false;
    if (present) {
      const r = await runner.run(['resolvectl', 'domain', config.bridge_name], { allowFailure: true });
      routed = r.exitCode === 0 && routesVmDomain(r.stdout);
    }
    return {
      listening: dns.listening(),
      records: store.vms
        .list()
        .filter((v) => v.state === 'running' && v.guestIp)
        .map((v) => ({ name: v.dnsName, ip: v.guestIp! })),
      resolved: { present, routed, detail: resolvedDetail },
      upstreams: readUpstreams(exclude),
      recipes: dnsRecipes({
        listenHost: config.dns_listen.host,
        listenPort: config.dns_listen.port,
        bridge: config.bridge_name,
        bridgeIp: config.bridge_ip,
      }),
    };
  };
  if (existsSync(`/sys/class/net/${config.bridge_name}`)) await listenOnBridge();
  return { listenOnBridge, status };
}
