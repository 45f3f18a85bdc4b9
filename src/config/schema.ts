/**
 * The config file schema (docs/reference/config.md). Every key is declared once here with its type, its
 * default as the docs show it, and a sentence of documentation; validation, defaults
 * and docs/reference/config.md are all derived from this table.
 */
import { isIPv4 } from 'node:net';
import { posix } from 'node:path';
import { z } from 'zod';
import {
  boundedInt,
  BRIDGE_NAME_PATTERN,
  DEFAULT_BRIDGE_NAME,
  DISK_SIZE_LIMIT,
  DURATION_MAX_MS,
  limitRange,
  MEMORY_MIB_LIMIT,
  SYSTEM_OVERLAY_LIMIT,
  VCPU_LIMIT,
  type Limit,
  VMM_SETTINGS,
  parseDuration,
  parseSize,
  DurationParseError,
  SizeParseError,
} from '../model/index.js';

export { BRIDGE_NAME_PATTERN };

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface KeyDef {
  schema: z.ZodType;
  /** The default as the reference doc shows it. */
  shownDefault: string;
  doc: string;
}

const duration = (min = 0) =>
  z.union([z.string(), z.literal(0)]).transform((v, ctx) => {
    try {
      const ms = typeof v === 'number' ? 0 : parseDuration(v);
      if (ms !== 0 && ms < min) ctx.addIssue({ code: 'custom', message: `must be at least ${min} ms` });
      if (ms > DURATION_MAX_MS) ctx.addIssue({ code: 'custom', message: 'must be at most 365d' });
      return ms;
    } catch (e) {
      if (e instanceof DurationParseError) {
        ctx.addIssue({ code: 'custom', message: e.message });
        return z.NEVER;
      }
      throw e;
    }
  });

/** A size within `limit` (model/limits.ts). */
const size = (limit: Limit) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    try {
      const bytes = parseSize(v);
      if (bytes < limit.min || bytes > limit.max)
        ctx.addIssue({ code: 'custom', message: `must be ${limitRange(limit)} (got ${v})` });
      return bytes;
    } catch (e) {
      if (e instanceof SizeParseError) {
        ctx.addIssue({ code: 'custom', message: e.message });
        return z.NEVER;
      }
      throw e;
    }
  });

const ipv4 = z.string().refine(isIPv4, { message: 'must be an IPv4 address like 172.16.0.1' });
const absPath = z.string().refine((p) => p.startsWith('/'), { message: 'must be an absolute path' });

/** `br-fc` or `br-fc-*`, at most 15 bytes (IFNAMSIZ), so the root helper accepts it. */

const listen = z.string().transform((v, ctx) => {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : 0;
  if (!m || !isIPv4(m[1]!) || port < 1 || port > 65535) {
    ctx.addIssue({ code: 'custom', message: 'must be IPv4:port, e.g. 127.0.0.1:42069' });
    return z.NEVER;
  }
  return { host: m[1]!, port };
});

const fileMode = z.union([z.string(), z.number().int()]).transform((v, ctx) => {
  const mode = typeof v === 'number' ? v : /^0?[0-7]{3,4}$/.test(v) ? parseInt(v, 8) : NaN;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    ctx.addIssue({ code: 'custom', message: 'must be an octal mode such as "0600" or "0755"' });
    return z.NEVER;
  }
  return mode;
});

/** Guest paths of file_sync must stay under /root, where the work disk is mounted. */
const guestPathUnderRoot = z.string().transform((v, ctx) => {
  const p = v.startsWith('~/') ? posix.join('/root', v.slice(2)) : v;
  const norm = posix.normalize(p);
  if (!p.startsWith('/') || norm !== p.replace(/\/+$/, '') || !norm.startsWith('/root/')) {
    ctx.addIssue({
      code: 'custom',
      message: `guest path "${v}" must be a normalised path under /root (the work disk), e.g. /root/.npmrc or ~/.npmrc`,
    });
    return z.NEVER;
  }
  return norm;
});

