/**
 * The privileged operations of banger (SPEC 2): the only host changes that need root.
 * Nothing else in the daemon may do privileged host work directly. Today the daemon
 * calls these in-process when it runs as root; the root helper (a separate process on
 * its own socket) serves exactly the same interface, one `priv.*` method each.
 *
 * Every implementation validates every argument with ./validate.ts before acting.
 */
import type { JailParams, PrepareJailParams } from './jailOps.js';

export interface PrivContext {
  /** The daemon operation this call belongs to; logged on every line. */
  opId: string;
}

export interface PrivilegedOps {
  /** Creates the bridge if absent, sets its address, brings it up. Idempotent. */
  ensureBridge(p: { name: string; address: string; prefix: number }, ctx: PrivContext): Promise<void>;
  /** Creates a tap owned by the VMM's uid/gid, enslaves it to the bridge, brings it up. */
  createTap(p: { name: string; bridge: string; ownerUid: number; ownerGid: number }, ctx: PrivContext): Promise<void>;
  /** Deletes a tap; absent is fine. */
  deleteTap(p: { name: string }, ctx: PrivContext): Promise<void>;
  /** Existing banger taps (tap-fc-*, tap-pool-*) with the bridge each is attached to. */
  listTaps(ctx: PrivContext): Promise<TapInfo[]>;
  /** Sets net.ipv4.ip_forward; returns the previous value so callers can restore it. */
  setIpForward(p: { enabled: boolean }, ctx: PrivContext): Promise<{ previous: boolean }>;
  /**
   * Masquerade for the guest /32 out of `uplink` plus forward rules for it (its tap's
   * traffic, seen on the bridge), in banger's own nft table, with the bridge's isolation
   * rule. Idempotent.
   */
  applyNat(p: { vmId: string; guestIp: string; bridge: string; uplink: string }, ctx: PrivContext): Promise<void>;
  /** Removes every NAT rule of the VM (the whole table with the last VM); none present is fine. */
  removeNat(p: { vmId: string }, ctx: PrivContext): Promise<void>;
  /** Writes one file into an ext4 disk image without mounting it (creating parent directories). */
  writeFileToImage(p: { image: string; path: string; content: string; mode: number; uid: number; gid: number }, ctx: PrivContext): Promise<void>;
  /**
   * Routes a DNS domain to a server on a link through systemd-resolved
   * (`resolvectl dns LINK SERVER; resolvectl domain LINK ~DOMAIN`), so the host resolves
   * NAME.vm through banger. Only for hosts where resolved runs.
   */
  routeDnsDomain(p: { link: string; server: string; domain: string }, ctx: PrivContext): Promise<void>;
  /**
   * Builds a catalog image (mmdebstrap needs root) into `dest` under banger's state
   * directory and hands the result to the owner (uid/gid). Only catalog names are accepted.
   */
  buildImage(p: { name: string; dest: string; ownerUid: number; ownerGid: number }, ctx: PrivContext): Promise<{ rootfsPath: string; workSeedPath: string; sizeBytes: number }>;
  /**
   * Makes VM `vmId`'s jail `<chrootBase>/<firecracker>/<vmId>/root` afresh: the files
   * hard-linked in (same filesystem, or a clear error), the device nodes made, owned by
   * uid/gid. Returns the chroot's path. Refused while that VM's Firecracker runs.
   */
  prepareJail(p: PrepareJailParams, ctx: PrivContext): Promise<{ chrootRoot: string }>;
  /**
   * Runs the jailer (binaries chosen by root) for a prepared jail, its console going to
   * `consoleLog`; returns Firecracker's pid from the jailer's pid file once checked to be
   * this VM's Firecracker running as uid.
   */
  startJailer(p: JailParams, ctx: PrivContext): Promise<{ pid: number }>;
  /** Removes VM `vmId`'s jail without following any symlink in it; absent is fine. */
  removeJail(p: { vmId: string; chrootBase: string }, ctx: PrivContext): Promise<void>;
  /** Puts a persistent device-mapper snapshot (`/dev/mapper/fc-rootfs-<id>`) over the image and the COW file, owned by the owner. */
  attachRootSnapshot(p: { vmId: string; image: string; cowFile: string; ownerUid: number; ownerGid: number }, ctx: PrivContext): Promise<{ device: string }>;
  /** Removes the VM's snapshot and its loop devices; none is fine. */
  detachRootSnapshot(p: { vmId: string; cowFile: string }, ctx: PrivContext): Promise<void>;
  /** Sends an allow-listed signal to a process that is verifiably a banger VMM. */
  signalProcess(p: { pid: number; signal: AllowedSignal }, ctx: PrivContext): Promise<void>;
}

export interface TapInfo {
  name: string;
  master: string | null;
}

export const ALLOWED_SIGNALS = ['TERM', 'KILL', 'INT', 'HUP', 'CONT'] as const;
export type AllowedSignal = (typeof ALLOWED_SIGNALS)[number];

/** The wire names the root helper serves, one per operation (docs/reference/rpc.md). */
export const PRIV_OPERATIONS: Record<keyof PrivilegedOps, string> = {
  ensureBridge: 'priv.ensure_bridge',
  createTap: 'priv.create_tap',
  deleteTap: 'priv.delete_tap',
  listTaps: 'priv.list_taps',
  setIpForward: 'priv.set_ip_forward',
  applyNat: 'priv.apply_nat',
  removeNat: 'priv.remove_nat',
  writeFileToImage: 'priv.write_file_to_image',
  signalProcess: 'priv.signal_process',
  routeDnsDomain: 'priv.route_dns_domain',
  buildImage: 'priv.build_image',
  prepareJail: 'priv.prepare_jail',
  startJailer: 'priv.start_jailer',
  removeJail: 'priv.remove_jail',
  attachRootSnapshot: 'priv.attach_root_snapshot',
  detachRootSnapshot: 'priv.detach_root_snapshot',
};
