import {
  parsePrivParams,
  PRIV_METHOD_NAMES,
  type PinnedSettings,
  type PrivContext,
  type PrivilegedOps,
  type PrivMethod,
  type PrivParams,
  type PrivResult,
} from '../../src/privops/index.js';

/**
 * PrivilegedOps for unit tests: keeps taps, NAT rules and ip_forward in memory and records
 * every call, so tests check what the daemon asked of the host. Every call's parameters are
 * parsed against the declared surface (privops/surface.ts) first, as the helper does, so a
 * daemon asking for something the real helper would refuse fails here too. `failCreateTap`
 * makes createTap fail for the names it matches.
 */
export class FakePrivilegedOps implements PrivilegedOps {
  readonly calls: Array<{ op: PrivMethod; args: unknown }> = [];
  readonly taps = new Map<string, string | null>();
  readonly nat = new Map<string, { guestIp: string; uplink: string }>();
  ipForward = false;
  failCreateTap: (name: string) => boolean = () => false;

  constructor(
    readonly pinned: PinnedSettings = {
      ownerUid: 1000,
      ownerGid: 1000,
      bridgeName: 'br-fc',
      bridgeIp: '172.16.0.1',
      cidr: 24,
      dnsDomain: 'vm',
      jailBase: '/fake-root/jail',
    },
  ) {
    for (const m of PRIV_METHOD_NAMES) {
      const impl = this[m] as (p: unknown, ctx: PrivContext) => Promise<unknown>;
      (this as Record<PrivMethod, unknown>)[m] = (p: unknown, ctx: PrivContext) => {
        const parsed = parsePrivParams(m, p);
        this.calls.push({ op: m, args: parsed });
        return impl.call(this, parsed, ctx);
      };
    }
  }

  async settings(): Promise<PrivResult<'settings'>> {
    return this.pinned;
  }
  async ensureBridge(): Promise<null> {
    return null;
  }
  async createTap(p: PrivParams<'createTap'>): Promise<null> {
    if (this.failCreateTap(p.name)) throw new Error(`cannot create ${p.name}`);
    this.taps.set(p.name, this.pinned.bridgeName);
    return null;
  }
  async deleteTap(p: PrivParams<'deleteTap'>): Promise<null> {
    this.taps.delete(p.name);
    return null;
  }
  async listTaps(): Promise<PrivResult<'listTaps'>> {
    return [...this.taps].map(([name, master]) => ({ name, master }));
  }
  async setIpForward(p: PrivParams<'setIpForward'>, _ctx?: PrivContext): Promise<{ previous: boolean }> {
    const previous = this.ipForward;
    this.ipForward = p.enabled;
    return { previous };
  }
  async applyNat(p: PrivParams<'applyNat'>): Promise<null> {
    this.nat.set(p.vmId, { guestIp: p.guestIp, uplink: p.uplink });
    return null;
  }
  async removeNat(p: PrivParams<'removeNat'>): Promise<null> {
    this.nat.delete(p.vmId);
    return null;
  }
  async signalProcess(): Promise<null> {
    return null;
  }
  async buildImage(p: PrivParams<'buildImage'>): Promise<PrivResult<'buildImage'>> {
    return {
      rootfsPath: `/fake-state/images/${p.name}/rootfs.ext4`,
      workSeedPath: `/fake-state/images/${p.name}/work-seed.ext4`,
      sizeBytes: 1,
    };
  }
  async prepareJail(p: PrivParams<'prepareJail'>): Promise<{ chrootRoot: string }> {
    return { chrootRoot: `${this.pinned.jailBase}/firecracker/${p.vmId}/root` };
  }
  async startJailer(): Promise<{ pid: number }> {
    throw new Error('the fake starts no jailer');
  }
  async removeJail(): Promise<null> {
    return null;
  }
  async attachRootSnapshot(p: PrivParams<'attachRootSnapshot'>): Promise<{ device: string }> {
    return { device: `/dev/mapper/fc-rootfs-${p.vmId}` };
  }
  async detachRootSnapshot(): Promise<null> {
    return null;
  }
  async routeDnsDomain(): Promise<null> {
    return null;
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }
}