export const TOP_LEVEL_KEYS = {
  log_level: {
    schema: z.enum(LOG_LEVELS),
    shownDefault: 'info',
    doc: 'Daemon log verbosity: debug, info, warn or error. The env var BANGER_LOG_LEVEL overrides it.',
  },
  vmm: {
    schema: z.enum(VMM_SETTINGS),
    shownDefault: 'auto',
    doc: 'Back-end of new VMs (vm create/run --vmm overrides it). auto picks firecracker when the binary is present, KVM can run guests and the kernel suits Firecracker, else qemu. A VM keeps the back-end it was created with.',
  },
  accel: {
    schema: z.enum(['auto', 'kvm', 'tcg']),
    shownDefault: 'auto',
    doc: 'QEMU accelerator. auto uses kvm when a guest actually boots under it, else tcg (software emulation, with a doctor warning).',
  },
  firecracker_bin: {
    schema: absPath,
    shownDefault: 'PATH lookup of firecracker',
    doc: 'Path to the firecracker binary.',
  },
  jailer_bin: {
    schema: absPath,
    shownDefault: '/usr/bin/jailer',
    doc: "Path to the Firecracker jailer (a root daemon runs it; a system install's root helper uses its own, from root's PATH).",
  },
  jailer_enabled: {
    schema: z.boolean(),
    shownDefault: 'true',
    doc: 'Run Firecracker under its jailer (set false only for debugging).',
  },
  qemu_bin: {
    schema: absPath,
    shownDefault: 'PATH lookup of qemu-system-x86_64',
    doc: 'Path to the QEMU system emulator.',
  },
  ssh_key_path: {
    schema: absPath,
    shownDefault: '<state_dir>/ssh/id_ed25519',
    doc: 'Private key banger uses to reach guests (an ed25519 key is generated when missing).',
  },
  default_image_name: {
    schema: z.string().min(1),
    shownDefault: 'debian-bookworm',
    doc: 'Image used when --image is not given; obtained automatically when missing.',
  },
  default_image_source: {
    schema: z.enum(['auto', 'mmdebstrap', 'oci']),
    shownDefault: 'auto',
    doc: "How the default image (debian-bookworm) is made: mmdebstrap from the host's Debian mirror (needs root or a system install, and mmdebstrap), or oci: default_image_oci_base pulled from its registry, then the recipe applied inside a builder VM with NAT (any Linux host, no root). auto takes mmdebstrap where it can run, else oci; `banger doctor` says which.",
  },
  default_image_oci_base: {
    schema: z.string().min(1),
    shownDefault: 'docker.io/library/debian:bookworm',
    doc: 'The OCI image the oci path of the default image starts from.',
  },
  default_kernel_name: {
    schema: z.string().min(1),
    shownDefault: "the kernel catalog's default",
    doc: 'Kernel used by images that do not name one.',
  },
  bridge_name: {
    schema: z.string().regex(BRIDGE_NAME_PATTERN, 'must be br-fc or br-fc-<suffix> (at most 15 characters)'),
    shownDefault: DEFAULT_BRIDGE_NAME,
    doc: 'Host bridge the VM taps attach to. Created on first use, never deleted automatically.',
  },
  bridge_ip: {
    schema: ipv4,
    shownDefault: '172.16.0.1',
    doc: "The host's address on the bridge; guests use it as gateway and DNS server.",
  },
  cidr: {
    schema: z.number().int().min(8).max(32),
    shownDefault: '24',
    doc: 'Prefix length of the bridge network (8..32).',
  },
  nat_uplink: {
    schema: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.@-]{0,14}$/, 'must be a network interface name, e.g. eth0'),
    shownDefault: 'the interface of the default route',
    doc: 'Interface that NAT (vm create --nat) masquerades guest traffic out of.',
  },
  warm_start: {
    schema: z.boolean(),
    shownDefault: 'true',
    doc: 'Restore new VMs from a warm template (a memory snapshot of a booted guest) when one matches, and build one in the background when none does. `--cold` skips it for one VM.',
  },
  tap_pool_size: {
    schema: z.number().int().min(0).max(64),
    shownDefault: '2',
    doc: 'Number of idle taps kept attached to the bridge so VMs start faster.',
  },
  default_dns: {
    schema: ipv4,
    shownDefault: "the daemon's resolver on the bridge IP",
    doc: 'Resolver written into guests. The default answers .vm names and forwards the rest.',
  },
  dns_listen: {
    schema: listen,
    shownDefault: '127.0.0.1:42069',
    doc: 'Where the daemon serves .vm names to the host.',
  },
  auto_stop_stale_after: {
    schema: duration(10_000),
    shownDefault: '0 (off)',
    doc: 'Stop (gracefully) a running VM untouched for this long, e.g. 24h or 2h30m, at least 10s; 0 turns it off. ssh, exec, workspace prepare/export and start touch a VM, and so does every stats poll that finds an established TCP connection into the guest. Checked every stats_poll_interval.',
  },
  stats_poll_interval: {
    schema: duration(1000),
    shownDefault: '10s',
    doc: 'How often the daemon samples VM statistics (vm stats) and checks auto_stop_stale_after; at least 1s.',
  },
  rootfs_overlay: {
    schema: z.enum(['auto', 'dm-snapshot', 'qcow2', 'copy']),
    shownDefault: 'auto',
    doc: 'Copy-on-write strategy for new VM root filesystems: auto is qcow2 for QEMU, and for Firecracker dm-snapshot where device-mapper works, else a sparse copy. qcow2 with Firecracker is refused.',
  },
} satisfies Record<string, KeyDef>;

