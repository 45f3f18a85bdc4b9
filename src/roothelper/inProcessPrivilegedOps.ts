import { closeSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ipToInt } from '../hostnat/index.js';
import type { Logger } from '../log/index.js';
import { BangerError, isBridgeName, isTapName } from '../model/index.js';
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
import { RootSnapshotOps } from './rootSnapshotOps.js';
import { DNS_DOMAIN, jailBaseOf, openOwnerState, pinnedSettings, type HelperScope } from './scope.js';
import {
  bridgeRuleComment,
  hasVmRules,
  natAddScript,
  natDeleteScript,
  ruleHandles,
  vmRuleComment,
  vmRuleHandles,
} from './nftNat.js';
import {
  IPT_FORWARD_CHAIN,
  IPT_NAT_CHAIN,
  iptablesAddArgv,
  iptablesDeleteArgv,
  iptablesHasVmRules,
  iptablesSetup,
  iptablesTeardown,
} from './iptablesNat.js';
import { validateNftTable } from './validate.js';
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
  natBackend?: { kind: 'nft' } | { kind: 'iptables'; bin: string };
  /** The jailer and firecracker binaries (root's choice). Default: found on PATH. */
  jail?: JailBins;
  /** Whether device-mapper works here. Default: /proc/misc. */
  deviceMapper?: () => boolean;
}

/** jailer and firecracker as found on PATH (jailer defaults to /usr/bin/jailer, its usual place). */
export function detectJailBins(): JailBins {
  return { jailerBin: which('jailer') ?? '/usr/bin/jailer', firecrackerBin: which('firecracker') };
}

/** nft when present, else iptables-nft (or iptables), else nft (which then fails with a clear error). */
export function detectNatBackend(): { kind: 'nft' } | { kind: 'iptables'; bin: string } {
  if (which('nft')) return { kind: 'nft' };
  const ipt = which('iptables-nft') ?? which('iptables');
  return ipt ? { kind: 'iptables', bin: ipt } : { kind: 'nft' };
}

/** Whether `ip` is a guest address of the pinned subnet: inside it, not its network, broadcast or the bridge itself. */
export function isGuestAddress(ip: string, net: { bridgeIp: string; cidr: number }): boolean {
  const mask = net.cidr === 0 ? 0 : (0xffffffff << (32 - net.cidr)) >>> 0;
  const a = ipToInt(ip);
  const b = ipToInt(net.bridgeIp);
  const host = (a & ~mask) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0 && a !== b && host !== 0 && host !== ~mask >>> 0;
}

const SIGNAL_NUMBERS = { TERM: 15, KILL: 9, INT: 2, HUP: 1, CONT: 18 } as const;

/**
 * PrivilegedOps carried out in this process: by the root helper for the owner's daemon, or
 * by a daemon that runs as root in user mode. Parameters arrive already parsed against the
 * declared surface (privops/validatingOps); everything host-wide comes from the scope.
 */
export class InProcessPrivilegedOps implements PrivilegedOps {
  private readonly nftTable: string;
  private readonly ipForwardPath: string;
  private readonly natBackend: { kind: 'nft' } | { kind: 'iptables'; bin: string };
  private readonly jailBins: JailBins;
  private readonly jails: JailOps;
  private readonly snapshots: RootSnapshotOps;
  private readonly images: ImageBuildOps;

  constructor(private readonly o: InProcessPrivilegedOpsOptions) {
    const net = o.scope.network;
    if (!isBridgeName(net.bridgeName))
      throw new BangerError(
        'config_invalid',
        `the pinned bridge name "${net.bridgeName}" is not banger's (br-fc or br-fc-<suffix>)`,
      );
    this.nftTable = validateNftTable(o.nftTable ?? 'banger');
    this.jailBins = o.jail ?? detectJailBins();
    this.jails = new JailOps({ runner: o.runner, scope: o.scope, bins: this.jailBins });
    this.snapshots = new RootSnapshotOps({
      runner: o.runner,
      scope: o.scope,
      ...(o.deviceMapper && { deviceMapper: o.deviceMapper }),
    });
    this.images = new ImageBuildOps({ runner: o.runner, scope: o.scope });
    this.natBackend = o.natBackend ?? detectNatBackend();
    this.ipForwardPath = o.ipForwardPath ?? '/proc/sys/net/ipv4/ip_forward';
  }

  private logCall(ctx: PrivContext, op: string, args: Record<string, unknown>): void {
    this.o.log.info('privileged op', { op_id: ctx.opId, op, ...args });
  }

  private get net() {
    return this.o.scope.network;
  }

  private async linkExists(name: string): Promise<boolean> {
    const r = await this.o.runner.run(['ip', '-o', 'link', 'show', 'dev', name], { allowFailure: true });
    return r.exitCode === 0;
  }

