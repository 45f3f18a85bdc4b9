import { fstatSync, readFileSync } from 'node:fs';
import { BangerError } from '../model/index.js';
import { vmStateRelative } from '../paths/index.js';
import type { PrivParams } from '../privops/index.js';
import { hostcalls, type HostRunner } from '../system/index.js';
import { dmDevice, dmName, dmSnapshotCreate, dmSnapshotTeardown, parseSnapshotTable } from '../vmdisk/index.js';
import { deviceNumbers } from './jailOps.js';
import { closeQuietly, openOwnerInput, openOwnerState, type HelperScope } from './scope.js';

/** device-mapper is usable when the kernel has registered its control device (/proc/misc). */
export function deviceMapperAvailable(procMisc = '/proc/misc'): boolean {
  try {
    return /^\s*\d+\s+device-mapper$/m.test(readFileSync(procMisc, 'utf8'));
  } catch {
    return false;
  }
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
 * Loop devices whose backing file is the inode `ino` on device `majMin`, from
 * `losetup --list --noheadings --output NAME,BACK-INO,BACK-MAJ:MIN`: a backing file's name
 * is wherever the owner has since renamed it to, its inode is what root attached.
 */
export function loopsBackedBy(output: string, ino: number, majMin: string): string[] {
  const out: string[] = [];
  for (const line of output.split('\n')) {
    const m = /^(\/dev\/loop\d+)\s+(\d+)\s+(\d+:\d+)\s*$/.exec(line.trim());
    if (m && Number(m[2]) === ino && m[3] === majMin) out.push(m[1]!);
  }
  return out;
}

const majMinOf = (dev: number) => {
  const n = deviceNumbers(BigInt(dev));
  return `${n.major}:${n.minor}`;
};

/**
 * Root disks as device-mapper snapshots, for PrivilegedOps: loop devices over the owner's
 * read-only image and the VM's sparse COW file, each opened once under the owner's state
 * directory, checked to be the owner's regular file, and attached by descriptor; a persistent snapshot `fc-rootfs-<id>` owned by the owner. A failure
 * part-way undoes what was made. Refused with a clear reason on hosts without device-mapper.
 */
export class RootSnapshotOps {
  constructor(
    private readonly o: {
      runner: HostRunner;
      scope: HelperScope;
      deviceMapper?: () => boolean;
      /** Attaches a loop device to an open file (default: LOOP_SET_FD through hostcalls); tests record it. */
      attachLoop?: (fd: number) => string;
    },
  ) {}

  private hasDeviceMapper(): boolean {
    return (this.o.deviceMapper ?? deviceMapperAvailable)();
  }

  async attach(p: PrivParams<'attachRootSnapshot'>): Promise<{ device: string }> {
    const { vmId } = p;
    const { scope, runner: run } = this.o;
    if (!this.hasDeviceMapper()) {
      throw new BangerError(
        'operation_failed',
        'device-mapper is not available on this host (no device-mapper in /proc/misc)',
        { hint: 'load it with `modprobe dm_snapshot`, or set rootfs_overlay = "copy"' },
      );
    }
    await this.detach({ vmId }); // a snapshot left by a daemon that died mid-stop
    const files = openOwnerState(scope).use((owner) => {
      const image = openOwnerInput(owner, scope, p.image, 'image');
      try {
        return {
          image,
          cow: openOwnerInput(
            owner,
            scope,
            `${scope.ownerStateDir}/${vmStateRelative(vmId).rootfsCow}`,
            'COW file',
            'write',
          ),
        };
      } catch (e) {
        closeQuietly(image.fd);
        throw e;
      }
    });
    try {
      // The loop devices are attached to the descriptors themselves (LOOP_SET_FD), never to a
      // path: losetup would turn /proc/PID/fd/N back into a name and open that.
      const attachLoop = this.o.attachLoop ?? ((fd: number) => hostcalls().loopAttach(fd));
      const origin = attachLoop(files.image.fd); // read-only: the descriptor is
      let cow: string | null = null;
      try {
        cow = attachLoop(files.cow.fd);
        await run.run(dmSnapshotCreate(vmId, files.image.size, origin, cow));
        // /dev/mapper is root's: the device's name cannot be swapped by the owner.
        await run.run(['chown', `${scope.ownerUid}:${scope.ownerGid}`, dmDevice(vmId)]);
      } catch (e) {
        const undo = dmSnapshotTeardown(vmId, origin, cow ?? '').filter((argv) => !argv.includes(''));
        for (const argv of undo) await run.run(argv, { allowFailure: true });
        throw e;
      }
    } finally {
      closeQuietly(files.image.fd);
      closeQuietly(files.cow.fd);
    }
    return { device: dmDevice(vmId) };
  }

  /** Removes the snapshot and its loop devices (also loops of the COW file left without one). None is fine. */
  async detach(p: PrivParams<'detachRootSnapshot'>): Promise<void> {
    const { vmId } = p;
    if (!this.hasDeviceMapper()) return;
    const run = this.o.runner;
    const table = await run.run(['dmsetup', 'table', dmName(vmId)], { allowFailure: true });
    const devices = table.exitCode === 0 ? parseSnapshotTable(table.stdout) : null;
    if (devices) {
      const loops = parseLoopList(
        (await run.run(['losetup', '--list', '--noheadings', '--output', 'NAME,MAJ:MIN'], { allowFailure: true }))
          .stdout,
      );
      const origin = loops.get(devices.origin);
      const cow = loops.get(devices.cow);
      await run.run(['dmsetup', 'remove', dmName(vmId)]);
      for (const loop of [cow, origin]) if (loop) await run.run(['losetup', '-d', loop], { allowFailure: true });
    } else if (table.exitCode === 0) {
      await run.run(['dmsetup', 'remove', dmName(vmId)]);
    }
    // Loop devices of the COW file that no snapshot uses any more, found by its inode.
    const cow = this.cowIdentity(vmId);
    if (!cow) return;
    const left = await run.run(['losetup', '--list', '--noheadings', '--output', 'NAME,BACK-INO,BACK-MAJ:MIN'], {
      allowFailure: true,
    });
    for (const loop of loopsBackedBy(left.stdout, cow.ino, cow.majMin))
      await run.run(['losetup', '-d', loop], { allowFailure: true });
  }

  /** The COW file's inode and device, or null when it is gone (or not the owner's). */
  private cowIdentity(vmId: string): { ino: number; majMin: string } | null {
    const { scope } = this.o;
    try {
      return openOwnerState(scope).use((owner) => {
        const f = openOwnerInput(owner, scope, `${scope.ownerStateDir}/${vmStateRelative(vmId).rootfsCow}`, 'COW file');
        try {
          return { ino: f.ino, majMin: majMinOf(fstatSync(f.fd).dev) };
        } finally {
          closeQuietly(f.fd);
        }
      });
    } catch {
      return null;
    }
  }
}
