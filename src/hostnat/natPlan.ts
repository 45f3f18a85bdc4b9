/**
 * NAT for VMs started with --nat (docs/howto/networking.md), planned as data: which privileged steps to take
 * when a NAT VM comes up or goes down, given what the host looks like now. The daemon
 * (daemon/natController.ts) carries the steps out through PrivilegedOps.
 *
 * IP forwarding: switched on with the first NAT VM when it was off; switched back off only
 * when the last NAT VM goes away *and* banger was the one that switched it on. It is never
 * switched off while any NAT VM is up, and a host that forwarded before banger keeps doing so.
 */
export type NatStep =
  | { op: 'applyNat'; vmId: string; guestIp: string; bridge: string; uplink: string }
  | { op: 'removeNat'; vmId: string }
  | { op: 'setIpForward'; enabled: boolean };

export interface NatHostState {
  /** Other VMs whose NAT is up now (the VM being planned excluded). */
  othersUp: number;
  /** net.ipv4.ip_forward now. */
  ipForward: boolean;
  /** banger switched forwarding on (and so may switch it off again). */
  forwardingIsOurs: boolean;
}

export interface NatPlan {
  steps: NatStep[];
  /** The new value of NatHostState.forwardingIsOurs, to remember. */
  forwardingIsOurs: boolean;
}

/** A VM with NAT starts (or has NAT switched on while running). Rules first, then forwarding. */
export function planNatUp(
  vm: { id: string; guestIp: string },
  bridge: string,
  uplink: string,
  s: NatHostState,
): NatPlan {
  const steps: NatStep[] = [{ op: 'applyNat', vmId: vm.id, guestIp: vm.guestIp, bridge, uplink }];
  if (!s.ipForward) steps.push({ op: 'setIpForward', enabled: true });
  return { steps, forwardingIsOurs: s.forwardingIsOurs || !s.ipForward };
}

/** A VM's NAT goes away (stop, delete, or `vm set --no-nat`). Forwarding off last, and only if ours and unneeded. */
export function planNatDown(vmId: string, s: NatHostState): NatPlan {
  const steps: NatStep[] = [{ op: 'removeNat', vmId }];
  if (s.othersUp === 0 && s.forwardingIsOurs && s.ipForward) {
    steps.push({ op: 'setIpForward', enabled: false });
    return { steps, forwardingIsOurs: false };
  }
  return { steps, forwardingIsOurs: s.forwardingIsOurs };
}

/** The uplink from `ip -j route show default`: the device of the default route with the lowest metric. */
export function uplinkFromRoutes(json: string): string | null {
  let routes: Array<{ dst?: string; dev?: string; metric?: number }>;
  try {
    routes = JSON.parse(json) as typeof routes;
  } catch {
    return null;
  }
  if (!Array.isArray(routes)) return null;
  const defaults = routes
    .filter((r) => r.dst === 'default' && typeof r.dev === 'string')
    .sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
  return defaults[0]?.dev ?? null;
}
