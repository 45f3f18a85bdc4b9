import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { agentBinaryPath } from '../buildinfo/index.js';
import { buildImage, findImageEntry } from '../imagecat/index.js';
import { BangerError } from '../model/index.js';
import type { Logger } from '../log/index.js';
import { which, type HostRunner } from '../system/index.js';
import { writeExt4Files } from '../vmdisk/index.js';
import type { AllowedSignal, PrivContext, PrivilegedOps, TapInfo } from './privilegedOps.js';
import { JailOps, type JailBins, type JailParams, type PrepareJailParams } from './jailOps.js';
import { RootSnapshotOps } from './rootSnapshotOps.js';
import { bridgeRuleComment, hasVmRules, natAddScript, natDeleteScript, ruleHandles, vmRuleComment, vmRuleHandles } from './nftNat.js';
import { IPT_FORWARD_CHAIN, IPT_NAT_CHAIN, iptablesAddArgv, iptablesDeleteArgv, iptablesHasVmRules, iptablesSetup, iptablesTeardown } from './iptablesNat.js';
import {
  validateBridgeName, validateGuestPath, validateId, validateIPv4, validateMode, validateNftTable, validatePathUnder,
  validateDnsDomain, validatePrefix, validateSignal, validateTapName, validateUplink, validateVmId, validateVmmPid,
} from './validate.js';

export interface InProcessPrivilegedOpsOptions {
  runner: HostRunner;
  log: Logger;
  /** Directories whose files and VMM processes banger may touch: the state and runtime dirs. */
  roots: readonly string[];
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

/**
 * PrivilegedOps carried out in this process, for a daemon that runs as root in user
 * mode (SPEC 2). Same validation as the root helper.
 */
export class InProcessPrivilegedOps implements PrivilegedOps {
  private readonly nftTable: string;
  private readonly ipForwardPath: string;
  private readonly natBackend: { kind: 'nft' } | { kind: 'iptables'; bin: string };
  private readonly jails: JailOps;
  private readonly snapshots: RootSnapshotOps;

  constructor(private readonly o: InProcessPrivilegedOpsOptions) {
    this.nftTable = validateNftTable(o.nftTable ?? 'banger');
    this.jails = new JailOps({ runner: o.runner, roots: o.roots, bins: o.jail ?? detectJailBins() });
    this.snapshots = new RootSnapshotOps({ runner: o.runner, roots: o.roots, ...(o.deviceMapper && { deviceMapper: o.deviceMapper }) });
    this.natBackend = o.natBackend ?? detectNatBackend();
    this.ipForwardPath = o.ipForwardPath ?? '/proc/sys/net/ipv4/ip_forward';
  }

  private logCall(ctx: PrivContext, op: string, args: Record<string, unknown>): void {
    this.o.log.info('privileged op', { op_id: ctx.opId, op, ...args });
  }

  private async linkExists(name: string): Promise<boolean> {
    const r = await this.o.runner.run(['ip', '-o', 'link', 'show', 'dev', name], { allowFailure: true });
    return r.exitCode === 0;
  }

  async ensureBridge(p: { name: string; address: string; prefix: number }, ctx: PrivContext): Promise<void> {
    const name = validateBridgeName(p.name);
    const cidr = `${validateIPv4(p.address, 'bridge address')}/${validatePrefix(p.prefix)}`;
    this.logCall(ctx, 'ensure_bridge', { name, cidr });
    if (!(await this.linkExists(name))) await this.o.runner.run(['ip', 'link', 'add', 'name', name, 'type', 'bridge']);
    await this.o.runner.run(['ip', 'addr', 'replace', cidr, 'dev', name]);
    await this.o.runner.run(['ip', 'link', 'set', 'dev', name, 'up']);
  }

