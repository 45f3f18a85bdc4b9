import { BangerError, type RootOverlay, type VMM_SETTINGS, type VmmKind } from '../model/index.js';

/**
 * Which back-end a new VM gets, and how its root disk sits on the image (docs/howto/firecracker.md, docs/howto/vms.md).
 * Pure: the host facts come in, a decision or a BangerError naming what is missing and
 * what to do goes out. The VM record keeps both, so later starts never re-decide.
 */
export type VmmSetting = (typeof VMM_SETTINGS)[number];
export type RootOverlaySetting = 'auto' | RootOverlay;

export interface VmmFacts {
  /** The firecracker binary found (config or PATH), or null. */
  firecrackerBin: string | null;
  /** Whether KVM can run guests here, and why not. */
  kvm: { usable: boolean; reason: string };
  /** The VM's kernel: its catalog verdict for Firecracker (null: not a catalog kernel, unknown). */
  kernel: { name: string; firecracker: boolean | null };
}

export interface VmmChoice {
  kind: VmmKind;
  reason: string;
  /** Said to the user when the choice carries a risk (an unknown kernel under Firecracker). */
  warning: string | null;
}

const kernelProblem = (k: VmmFacts['kernel']) =>
  `kernel ${k.name} cannot boot under Firecracker: it does not take its virtio-mmio devices from the kernel command line (Firecracker needs an ELF vmlinux with CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES, or ACPI device discovery)`;

export function selectVmm(setting: VmmSetting, f: VmmFacts): VmmChoice {
  const unknownKernel =
    f.kernel.firecracker === null
      ? `kernel ${f.kernel.name} is not in banger's catalog, so whether it suits Firecracker is unknown`
      : null;
  if (setting === 'qemu') return { kind: 'qemu', reason: 'vmm = qemu', warning: null };
  if (setting === 'firecracker') {
    if (!f.firecrackerBin)
      throw new BangerError('not_found', 'Firecracker was asked for, but no firecracker binary was found', {
        hint: 'install Firecracker >= 1.5.0 (tested 1.14.1) and its jailer, set firecracker_bin, or use --vmm qemu',
      });
    if (!f.kvm.usable)
      throw new BangerError(
        'operation_failed',
        `Firecracker was asked for, but KVM cannot run guests here: ${f.kvm.reason}`,
        { hint: 'Firecracker needs a working /dev/kvm; use --vmm qemu (it falls back to TCG)' },
      );
    if (f.kernel.firecracker === false)
      throw new BangerError('bad_request', kernelProblem(f.kernel), {
        hint: 'use --vmm qemu, or an image whose kernel is marked for Firecracker (`banger doctor` lists the kernels)',
      });
    return { kind: 'firecracker', reason: 'vmm = firecracker', warning: unknownKernel };
  }
  if (!f.firecrackerBin) return { kind: 'qemu', reason: 'no firecracker binary', warning: null };
  if (!f.kvm.usable) return { kind: 'qemu', reason: `KVM cannot run guests (${f.kvm.reason})`, warning: null };
  if (f.kernel.firecracker === false)
    return { kind: 'qemu', reason: `kernel ${f.kernel.name} suits QEMU only`, warning: null };
  return { kind: 'firecracker', reason: 'firecracker present and KVM usable', warning: unknownKernel };
}

/**
 * The root disk strategy: `auto` is a qcow2 overlay under QEMU, and under Firecracker (raw
 * disks only) a device-mapper snapshot where device-mapper works, else a sparse copy.
 */
export function chooseRootOverlay(setting: RootOverlaySetting, vmm: VmmKind, deviceMapper: boolean): RootOverlay {
  if (setting === 'dm-snapshot' && !deviceMapper) {
    throw new BangerError(
      'operation_failed',
      'rootfs_overlay = "dm-snapshot", but device-mapper is not available on this host',
      { hint: 'load the dm_snapshot module (`modprobe dm_snapshot`), or set rootfs_overlay = "auto"' },
    );
  }
  if (setting === 'qcow2' && vmm === 'firecracker') {
    throw new BangerError(
      'bad_request',
      'rootfs_overlay = "qcow2" cannot be used with Firecracker: it boots raw disks only',
      {
        hint: 'set rootfs_overlay = "auto" (dm-snapshot where device-mapper works, else a sparse copy), or use --vmm qemu',
      },
    );
  }
  if (setting !== 'auto') return setting;
  if (vmm === 'qemu') return 'qcow2';
  return deviceMapper ? 'dm-snapshot' : 'copy';
}

/** KVM runs guests when /dev/kvm is usable, it is not the paravirtual kvm_pvm, and no probe found it broken. */
export function kvmVerdict(f: { kvmAccessible: boolean; pvm: boolean; remembered: 'usable' | 'unusable' | null }): {
  usable: boolean;
  reason: string;
} {
  if (!f.kvmAccessible) return { usable: false, reason: '/dev/kvm is absent or not accessible' };
  if (f.pvm) return { usable: false, reason: 'KVM is paravirtual (kvm_pvm) and hangs stock guest kernels' };
  if (f.remembered === 'unusable') return { usable: false, reason: 'KVM failed to boot a probe guest on this host' };
  return { usable: true, reason: 'KVM is usable' };
}
