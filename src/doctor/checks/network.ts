import { type Check, fail, pass, present, warn } from './verdict.js';

/** The guests' network: tap devices, the bridge, NAT rules and their uplink. In report order. */
export const NETWORK_CHECKS: readonly Check[] = [
  {
    name: 'tun',
    hint: '`modprobe tun`',
    evaluate: (f) => (f.tun ? pass('/dev/net/tun present') : fail('/dev/net/tun is missing: VMs cannot get a network')),
  },
  {
    name: 'bridge',
    hint: '`modprobe bridge`; it usually loads on demand',
    evaluate: ({ bridge: b }) =>
      b.exists
        ? pass(`bridge ${b.name} exists`)
        : b.kernelSupport
          ? pass(`bridge support present; ${b.name} is created when the first VM starts`)
          : warn('bridge support not detected (module not loaded)'),
  },
  {
    name: 'nftables',
    hint: 'apt-get install nftables',
    evaluate: (f) =>
      present(f.nft)
        ? pass(`${f.nft.version ?? 'nft'} (NAT rules go in banger's own table)`)
        : present(f.iptablesNft)
          ? warn('nft not found; NAT falls back to iptables-nft')
          : warn('neither nft nor iptables-nft found: --nat will not work'),
  },
  {
    name: 'nat-uplink',
    hint: 'set nat_uplink in the config to the interface that reaches the outside',
    evaluate: ({ natUplink: n }) =>
      n.configured
        ? pass(`--nat masquerades out of ${n.configured} (nat_uplink)`)
        : n.detected
          ? pass(`--nat masquerades out of ${n.detected} (the default route)`)
          : warn('no default route: --nat has no uplink to masquerade out of'),
  },
];
