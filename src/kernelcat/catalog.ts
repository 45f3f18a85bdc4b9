/**
 * The embedded kernel catalog (versioned with the binary). A kernel is obtained either
 * from a Debian package on the host's own mirror, verified by apt's signed chain
 * (InRelease -> Packages -> .deb hash), plus an initramfs banger generates; or, in later
 * catalogs, from a bundle with a pinned sha256.
 */
export interface DebianPackageSource {
  kind: 'debian-package';
  /** A metapackage whose Depends names the versioned kernel package. */
  package: string;
}

export interface KernelCatalogEntry {
  name: string;
  description: string;
  source: DebianPackageSource;
  /** Firecracker needs devices on the command line or ACPI it understands, and an ELF vmlinux. */
  firecracker: boolean;
}

export const KERNEL_CATALOG_VERSION = 1;

export const KERNEL_CATALOG: readonly KernelCatalogEntry[] = [
  {
    name: 'debian-bookworm-cloud',
    description: "Debian 12's cloud kernel (linux-image-cloud-amd64, 6.1) with banger's busybox initramfs",
    source: { kind: 'debian-package', package: 'linux-image-cloud-amd64' },
    // No virtio_mmio.device= support on the command line: QEMU microvm (ACPI) only.
    firecracker: false,
  },
];

export const DEFAULT_KERNEL_NAME = 'debian-bookworm-cloud';

export function findKernelEntry(name: string): KernelCatalogEntry | undefined {
  return KERNEL_CATALOG.find((k) => k.name === name);
}
