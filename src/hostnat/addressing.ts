import { BangerError, vmTapName } from '../model/index.js';

/**
 * Guest addressing on the bridge network: the lowest free address (so a VM's address
 * is predictable and kept across stop/start, because it is stored), and a stable MAC
 * derived from the VM id.
 */
export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** Lowest address in the bridge's network that is not the network, broadcast, bridge or taken. */
export function allocateGuestIp(bridgeIp: string, prefix: number, taken: ReadonlySet<string>): string {
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  const network = (ipToInt(bridgeIp) & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  for (let n = network + 1; n < broadcast; n++) {
    const ip = intToIp(n);
    if (ip !== bridgeIp && !taken.has(ip)) return ip;
  }
  throw new BangerError('conflict', `no free address left in ${intToIp(network)}/${prefix}`, {
    hint: 'delete unused VMs (`banger vm prune`) or use a larger network (cidr in config)',
  });
}

/** 52:54 (locally administered, QEMU's range) followed by the four bytes of the VM id. */
export function macForVm(vmId: string): string {
  return `52:54:${vmId.match(/../g)!.join(':')}`;
}

export function tapNameForVm(vmId: string): string {
  return vmTapName(vmId);
}
