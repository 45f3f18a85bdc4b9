import { existsSync } from 'node:fs';

/**
 * The host side of `.vm` resolution (docs/howto/networking.md): with systemd-resolved, the root helper routes
 * `~vm` to the daemon on the bridge link; other hosts get recipes to do it themselves.
 */

/** systemd-resolved runs when its runtime directory holds its resolv.conf. */
export function resolvedPresent(runDir = '/run/systemd/resolve'): boolean {
  return existsSync(`${runDir}/resolv.conf`) || existsSync(`${runDir}/io.systemd.Resolve`);
}

/** True when `resolvectl domain LINK` output routes ~vm on that link. */
export function routesVmDomain(resolvectlDomainOutput: string, domain = 'vm'): boolean {
  return resolvectlDomainOutput.split(/\s+/).includes(`~${domain}`);
}

/** The recipes `banger dns status` prints when banger cannot route `.vm` itself. */
export function dnsRecipes(o: { listenHost: string; listenPort: number; bridge: string; bridgeIp: string }): string {
  return [
    `Check: dig @${o.listenHost} -p ${o.listenPort} NAME.vm`,
    '',
    'dnsmasq (or NetworkManager with dns=dnsmasq):',
    `  echo 'server=/vm/${o.listenHost}#${o.listenPort}' > /etc/dnsmasq.d/banger.conf   # NetworkManager: /etc/NetworkManager/dnsmasq.d/banger.conf`,
    '  systemctl restart dnsmasq        # or: nmcli general reload',
    '',
    'systemd-resolved (banger does this itself when resolved runs and the root helper is installed):',
    `  resolvectl dns ${o.bridge} ${o.bridgeIp}`,
    `  resolvectl domain ${o.bridge} '~vm'`,
    '',
    `/etc/resolv.conf cannot name a port: put "nameserver ${o.bridgeIp}" first only if you want every lookup to go`,
    'through banger (it forwards non-.vm names to the other resolvers), or use one of the above.',
    'For ssh alone, `banger ssh-config --install` is enough.',
    '',
  ].join('\n');
}