export const VM_DEFAULTS_KEYS = {
  vcpu: {
    schema: boundedInt(VCPU_LIMIT),
    shownDefault: 'host: cpus/4 capped at 4, else 2',
    doc: `vCPUs of a new VM, ${limitRange(VCPU_LIMIT)}.`,
  },
  memory_mib: {
    schema: boundedInt(MEMORY_MIB_LIMIT),
    shownDefault: 'host: RAM/8 capped at 8 GiB, else 2048',
    doc: `Memory of a new VM in MiB, ${limitRange(MEMORY_MIB_LIMIT)} and at most the host's RAM.`,
  },
  disk_size: {
    schema: size(DISK_SIZE_LIMIT),
    shownDefault: '8G',
    doc: `Size of the /root work disk (a number is MiB; units K, M, G, T), ${limitRange(DISK_SIZE_LIMIT)}.`,
  },
  system_overlay_size: {
    schema: size(SYSTEM_OVERLAY_LIMIT),
    shownDefault: '8G',
    doc: `Size of the copy-on-write layer over the image root filesystem, ${limitRange(SYSTEM_OVERLAY_LIMIT)}.`,
  },
} satisfies Record<string, KeyDef>;

export const FILE_SYNC_KEYS = {
  host: {
    schema: z.string().min(1),
    shownDefault: '(required)',
    doc: 'Host file or directory (~/ expands to your home). A missing path is skipped with a warning.',
  },
  guest: {
    schema: guestPathUnderRoot,
    shownDefault: '(required)',
    doc: 'Destination under /root in the guest (~/ means /root).',
  },
  mode: { schema: fileMode, shownDefault: '0600 for files', doc: 'Octal mode of copied files, e.g. "0644".' },
} satisfies Record<string, KeyDef>;

function optionalShape<T extends Record<string, KeyDef>>(keys: T) {
  return Object.fromEntries(Object.entries(keys).map(([k, d]) => [k, d.schema.optional()])) as {
    [K in keyof T]: z.ZodOptional<T[K]['schema']>;
  };
}

export const fileSyncEntrySchema = z.strictObject({
  host: FILE_SYNC_KEYS.host.schema,
  guest: FILE_SYNC_KEYS.guest.schema,
  mode: FILE_SYNC_KEYS.mode.schema.optional(),
});

export const configFileSchema = z.strictObject({
  ...optionalShape(TOP_LEVEL_KEYS),
  vm_defaults: z.strictObject(optionalShape(VM_DEFAULTS_KEYS)).optional(),
  file_sync: z.array(fileSyncEntrySchema).optional(),
});

export type ConfigFile = z.output<typeof configFileSchema>;

/** Every documented key, with dotted names for tables (`vm_defaults.vcpu`, `file_sync[].host`). */
export function documentedKeys(): Array<{ key: string } & Omit<KeyDef, 'schema'>> {
  const rows: Array<{ key: string } & Omit<KeyDef, 'schema'>> = [];
  for (const [k, d] of Object.entries(TOP_LEVEL_KEYS)) rows.push({ key: k, shownDefault: d.shownDefault, doc: d.doc });
  for (const [k, d] of Object.entries(VM_DEFAULTS_KEYS))
    rows.push({ key: `vm_defaults.${k}`, shownDefault: d.shownDefault, doc: d.doc });
  for (const [k, d] of Object.entries(FILE_SYNC_KEYS))
    rows.push({ key: `file_sync[].${k}`, shownDefault: d.shownDefault, doc: d.doc });
  return rows;
}
