import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ipToInt } from '../hostnat/index.js';
import { BangerError, isBridgeName, isTapName } from '../model/index.js';
import type { PrivParams, TapInfo } from '../privops/index.js';
import { which, type HostRunner } from '../system/index.js';
import {
  IPT_FORWARD_CHAIN,
  IPT_NAT_CHAIN,
  iptablesAddArgv,
  iptablesDeleteArgv,
  iptablesHasVmRules,
  iptablesSetup,
  iptablesTeardown,
} from './iptablesNat.js';
import {
  bridgeRuleComment,
  hasVmRules,
  natAddScript,
  natDeleteScript,
  ruleHandles,
  vmRuleComment,
  vmRuleHandles,
  type NatRequest,
} from './nftNat.js';
import { DNS_DOMAIN, type HelperScope } from './scope.js';
import { validateNftTable } from './validate.js';

/** How NAT rules are written: nft, or iptables-nft (its binary) where nft is missing. */
export type NatBackend = { kind: 'nft' } | { kind: 'iptables'; bin: string };

/** nft when present, else iptables-nft (or iptables), else nft (which then fails with a clear error). */
export function detectNatBackend(): NatBackend {
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

export interface NetworkOpsOptions {
  runner: HostRunner;
  /** The pinned network (bridge name and address, subnet) and the owner the taps belong to. */
  scope: HelperScope;
  /** banger's nft table; validated here. */
  nftTable: string;
  /** Where net.ipv4.ip_forward lives. */
  ipForwardPath: string;
  natBackend: NatBackend;
}

/**
 * The host network work of PrivilegedOps: banger's bridge, the VMs' taps on it, per-VM NAT
 * (nft, or iptables-nft), ip_forward, and .vm DNS routing through systemd-resolved. Names and
 * addresses host-wide come from the scope, never from the caller; InProcessPrivilegedOps logs
 * each call and delegates here. Construction refuses a bridge name or nft table not banger's.
 */
export class NetworkOps {
  private readonly nftTable: string;

  constructor(private readonly o: NetworkOpsOptions) {
    const net = o.scope.network;
    if (!isBridgeName(net.bridgeName))
      throw new BangerError(
        'config_invalid',
        `the pinned bridge name "${net.bridgeName}" is not banger's (br-fc or br-fc-<suffix>)`,
      );
    this.nftTable = validateNftTable(o.nftTable);
  }

  private get net() {
    return this.o.scope.network;
  }

  get natBackendKind(): NatBackend['kind'] {
    return this.o.natBackend.kind;
  }

  private async linkExists(name: string): Promise<boolean> {
    const r = await this.o.runner.run(['ip', '-o', 'link', 'show', 'dev', name], { allowFailure: true });
    return r.exitCode === 0;
  }

  /** Creates the pinned bridge if missing, then (re)sets its address and brings it up; idempotent. */
  async ensureBridge(): Promise<void> {
    const { bridgeName: name, bridgeIp, cidr } = this.net;
    if (!(await this.linkExists(name))) await this.o.runner.run(['ip', 'link', 'add', 'name', name, 'type', 'bridge']);
    await this.o.runner.run(['ip', 'addr', 'replace', `${bridgeIp}/${cidr}`, 'dev', name]);
    await this.o.runner.run(['ip', 'link', 'set', 'dev', name, 'up']);
  }

  /**
   * Creates tap `name` owned by the owner (or reuses it), attached to the bridge and up. Refused
   * when the bridge does not exist yet, or when the tap is attached to another bridge.
   */
  async createTap(name: string): Promise<void> {
    const bridge = this.net.bridgeName;
    const { ownerUid: uid, ownerGid: gid } = this.o.scope;
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
  }

  /** Deletes tap `name`; nothing if it is gone, refused if it is attached to another bridge. */
  async deleteTap(name: string): Promise<void> {
    const existing = await this.o.runner.run(['ip', '-o', 'link', 'show', 'dev', name], { allowFailure: true });
    if (existing.exitCode !== 0) return;
    // Another install's (another bridge's) tap is not this owner's to delete.
    const master = parseTapList(existing.stdout)[0]?.master ?? null;
    if (master && master !== this.net.bridgeName)
      throw new BangerError(
        'conflict',
        `tap ${name} is attached to bridge ${master}, not to this install's ${this.net.bridgeName}; refusing to delete it`,
      );
    await this.o.runner.run(['ip', 'link', 'del', 'dev', name]);
  }

  async listTaps(): Promise<TapInfo[]> {
    const r = await this.o.runner.run(['ip', '-o', 'link', 'show']);
    return parseTapList(r.stdout);
  }

  /** Sets net.ipv4.ip_forward (written only if it changes); returns what it was. */
  setIpForward(enabled: boolean): { previous: boolean } {
    const previous = readFileSync(this.o.ipForwardPath, 'utf8').trim() === '1';
    if (previous !== enabled) writeFileSync(this.o.ipForwardPath, enabled ? '1\n' : '0\n');
    return { previous };
  }

  /**
   * The NAT request for applyNat's params, checked: the guest address must be a guest address
   * of the install's subnet, the uplink an existing interface; bridge and table are the install's.
   */
  natRequest(p: PrivParams<'applyNat'>): NatRequest {
    if (!isGuestAddress(p.guestIp, this.net)) {
      throw new BangerError(
        'unauthorized',
        `guest address ${p.guestIp} is not a guest address of the install's subnet ${this.net.bridgeIp}/${this.net.cidr}; refusing to NAT it`,
      );
    }
    if (!existsSync(`/sys/class/net/${p.uplink}`))
      throw new BangerError('bad_request', `uplink interface "${p.uplink}" does not exist`);
    return { table: this.nftTable, vmId: p.vmId, guestIp: p.guestIp, bridge: this.net.bridgeName, uplink: p.uplink };
  }

  /**
   * Writes the VM's NAT rules (from natRequest), replacing any it had: remove-then-add keeps it
   * idempotent across stop/start. The bridge's isolation rule is added once, with the first VM's.
   */
  async applyNat(req: NatRequest): Promise<void> {
    if (this.o.natBackend.kind === 'iptables') {
      const bin = this.o.natBackend.bin;
      for (const step of iptablesSetup(bin)) {
        if ((await this.o.runner.run(step.check, { allowFailure: true })).exitCode !== 0)
          await this.o.runner.run(step.apply);
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

  /** Removes the VM's NAT rules; with the last VM's gone, banger's table (or chains) goes too. */
  async removeNat(vmId: string): Promise<void> {
    if (this.o.natBackend.kind === 'iptables') {
      const bin = this.o.natBackend.bin;
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
    if (after.exitCode === 0 && !hasVmRules(after.stdout))
      await this.o.runner.run(['nft', 'delete', 'table', 'ip', this.nftTable], { allowFailure: true });
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

  /** Sends .vm queries from the host to the daemon's DNS server on the bridge (systemd-resolved). */
  async routeDnsDomain(): Promise<void> {
    const { bridgeName: link, bridgeIp: server } = this.net;
    for (const argv of resolvedRoutingArgv(link, server, DNS_DOMAIN)) await this.o.runner.run(argv);
  }
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
    if (!name || !isTapName(name)) continue;
    out.push({ name, master: / master (\S+)/.exec(line)?.[1] ?? null });
  }
  return out;
}
