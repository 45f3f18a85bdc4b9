import { judgeFirecrackerVersion, parseFirecrackerVersion } from '../../firecracker/index.js';
import { DEFAULT_KERNEL_NAME, findKernelEntry } from '../../kernelcat/index.js';
import type { BangerError } from '../../model/index.js';
import { kvmVerdict, selectVmm } from '../../vmm/index.js';
import type { HostFacts } from '../facts.js';
import { type Check, fail, pass, present, type Verdict, warn } from './verdict.js';

function kvm(f: HostFacts): Verdict {
  const k = f.kvm;
  if (!k.devExists) {
    return warn(
      '/dev/kvm is absent: guests run under QEMU TCG software emulation (several times slower)',
      'enable virtualization in firmware and load kvm_intel or kvm_amd; on a cloud VM, use an instance type with' +
        ' nested virtualization',
    );
  }
  if (!k.accessible) {
    return warn(
      '/dev/kvm exists but this user cannot open it: QEMU would fall back to TCG',
      'add yourself to the kvm group (`sudo usermod -aG kvm $USER`) and log in again',
    );
  }
  if (k.modules.includes('kvm_pvm')) {
    return warn(
      '/dev/kvm is paravirtual KVM (kvm_pvm): present but unusable for stock guest kernels (they hang);' +
        ' banger uses QEMU with TCG software emulation',
      'nothing to fix for banger to work; for speed, run on a host with hardware KVM (kvm_intel/kvm_amd)',
    );
  }
  if (k.probe === 'unusable') {
    return warn(
      '/dev/kvm is present but a test guest did not boot under it: banger uses TCG software emulation',
      'nested or paravirtual KVM may be the cause; set accel = "kvm" to force it',
    );
  }
  const hw = k.modules.find((m) => m === 'kvm_intel' || m === 'kvm_amd');
  return pass(`/dev/kvm is accessible${hw ? ` (${hw})` : ''}${k.probe === 'usable' ? ' and boots guests' : ''}`);
}

function firecracker(f: HostFacts): Verdict {
  if (!present(f.firecracker)) {
    return warn(
      'firecracker not found: the QEMU back-end is used',
      'install Firecracker >= 1.5.0 (tested 1.14.1) and its jailer to use it, or set firecracker_bin',
    );
  }
  // The same judgement the Firecracker driver applies before it boots anything.
  const judged = judgeFirecrackerVersion(f.firecracker.version ?? '');
  if (!parseFirecrackerVersion(f.firecracker.version ?? '')) {
    return warn(
      `${f.firecracker.path}: could not read its version (${f.firecracker.version ?? 'no output'})`,
      'check that it runs: `firecracker --version`',
    );
  }
  if (!judged.ok) return fail(judged.reason, judged.hint);
  if (judged.warning) {
    return warn(judged.warning, 'it will probably work; report problems with `banger version` output');
  }
  return pass(`firecracker ${judged.version} at ${f.firecracker.path}`);
}

function jailer(f: HostFacts): Verdict | null {
  if (!present(f.firecracker) || !f.jailer.enabled) return null;
  return f.jailer.exists ? pass(`jailer at ${f.jailer.path}`) : warn(`jailer not found at ${f.jailer.path}`);
}

function jail(f: HostFacts): Verdict | null {
  if (!present(f.firecracker) || !f.jailer.enabled) return null;
  if (f.jail.sameFilesystem === false) {
    return fail(
      `root's jail directory ${f.jail.base} is on another filesystem than ${f.jail.stateDir}: kernels and` +
        ' disks cannot be hard-linked into jails',
    );
  }
  return pass(`jails under ${f.jail.base} (same filesystem as the state directory)`);
}

function qemu(f: HostFacts): Verdict {
  const fcUsable = present(f.firecracker) && f.kvm.devExists && f.kvm.accessible && !f.kvm.modules.includes('kvm_pvm');
  if (!present(f.qemu)) {
    const hint = 'apt-get install qemu-system-x86 qemu-utils';
    return fcUsable
      ? warn('qemu-system-x86_64 not found (Firecracker is used)', hint)
      : fail('qemu-system-x86_64 not found and Firecracker is not usable: no VMM can run guests', hint);
  }
  if (!present(f.qemuImg)) {
    return fail(
      `${f.qemu.version ?? 'qemu'} found but qemu-img is missing (needed for copy-on-write root disks)`,
      'apt-get install qemu-utils',
    );
  }
  return pass(`${f.qemu.version ?? 'qemu-system-x86_64'} at ${f.qemu.path}`);
}

