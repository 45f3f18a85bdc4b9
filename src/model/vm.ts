import { z } from 'zod';

/** The durable shape of a VM, image and kernel as the store keeps them (docs/reference/rpc.md). */
export const VM_STATES = ['created', 'running', 'stopped', 'error'] as const;
export type VmState = (typeof VM_STATES)[number];

export const VMM_KINDS = ['firecracker', 'qemu'] as const;
export type VmmKind = (typeof VMM_KINDS)[number];

/**
 * How a VM's root disk sits on the shared read-only image (docs/howto/vms.md): a qcow2 overlay (QEMU),
 * a device-mapper persistent snapshot over loop devices, or a sparse copy. Chosen at create
 * time and kept, since the files on disk follow it.
 */
export const ROOT_OVERLAYS = ['qcow2', 'dm-snapshot', 'copy'] as const;
export type RootOverlay = (typeof ROOT_OVERLAYS)[number];

/** What `vm.create` and the config's `vmm` accept: a back-end, or auto (docs/howto/vms.md). */
export const VMM_SETTINGS = ['auto', ...VMM_KINDS] as const;

/*
 * The shapes below cross the wire (the RPC method table in rpc/methods.ts uses these
 * schemas for its results) and are what the store keeps; the types are derived from them,
 * so there is one declaration of each. Results use z.object: keys a newer daemon adds are
 * dropped by an older client rather than refused.
 */

export const vmSpecSchema = z.object({
  vcpu: z.number(),
  memoryMib: z.number(),
  diskSizeBytes: z.number(),
  systemOverlaySizeBytes: z.number(),
});
export type VmSpec = z.infer<typeof vmSpecSchema>;

export const workspaceSchema = z.object({
  guestPath: z.string(),
  hostPath: z.string(),
  baseCommit: z.string().nullable(),
  head: z.string().nullable(),
});
export type Workspace = z.infer<typeof workspaceSchema>;

export const vmSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(VM_STATES),
  imageId: z.string().nullable(),
  imageName: z.string().nullable(),
  spec: vmSpecSchema,
  guestIp: z.string().nullable(),
  mac: z.string().nullable(),
  vmDir: z.string(),
  dnsName: z.string(),
  vmm: z.enum(VMM_KINDS),
  rootOverlay: z.enum(ROOT_OVERLAYS),
  nat: z.boolean(),
  workspace: workspaceSchema.nullable(),
  createdAt: z.string(),
  touchedAt: z.string(),
  lastError: z.string().nullable(),
  /** A running VM that is paused, or a stopped VM whose memory state was saved (`vm stop --save`). */
  suspended: z.enum(['paused', 'saved']).nullable(),
  /** The warm template this VM was restored from, whose frozen disks its own sit on (null: booted cold). */
  templateKey: z.string().nullable(),
});
export type Vm = z.infer<typeof vmSchema>;

/** The state `vm list` shows: `paused` and `saved` are running and stopped VMs with their memory kept. */
export type ShownState = VmState | 'paused' | 'saved';
export function shownState(vm: Pick<Vm, 'state' | 'suspended'>): ShownState {
  if (vm.state === 'running' && vm.suspended === 'paused') return 'paused';
  if (vm.state === 'stopped' && vm.suspended === 'saved') return 'saved';
  return vm.state;
}

export const kernelSchema = z.object({
  id: z.string(),
  name: z.string(),
  version: z.string().nullable(),
  source: z.string(),
  kernelPath: z.string(),
  initrdPath: z.string().nullable(),
  modulesDir: z.string().nullable(),
  sha256: z.string().nullable(),
  createdAt: z.string(),
});
export type Kernel = z.infer<typeof kernelSchema>;

/**
 * What an image pulled from an OCI registry came from and what banger found and added
 * (`image show`). `init` decides how the guest boots (docs/howto/images.md): systemd keeps
 * /sbin/init and gets the agent as a unit; another init is started by banger-init after
 * the agent; none leaves banger-init as PID 1.
 */
/** Package managers `--install-sshd` knows how to drive (src/ociimage/sshdInstall.ts). */
export const PACKAGE_MANAGERS = ['apt', 'apk', 'dnf', 'yum', 'pacman', 'zypper'] as const;
export type PackageManager = (typeof PACKAGE_MANAGERS)[number];

export const imageOciSchema = z.object({
  ref: z.string(),
  manifestDigest: z.string(),
  configDigest: z.string(),
  layers: z.array(z.object({ digest: z.string(), size: z.number(), mediaType: z.string() })),
  os: z.string().nullable(),
  init: z.enum(['systemd', 'other', 'none']),
  initPath: z.string().nullable(),
  sshd: z.boolean(),
  installSshd: z.boolean(),
  packageManager: z.enum(PACKAGE_MANAGERS).nullable(),
  injected: z.array(z.string()),
  skipped: z.array(z.object({ path: z.string(), why: z.string() })),
});
export type ImageOci = z.infer<typeof imageOciSchema>;

export const imageSchema = z.object({
  id: z.string(),
  name: z.string(),
  source: z.string(),
  distro: z.string().nullable(),
  arch: z.string(),
  rootfsPath: z.string(),
  workSeedPath: z.string().nullable(),
  kernelId: z.string().nullable(),
  initrdPath: z.string().nullable(),
  sizeBytes: z.number(),
  createdAt: z.string(),
  /** Set for images pulled from an OCI registry; null for catalog builds and registered images. */
  oci: imageOciSchema.nullable().default(null),
});
export type Image = z.infer<typeof imageSchema>;

/** VM ids are 8 lowercase hex characters so that `tap-fc-<id>` fits IFNAMSIZ (15). */
export const VM_ID_PATTERN = /^[0-9a-f]{8}$/;

export function dnsNameOf(vmName: string): string {
  return `${vmName}.vm`;
}