  async settings(_p: PrivParams<'settings'>, _ctx: PrivContext): Promise<PrivResult<'settings'>> {
    return pinnedSettings(this.o.scope);
  }

  async ensureBridge(_p: PrivParams<'ensureBridge'>, ctx: PrivContext): Promise<null> {
    const { bridgeName: name, bridgeIp, cidr } = this.net;
    this.logCall(ctx, 'ensure_bridge', { name, cidr: `${bridgeIp}/${cidr}` });
    if (!(await this.linkExists(name))) await this.o.runner.run(['ip', 'link', 'add', 'name', name, 'type', 'bridge']);
    await this.o.runner.run(['ip', 'addr', 'replace', `${bridgeIp}/${cidr}`, 'dev', name]);
    await this.o.runner.run(['ip', 'link', 'set', 'dev', name, 'up']);
    return null;
  }

  async createTap(p: PrivParams<'createTap'>, ctx: PrivContext): Promise<null> {
    const { name } = p;
    const bridge = this.net.bridgeName;
    const { ownerUid: uid, ownerGid: gid } = this.o.scope;
    this.logCall(ctx, 'create_tap', { name, bridge, uid, gid });
    if (!(await this.linkExists(bridge)))
      throw new BangerError('not_found', `bridge ${bridge} does not exist`, {
        hint: 'it is created when the first VM starts',
      });
    const existing = await this.o.runner.run(['ip', '-o', 'link', 'show', 'dev', name], { allowFailure: true });
    if (existing.exitCode !== 0) {
      await this.o.runner.run([
        'ip',
        'tuntap',
        'add',
        'dev',
        name,
        'mode',
        'tap',
        'user',
        String(uid),
        'group',
        String(gid),
      ]);
    } else {
      // Never take over a tap another bridge (another banger daemon) owns.
      const master = parseTapList(existing.stdout)[0]?.master ?? null;
      if (master && master !== bridge)
        throw new BangerError('conflict', `tap ${name} already exists on bridge ${master}`, {
          hint: 'another banger daemon uses it; pick another name',
        });
    }
    await this.o.runner.run(['ip', 'link', 'set', 'dev', name, 'master', bridge]);
    await this.o.runner.run(['ip', 'link', 'set', 'dev', name, 'up']);
    return null;
  }

  async deleteTap(p: PrivParams<'deleteTap'>, ctx: PrivContext): Promise<null> {
    this.logCall(ctx, 'delete_tap', { name: p.name });
    const existing = await this.o.runner.run(['ip', '-o', 'link', 'show', 'dev', p.name], { allowFailure: true });
    if (existing.exitCode !== 0) return null;
    // Another install's (another bridge's) tap is not this owner's to delete.
    const master = parseTapList(existing.stdout)[0]?.master ?? null;
    if (master && master !== this.net.bridgeName)
      throw new BangerError(
        'conflict',
        `tap ${p.name} is attached to bridge ${master}, not to this install's ${this.net.bridgeName}; refusing to delete it`,
      );
    await this.o.runner.run(['ip', 'link', 'del', 'dev', p.name]);
    return null;
  }

  async listTaps(_p: PrivParams<'listTaps'>, ctx: PrivContext): Promise<TapInfo[]> {
    this.logCall(ctx, 'list_taps', {});
    const r = await this.o.runner.run(['ip', '-o', 'link', 'show']);
    return parseTapList(r.stdout);
  }

  async setIpForward(p: PrivParams<'setIpForward'>, ctx: PrivContext): Promise<{ previous: boolean }> {
    this.logCall(ctx, 'set_ip_forward', { enabled: p.enabled });
    const previous = readFileSync(this.ipForwardPath, 'utf8').trim() === '1';
    if (previous !== p.enabled) writeFileSync(this.ipForwardPath, p.enabled ? '1\n' : '0\n');
    return { previous };
  }

  async applyNat(p: PrivParams<'applyNat'>, ctx: PrivContext): Promise<null> {
    if (!isGuestAddress(p.guestIp, this.net)) {
      throw new BangerError(
        'unauthorized',
        `guest address ${p.guestIp} is not a guest address of the install's subnet ${this.net.bridgeIp}/${this.net.cidr}; refusing to NAT it`,
      );
    }
    if (!existsSync(`/sys/class/net/${p.uplink}`))
      throw new BangerError('bad_request', `uplink interface "${p.uplink}" does not exist`);
    const req = {
      table: this.nftTable,
      vmId: p.vmId,
      guestIp: p.guestIp,
      bridge: this.net.bridgeName,
      uplink: p.uplink,
    };
    this.logCall(ctx, 'apply_nat', { ...req, backend: this.natBackend.kind });
    // Remove-then-add keeps it idempotent across stop/start.
    if (this.natBackend.kind === 'iptables') {
      const bin = this.natBackend.bin;
      for (const step of iptablesSetup(bin)) {
        if ((await this.o.runner.run(step.check, { allowFailure: true })).exitCode !== 0)
          await this.o.runner.run(step.apply);
      }
      await this.removeIptablesRules(bin, vmRuleComment(req.vmId));
      const forward = await this.o.runner.run([bin, '-t', 'filter', '-S', IPT_FORWARD_CHAIN]);
      const isolated = forward.stdout.split(/\s+/).includes(bridgeRuleComment(req.bridge));
      for (const argv of iptablesAddArgv(bin, req, !isolated)) await this.o.runner.run(argv);
      return null;
    }
    const listing = await this.removeVmRules(req.vmId);
    const isolated = ruleHandles(listing ?? '', bridgeRuleComment(req.bridge)).length > 0;
    await this.o.runner.run(['nft', '-f', '-'], { stdin: natAddScript(req, !isolated) });
    return null;
  }