/** Which back-end `vm create` would pick for the default kernel, by the daemon's own rule. */
function vmmChoice(f: HostFacts): Verdict {
  const kernelName = f.defaultKernel.name ?? DEFAULT_KERNEL_NAME;
  const kvmNow = kvmVerdict({
    kvmAccessible: f.kvm.devExists && f.kvm.accessible,
    pvm: f.kvm.modules.includes('kvm_pvm'),
    remembered: f.kvm.probe,
  });
  const kernelFits = findKernelEntry(kernelName)?.firecracker ?? null;
  try {
    const choice = selectVmm(f.vmm.setting, {
      firecrackerBin: f.firecracker.path,
      kvm: kvmNow,
      kernel: { name: kernelName, firecracker: kernelFits },
    });
    if (choice.warning) {
      return warn(`new VMs use ${choice.kind}: ${choice.warning}`, 'if it does not boot, use --vmm qemu');
    }
    if (choice.kind === 'qemu' && present(f.firecracker) && kvmNow.usable && kernelFits === false) {
      return warn(
        `Firecracker is installed, but new VMs use QEMU: the default kernel ${kernelName} suits QEMU only` +
          ' (Firecracker needs its devices on the kernel command line)',
        "banger's catalog has no Firecracker kernel yet; see docs/howto/firecracker.md",
      );
    }
    return pass(`new VMs use ${choice.kind} (${choice.reason})`);
  } catch (e) {
    return fail(
      `vmm = "${f.vmm.setting}" cannot work here: ${(e as Error).message}`,
      (e as BangerError).hint ?? 'set vmm = "auto"',
    );
  }
}

function deviceMapper(f: HostFacts): Verdict {
  const dm = f.deviceMapper;
  const problem = !dm.registered
    ? 'not in /proc/misc'
    : !dm.controlExists
      ? 'no /dev/mapper/control'
      : !dm.dmsetupWorks
        ? (dm.dmsetupError ?? 'dmsetup failed')
        : null;
  return problem === null
    ? pass('device-mapper works: Firecracker root disks use dm-snapshot')
    : warn(
        `device-mapper unavailable (${problem}): root disks use qcow2 overlays (QEMU) or sparse copies` +
          ' (Firecracker)',
      );
}

/** The architecture, KVM and the VMMs: which back-end can run guests here, and how. In report order. */
export const VMM_CHECKS: readonly Check[] = [
  {
    name: 'arch',
    hint: 'use an x86_64 machine',
    evaluate: (f) =>
      f.arch === 'x64' ? pass('x86_64') : fail(`${f.arch} is not supported; banger runs x86_64 guests on x86_64 hosts`),
  },
  { name: 'kvm', evaluate: kvm },
  { name: 'firecracker', evaluate: firecracker },
  {
    name: 'jailer',
    evaluate: jailer,
    hint: 'install the jailer next to firecracker, set jailer_bin, or set jailer_enabled = false (debugging only)',
  },
  {
    name: 'jail',
    evaluate: jail,
    hint: "keep the root-owned state directory and the owner's state directory on one filesystem",
  },
  { name: 'qemu', evaluate: qemu },
  { name: 'vmm', evaluate: vmmChoice },
  {
    name: 'device-mapper',
    evaluate: deviceMapper,
    hint: 'for dm-snapshot, `modprobe dm_snapshot` and install dmsetup',
  },
  {
    name: 'vhost-vsock',
    hint: '`modprobe vhost_vsock` if your kernel has it; nothing is lost for banger',
    evaluate: (f) =>
      f.vhostVsock
        ? pass('/dev/vhost-vsock present')
        : warn(
            '/dev/vhost-vsock absent: with QEMU the guest agent talks over virtio-serial instead of vsock' +
              " (Firecracker's own vsock does not need it)",
          ),
  },
];
