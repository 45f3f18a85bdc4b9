import { basename, join } from 'node:path';

/**
 * The jailer (docs/howto/firecracker.md), planned as pure data. The jailer makes
 * `<chroot_base>/<exec file name>/<id>/root`, copies Firecracker in, drops to the owner's
 * uid/gid and execs it there; with `--new-pid-ns` it writes Firecracker's pid to
 * `<exec file name>.pid` in the chroot and exits. banger prepares the chroot first (files
 * hard-linked in, device nodes made) through PrivilegedOps, which own the directory names;
 * the daemon only knows the names Firecracker sees inside the jail (IN_JAIL) and reaches
 * the sockets through symlinks in the VM's runtime directory, which keeps the dialled path
 * under the 108-byte unix socket limit however deep the chroot is.
 */
export const IN_JAIL = {
  kernel: '/vmlinux',
  initrd: '/initrd.img',
  rootDrive: '/rootfs',
  /**
   * A device-mapper root disk: a node in disk/, a directory root makes and keeps (the jailer
   * hands /, /dev and /run to the owner, who could otherwise rename a node out of the jail).
   */
  rootDevice: '/disk/rootfs',
  workDisk: '/work.ext4',
  apiSocket: '/run/firecracker.socket',
  vsockUds: '/run/vsock.sock',
  // In /run, which the jail gives to the VMM's uid, so the daemon can make them beforehand.
  logFile: '/run/firecracker.log',
  metricsFile: '/run/firecracker.metrics',
  /** Where a snapshot is written: /run is the VMM uid's, and the daemon moves the files out. */
  savedState: '/run/snapshot.vmstate',
  savedMem: '/run/snapshot.mem',
  /** Where a snapshot to load is hard-linked in by the root helper (prepareJail). */
  loadState: '/snapshot.vmstate',
  loadMem: '/snapshot.mem',
} as const;

export interface JailerInput {
  vmId: string;
  jailerBin: string;
  firecrackerBin: string;
  chrootBase: string;
  uid: number;
  gid: number;
}

export interface JailerPlan {
  argv: string[];
  /** `<base>/<exec name>/<id>`: everything of this VM's jail, removed as one tree. */
  jailDir: string;
  chrootRoot: string;
  pidFile: string;
}

/** The longest path a unix socket address holds (sun_path is 108 bytes with its NUL). */
export const UNIX_PATH_MAX = 107;

export function planJailer(i: JailerInput): JailerPlan {
  const exec = basename(i.firecrackerBin);
  const jailDir = join(i.chrootBase, exec, i.vmId);
  const chrootRoot = join(jailDir, 'root');
  return {
    argv: [
      i.jailerBin,
      '--id',
      i.vmId,
      '--exec-file',
      i.firecrackerBin,
      '--uid',
      String(i.uid),
      '--gid',
      String(i.gid),
      // --new-pid-ns: the jailer records Firecracker's pid in the chroot and exits, so neither
      // the helper nor the daemon is its parent and restarting them leaves the VM running.
      '--chroot-base-dir',
      i.chrootBase,
      '--new-pid-ns',
      '--',
      '--api-sock',
      IN_JAIL.apiSocket,
    ],
    jailDir,
    chrootRoot,
    pidFile: join(chrootRoot, `${exec}.pid`),
  };
}

/** Two paths are on one filesystem when their st_dev matches (hard links need it). */
export function sameFilesystemProblem(
  a: { path: string; dev: number },
  b: { path: string; dev: number },
): string | null {
  return a.dev === b.dev
    ? null
    : `${a.path} and ${b.path} are on different filesystems, so it cannot be hard-linked into the jail; keep the root-owned state directory (/var/lib/banger-root) on the filesystem of banger's state directory`;
}

/**
 * Whether a process is the jailed Firecracker of VM `vmId`, as the daemon judges its own
 * VMMs: the `--id=<vmId>` the jailer passes, an executable (or, for a #! script, the script)
 * whose name contains "firecracker" (the jailer requires that of its exec file), and, when
 * given, the uid it was meant to drop to. Never the thread name, which runtimes rename. The
 * root helper's stricter check (the jail's own exec file) is roothelper/vmmIdentity.ts.
 */
export function isJailedFirecracker(
  p: { cmdline: readonly string[]; exe: string | null; uid: number | null },
  vmId: string,
  uid?: number,
): boolean {
  const idGiven =
    p.cmdline.includes(`--id=${vmId}`) || p.cmdline.some((a, i) => a === '--id' && p.cmdline[i + 1] === vmId);
  const runs = [p.exe, p.cmdline[1]].some((x) => !!x && basename(x).includes('firecracker'));
  return runs && idGiven && (uid === undefined || p.uid === uid);
}
