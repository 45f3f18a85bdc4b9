/** The durable shape of a VM, image and kernel as the store keeps them (SPEC 5). */
export const VM_STATES = ['created', 'running', 'stopped', 'error'] as const;
export type VmState = (typeof VM_STATES)[number];

export const VMM_KINDS = ['firecracker', 'qemu'] as const;
export type VmmKind = (typeof VMM_KINDS)[number];

/**
 * How a VM's root disk sits on the shared read-only image (SPEC 6): a qcow2 overlay (QEMU),
 * a device-mapper persistent snapshot over loop devices, or a sparse copy. Chosen at create
 * time and kept, since the files on disk follow it.
 */
export const ROOT_OVERLAYS = ['qcow2', 'dm-snapshot', 'copy'] as const;
export type RootOverlay = (typeof ROOT_OVERLAYS)[number];

export interface VmSpec {
  vcpu: number;
  memoryMib: number;
  diskSizeBytes: number;
  systemOverlaySizeBytes: number;
}

export interface Workspace {
  guestPath: string;
  hostPath: string;
  baseCommit: string | null;
  head: string | null;
}

export interface Vm {
  id: string;
  name: string;
  state: VmState;
  imageId: string | null;
  imageName: string | null;
  spec: VmSpec;
  guestIp: string | null;
  mac: string | null;
  vmDir: string;
  dnsName: string;
  vmm: VmmKind;
  rootOverlay: RootOverlay;
  nat: boolean;
  workspace: Workspace | null;
  createdAt: string;
  touchedAt: string;
  lastError: string | null;
}

export interface Kernel {
  id: string;
  name: string;
  version: string | null;
  source: string;
  kernelPath: string;
  initrdPath: string | null;
  modulesDir: string | null;
  sha256: string | null;
  createdAt: string;
}

export interface Image {
  id: string;
  name: string;
  source: string;
  distro: string | null;
  arch: string;
  rootfsPath: string;
  workSeedPath: string | null;
  kernelId: string | null;
  initrdPath: string | null;
  sizeBytes: number;
  createdAt: string;
}

/** VM ids are 8 lowercase hex characters so that `tap-fc-<id>` fits IFNAMSIZ (15). */
export const VM_ID_PATTERN = /^[0-9a-f]{8}$/;

export function dnsNameOf(vmName: string): string {
  return `${vmName}.vm`;
}
