import type { AllowedSignal, PrivContext, PrivilegedOps, TapInfo } from '../../src/roothelper/index.js';

/**
 * PrivilegedOps for unit tests: keeps taps, NAT rules and ip_forward in memory and records
 * every call, so tests check what the daemon asked of the host. `failCreateTap` makes
 * createTap fail for the names it matches.
 */
export class FakePrivilegedOps implements PrivilegedOps {
  readonly calls: Array<{ op: string; args: unknown }> = [];
  readonly taps = new Map<string, string | null>();
  readonly nat = new Map<string, { guestIp: string; bridge: string; uplink: string }>();
  ipForward = false;
  failCreateTap: (name: string) => boolean = () => false;

  private record(op: string, args: unknown): void {
    this.calls.push({ op, args });
  }

  async ensureBridge(p: { name: string; address: string; prefix: number }, _ctx: PrivContext): Promise<void> { this.record('ensureBridge', p); }
  async createTap(p: { name: string; bridge: string; ownerUid: number; ownerGid: number }, _ctx: PrivContext): Promise<void> {
    this.record('createTap', p);
    if (this.failCreateTap(p.name)) throw new Error(`cannot create ${p.name}`);
    this.taps.set(p.name, p.bridge);
  }
  async deleteTap(p: { name: string }, _ctx: PrivContext): Promise<void> {
    this.record('deleteTap', p);
    this.taps.delete(p.name);
  }
  async listTaps(_ctx: PrivContext): Promise<TapInfo[]> {
    this.record('listTaps', {});
    return [...this.taps].map(([name, master]) => ({ name, master }));
  }
  async setIpForward(p: { enabled: boolean }, _ctx: PrivContext): Promise<{ previous: boolean }> {
    this.record('setIpForward', p);
    const previous = this.ipForward;
    this.ipForward = p.enabled;
    return { previous };
  }
  async applyNat(p: { vmId: string; guestIp: string; bridge: string; uplink: string }, _ctx: PrivContext): Promise<void> {
    this.record('applyNat', p);
    this.nat.set(p.vmId, { guestIp: p.guestIp, bridge: p.bridge, uplink: p.uplink });
  }
  async removeNat(p: { vmId: string }, _ctx: PrivContext): Promise<void> {
    this.record('removeNat', p);
    this.nat.delete(p.vmId);
  }
  async writeFileToImage(p: { image: string; path: string }, _ctx: PrivContext): Promise<void> { this.record('writeFileToImage', p); }
  async signalProcess(p: { pid: number; signal: AllowedSignal }, _ctx: PrivContext): Promise<void> { this.record('signalProcess', p); }
  async buildImage(p: { name: string; dest: string }, _ctx: PrivContext): Promise<{ rootfsPath: string; workSeedPath: string; sizeBytes: number }> {
    this.record('buildImage', p);
    return { rootfsPath: `${p.dest}/rootfs.ext4`, workSeedPath: `${p.dest}/work-seed.ext4`, sizeBytes: 1 };
  }
  async prepareJail(p: { vmId: string; chrootBase: string }, _ctx: PrivContext): Promise<{ chrootRoot: string }> {
    this.record('prepareJail', p);
    return { chrootRoot: `${p.chrootBase}/firecracker/${p.vmId}/root` };
  }
  async startJailer(p: { vmId: string }, _ctx: PrivContext): Promise<{ pid: number }> { this.record('startJailer', p); throw new Error('the fake starts no jailer'); }
  async removeJail(p: { vmId: string; chrootBase: string }, _ctx: PrivContext): Promise<void> { this.record('removeJail', p); }
  async attachRootSnapshot(p: { vmId: string }, _ctx: PrivContext): Promise<{ device: string }> {
    this.record('attachRootSnapshot', p);
    return { device: `/dev/mapper/fc-rootfs-${p.vmId}` };
  }
  async detachRootSnapshot(p: { vmId: string; cowFile: string }, _ctx: PrivContext): Promise<void> { this.record('detachRootSnapshot', p); }
  async routeDnsDomain(p: { link: string; server: string; domain: string }, _ctx: PrivContext): Promise<void> { this.record('routeDnsDomain', p); }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }
}
