import { AGENT_VSOCK_PORT } from '../agent/index.js';
import { kernelCommandLine } from '../qemu/index.js';
import type { BootSpec } from '../vmm/index.js';

/**
 * A VM's Firecracker configuration (docs/howto/firecracker.md) as the ordered API calls that make it, a
 * pure function of the boot spec (table-tested, and accepted by the API double that
 * validates against Firecracker's own definition). The kernel command line is the one
 * banger's initramfs reads, as for QEMU.
 */
export interface ApiCall {
  method: 'PUT' | 'PATCH';
  path: string;
  body: Record<string, unknown>;
}

export interface FirecrackerPaths {
  /** The uncompressed kernel Firecracker boots on x86_64 (extracted from the bzImage). */
  vmlinux: string;
  initrd: string | null;
  /** Root disk as Firecracker sees it: the dm-snapshot device, or a sparse copy. */
  rootDrive: string;
  workDisk: string;
  logFile: string;
  metricsFile: string;
  vsockUds: string;
}

/** Guest CIDs 0-2 are reserved; a VM's CID comes from its id so it is stable and unique per host. */
export function guestCid(vmId: string): number {
  return 3 + (Number.parseInt(vmId.slice(0, 7), 16) % 0x7fff_fff0);
}

export function buildFirecrackerConfig(spec: BootSpec, p: FirecrackerPaths): ApiCall[] {
  return [
    {
      method: 'PUT',
      path: '/logger',
      body: { log_path: p.logFile, level: 'Info', show_level: true, show_log_origin: false },
    },
    { method: 'PUT', path: '/metrics', body: { metrics_path: p.metricsFile } },
    {
      method: 'PUT',
      path: '/machine-config',
      body: { vcpu_count: spec.vcpu, mem_size_mib: spec.memoryMib, smt: false },
    },
    {
      method: 'PUT',
      path: '/boot-source',
      body: {
        kernel_image_path: p.vmlinux,
        ...(p.initrd && { initrd_path: p.initrd }),
        // Firecracker's serial console is ttyS0 too; reboot=k lets a guest reboot end the VMM.
        boot_args: kernelCommandLine(spec, ['reboot=k', 'panic=1', 'pci=off']),
      },
    },
    {
      method: 'PUT',
      path: '/drives/root',
      body: { drive_id: 'root', path_on_host: p.rootDrive, is_root_device: false, is_read_only: false },
    },
    {
      method: 'PUT',
      path: '/drives/work',
      body: { drive_id: 'work', path_on_host: p.workDisk, is_root_device: false, is_read_only: false },
    },
    {
      method: 'PUT',
      path: '/network-interfaces/eth0',
      body: { iface_id: 'eth0', host_dev_name: spec.network.tap, guest_mac: spec.network.mac },
    },
    { method: 'PUT', path: '/vsock', body: { guest_cid: guestCid(spec.vmId), uds_path: p.vsockUds } },
  ];
}

/** The agent behind Firecracker's vsock: its uds path and the agent's port. */
export function firecrackerAgentEndpoint(vsockUds: string) {
  return { kind: 'vsock-uds' as const, path: vsockUds, port: AGENT_VSOCK_PORT };
}
