import { isIPv4 } from 'node:net';
import { posix } from 'node:path';
import { z } from 'zod';
import { isBridgeName, isTapName, TAP_FAMILY_PREFIX, VM_ID_PATTERN } from '../model/index.js';
import type { OpCtx } from '../opctx/index.js';

/**
 * The privileged surface of banger, declared once: every operation root performs for the
 * owner's daemon, with its wire name, its parameters (strict: an unknown key is refused,
 * so nothing can smuggle a uid, a bridge or a directory in) and its result. The
 * `PrivilegedOps` type, the root helper's client and server, the in-process implementation
 * used by a root daemon, the test fake and docs/reference/rpc.md all derive from this table.
 *
 * What is not here is pinned by root, never asked for: the owner's uid and gid, the bridge
 * name and subnet, the DNS domain (`vm`), the directories root works in, the jailer and
 * Firecracker binaries. Paths a request names are the owner's inputs (a disk, a kernel):
 * root opens them once, under the owner's state directory, by descriptor.
 */
export const ALLOWED_SIGNALS = ['TERM', 'KILL', 'INT', 'HUP', 'CONT'] as const;
export type AllowedSignal = (typeof ALLOWED_SIGNALS)[number];

/** What may be hard-linked into a jail, by the name Firecracker sees there. */
export const JAIL_FILE_NAMES = [
  'vmlinux',
  'initrd.img',
  'rootfs',
  'work.ext4',
  // A Firecracker snapshot to load (PUT /snapshot/load): device state and guest memory.
  'snapshot.vmstate',
  'snapshot.mem',
] as const;
/** Device nodes a jail may hold, by the name Firecracker sees there. */
export const JAIL_DEVICE_NAMES = ['rootfs', 'dev/vhost-vsock'] as const;

const vmId = z.string().regex(VM_ID_PATTERN, 'must be a VM id: 8 lowercase hex characters');
const tapName = z.string().refine(isTapName, 'must be tap-fc-<id> or tap-pool-<n> (at most 15 characters)');
const ipv4 = z.string().refine((s) => isIPv4(s), 'must be an IPv4 address');
/** An owner's file, named by its absolute, normalised host path (resolved by root under the owner's state dir). */
const hostPath = z
  .string()
  .max(4095)
  .refine(
    (p) => p.startsWith('/') && posix.normalize(p) === p && !p.endsWith('/') && !p.includes('\0'),
    'must be an absolute, normalised path',
  );
const interfaceName = z
  .string()
  .regex(/^[a-zA-Z0-9_.:-]{1,15}$/, 'must be a network interface name')
  .refine((n) => !n.startsWith(TAP_FAMILY_PREFIX) && !isBridgeName(n), "must be a host interface, not one of banger's");
const none = z.object({}).strict();
const nothing = z.null();

export const TAP_INFO = z.object({ name: z.string(), master: z.string().nullable() });
export type TapInfo = z.infer<typeof TAP_INFO>;

export const PINNED_SETTINGS = z.object({
  ownerUid: z.number().int(),
  ownerGid: z.number().int(),
  bridgeName: z.string(),
  bridgeIp: z.string(),
  cidr: z.number().int(),
  dnsDomain: z.string(),
  jailBase: z.string(),
});
export type PinnedSettings = z.infer<typeof PINNED_SETTINGS>;

interface PrivMethodDef<P extends z.ZodType, R extends z.ZodType> {
  wire: `priv.${string}`;
  doc: string;
  params: P;
  result: R;
}
const op = <P extends z.ZodType, R extends z.ZodType>(d: PrivMethodDef<P, R>) => d;

