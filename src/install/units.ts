/**
 * The two systemd units of a system install (docs/reference/security.md), as pure functions of where the
 * install lives and who owns it. The directives that keep VMs alive across restarts and
 * updates are here: KillMode=process (only the main process is stopped, never the VMMs it
 * started in their own sessions), RuntimeDirectoryPreserve=yes (sockets and pid files of
 * running VMs survive a stop), SendSIGKILL=no on the helper.
 *
 * Both are sandboxed as far as what they do allows (docs/howto/system-install.md has the
 * `systemd-analyze security` scores and the reasons for what is left open). Whatever either
 * starts inherits its sandbox: the helper's jailed Firecrackers and image builds, the
 * daemon's VMMs. So no DeviceAllow= (the VMMs need /dev/kvm, /dev/net/tun, vhost and
 * device-mapper nodes), no MemoryDenyWriteExecute= (Node's JIT, QEMU's TCG), and a
 * syscall filter that only takes away what none of them uses.
 */
import { systemLayout, ROOT_TOOL_PATH } from '../paths/index.js';

export interface UnitInput {
  /** Absolute path of node (>= 22.13). */
  node: string;
  /** The installed bundle, through the `current` symlink (so an update is a symlink flip). */
  libDir: string;
  owner: string;
}

export const DAEMON_UNIT = 'bangerd.service';
export const HELPER_UNIT = 'bangerd-root.service';

/** The helper's PATH (the unit's, and the fallback supervisor's): system directories only, never /usr/local or the installer's. */
export const FIXED_PATH = ROOT_TOOL_PATH;

/**
 * The capabilities the helper's operations use, and no others:
 * - NET_ADMIN: bridge, taps, addresses, nft/iptables rules; NET_RAW: iptables' raw sockets;
 * - SYS_ADMIN: loop devices, device-mapper snapshots, mounts (the jailer's pivot_root, mmdebstrap's /proc in the build tree);
 * - SYS_PTRACE: /proc/<pid>/exe of a VMM (owned by the owner) before signalling it;
 * - CHOWN, FOWNER, FSETID, DAC_OVERRIDE: files handed to the owner, dpkg's setgid files in an image build;
 * - DAC_READ_SEARCH: linkat(AT_EMPTY_PATH) of a file it holds open (jail hard links);
 * - MKNOD: device nodes in a jail and in a build tree; KILL: signals to the owner's VMMs;
 * - SETUID, SETGID, SYS_CHROOT: the jailer drops to the owner in its chroot; apt drops to _apt.
 */
export const HELPER_CAPABILITIES = [
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_SYS_ADMIN',
  'CAP_SYS_PTRACE',
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_MKNOD',
  'CAP_SETUID',
  'CAP_SETGID',
  'CAP_SYS_CHROOT',
] as const;

/**
 * Where the helper writes; everything else is read-only to it (ProtectSystem=strict): root's
 * state (jails, image builds) and cache, and the owner's state dir (images and console logs,
 * created there by descriptor for the owner). Root's state and the owner's are given as
 * their common parent (/var/lib), not as two entries: each ReadWritePaths= entry becomes a
 * mount of its own, and the owner's files are hard-linked into root's jails, which linkat
 * refuses across mounts (EXDEV) even on one filesystem. /dev (device-mapper and loop
 * nodes) and /proc (/proc/sys/net/ipv4/ip_forward) are not touched by ProtectSystem; its
 * runtime dir is writable through RuntimeDirectory=. Not the owner's runtime dir: it
 * writes nothing there.
 */
export function helperWritablePaths(): string[] {
  const l = systemLayout();
  return [commonParent(l.rootStateDir, l.stateDir), l.rootCacheDir];
}

/** The deepest directory containing both paths. */
export function commonParent(a: string, b: string): string {
  const pa = a.split('/');
  const pb = b.split('/');
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return pa.slice(0, i).join('/') || '/';
}

/** Namespaces the helper's children create: the jailer's mount and pid namespaces (--new-pid-ns), mmdebstrap's mount namespace. */
export const HELPER_NAMESPACES = ['mnt', 'pid'] as const;

/** System call groups neither service nor anything it starts (Node, ip, nft, the jailer, Firecracker, QEMU, mmdebstrap) uses. */
export const DENIED_SYSCALL_GROUPS = [
  '@clock',
  '@cpu-emulation',
  '@debug',
  '@module',
  '@obsolete',
  '@raw-io',
  '@reboot',
  '@swap',
] as const;