  async createTap(p: { name: string; bridge: string; ownerUid: number; ownerGid: number }, ctx: PrivContext): Promise<void> {
    const name = validateTapName(p.name);
    const bridge = validateBridgeName(p.bridge);
    const uid = validateId(p.ownerUid, 'uid');
    const gid = validateId(p.ownerGid, 'gid');
    this.logCall(ctx, 'create_tap', { name, bridge, uid, gid });
    if (!(await this.linkExists(bridge))) throw new BangerError('not_found', `bridge ${bridge} does not exist`, { hint: 'it is created when the first VM starts' });
    const existing = await this.o.runner.run(['ip', '-o', 'link', 'show', 'dev', name], { allowFailure: true });
    if (existing.exitCode !== 0) {
      await this.o.runner.run(['ip', 'tuntap', 'add', 'dev', name, 'mode', 'tap', 'user', String(uid), 'group', String(gid)]);
    } else {
      // Never take over a tap another bridge (another banger daemon) owns.
      const master = parseTapList(existing.stdout)[0]?.master ?? null;
      if (master && master !== bridge) throw new BangerError('conflict', `tap ${name} already exists on bridge ${master}`, { hint: 'another banger daemon uses it; pick another name' });
    }
    await this.o.runner.run(['ip', 'link', 'set', 'dev', name, 'master', bridge]);
    await this.o.runner.run(['ip', 'link', 'set', 'dev', name, 'up']);
  }

  async deleteTap(p: { name: string }, ctx: PrivContext): Promise<void> {
    const name = validateTapName(p.name);
    this.logCall(ctx, 'delete_tap', { name });
    if (await this.linkExists(name)) await this.o.runner.run(['ip', 'link', 'del', 'dev', name]);
  }

  async listTaps(ctx: PrivContext): Promise<TapInfo[]> {
    this.logCall(ctx, 'list_taps', {});
    const r = await this.o.runner.run(['ip', '-o', 'link', 'show']);
    return parseTapList(r.stdout);
  }

  async setIpForward(p: { enabled: boolean }, ctx: PrivContext): Promise<{ previous: boolean }> {
    if (typeof p.enabled !== 'boolean') throw new BangerError('bad_request', 'enabled must be true or false');
    this.logCall(ctx, 'set_ip_forward', { enabled: p.enabled });
    const previous = readFileSync(this.ipForwardPath, 'utf8').trim() === '1';
    if (previous !== p.enabled) writeFileSync(this.ipForwardPath, p.enabled ? '1\n' : '0\n');
    return { previous };
  }

  async applyNat(p: { vmId: string; guestIp: string; bridge: string; uplink: string }, ctx: PrivContext): Promise<void> {
    const req = {
      table: this.nftTable,
      vmId: validateVmId(p.vmId),
      guestIp: validateIPv4(p.guestIp, 'guest address'),
      bridge: validateBridgeName(p.bridge),
      uplink: validateUplink(p.uplink),
    };
    this.logCall(ctx, 'apply_nat', { ...req, backend: this.natBackend.kind });
    // Remove-then-add keeps it idempotent across stop/start.
    if (this.natBackend.kind === 'iptables') {
      const bin = this.natBackend.bin;
      for (const step of iptablesSetup(bin)) {
        if ((await this.o.runner.run(step.check, { allowFailure: true })).exitCode !== 0) await this.o.runner.run(step.apply);
      }
      await this.removeIptablesRules(bin, vmRuleComment(req.vmId));
      const forward = await this.o.runner.run([bin, '-t', 'filter', '-S', IPT_FORWARD_CHAIN]);
      const isolated = forward.stdout.split(/\s+/).includes(bridgeRuleComment(req.bridge));
      for (const argv of iptablesAddArgv(bin, req, !isolated)) await this.o.runner.run(argv);
      return;
    }
    const listing = await this.removeVmRules(req.vmId);
    const isolated = ruleHandles(listing ?? '', bridgeRuleComment(req.bridge)).length > 0;
    await this.o.runner.run(['nft', '-f', '-'], { stdin: natAddScript(req, !isolated) });
  }

