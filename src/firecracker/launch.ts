import { closeSync, existsSync, openSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BangerError } from '../model/index.js';
import type { OpCtx } from '../opctx/index.js';
import type { PrivilegedOps } from '../privops/index.js';
import { acceptsConnections, isProcessAlive, sleep } from '../system/index.js';
import type { BootSpec } from '../vmm/index.js';
import { buildFirecrackerConfig } from './config.js';
import { IN_JAIL } from './jailer.js';
import { PLAIN, stateFiles } from './snapshot.js';

/** How long a started Firecracker may take to make its API socket. */
export const API_READY_MS = 10_000;

/** A file Firecracker's logger or metrics may open (it wants an existing file or pipe). */
export function touch(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
}

/** A VM's root disk given as a block device (a /dev path) rather than an image file. */
export const rootIsDevice = (spec: BootSpec) => spec.rootDisk.path.startsWith('/dev/');

/**
 * What the jail of `spec` is given: the kernel and the initrd (if any) to boot, or the
 * snapshot files of `stateDir` to load; the work disk and the root disk (hard-linked as a
 * file, or as a device node when it is a block device), and /dev/vhost-vsock where the host
 * has one.
 */
export function jailContents(
  spec: BootSpec,
  from: { vmlinux: string } | { stateDir: string },
): Parameters<PrivilegedOps['prepareJail']>[0] {
  const rootDevice = rootIsDevice(spec);
  const state = 'stateDir' in from ? stateFiles(from.stateDir) : null;
  const boot = state
    ? [
        { source: state.vmstate, name: 'snapshot.vmstate' as const },
        { source: state.mem, name: 'snapshot.mem' as const },
      ]
    : [
        { source: (from as { vmlinux: string }).vmlinux, name: 'vmlinux' as const },
        ...(spec.initrdPath ? [{ source: spec.initrdPath, name: 'initrd.img' as const }] : []),
      ];
  return {
    vmId: spec.vmId,
    files: [
      ...boot,
      { source: spec.workDisk, name: 'work.ext4' },
      ...(rootDevice ? [] : [{ source: spec.rootDisk.path, name: 'rootfs' as const }]),
    ],
    devices: [
      ...(rootDevice ? [{ source: spec.rootDisk.path, name: 'rootfs' as const }] : []),
      // Firecracker's vsock is its own (a unix socket on the host); the node is only given where the host has one.
      ...(existsSync('/dev/vhost-vsock') ? [{ source: '/dev/vhost-vsock', name: 'dev/vhost-vsock' as const }] : []),
    ],
  };
}

/**
 * Polls (every 50 ms) until the jailed Firecracker `pid` accepts on its API socket; throws
 * `operation_failed` if it exits first or takes over API_READY_MS, `interrupted` on abort.
 */
export async function waitForJailedApi(pid: number, spec: BootSpec, ctx: OpCtx): Promise<void> {
  const f = spec.files;
  const deadline = Date.now() + API_READY_MS;
  while (!(await acceptsConnections(f.firecrackerApiSocket))) {
    if (!isProcessAlive(pid))
      throw new BangerError(
        'operation_failed',
        `the jailed firecracker for VM ${spec.hostname} exited before its API was up`,
        { hint: `see ${f.consoleLog}` },
      );
    if (Date.now() > deadline)
      throw new BangerError(
        'operation_failed',
        `the jailed firecracker for VM ${spec.hostname} made no API socket within ${API_READY_MS / 1000} s`,
        { hint: `see ${f.consoleLog}` },
      );
    if (ctx.signal?.aborted) throw new BangerError('interrupted', `cancelled while starting VM ${spec.hostname}`);
    await sleep(50);
  }
}

/** The Firecracker configuration of `spec` in the jail: every path is the fixed one inside the chroot (IN_JAIL). */
export function jailedConfig(spec: BootSpec): ReturnType<typeof buildFirecrackerConfig> {
  return buildFirecrackerConfig(spec, {
    vmlinux: IN_JAIL.kernel,
    initrd: spec.initrdPath ? IN_JAIL.initrd : null,
    rootDrive: rootIsDevice(spec) ? IN_JAIL.rootDevice : IN_JAIL.rootDrive,
    workDisk: IN_JAIL.workDisk,
    logFile: IN_JAIL.logFile,
    metricsFile: IN_JAIL.metricsFile,
    vsockUds: IN_JAIL.vsockUds,
  });
}

/** A plain Firecracker's log and metrics files, in the VM's directory. */
export function plainLogFiles(spec: BootSpec): { logFile: string; metricsFile: string } {
  return {
    logFile: join(spec.files.dir, 'firecracker.log'),
    metricsFile: join(spec.files.dir, 'firecracker.metrics'),
  };
}

/**
 * The configuration of `spec` for a plain Firecracker, whose working directory is the VM's
 * runtime directory: disks and the vsock socket by the relative names of PLAIN (see
 * preparePlainDir), so that a snapshot records names every VM resolves to its own files.
 */
export function plainConfig(spec: BootSpec, vmlinux: string): ReturnType<typeof buildFirecrackerConfig> {
  return buildFirecrackerConfig(spec, {
    vmlinux,
    initrd: spec.initrdPath,
    rootDrive: PLAIN.rootDrive,
    workDisk: PLAIN.workDisk,
    ...plainLogFiles(spec),
    vsockUds: PLAIN.vsockUds,
  });
}

/**
 * Readies the runtime directory a plain Firecracker runs in: the disk names of PLAIN made
 * afresh as symlinks to this VM's disks, the stale sockets gone (Firecracker refuses to bind
 * an existing path), the log and metrics files there.
 */
export function preparePlainDir(spec: BootSpec): void {
  const f = spec.files;
  for (const [name, target] of [
    [PLAIN.rootDrive, spec.rootDisk.path],
    [PLAIN.workDisk, spec.workDisk],
  ] as const) {
    rmSync(join(f.runtimeDir, name), { force: true });
    symlinkSync(target, join(f.runtimeDir, name));
  }
  rmSync(join(f.runtimeDir, PLAIN.vsockUds), { force: true });
  const logs = plainLogFiles(spec);
  touch(logs.logFile);
  touch(logs.metricsFile);
}

/** The host path of a jailed VM's chroot, from the API socket's symlink (made by the start). */
export function chrootOf(apiSocketLink: string): string {
  const target = readlinkSync(apiSocketLink);
  if (!target.endsWith(IN_JAIL.apiSocket))
    throw new BangerError('operation_failed', `${apiSocketLink} does not lead into a jail (${target})`);
  return target.slice(0, -IN_JAIL.apiSocket.length);
}
