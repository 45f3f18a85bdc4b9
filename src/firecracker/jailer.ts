import { basename, join } from 'node:path';

/**
 * The jailer plan (issue 7), pure: where the per-VM chroot is, what goes into it, and the
 * jailer's argv. The jailer makes `<chroot_base>/<exec file name>/<id>/root`, drops to the
 * owner's uid/gid, execs Firecracker inside, and writes `<exec file name>.pid` in the
 * chroot. Files are hard-linked in (they must be on the chroot's filesystem), block devices
 * and /dev/vhost-vsock are made as device nodes, all through PrivilegedOps. A unix socket
 * path is at most 108 bytes, so a long API socket path is reached through a short symlink.
 */
export interface JailerInput {
  vmId: string;
  jailerBin: string;
  firecrackerBin: string;
  chrootBase: string;
  uid: number;
  gid: number;
  kernel: string;
  initrd: string | null;
  rootDrive: string;
  workDisk: string;
  /** A short directory for socket symlinks (the VM's runtime dir). */
  shortDir: string;
}

export interface JailerPlan {
  argv: string[];
  chrootRoot: string;
  /** Host files hard-linked into the chroot, and the name Firecracker sees them by. */
  links: Array<{ from: string; to: string; inJail: string }>;
  /** Device nodes to make in the chroot (block devices copy the host device's numbers). */
  devices: Array<{ hostDevice: string; to: string; inJail: string }>;
  apiSocket: string;
  /** What the daemon dials: the socket itself, or a short symlink to it when the path is too long. */
  apiSocketDial: string;
  vsockUds: string;
  pidFile: string;
}

export const UNIX_PATH_MAX = 107;

export function planJailer(i: JailerInput): JailerPlan {
  const exec = basename(i.firecrackerBin);
  const chrootRoot = join(i.chrootBase, exec, i.vmId, 'root');
  const inJail = (p: string) => join(chrootRoot, p);
  const links = [
    { from: i.kernel, to: inJail('vmlinux'), inJail: '/vmlinux' },
    ...(i.initrd ? [{ from: i.initrd, to: inJail('initrd.img'), inJail: '/initrd.img' }] : []),
    { from: i.workDisk, to: inJail('work.ext4'), inJail: '/work.ext4' },
  ];
  // The root drive is a device-mapper device (or a sparse copy, then linked like a file).
  const devices = i.rootDrive.startsWith('/dev/')
    ? [{ hostDevice: i.rootDrive, to: inJail('rootfs'), inJail: '/rootfs' }, { hostDevice: '/dev/vhost-vsock', to: inJail('dev/vhost-vsock'), inJail: '/dev/vhost-vsock' }]
    : [{ hostDevice: '/dev/vhost-vsock', to: inJail('dev/vhost-vsock'), inJail: '/dev/vhost-vsock' }];
  if (!i.rootDrive.startsWith('/dev/')) links.push({ from: i.rootDrive, to: inJail('rootfs'), inJail: '/rootfs' });
  const apiSocket = inJail('run/firecracker.socket');
  const apiSocketDial = apiSocket.length > UNIX_PATH_MAX ? join(i.shortDir, 'fc-api.sock') : apiSocket;
  return {
    argv: [
      i.jailerBin, '--id', i.vmId, '--exec-file', i.firecrackerBin, '--uid', String(i.uid), '--gid', String(i.gid),
      '--chroot-base-dir', i.chrootBase, '--daemonize', '--', '--api-sock', '/run/firecracker.socket',
    ],
    chrootRoot, links, devices, apiSocket, apiSocketDial, vsockUds: inJail('run/vsock.sock'), pidFile: inJail(`${exec}.pid`),
  };
}

/** Two paths are on one filesystem when their st_dev matches (hard links need it). */
export function sameFilesystemProblem(a: { path: string; dev: number }, b: { path: string; dev: number }): string | null {
  return a.dev === b.dev ? null : `${a.path} and ${b.path} are on different filesystems, so the kernel cannot be hard-linked into the jail; put jailer_chroot_base on the filesystem of banger's state directory`;
}
