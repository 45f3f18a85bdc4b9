import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { VMM_KINDS } from '../model/index.js';
import type { BootSpec } from '../vmm/index.js';

/**
 * The machine a saved guest state belongs to: what its VMM was started with, apart from the
 * new VM's own files, disks and tap. A restore starts a VMM of exactly this shape (QEMU
 * checks the devices; the guest's MAC is the saved one until the agent changes it), so every
 * VMM start and restore records its shape beside the VM, and every saved state carries a copy.
 */
export const guestShapeSchema = z.object({
  vmm: z.enum(VMM_KINDS),
  hostname: z.string().min(1).max(63),
  mac: z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/),
  addressCidr: z.string().nullable(),
  gateway: z.string(),
  dns: z.string(),
  kernelPath: z.string(),
  initrdPath: z.string().nullable(),
  vcpu: z.number().int().min(1),
  memoryMib: z.number().int().min(1),
  rootFormat: z.enum(['qcow2', 'raw']),
});
export type GuestShape = z.infer<typeof guestShapeSchema>;

/** The file a saved state's shape is kept in, inside the state directory. */
export const SHAPE_FILE = 'shape.json';

export function shapeOf(spec: BootSpec, vmm: GuestShape['vmm']): GuestShape {
  return {
    vmm,
    hostname: spec.hostname,
    mac: spec.network.mac,
    addressCidr: spec.network.addressCidr,
    gateway: spec.network.gateway,
    dns: spec.network.dns,
    kernelPath: spec.kernelPath,
    initrdPath: spec.initrdPath,
    vcpu: spec.vcpu,
    memoryMib: spec.memoryMib,
    rootFormat: spec.rootDisk.format,
  };
}

/**
 * The boot spec that restores a state of `shape` onto a new VM's own id (its VMM's name, its
 * jail), files, disks and tap.
 */
export function restoreSpec(
  shape: GuestShape,
  own: Pick<BootSpec, 'vmId' | 'files' | 'workDisk'> & { rootPath: string; tap: string },
): BootSpec {
  return {
    vmId: own.vmId,
    hostname: shape.hostname,
    vcpu: shape.vcpu,
    memoryMib: shape.memoryMib,
    kernelPath: shape.kernelPath,
    initrdPath: shape.initrdPath,
    rootDisk: { path: own.rootPath, format: shape.rootFormat },
    workDisk: own.workDisk,
    network: {
      tap: own.tap,
      mac: shape.mac,
      addressCidr: shape.addressCidr,
      gateway: shape.gateway,
      dns: shape.dns,
    },
    files: own.files,
  };
}

export function writeShape(file: string, shape: GuestShape): void {
  writeFileSync(file, `${JSON.stringify(shape, null, 2)}\n`, { mode: 0o600 });
}

/** The shape in `file`, or a reason it cannot be used (missing, corrupt). */
export function readShape(file: string): GuestShape | { problem: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return { problem: `cannot read ${file}: ${(e as Error).message}` };
  }
  const r = guestShapeSchema.safeParse(raw);
  return r.success ? r.data : { problem: `${file} is not a saved guest shape: ${r.error.issues[0]?.message}` };
}

/** The shape file inside a state directory. */
export function shapeFileIn(stateDir: string): string {
  return join(stateDir, SHAPE_FILE);
}
