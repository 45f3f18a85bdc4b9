import { closeSync } from 'node:fs';
import type { Logger } from '../log/index.js';
import { BangerError } from '../model/index.js';
import {
  opsFrom,
  type PrivContext,
  type PrivilegedOps,
  type PrivParams,
  type PrivResult,
  type TapInfo,
} from '../privops/index.js';
import { hostcalls, processIdentity, which, type HostRunner } from '../system/index.js';
import { ImageBuildOps } from './imageBuildOps.js';
import { JailOps, type JailBins } from './jailOps.js';
import { detectNatBackend, NetworkOps, type NatBackend } from './networkOps.js';
import { RootSnapshotOps } from './rootSnapshotOps.js';
import { DNS_DOMAIN, jailBaseOf, openOwnerState, pinnedSettings, type HelperScope } from './scope.js';
import { vmmVmId } from './vmmIdentity.js';

export interface InProcessPrivilegedOpsOptions {
  runner: HostRunner;
  log: Logger;
  /** What root may touch and the values it pins (see HelperScope). */
  scope: HelperScope;
  /** banger's nft table; tests use banger_<suffix>. */
  nftTable?: string;
  /** Where net.ipv4.ip_forward lives; tests never change it. */
  ipForwardPath?: string;
  /** How NAT rules are written: nft, or iptables-nft where nft is missing. Default: detected. */
  natBackend?: NatBackend;
  /** The jailer and firecracker binaries (root's choice). Default: found on PATH. */
  jail?: JailBins;
  /** Whether device-mapper works here. Default: /proc/misc. */
  deviceMapper?: () => boolean;
}

/** jailer and firecracker as found on PATH (jailer defaults to /usr/bin/jailer, its usual place). */
export function detectJailBins(): JailBins {
  return { jailerBin: which('jailer') ?? '/usr/bin/jailer', firecrackerBin: which('firecracker') };
}

const SIGNAL_NUMBERS = { TERM: 15, KILL: 9, INT: 2, HUP: 1, CONT: 18 } as const;

/**
 * PrivilegedOps carried out in this process: by the root helper for the owner's daemon, or
 * by a daemon that runs as root in user mode. Parameters arrive already parsed against the
 * declared surface (privops/validatingOps); everything host-wide comes from the scope.
 */
export class InProcessPrivilegedOps implements PrivilegedOps {
  private readonly jailBins: JailBins;
  private readonly network: NetworkOps;
  private readonly jails: JailOps;
  private readonly snapshots: RootSnapshotOps;
  private readonly images: ImageBuildOps;

  constructor(private readonly o: InProcessPrivilegedOpsOptions) {
    this.network = new NetworkOps({
      runner: o.runner,
      scope: o.scope,
      nftTable: o.nftTable ?? 'banger',
      ipForwardPath: o.ipForwardPath ?? '/proc/sys/net/ipv4/ip_forward',
      natBackend: o.natBackend ?? detectNatBackend(),
    });
    this.jailBins = o.jail ?? detectJailBins();
    this.jails = new JailOps({ runner: o.runner, scope: o.scope, bins: this.jailBins });
    this.snapshots = new RootSnapshotOps({
      runner: o.runner,
      scope: o.scope,
      ...(o.deviceMapper && { deviceMapper: o.deviceMapper }),
    });
    this.images = new ImageBuildOps({ runner: o.runner, scope: o.scope });
  }

  private logCall(ctx: PrivContext, op: string, args: Record<string, unknown>): void {
    this.o.log.info('privileged op', { op_id: ctx.opId, op, ...args });
  }

  private get net() {
    return this.o.scope.network;
  }

  async settings(_p: PrivParams<'settings'>, _ctx: PrivContext): Promise<PrivResult<'settings'>> {
    return pinnedSettings(this.o.scope);
  }

  async ensureBridge(_p: PrivParams<'ensureBridge'>, ctx: PrivContext): Promise<null> {
    const { bridgeName: name, bridgeIp, cidr } = this.net;
    this.logCall(ctx, 'ensure_bridge', { name, cidr: `${bridgeIp}/${cidr}` });
    await this.network.ensureBridge();
    return null;
  }

  async createTap(p: PrivParams<'createTap'>, ctx: PrivContext): Promise<null> {
    const { ownerUid: uid, ownerGid: gid } = this.o.scope;
    this.logCall(ctx, 'create_tap', { name: p.name, bridge: this.net.bridgeName, uid, gid });
    await this.network.createTap(p.name);
    return null;
  }

  async deleteTap(p: PrivParams<'deleteTap'>, ctx: PrivContext): Promise<null> {
    this.logCall(ctx, 'delete_tap', { name: p.name });
    await this.network.deleteTap(p.name);
    return null;
  }

  async listTaps(_p: PrivParams<'listTaps'>, ctx: PrivContext): Promise<TapInfo[]> {
    this.logCall(ctx, 'list_taps', {});
    return this.network.listTaps();
  }

  async setIpForward(p: PrivParams<'setIpForward'>, ctx: PrivContext): Promise<{ previous: boolean }> {
    this.logCall(ctx, 'set_ip_forward', { enabled: p.enabled });
    return this.network.setIpForward(p.enabled);
  }

