/**
 * Copy-on-write root disks through device-mapper (issue 7), planned as exact argv: the
 * read-only image and a sparse COW file on loop devices, then a persistent snapshot target
 * `fc-rootfs-<id>`. Loop device names are only known once losetup has run, so the plan is
 * a function of them. Executed through PrivilegedOps on hosts with device-mapper; elsewhere
 * the root disk is a sparse copy (and `vm show` says which).
 */
export const dmName = (vmId: string) => `fc-rootfs-${vmId}`;

export interface DmSnapshotInput {
  vmId: string;
  image: string;
  imageSizeBytes: number;
  cowFile: string;
  cowSizeBytes: number;
}

export function dmSnapshotPrepare(i: DmSnapshotInput): string[][] {
  return [
    ['truncate', '-s', String(i.cowSizeBytes), i.cowFile],
    ['losetup', '--find', '--show', '--read-only', i.image],
    ['losetup', '--find', '--show', i.cowFile],
  ];
}

/** The table line: the whole image (512-byte sectors), persistent snapshot, 8-sector (4 KiB) chunks. */
export function dmSnapshotTable(imageSizeBytes: number, originLoop: string, cowLoop: string): string {
  return `0 ${Math.ceil(imageSizeBytes / 512)} snapshot ${originLoop} ${cowLoop} P 8`;
}

export function dmSnapshotCreate(i: DmSnapshotInput, originLoop: string, cowLoop: string): string[] {
  return ['dmsetup', 'create', dmName(i.vmId), '--table', dmSnapshotTable(i.imageSizeBytes, originLoop, cowLoop)];
}

/** Undo, newest first: the device, then both loop devices. */
export function dmSnapshotTeardown(vmId: string, originLoop: string, cowLoop: string): string[][] {
  return [['dmsetup', 'remove', dmName(vmId)], ['losetup', '-d', cowLoop], ['losetup', '-d', originLoop]];
}