  async removeNat(p: PrivParams<'removeNat'>, ctx: PrivContext): Promise<null> {
    const { vmId } = p;
    this.logCall(ctx, 'remove_nat', { vmId, backend: this.natBackend.kind });
    if (this.natBackend.kind === 'iptables') {
      const bin = this.natBackend.bin;
      await this.removeIptablesRules(bin, vmRuleComment(vmId));
      const nat = await this.o.runner.run([bin, '-t', 'nat', '-S', IPT_NAT_CHAIN], { allowFailure: true });
      if (nat.exitCode === 0 && !iptablesHasVmRules(nat.stdout)) {
        for (const argv of iptablesTeardown(bin)) await this.o.runner.run(argv, { allowFailure: true });
      }
      return null;
    }
    await this.removeVmRules(vmId);
    // The last VM's rules gone: the table (chains, isolation rules) goes too.
    const after = await this.o.runner.run(['nft', 'list', 'table', 'ip', this.nftTable], { allowFailure: true });
    if (after.exitCode === 0 && !hasVmRules(after.stdout))
      await this.o.runner.run(['nft', 'delete', 'table', 'ip', this.nftTable], { allowFailure: true });
    return null;
  }

  /** Deletes the VM's rules; returns the table listing from before, or null when there is no table. */
  private async removeVmRules(vmId: string): Promise<string | null> {
    const listing = await this.o.runner.run(['nft', '-a', 'list', 'table', 'ip', this.nftTable], {
      allowFailure: true,
    });
    if (listing.exitCode !== 0) return null; // no table yet: nothing to remove
    const handles = vmRuleHandles(listing.stdout, vmId);
    if (handles.length > 0)
      await this.o.runner.run(['nft', '-f', '-'], { stdin: natDeleteScript(this.nftTable, handles) });
    return listing.stdout;
  }

  private async removeIptablesRules(bin: string, comment: string): Promise<void> {
    for (const [table, chain] of [
      ['nat', IPT_NAT_CHAIN],
      ['filter', IPT_FORWARD_CHAIN],
    ] as const) {
      const listing = await this.o.runner.run([bin, '-t', table, '-S', chain], { allowFailure: true });
      if (listing.exitCode !== 0) continue;
      for (const argv of iptablesDeleteArgv(bin, table, listing.stdout, comment)) await this.o.runner.run(argv);
    }
  }

  async buildImage(p: PrivParams<'buildImage'>, ctx: PrivContext): Promise<PrivResult<'buildImage'>> {
    this.logCall(ctx, 'build_image', { name: p.name, owner_uid: this.o.scope.ownerUid });
    return this.images.build(p);
  }

  async routeDnsDomain(_p: PrivParams<'routeDnsDomain'>, ctx: PrivContext): Promise<null> {
    const { bridgeName: link, bridgeIp: server } = this.net;
    this.logCall(ctx, 'route_dns_domain', { link, server, domain: DNS_DOMAIN });
    for (const argv of resolvedRoutingArgv(link, server, DNS_DOMAIN)) await this.o.runner.run(argv);
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

/** The resolvectl calls that send ~DOMAIN queries to SERVER on LINK (systemd-resolved). */
export function resolvedRoutingArgv(link: string, server: string, domain: string): string[][] {
  return [
    ['resolvectl', 'dns', link, server],
    ['resolvectl', 'domain', link, `~${domain}`],
    // .vm answers are banger's own: no DNSSEC validation, and never the default route.
    ['resolvectl', 'dnssec', link, 'no'],
    ['resolvectl', 'default-route', link, 'no'],
  ];
}

/** banger taps (tap-fc-*, tap-pool-*) and their bridge, from `ip -o link show`. */
export function parseTapList(ipLinkOutput: string): TapInfo[] {
  const out: TapInfo[] = [];
  for (const line of ipLinkOutput.split('\n')) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1];
    if (!name || !isTapName(name)) continue;
    out.push({ name, master: / master (\S+)/.exec(line)?.[1] ?? null });
  }
  return out;
}