export const PRIV_METHODS = {
  settings: op({
    wire: 'priv.settings',
    doc: 'The values root pins for this install (owner, bridge, subnet, DNS domain, jail base), so the daemon can check that its config agrees.',
    params: none,
    result: PINNED_SETTINGS,
  }),
  ensureBridge: op({
    wire: 'priv.ensure_bridge',
    doc: 'Creates the pinned bridge if absent, gives it the pinned address, brings it up. Idempotent.',
    params: none,
    result: nothing,
  }),
  createTap: op({
    wire: 'priv.create_tap',
    doc: 'Creates a tap owned by the owner, enslaves it to the pinned bridge, brings it up; refuses a tap another bridge holds.',
    params: z.object({ name: tapName }).strict(),
    result: nothing,
  }),
  deleteTap: op({
    wire: 'priv.delete_tap',
    doc: 'Deletes a banger tap; absent is fine.',
    params: z.object({ name: tapName }).strict(),
    result: nothing,
  }),
  listTaps: op({
    wire: 'priv.list_taps',
    doc: "banger's taps (tap-fc-*, tap-pool-*) with the bridge each is attached to.",
    params: none,
    result: z.array(TAP_INFO),
  }),
  setIpForward: op({
    wire: 'priv.set_ip_forward',
    doc: 'Sets net.ipv4.ip_forward; returns the previous value so the daemon can restore it.',
    params: z.object({ enabled: z.boolean() }).strict(),
    result: z.object({ previous: z.boolean() }),
  }),
  applyNat: op({
    wire: 'priv.apply_nat',
    doc: "Masquerade for one guest address (inside the pinned subnet) out of `uplink`, with forward rules, in banger's own nft table. Idempotent.",
    params: z.object({ vmId, guestIp: ipv4, uplink: interfaceName }).strict(),
    result: nothing,
  }),
  removeNat: op({
    wire: 'priv.remove_nat',
    doc: "Removes a VM's NAT rules (the table goes with the last VM); none is fine.",
    params: z.object({ vmId }).strict(),
    result: nothing,
  }),
  routeDnsDomain: op({
    wire: 'priv.route_dns_domain',
    doc: 'Routes the pinned domain (`vm`) to the bridge address on the bridge link through systemd-resolved.',
    params: none,
    result: nothing,
  }),
  buildImage: op({
    wire: 'priv.build_image',
    doc: "Builds a catalog image (mmdebstrap needs root) in root's own directory and hands the owner new files `images/<name>/` in its state directory.",
    params: z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'must be a catalog image name') }).strict(),
    result: z.object({ rootfsPath: z.string(), workSeedPath: z.string(), sizeBytes: z.number() }),
  }),
  prepareJail: op({
    wire: 'priv.prepare_jail',
    doc: "Makes VM `vmId`'s jail afresh in root's jail directory: the owner's files hard-linked in by descriptor, the allowed device nodes made, `run/` given to the owner. Refused while that VM's Firecracker runs.",
    params: z
      .object({
        vmId,
        files: z
          .array(z.object({ name: z.enum(JAIL_FILE_NAMES), source: hostPath }).strict())
          .max(JAIL_FILE_NAMES.length),
        devices: z
          .array(z.object({ name: z.enum(JAIL_DEVICE_NAMES), source: hostPath }).strict())
          .max(JAIL_DEVICE_NAMES.length),
      })
      .strict(),
    result: z.object({ chrootRoot: z.string() }),
  }),
  startJailer: op({
    wire: 'priv.start_jailer',
    doc: "Runs the jailer (root's binaries) for a prepared jail, its console appended to the VM's console log; returns Firecracker's pid once checked to be this VM's, running as the owner.",
    params: z.object({ vmId }).strict(),
    result: z.object({ pid: z.number().int() }),
  }),
  removeJail: op({
    wire: 'priv.remove_jail',
    doc: "Removes VM `vmId`'s jail by descriptor, never following a link or crossing a mount; refused while its Firecracker runs. Absent is fine.",
    params: z.object({ vmId }).strict(),
    result: nothing,
  }),
  attachRootSnapshot: op({
    wire: 'priv.attach_root_snapshot',
    doc: "Loops the owner's image (read-only) and the VM's COW file, opened once by descriptor, under a persistent device-mapper snapshot `/dev/mapper/fc-rootfs-<id>` owned by the owner.",
    params: z.object({ vmId, image: hostPath }).strict(),
    result: z.object({ device: z.string() }),
  }),
  detachRootSnapshot: op({
    wire: 'priv.detach_root_snapshot',
    doc: "Removes the VM's snapshot and its loop devices; none is fine.",
    params: z.object({ vmId }).strict(),
    result: nothing,
  }),
  signalProcess: op({
    wire: 'priv.signal_process',
    doc: 'Sends an allowed signal, through a pidfd, to a process checked to be a VMM of an existing VM, running as the owner.',
    params: z
      .object({
        pid: z
          .number()
          .int()
          .min(2)
          .max(2 ** 22),
        signal: z.enum(ALLOWED_SIGNALS),
      })
      .strict(),
    result: nothing,
  }),
} as const;

export type PrivMethod = keyof typeof PRIV_METHODS;
export const PRIV_METHOD_NAMES = Object.keys(PRIV_METHODS) as PrivMethod[];
export type PrivParams<K extends PrivMethod> = z.input<(typeof PRIV_METHODS)[K]['params']>;
export type PrivResult<K extends PrivMethod> = z.output<(typeof PRIV_METHODS)[K]['result']>;

/** The daemon operation a privileged call belongs to; its opId is logged on every line, by the helper too (only the opId crosses the wire). */
export type PrivContext = OpCtx;

/** Every privileged operation, one method each (derived from PRIV_METHODS). */
export type PrivilegedOps = { [K in PrivMethod]: (p: PrivParams<K>, ctx: PrivContext) => Promise<PrivResult<K>> };

/** wire name -> method, e.g. priv.create_tap -> createTap */
export const PRIV_METHOD_BY_WIRE: ReadonlyMap<string, PrivMethod> = new Map(
  PRIV_METHOD_NAMES.map((m) => [PRIV_METHODS[m].wire, m]),
);
