/**
 * Which kernel modules the initramfs loads, and in which order. Debian's cloud kernel
 * builds virtio, virtio_mmio, virtio_blk, virtio_net, vsock and virtio_console as
 * modules, so the initramfs must insmod them, dependencies first (virtio_ring before
 * virtio, and so on). ext4 is built in.
 */
export const INITRAMFS_MODULES = [
  'virtio_mmio', // QEMU microvm's devices, found through ACPI
  'virtio_blk', // root and work disks
  'virtio_net', // the tap network
  'virtio_console', // the agent's virtio-serial port
  'virtio_rng', // entropy for sshd's first key generation
  'vmw_vsock_virtio_transport', // the agent's vsock transport where the host has vhost-vsock
] as const;

/** Parses modules.dep ("kernel/x/a.ko: kernel/y/b.ko kernel/z/c.ko") into path -> deps. */
export function parseModulesDep(text: string): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    deps.set(
      line.slice(0, i).trim(),
      line
        .slice(i + 1)
        .trim()
        .split(/\s+/)
        .filter(Boolean),
    );
  }
  return deps;
}

/** Module name as modprobe sees it: basename without .ko[.xz|.zst|.gz], '-' folded to '_'. */
export function moduleName(path: string): string {
  return path
    .split('/')
    .pop()!
    .replace(/\.ko(\.(xz|zst|gz))?$/, '')
    .replace(/-/g, '_');
}

/**
 * Paths of `wanted` modules and all their dependencies, each after everything it
 * depends on. Throws naming any wanted module the kernel does not have.
 */
export function orderModules(modulesDep: Map<string, string[]>, wanted: readonly string[]): string[] {
  const byName = new Map<string, string>();
  for (const path of modulesDep.keys()) byName.set(moduleName(path), path);
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (path: string) => {
    if (done.has(path)) return;
    if (visiting.has(path)) throw new Error(`module dependency cycle at ${path}`);
    visiting.add(path);
    for (const d of modulesDep.get(path) ?? []) visit(d);
    visiting.delete(path);
    done.add(path);
    ordered.push(path);
  };
  for (const name of wanted) {
    const path = byName.get(name.replace(/-/g, '_'));
    if (!path) throw new Error(`the kernel has no module ${name} (is it built in, or missing from this kernel?)`);
    visit(path);
  }
  return ordered;
}