  async applyNat(p: PrivParams<'applyNat'>, ctx: PrivContext): Promise<null> {
    const req = this.network.natRequest(p);
    this.logCall(ctx, 'apply_nat', { ...req, backend: this.network.natBackendKind });
    await this.network.applyNat(req);
    return null;
  }

  async removeNat(p: PrivParams<'removeNat'>, ctx: PrivContext): Promise<null> {
    this.logCall(ctx, 'remove_nat', { vmId: p.vmId, backend: this.network.natBackendKind });
    await this.network.removeNat(p.vmId);
    return null;
  }

  async buildImage(p: PrivParams<'buildImage'>, ctx: PrivContext): Promise<PrivResult<'buildImage'>> {
    this.logCall(ctx, 'build_image', { name: p.name, owner_uid: this.o.scope.ownerUid });
    return this.images.build(p);
  }

  async routeDnsDomain(_p: PrivParams<'routeDnsDomain'>, ctx: PrivContext): Promise<null> {
    const { bridgeName: link, bridgeIp: server } = this.net;
    this.logCall(ctx, 'route_dns_domain', { link, server, domain: DNS_DOMAIN });
    await this.network.routeDnsDomain();
    return null;
  }

  async prepareJail(p: PrivParams<'prepareJail'>, ctx: PrivContext): Promise<{ chrootRoot: string }> {
    this.logCall(ctx, 'prepare_jail', {
      vmId: p.vmId,
      files: p.files.map((f) => f.name),
      devices: p.devices.map((d) => d.name),
    });
    return this.jails.prepare(p);
  }

  async startJailer(p: PrivParams<'startJailer'>, ctx: PrivContext): Promise<{ pid: number }> {
    this.logCall(ctx, 'start_jailer', { vmId: p.vmId, uid: this.o.scope.ownerUid });
    return this.jails.start(p);
  }

  async removeJail(p: PrivParams<'removeJail'>, ctx: PrivContext): Promise<null> {
    this.logCall(ctx, 'remove_jail', { vmId: p.vmId });
    await this.jails.remove(p);
    return null;
  }

  async attachRootSnapshot(p: PrivParams<'attachRootSnapshot'>, ctx: PrivContext): Promise<{ device: string }> {
    this.logCall(ctx, 'attach_root_snapshot', { vmId: p.vmId, image: p.image });
    return this.snapshots.attach(p);
  }

  async detachRootSnapshot(p: PrivParams<'detachRootSnapshot'>, ctx: PrivContext): Promise<null> {
    this.logCall(ctx, 'detach_root_snapshot', { vmId: p.vmId });
    await this.snapshots.detach(p);
    return null;
  }

  /**
   * Signals a VMM without a pid-reuse race: a pidfd is opened first, the process behind the
   * pid is then checked (running as the owner, a banger VMM of a VM that exists), and the
   * signal goes through the pidfd, which still means the process that was checked or, if
   * that one has died, no process at all.
   */
  async signalProcess(p: PrivParams<'signalProcess'>, ctx: PrivContext): Promise<null> {
    const { pid, signal } = p;
    const { scope } = this.o;
    let pidfd: number;
    try {
      pidfd = hostcalls().pidfdOpen(pid);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH')
        throw new BangerError('not_found', `process ${pid} does not exist`);
      throw e;
    }
    try {
      const who = processIdentity(pid);
      if (!who) throw new BangerError('not_found', `process ${pid} does not exist`);
      const vmId = vmmVmId(who, {
        jailBase: jailBaseOf(scope),
        firecrackerBin: this.jailBins.firecrackerBin,
        uid: scope.ownerUid,
      });
      if (vmId === null)
        throw new BangerError(
          'unauthorized',
          `process ${pid} is not a banger VMM running as the install's owner (uid ${scope.ownerUid}); refusing to signal it`,
        );
      const exists = openOwnerState(scope).use((owner) => {
        try {
          owner.openDir(`vms/${vmId}`).close();
          return true;
        } catch {
          return false;
        }
      });
      if (!exists)
        throw new BangerError(
          'unauthorized',
          `process ${pid} names VM ${vmId}, which does not exist; refusing to signal it`,
        );
      this.logCall(ctx, 'signal_process', { pid, signal, vmId });
      try {
        hostcalls().pidfdSendSignal(pidfd, SIGNAL_NUMBERS[signal]);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') throw new BangerError('not_found', `process ${pid} is gone`);
        throw e;
      }
      return null;
    } finally {
      closeFdQuietly(pidfd);
    }
  }
}

function closeFdQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* closed */
  }
}

/** A daemon that is not root and has no root helper: every privileged operation is refused, saying what to do. */
export class UnavailablePrivilegedOps {
  constructor() {
    Object.assign(
      this,
      opsFrom(async () => {
        throw new BangerError(
          'unauthorized',
          'this needs root: the daemon is not running as root and no root helper is installed',
          {
            hint: 'run `sudo banger system install --owner "$USER"`, or run banger as root',
          },
        );
      }),
    );
  }
}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging: the methods are assigned in the constructor
export interface UnavailablePrivilegedOps extends PrivilegedOps {}
