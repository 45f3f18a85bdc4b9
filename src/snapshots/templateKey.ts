import { createHash } from 'node:crypto';
import type { VmmKind, VmSpec } from '../model/index.js';

/**
 * Everything a warm template depends on (docs/howto/snapshots.md). A template is used only
 * when all of these match the VM being made; any change (a re-pulled image, another kernel,
 * a different machine shape, back-end or VMM binary, agent or banger build) gives another key, and the old
 * template is no longer chosen.
 */
export interface TemplateInputs {
  imageId: string;
  /** The OCI manifest digest of a pulled image, else null. */
  imageDigest: string | null;
  /** size:mtime:inode of the image's root filesystem: a rebuilt image is another template. */
  rootfsStamp: string;
  kernel: string;
  /** size:mtime of the kernel and initrd. */
  kernelStamp: string;
  vcpu: number;
  memoryMib: number;
  diskSizeBytes: number;
  systemOverlaySizeBytes: number;
  vmm: VmmKind;
  /** size:mtime:inode of the VMM's binary: an upgraded QEMU or Firecracker may not load an older state. */
  vmmStamp: string;
  /** sha256 of the guest agent binary this build installs. */
  agent: string;
  /** banger's version and commit. */
  banger: string;
}

/** The VM spec fields a template depends on, out of a full spec. */
export function specInputs(
  spec: VmSpec,
): Pick<TemplateInputs, 'vcpu' | 'memoryMib' | 'diskSizeBytes' | 'systemOverlaySizeBytes'> {
  return {
    vcpu: spec.vcpu,
    memoryMib: spec.memoryMib,
    diskSizeBytes: spec.diskSizeBytes,
    systemOverlaySizeBytes: spec.systemOverlaySizeBytes,
  };
}

/** 16 hex digits of sha256 over the inputs in a fixed key order. */
export function templateKey(inputs: TemplateInputs): string {
  const ordered = Object.fromEntries(Object.entries(inputs).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(ordered)).digest('hex').slice(0, 16);
}
