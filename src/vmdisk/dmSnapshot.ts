/**
 * Copy-on-write root disks through device-mapper (the Firecracker root-disk strategy), planned as exact argv: the
 * read-only image and a sparse COW file on loop devices, then a persistent snapshot target
 * `fc-rootfs-<id>`. The loop devices are attached by descriptor (LOOP_SET_FD), and their
 * names are only known then, so the plan is a function of them. Carried out by PrivilegedOps.attachRootSnapshot on hosts with
 * device-mapper; elsewhere the root disk is a sparse copy (and `vm show` says which).
 */
export const dmName = (vmId: string) => `fc-rootfs-${vmId}`;
export const dmDevice = (vmId: string) => `/dev/mapper/${dmName(vmId)}`;

/** The sparse COW store, made when the VM is created (no privileges needed). */
export function dmSnapshotCowArgv(cowFile: string, cowSizeBytes: number): string[] {
  return ['truncate', '-s', String(cowSizeBytes), cowFile];
}

/** The table line: the whole image (512-byte sectors), persistent snapshot, 8-sector (4 KiB) chunks. */
export function dmSnapshotTable(imageSizeBytes: number, originLoop: string, cowLoop: string): string {
  return `0 ${Math.ceil(imageSizeBytes / 512)} snapshot ${originLoop} ${cowLoop} P 8`;
}

export function dmSnapshotCreate(vmId: string, imageSizeBytes: number, originLoop: string, cowLoop: string): string[] {
  return ['dmsetup', 'create', dmName(vmId), '--table', dmSnapshotTable(imageSizeBytes, originLoop, cowLoop)];
}

/** Undo, newest first: the device, then both loop devices. */
export function dmSnapshotTeardown(vmId: string, originLoop: string, cowLoop: string): string[][] {
  return [
    ['dmsetup', 'remove', dmName(vmId)],
    ['losetup', '-d', cowLoop],
    ['losetup', '-d', originLoop],
  ];
}

/**
 * The origin and COW devices (major:minor) of a live snapshot, from `dmsetup table NAME`
 * ("0 2097152 snapshot 7:3 7:4 P 8"); null when the line is not a snapshot target.
 */
export function parseSnapshotTable(line: string): { origin: string; cow: string } | null {
  const m = /^\s*0\s+\d+\s+snapshot\s+(\d+:\d+)\s+(\d+:\d+)\s+P\s+\d+\s*$/.exec(line);
  return m ? { origin: m[1]!, cow: m[2]! } : null;
}
