/**
 * A VM's two disks. The root disk is a copy-on-write view of the shared, read-only image
 * rootfs: a qcow2 overlay whose backing file is the image (QEMU), or a sparse copy where
 * qcow2 cannot be used. The work disk (mounted at /root) is a sparse copy of the image's
 * work seed grown to the VM's disk size. Both survive stop/start; delete removes them.
 */
import { chmodSync, copyFileSync, linkSync } from 'node:fs';
import { MIB } from '../model/index.js';
import type { HostRunner } from '../system/index.js';
import { writeExt4Files } from './ext4Files.js';

export async function createRootOverlay(
  runner: HostRunner,
  image: string,
  overlay: string,
  sizeBytes: number,
  mode: 'qcow2' | 'copy',
): Promise<'qcow2' | 'raw'> {
  if (mode === 'qcow2') {
    await runner.run([
      'qemu-img',
      'create',
      '-q',
      '-f',
      'qcow2',
      '-F',
      'raw',
      '-b',
      image,
      overlay,
      `${Math.floor(sizeBytes / MIB)}M`,
    ]);
    return 'qcow2';
  }
  await runner.run(['cp', '--sparse=always', image, overlay], { timeoutMs: 600_000 });
  chmodSync(overlay, 0o600);
  return 'raw';
}

/** Clones the work seed (or makes an empty ext4) and grows it to `sizeBytes`. */
export async function createWorkDisk(
  runner: HostRunner,
  seed: string | null,
  disk: string,
  sizeBytes: number,
): Promise<void> {
  const sizeArg = `${Math.floor(sizeBytes / MIB)}M`;
  if (!seed) {
    await runner.run(['truncate', '-s', sizeArg, disk]);
    await runner.run(['mkfs.ext4', '-q', '-F', '-L', 'banger-work', '-E', 'root_owner=0:0,lazy_itable_init=1', disk]);
    return;
  }
  copyFileSync(seed, disk);
  await growWorkDisk(runner, disk, sizeBytes);
}

/** Grows an ext4 disk image (file and filesystem) to `sizeBytes`; never shrinks. */
export async function growWorkDisk(runner: HostRunner, disk: string, sizeBytes: number): Promise<void> {
  const sizeArg = `${Math.floor(sizeBytes / MIB)}M`;
  await runner.run(['truncate', '-s', `>${sizeArg}`, disk]);
  // resize2fs insists on a freshly checked filesystem.
  await runner.run(['e2fsck', '-f', '-p', disk], { allowFailure: true });
  await runner.run(['resize2fs', '-f', disk, sizeArg]);
}

export interface WorkDiskFile {
  /** Path inside the work disk (whose root is the guest's /root). */
  path: string;
  content: string | Buffer;
  mode: number;
}

/** Writes root-owned files into a work disk; directories it creates are private (0700). */
export function writeWorkDiskFiles(runner: HostRunner, disk: string, files: readonly WorkDiskFile[]): Promise<void> {
  return writeExt4Files(runner, disk, files, { dirMode: 0o700 });
}

/**
 * A private copy of a disk image: shared blocks where the filesystem can (reflink: btrfs,
 * xfs), else a sparse copy, so only written blocks take space. Writable by its owner alone.
 */
export async function cloneDisk(runner: HostRunner, source: string, target: string): Promise<void> {
  await runner.run(['cp', '--reflink=auto', '--sparse=always', source, target], { timeoutMs: 600_000 });
  chmodSync(target, 0o600);
}

/**
 * A VM's root layer over a warm template's frozen root disk (docs/howto/snapshots.md): a
 * qcow2 overlay backed by the template's qcow2 (its chain reaches the image), or, for a raw
 * root (Firecracker), a private clone of it.
 */
export async function layerOnFrozenRoot(
  runner: HostRunner,
  frozen: string,
  target: string,
  format: 'qcow2' | 'raw',
): Promise<void> {
  if (format === 'raw') return cloneDisk(runner, frozen, target);
  await runner.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', frozen, target]);
}

/**
 * `target` made the same file as `source` (a hard link: no copy, and it outlives the
 * removal of `source`), or a clone where the two are on different filesystems.
 */
export async function linkOrClone(runner: HostRunner, source: string, target: string): Promise<void> {
  try {
    linkSync(source, target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await cloneDisk(runner, source, target);
  }
}

/** Points a qcow2 layer at another (identical) backing file: the header only (`qemu-img rebase -u`). */
export async function repointBacking(runner: HostRunner, layer: string, backing: string): Promise<void> {
  await runner.run(['qemu-img', 'rebase', '-u', '-F', 'qcow2', '-b', backing, layer]);
}
