/**
 * The QEMU command line for a VM, as a pure function of its boot spec (table-tested).
 * microvm machine: no PCI, no firmware, devices on virtio-mmio found through ACPI.
 */
import type { BootSpec } from '../vmm/index.js';

export type Accel = 'kvm' | 'tcg';

/** Kernel command line: the per-VM settings banger's initramfs applies before systemd starts. */
export function kernelCommandLine(spec: BootSpec, extra: readonly string[] = []): string {
  const n = spec.network;
  return [
    'console=ttyS0',
    'quiet',
    // Keep the interface called eth0 (the initramfs configures it before udev runs).
    'net.ifnames=0',
    'banger.root=/dev/vda',
    'banger.work=/dev/vdb',
    `banger.hostname=${spec.hostname}`,
    // A template's guest gets no address: each clone is given its own by the agent.
    ...(n.addressCidr ? [`banger.ip=${n.addressCidr}`, `banger.gw=${n.gateway}`] : []),
    `banger.dns=${n.dns}`,
    ...extra,
  ].join(' ');
}

/**
 * `tscKhz`: the host TSC rate, passed to TCG guests as tsc_early_khz (see hostTsc.ts for
 * the boot hang it prevents). KVM guests get kvmclock and need nothing.
 */
export function buildQemuArgv(
  qemuBin: string,
  spec: BootSpec,
  accel: Accel,
  tscKhz: number | null = null,
  incomingFrom: string | null = null,
): string[] {
  const f = spec.files;
  const argv = [
    qemuBin,
    '-name',
    `banger-${spec.vmId}`,
    '-M',
    'microvm,acpi=on',
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max']),
    '-m',
    String(spec.memoryMib),
    '-smp',
    String(spec.vcpu),
    '-nodefaults',
    '-no-user-config',
    '-nographic',
    // append=on: the console log accumulates across boots, so a failed boot stays readable.
    '-chardev',
    `file,id=console,path=${f.consoleLog},append=on`,
    '-serial',
    'chardev:console',
    '-kernel',
    spec.kernelPath,
    ...(spec.initrdPath ? ['-initrd', spec.initrdPath] : []),
    '-append',
    kernelCommandLine(spec, accel === 'tcg' && tscKhz ? [`tsc_early_khz=${tscKhz}`] : []),
    ...diskArgs(spec),
    '-netdev',
    `tap,id=n0,ifname=${spec.network.tap},script=no,downscript=no`,
    '-device',
    `virtio-net-device,netdev=n0,mac=${spec.network.mac}`,
    // Entropy for the guest from the start; sshd and TLS block without it.
    '-device',
    'virtio-rng-device',
    // The guest agent's channel: a virtio-serial port the agent finds by name (docs/reference/agent.md).
    '-device',
    'virtio-serial-device',
    '-chardev',
    `socket,id=agent,path=${f.agentSocket},server=on,wait=off`,
    '-device',
    'virtserialport,chardev=agent,name=banger.agent',
    '-qmp',
    `unix:${f.qmpSocket},server=on,wait=off`,
    '-pidfile',
    f.pidFile,
    // A restore: the guest's memory and device state come from the saved stream, not a boot.
    ...(incomingFrom ? ['-incoming', incomingUri(incomingFrom)] : []),
  ];
  return argv;
}

/** The two virtio disks: root (qcow2 or raw) then work, in the order the guest names them vda, vdb. */
function diskArgs(spec: BootSpec): string[] {
  return [
    '-drive',
    `id=root,file=${spec.rootDisk.path},format=${spec.rootDisk.format},if=none`,
    '-device',
    'virtio-blk-device,drive=root',
    '-drive',
    `id=work,file=${spec.workDisk},format=raw,if=none`,
    '-device',
    'virtio-blk-device,drive=work',
  ];
}

/**
 * A path as one word of the /bin/sh command line QEMU's `exec:` migration URI runs: single
 * quotes, in which sh expands nothing, each `'` in the path written as `'\''`. Any path a
 * home directory can hold (`@`, spaces, quotes) passes, and no part of it runs.
 */
function shellQuotedPath(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}

/** The file a saved VM state is kept in, inside the state directory saveState was given. */
export function qemuStateFile(stateDir: string): string {
  return `${stateDir}/vmstate`;
}

/** The migration URI that writes a guest's state into `stateFile` (QEMU 7.2 has no `file:` URI). */
export function outgoingUri(stateFile: string): string {
  return `exec:cat > ${shellQuotedPath(stateFile)}`;
}

/** The migration URI that reads a guest's state back from `stateFile`. */
export function incomingUri(stateFile: string): string {
  return `exec:cat ${shellQuotedPath(stateFile)}`;
}