  async removeNat(p: { vmId: string }, ctx: PrivContext): Promise<void> {
    const vmId = validateVmId(p.vmId);
    this.logCall(ctx, 'remove_nat', { vmId, backend: this.natBackend.kind });
    if (this.natBackend.kind === 'iptables') {
      const bin = this.natBackend.bin;
      await this.removeIptablesRules(bin, vmRuleComment(vmId));
      const nat = await this.o.runner.run([bin, '-t', 'nat', '-S', IPT_NAT_CHAIN], { allowFailure: true });
      if (nat.exitCode === 0 && !iptablesHasVmRules(nat.stdout)) {
        for (const argv of iptablesTeardown(bin)) await this.o.runner.run(argv, { allowFailure: true });
      }
      return;
    }
    await this.removeVmRules(vmId);
    // The last VM's rules gone: the table (chains, isolation rules) goes too.
    const after = await this.o.runner.run(['nft', 'list', 'table', 'ip', this.nftTable], { allowFailure: true });
    if (after.exitCode === 0 && !hasVmRules(after.stdout)) await this.o.runner.run(['nft', 'delete', 'table', 'ip', this.nftTable], { allowFailure: true });
  }

  /** Deletes the VM's rules; returns the table listing from before, or null when there is no table. */
  private async removeVmRules(vmId: string): Promise<string | null> {
    const listing = await this.o.runner.run(['nft', '-a', 'list', 'table', 'ip', this.nftTable], { allowFailure: true });
    if (listing.exitCode !== 0) return null; // no table yet: nothing to remove
    const handles = vmRuleHandles(listing.stdout, vmId);
    if (handles.length > 0) await this.o.runner.run(['nft', '-f', '-'], { stdin: natDeleteScript(this.nftTable, handles) });
    return listing.stdout;
  }

  private async removeIptablesRules(bin: string, comment: string): Promise<void> {
    for (const [table, chain] of [['nat', IPT_NAT_CHAIN], ['filter', IPT_FORWARD_CHAIN]] as const) {
      const listing = await this.o.runner.run([bin, '-t', table, '-S', chain], { allowFailure: true });
      if (listing.exitCode !== 0) continue;
      for (const argv of iptablesDeleteArgv(bin, table, listing.stdout, comment)) await this.o.runner.run(argv);
    }
  }

  async writeFileToImage(p: { image: string; path: string; content: string; mode: number; uid: number; gid: number }, ctx: PrivContext): Promise<void> {
    const image = validatePathUnder(p.image, this.o.roots, 'image');
    const path = validateGuestPath(p.path);
    const mode = validateMode(p.mode);
    const uid = validateId(p.uid, 'uid');
    const gid = validateId(p.gid, 'gid');
    if (typeof p.content !== 'string') throw new BangerError('bad_request', 'content must be a string');
    this.logCall(ctx, 'write_file_to_image', { image, path, mode: mode.toString(8), uid, gid, bytes: Buffer.byteLength(p.content) });
    await writeExt4Files(this.o.runner, image, [{ path, content: p.content, mode, uid, gid }]);
  }

  async buildImage(p: { name: string; dest: string; ownerUid: number; ownerGid: number }, ctx: PrivContext): Promise<{ rootfsPath: string; workSeedPath: string; sizeBytes: number }> {
    const entry = typeof p.name === 'string' ? findImageEntry(p.name) : undefined;
    if (!entry) throw new BangerError('bad_request', `"${String(p.name)}" is not a catalog image`);
    const parent = validatePathUnder(dirname(p.dest), this.o.roots, 'image directory');
    const dest = join(parent, basename(p.dest));
    if (dest !== p.dest || !/^[a-z0-9][a-z0-9.-]*$/.test(basename(dest))) throw new BangerError('bad_request', `image destination "${p.dest}" must be a plain directory name under ${parent}`);
    const uid = validateId(p.ownerUid, 'uid');
    const gid = validateId(p.ownerGid, 'gid');
    this.logCall(ctx, 'build_image', { name: entry.name, dest, uid, gid });
    const built = await buildImage({ runner: this.o.runner, recipe: entry.recipe, agentBinary: agentBinaryPath(), dest, scratchParent: parent });
    await this.o.runner.run(['chown', '-R', `${uid}:${gid}`, dest]);
    return built;
  }

