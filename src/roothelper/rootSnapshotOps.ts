import { readFileSync, statSync } from 'node:fs';
import { dmDevice, dmName, dmSnapshotCreate, dmSnapshotLoopArgv, dmSnapshotTeardown, parseSnapshotTable } from '../firecracker/index.js';
import { BangerError } from '../model/index.js';
import type { HostRunner } from '../system/index.js';
import { validateId, validatePathUnder, validateVmId } from './validate.js';

/** device-mapper is usable when the kernel has registered its control device (/proc/misc). */
export function deviceMapperAvailable(procMisc = '/proc/misc'): boolean {
  try { return /^\s*\d+\s+device-mapper$/m.test(readFileSync(procMisc, 'utf8')); } catch { return false; }
}

/** Loop device names by block device number, from `losetup --list --noheadings --output NAME,MAJ:MIN`. */
export function parseLoopList(output: string): Map<string, string> {
  const byNumber = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^(\/dev\/loop\d+)\s+(\d+:\d+)\s*$/.exec(line.trim());
    if (m) byNumber.set(m[2]!, m[1]!);
  }
  return byNumber;
}

/**
 * Root disks as device-mapper snapshots (issue 7), for PrivilegedOps: loop devices over the
 * read-only image and the VM's sparse COW file, a persistent snapshot `fc-rootfs-<id>`
 * handed to the VMM's uid. A failure part-way undoes what was made. Refused with a clear
 * reason on hosts without device-mapper, where banger uses sparse copies instead.
 */
export class RootSnapshotOps {
  constructor(private readonly o: { runner: HostRunner; roots: readonly string[]; deviceMapper?: () => boolean }) {}

  private hasDeviceMapper(): boolean {
    return (this.o.deviceMapper ?? deviceMapperAvailable)();
  }

  private requireDeviceMapper(): void {
    if (!this.hasDeviceMapper()) {
      throw new BangerError('operation_failed', 'device-mapper is not available on this host (no device-mapper in /proc/misc)', { hint: 'load it with `modprobe dm_snapshot`, or set rootfs_overlay = "copy"' });
    }
  }

  async attach(p: { vmId: string; image: string; cowFile: string; ownerUid: number; ownerGid: number }): Promise<{ device: string }> {
    const vmId = validateVmId(p.vmId);
    const image = validatePathUnder(p.image, this.o.roots, 'image');
    const cowFile = validatePathUnder(p.cowFile, this.o.roots, 'COW file');
    const uid = validateId(p.ownerUid, 'uid');
    const gid = validateId(p.ownerGid, 'gid');
    this.requireDeviceMapper();
    await this.detach({ vmId, cowFile }); // a snapshot left by a daemon that died mid-stop
    const loops = dmSnapshotLoopArgv(image, cowFile);
    const run = this.o.runner;
    const origin = (await run.run(loops.origin)).stdout.trim();
    let cow: string | null = null;
    try {
      cow = (await run.run(loops.cow)).stdout.trim();
      await run.run(dmSnapshotCreate(vmId, statSync(image).size, origin, cow));
      await run.run(['chown', `${uid}:${gid}`, dmDevice(vmId)]);
    } catch (e) {
      const undo = dmSnapshotTeardown(vmId, origin, cow ?? '').filter((argv) => !argv.includes(''));
      for (const argv of undo) await run.run(argv, { allowFailure: true });
      throw e;
    }
    return { device: dmDevice(vmId) };
  }

  /** Removes the snapshot and its loop devices (also loops of the COW file left without one). None is fine. */
  async detach(p: { vmId: string; cowFile: string }): Promise<void> {
    const vmId = validateVmId(p.vmId);
    const cowFile = validatePathUnder(p.cowFile, this.o.roots, 'COW file');
    if (!this.hasDeviceMapper()) return;
    const run = this.o.runner;
    const table = await run.run(['dmsetup', 'table', dmName(vmId)], { allowFailure: true });
    const devices = table.exitCode === 0 ? parseSnapshotTable(table.stdout) : null;
    if (devices) {
      const loops = parseLoopList((await run.run(['losetup', '--list', '--noheadings', '--output', 'NAME,MAJ:MIN'], { allowFailure: true })).stdout);
      const origin = loops.get(devices.origin);
      const cow = loops.get(devices.cow);
      await run.run(['dmsetup', 'remove', dmName(vmId)]);
      for (const loop of [cow, origin]) if (loop) await run.run(['losetup', '-d', loop], { allowFailure: true });
    } else if (table.exitCode === 0) {
      await run.run(['dmsetup', 'remove', dmName(vmId)]);
    }
    // Loop devices of the COW file that no snapshot uses any more ("/dev/loop4: [2049]:123 (/path)").
    const left = await run.run(['losetup', '-j', cowFile], { allowFailure: true });
    for (const line of left.stdout.split('\n')) {
      const loop = /^(\/dev\/loop\d+):/.exec(line)?.[1];
      if (loop) await run.run(['losetup', '-d', loop], { allowFailure: true });
    }
  }
}