/** Hardening common to both units. */
function sandbox(): string[] {
  return [
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'PrivateMounts=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'LockPersonality=yes',
    'RestrictRealtime=yes',
    'SystemCallArchitectures=native',
    `SystemCallFilter=~${DENIED_SYSCALL_GROUPS.join(' ')}`,
    // A denied call fails with EPERM instead of killing the process (and a VM with it).
    'SystemCallErrorNumber=EPERM',
  ];
}

export function renderDaemonUnit(i: UnitInput): string {
  return [
    '# Written by `banger system install`; `banger system uninstall` removes it.',
    '[Unit]',
    `Description=banger daemon (sandbox VMs of ${i.owner})`,
    `Wants=${HELPER_UNIT}`,
    `After=network.target ${HELPER_UNIT}`,
    '',
    '[Service]',
    'Type=simple',
    `User=${i.owner}`,
    'Environment=BANGER_MODE=system',
    `ExecStart=${i.node} ${i.libDir}/bangerd.js --system`,
    'Restart=on-failure',
    'RestartSec=1',
    // Stop only bangerd itself: its VMMs run in their own sessions and must keep running.
    'KillMode=process',
    // Its only writable places (StateDirectory= and friends are writable under ProtectSystem=strict).
    'RuntimeDirectory=banger',
    'RuntimeDirectoryMode=0700',
    'RuntimeDirectoryPreserve=yes',
    'StateDirectory=banger',
    'StateDirectoryMode=0700',
    'CacheDirectory=banger',
    'CacheDirectoryMode=0700',
    // The .vm DNS server answers guests on the bridge address, port 53.
    'AmbientCapabilities=CAP_NET_BIND_SERVICE',
    'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
    ...sandbox(),
    // Workspaces are the owner's repositories, in their home or anywhere else (/tmp too):
    // read, never written, so ProtectHome=read-only, and the shared /tmp rather than a
    // private one (it is the owner's to write anyway; workspace copies stage there).
    'ProtectHome=read-only',
    'ReadWritePaths=-/tmp -/var/tmp',
    'ProtectKernelTunables=yes',
    'RestrictNamespaces=yes',
    'RestrictSUIDSGID=yes',
    'RemoveIPC=yes',
    'UMask=0077',
    // Unix sockets (its own, the helper's, VMMs' and agents'), Internet (DNS, downloads, ssh to guests), netlink (addresses).
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function renderHelperUnit(i: UnitInput): string {
  return [
    '# Written by `banger system install`; `banger system uninstall` removes it.',
    '[Unit]',
    'Description=banger root helper (validated privileged operations for bangerd)',
    `Before=${DAEMON_UNIT}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${i.node} ${i.libDir}/banger-root-helper.js`,
    // Tools by a fixed PATH of system directories only; nothing else from the environment.
    `Environment=PATH=${FIXED_PATH} LANG=C`,
    'WorkingDirectory=/',
    'Restart=on-failure',
    'RestartSec=1',
    'KillMode=process',
    // Never SIGKILL the helper mid-operation (a half-applied nft script, a half-written disk).
    'SendSIGKILL=no',
    'RuntimeDirectory=banger-root',
    'RuntimeDirectoryMode=0711',
    'RuntimeDirectoryPreserve=yes',
    `CapabilityBoundingSet=${HELPER_CAPABILITIES.join(' ')}`,
    ...sandbox(),
    // "-": a directory that does not exist (yet) is no error. Each is a mount of its own in
    // the service's namespace, so link(2) between two of them fails with EXDEV: a file
    // hard-linked into a jail must live in the same one as the jail.
    `ReadWritePaths=${helperWritablePaths()
      .map((p) => `-${p}`)
      .join(' ')}`,
    'ProtectHome=yes',
    'PrivateTmp=yes',
    `RestrictNamespaces=${HELPER_NAMESPACES.join(' ')}`,
    // Root's files are its own: nothing it creates is writable by others. (Not 0077: jail
    // directories must stay searchable by the owner's Firecracker, and images readable.)
    'UMask=0022',
    // ip, nft (netlink), iptables (raw INET), resolvectl (unix), apt in an image build (INET).
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