  async routeDnsDomain(p: { link: string; server: string; domain: string }, ctx: PrivContext): Promise<void> {
    const link = validateBridgeName(p.link);
    const server = validateIPv4(p.server, 'DNS server');
    const domain = validateDnsDomain(p.domain);
    this.logCall(ctx, 'route_dns_domain', { link, server, domain });
    for (const argv of resolvedRoutingArgv(link, server, domain)) await this.o.runner.run(argv);
  }

  async prepareJail(p: PrepareJailParams, ctx: PrivContext): Promise<{ chrootRoot: string }> {
    this.logCall(ctx, 'prepare_jail', { vmId: p.vmId, chrootBase: p.chrootBase, uid: p.uid, gid: p.gid, files: p.files?.map((f) => f.name), devices: p.devices?.map((d) => d.name) });
    return this.jails.prepare(p);
  }

  async startJailer(p: JailParams, ctx: PrivContext): Promise<{ pid: number }> {
    this.logCall(ctx, 'start_jailer', { vmId: p.vmId, uid: p.uid, gid: p.gid });
    return this.jails.start(p);
  }

  async removeJail(p: { vmId: string; chrootBase: string }, ctx: PrivContext): Promise<void> {
    this.logCall(ctx, 'remove_jail', { vmId: p.vmId });
    await this.jails.remove(p);
  }

  async attachRootSnapshot(p: { vmId: string; image: string; cowFile: string; ownerUid: number; ownerGid: number }, ctx: PrivContext): Promise<{ device: string }> {
    this.logCall(ctx, 'attach_root_snapshot', { vmId: p.vmId, image: p.image });
    return this.snapshots.attach(p);
  }

  async detachRootSnapshot(p: { vmId: string; cowFile: string }, ctx: PrivContext): Promise<void> {
    this.logCall(ctx, 'detach_root_snapshot', { vmId: p.vmId });
    await this.snapshots.detach(p);
  }

  async signalProcess(p: { pid: number; signal: AllowedSignal }, ctx: PrivContext): Promise<void> {
    const signal = validateSignal(p.signal);
    const pid = validateVmmPid(p.pid, this.o.roots);
    this.logCall(ctx, 'signal_process', { pid, signal });
    try {
      process.kill(pid, `SIG${signal}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') throw new BangerError('not_found', `process ${pid} is gone`);
      throw e;
    }
  }
}

/** Used when the daemon is not root and no root helper is reachable (SPEC 2 user mode). */
export class UnavailablePrivilegedOps implements PrivilegedOps {
  private fail(): never {
    throw new BangerError('unauthorized', 'this needs root: the daemon is not running as root and no root helper is installed', {
      hint: 'run `sudo banger system install --owner "$USER"`, or run banger as root',
    });
  }
  async ensureBridge(): Promise<void> { this.fail(); }
  async createTap(): Promise<void> { this.fail(); }
  async deleteTap(): Promise<void> { this.fail(); }
  async listTaps(): Promise<TapInfo[]> { this.fail(); }
  async setIpForward(): Promise<{ previous: boolean }> { this.fail(); }
  async applyNat(): Promise<void> { this.fail(); }
  async removeNat(): Promise<void> { this.fail(); }
  async writeFileToImage(): Promise<void> { this.fail(); }
  async signalProcess(): Promise<void> { this.fail(); }
  async routeDnsDomain(): Promise<void> { this.fail(); }
  async buildImage(): Promise<{ rootfsPath: string; workSeedPath: string; sizeBytes: number }> { this.fail(); }
  async prepareJail(): Promise<{ chrootRoot: string }> { this.fail(); }
  async startJailer(): Promise<{ pid: number }> { this.fail(); }
  async removeJail(): Promise<void> { this.fail(); }
  async attachRootSnapshot(): Promise<{ device: string }> { this.fail(); }
  async detachRootSnapshot(): Promise<void> { this.fail(); }
}

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
    if (!name || !/^tap-(fc|pool)-[a-z0-9]{1,8}$/.test(name)) continue;
    out.push({ name, master: / master (\S+)/.exec(line)?.[1] ?? null });
  }
  return out;
}
