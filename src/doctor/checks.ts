import { judgeFirecrackerVersion, parseFirecrackerVersion } from '../firecracker/index.js';
import { DEFAULT_KERNEL_NAME, findKernelEntry } from '../kernelcat/index.js';
import { compareVersions, formatBytesIec, GIB, parseVersion, type BangerError } from '../model/index.js';
import { kvmVerdict, selectVmm } from '../vmm/index.js';
import type { HostFacts, ToolFact } from './facts.js';

/**
 * Doctor's verdicts (SPEC 10): PASS/WARN/FAIL with a fix hint each, derived purely from
 * HostFacts. FAIL means banger cannot do its main job here; WARN means it works with a
 * reduced or slower path.
 */
export type Status = 'PASS' | 'WARN' | 'FAIL';

export interface CheckResult {
  name: string;
  status: Status;
  message: string;
  hint?: string;
}

const MIN_E2FSPROGS = [1, 43] as const;

const v = (xs: readonly number[]) => xs.join('.');
const present = (t: ToolFact) => t.path !== null;

function kvmCheck(f: HostFacts): CheckResult {
  const k = f.kvm;
  if (!k.devExists) {
    return { name: 'kvm', status: 'WARN', message: '/dev/kvm is absent: guests run under QEMU TCG software emulation (several times slower)', hint: 'enable virtualization in firmware and load kvm_intel or kvm_amd; on a cloud VM, use an instance type with nested virtualization' };
  }
  if (!k.accessible) {
    return { name: 'kvm', status: 'WARN', message: '/dev/kvm exists but this user cannot open it: QEMU would fall back to TCG', hint: 'add yourself to the kvm group (`sudo usermod -aG kvm $USER`) and log in again' };
  }
  if (k.modules.includes('kvm_pvm')) {
    return { name: 'kvm', status: 'WARN', message: '/dev/kvm is paravirtual KVM (kvm_pvm): present but unusable for stock guest kernels (they hang); banger uses QEMU with TCG software emulation', hint: 'nothing to fix for banger to work; for speed, run on a host with hardware KVM (kvm_intel/kvm_amd)' };
  }
  if (k.probe === 'unusable') {
    return { name: 'kvm', status: 'WARN', message: '/dev/kvm is present but a test guest did not boot under it: banger uses TCG software emulation', hint: 'nested or paravirtual KVM may be the cause; set accel = "kvm" to force it' };
  }
  const hw = k.modules.find((m) => m === 'kvm_intel' || m === 'kvm_amd');
  return { name: 'kvm', status: 'PASS', message: `/dev/kvm is accessible${hw ? ` (${hw})` : ''}${k.probe === 'usable' ? ' and boots guests' : ''}` };
}

function firecrackerChecks(f: HostFacts): CheckResult[] {
  if (!present(f.firecracker)) {
    return [{ name: 'firecracker', status: 'WARN', message: 'firecracker not found: the QEMU back-end is used', hint: 'install Firecracker >= 1.5.0 (tested 1.14.1) and its jailer to use it, or set firecracker_bin' }];
  }
  const out: CheckResult[] = [];
  // The same judgement the Firecracker driver applies before it boots anything.
  const verdict = judgeFirecrackerVersion(f.firecracker.version ?? '');
  if (!parseFirecrackerVersion(f.firecracker.version ?? '')) out.push({ name: 'firecracker', status: 'WARN', message: `${f.firecracker.path}: could not read its version (${f.firecracker.version ?? 'no output'})`, hint: 'check that it runs: `firecracker --version`' });
  else if (!verdict.ok) out.push({ name: 'firecracker', status: 'FAIL', message: verdict.reason, hint: verdict.hint });
  else if (verdict.warning) out.push({ name: 'firecracker', status: 'WARN', message: verdict.warning, hint: 'it will probably work; report problems with `banger version` output' });
  else out.push({ name: 'firecracker', status: 'PASS', message: `firecracker ${verdict.version} at ${f.firecracker.path}` });
  if (f.jailer.enabled && !f.jailer.exists) out.push({ name: 'jailer', status: 'WARN', message: `jailer not found at ${f.jailer.path}`, hint: 'install the jailer next to firecracker, set jailer_bin, or set jailer_enabled = false (debugging only)' });
  else if (f.jailer.enabled) out.push({ name: 'jailer', status: 'PASS', message: `jailer at ${f.jailer.path}` });
  return out;
}

/** Which back-end `vm create` would pick for the default kernel, by the daemon's own rule. */
function vmmChoiceCheck(f: HostFacts): CheckResult {
  const kernelName = f.defaultKernel.name ?? DEFAULT_KERNEL_NAME;
  const kvm = kvmVerdict({ kvmAccessible: f.kvm.devExists && f.kvm.accessible, pvm: f.kvm.modules.includes('kvm_pvm'), remembered: f.kvm.probe });
  const kernelFits = findKernelEntry(kernelName)?.firecracker ?? null;
  try {
    const choice = selectVmm(f.vmm.setting, { firecrackerBin: f.firecracker.path, kvm, kernel: { name: kernelName, firecracker: kernelFits } });
    if (choice.warning) return { name: 'vmm', status: 'WARN', message: `new VMs use ${choice.kind}: ${choice.warning}`, hint: 'if it does not boot, use --vmm qemu' };
    if (choice.kind === 'qemu' && present(f.firecracker) && kvm.usable && kernelFits === false) {
      return {
        name: 'vmm', status: 'WARN', message: `Firecracker is installed, but new VMs use QEMU: the default kernel ${kernelName} suits QEMU only (Firecracker needs its devices on the kernel command line)`,
        hint: 'banger\'s catalog has no Firecracker kernel yet; see docs/howto/firecracker.md',
      };
    }
    return { name: 'vmm', status: 'PASS', message: `new VMs use ${choice.kind} (${choice.reason})` };
  } catch (e) {
    return { name: 'vmm', status: 'FAIL', message: `vmm = "${f.vmm.setting}" cannot work here: ${(e as Error).message}`, hint: (e as BangerError).hint ?? 'set vmm = "auto"' };
  }
}

function jailCheck(f: HostFacts): CheckResult[] {
  if (!present(f.firecracker) || !f.jailer.enabled) return [];
  if (f.jail.sameFilesystem === false) {
    return [{ name: 'jail', status: 'FAIL', message: `root's jail directory ${f.jail.base} is on another filesystem than ${f.jail.stateDir}: kernels and disks cannot be hard-linked into jails`, hint: 'keep the root-owned state directory and the owner\'s state directory on one filesystem' }];
  }
  return [{ name: 'jail', status: 'PASS', message: `jails under ${f.jail.base} (same filesystem as the state directory)` }];
}

function qemuCheck(f: HostFacts): CheckResult {
  const fcUsable = present(f.firecracker) && f.kvm.devExists && f.kvm.accessible && !f.kvm.modules.includes('kvm_pvm');
  if (!present(f.qemu)) {
    return { name: 'qemu', status: fcUsable ? 'WARN' : 'FAIL', message: fcUsable ? 'qemu-system-x86_64 not found (Firecracker is used)' : 'qemu-system-x86_64 not found and Firecracker is not usable: no VMM can run guests', hint: 'apt-get install qemu-system-x86 qemu-utils' };
  }
  if (!present(f.qemuImg)) return { name: 'qemu', status: 'FAIL', message: `${f.qemu.version ?? 'qemu'} found but qemu-img is missing (needed for copy-on-write root disks)`, hint: 'apt-get install qemu-utils' };
  return { name: 'qemu', status: 'PASS', message: `${f.qemu.version ?? 'qemu-system-x86_64'} at ${f.qemu.path}` };
}

function toolCheck(name: string, t: ToolFact, missing: Omit<CheckResult, 'name'>, okMessage?: string): CheckResult {
  return present(t) ? { name, status: 'PASS', message: okMessage ?? `${t.version ?? name} at ${t.path}` } : { name, ...missing };
}

export function evaluateChecks(f: HostFacts): CheckResult[] {
  const results: CheckResult[] = [];
  results.push(f.arch === 'x64'
    ? { name: 'arch', status: 'PASS', message: 'x86_64' }
    : { name: 'arch', status: 'FAIL', message: `${f.arch} is not supported; banger runs x86_64 guests on x86_64 hosts`, hint: 'use an x86_64 machine' });
  results.push(kvmCheck(f));
  results.push(...firecrackerChecks(f));
  results.push(...jailCheck(f));
  results.push(qemuCheck(f));
  results.push(vmmChoiceCheck(f));
  const dmProblem = !f.deviceMapper.registered ? 'not in /proc/misc' : !f.deviceMapper.controlExists ? 'no /dev/mapper/control' : !f.deviceMapper.dmsetupWorks ? f.deviceMapper.dmsetupError ?? 'dmsetup failed' : null;
  results.push(dmProblem === null
    ? { name: 'device-mapper', status: 'PASS', message: 'device-mapper works: Firecracker root disks use dm-snapshot' }
    : { name: 'device-mapper', status: 'WARN', message: `device-mapper unavailable (${dmProblem}): root disks use qcow2 overlays (QEMU) or sparse copies (Firecracker)`, hint: 'for dm-snapshot, `modprobe dm_snapshot` and install dmsetup' });
  results.push(f.vhostVsock
    ? { name: 'vhost-vsock', status: 'PASS', message: '/dev/vhost-vsock present' }
    : { name: 'vhost-vsock', status: 'WARN', message: '/dev/vhost-vsock absent: with QEMU the guest agent talks over virtio-serial instead of vsock (Firecracker\'s own vsock does not need it)', hint: '`modprobe vhost_vsock` if your kernel has it; nothing is lost for banger' });
  results.push(f.tun
    ? { name: 'tun', status: 'PASS', message: '/dev/net/tun present' }
    : { name: 'tun', status: 'FAIL', message: '/dev/net/tun is missing: VMs cannot get a network', hint: '`modprobe tun`' });
  results.push(f.bridge.exists
    ? { name: 'bridge', status: 'PASS', message: `bridge ${f.bridge.name} exists` }
    : f.bridge.kernelSupport
      ? { name: 'bridge', status: 'PASS', message: `bridge support present; ${f.bridge.name} is created when the first VM starts` }
      : { name: 'bridge', status: 'WARN', message: 'bridge support not detected (module not loaded)', hint: '`modprobe bridge`; it usually loads on demand' });
  results.push(present(f.nft)
    ? { name: 'nftables', status: 'PASS', message: `${f.nft.version ?? 'nft'} (NAT rules go in banger's own table)` }
    : present(f.iptablesNft)
      ? { name: 'nftables', status: 'WARN', message: 'nft not found; NAT falls back to iptables-nft', hint: 'apt-get install nftables' }
      : { name: 'nftables', status: 'WARN', message: 'neither nft nor iptables-nft found: --nat will not work', hint: 'apt-get install nftables' });
  results.push(f.natUplink.configured
    ? { name: 'nat-uplink', status: 'PASS', message: `--nat masquerades out of ${f.natUplink.configured} (nat_uplink)` }
    : f.natUplink.detected
      ? { name: 'nat-uplink', status: 'PASS', message: `--nat masquerades out of ${f.natUplink.detected} (the default route)` }
      : { name: 'nat-uplink', status: 'WARN', message: 'no default route: --nat has no uplink to masquerade out of', hint: 'set nat_uplink in the config to the interface that reaches the outside' });
  results.push(present(f.agent)
    ? { name: 'guest-agent', status: 'PASS', message: `${f.agent.version ?? 'banger-agent'} (${f.agent.path}) goes into images` }
    : { name: 'guest-agent', status: 'FAIL', message: 'the guest agent binary is missing: images cannot be built and VM readiness falls back to ssh', hint: 'build banger (`npm run build`, needs musl-tools) or reinstall it' });
  const e2 = parseVersion(f.mkfsExt4.version);
  results.push(!present(f.mkfsExt4)
    ? { name: 'e2fsprogs', status: 'FAIL', message: 'mkfs.ext4 not found: disks cannot be built', hint: 'apt-get install e2fsprogs' }
    : e2 && compareVersions(e2, MIN_E2FSPROGS) < 0
      ? { name: 'e2fsprogs', status: 'FAIL', message: `e2fsprogs ${v(e2)} is older than 1.43 (no mkfs.ext4 -d)`, hint: 'upgrade e2fsprogs' }
      : { name: 'e2fsprogs', status: 'PASS', message: `e2fsprogs ${e2 ? v(e2) : '(version unknown)'} with mkfs.ext4 -d` });
  results.push(toolCheck('debugfs', f.debugfs, { status: 'FAIL', message: 'debugfs not found: guest files cannot be written into disks', hint: 'apt-get install e2fsprogs' }));
  results.push(present(f.mmdebstrap) || present(f.debootstrap)
    ? { name: 'debootstrap', status: 'PASS', message: `${present(f.mmdebstrap) ? 'mmdebstrap' : 'debootstrap'} available to build the default image` }
    : { name: 'debootstrap', status: 'WARN', message: 'neither mmdebstrap nor debootstrap found: the default image cannot be built locally', hint: 'apt-get install mmdebstrap' });
  results.push(present(f.ssh) && present(f.sshKeygen)
    ? { name: 'ssh', status: 'PASS', message: `${f.ssh.version ?? 'ssh'}` }
    : { name: 'ssh', status: 'FAIL', message: `${present(f.ssh) ? 'ssh-keygen' : 'ssh'} not found: guests cannot be reached`, hint: 'apt-get install openssh-client' });
  results.push(f.pid1 === 'systemd'
    ? { name: 'systemd', status: 'PASS', message: 'systemd is PID 1: system install uses systemd units' }
    : { name: 'systemd', status: 'WARN', message: `PID 1 is ${f.pid1}, not systemd: system install uses banger's fallback supervisor`, hint: 'nothing to fix: banger runs without systemd' });
  results.push(f.resolved
    ? { name: 'resolved', status: 'PASS', message: 'systemd-resolved is running: ~vm can be routed to banger' }
    : { name: 'resolved', status: 'WARN', message: 'systemd-resolved is not running: the host resolves NAME.vm only after you add a resolver rule', hint: 'send *.vm to 127.0.0.1:42069 from your resolver, e.g. dnsmasq `server=/vm/127.0.0.1#42069` (docs/howto/dns.md)' });
  results.push(f.daemon.reachable
    ? { name: 'daemon', status: 'PASS', message: `bangerd v${f.daemon.version} is running (pid ${f.daemon.pid})` }
    : { name: 'daemon', status: 'WARN', message: `bangerd is not running${f.daemon.error ? ` (${f.daemon.error})` : ''}`, hint: 'it starts automatically on the next banger command' });
  results.push(versionDrift(f));
  results.push(storeCheck(f));
  results.push(f.config.error
    ? { name: 'config', status: 'FAIL', message: f.config.error, hint: 'fix the key named above (docs/reference/config.md)' }
    : { name: 'config', status: 'PASS', message: f.config.exists ? `config ${f.config.path} is valid` : `no config file (${f.config.path}); defaults apply` });
  results.push(f.defaultImage.present
    ? { name: 'default-image', status: 'PASS', message: `default image ${f.defaultImage.name} is present` }
    : { name: 'default-image', status: 'WARN', message: `default image ${f.defaultImage.name} is not present locally`, hint: 'the first `banger vm run` builds or pulls it (this takes minutes once)' });
  results.push(f.defaultKernel.present
    ? { name: 'default-kernel', status: 'PASS', message: `default kernel ${f.defaultKernel.name ?? '(catalog default)'} is present` }
    : { name: 'default-kernel', status: 'WARN', message: `default kernel ${f.defaultKernel.name ?? '(catalog default)'} is not present locally (${f.defaultKernel.localKernels} kernel(s) installed)`, hint: 'the first `banger vm run` obtains it' });
  for (const d of f.vmDefaults) results.push({ name: `vm-defaults.${d.field}`, status: 'PASS', message: `${d.shown} from ${d.source} (${d.reason})` });
  results.push(f.sshConfig.hasInclude
    ? { name: 'ssh-config', status: 'PASS', message: `${f.sshConfig.path} includes banger's Host *.vm block` }
    : { name: 'ssh-config', status: 'WARN', message: `${f.sshConfig.path} has no banger Include: plain \`ssh NAME.vm\` will not work (banger vm ssh does)`, hint: 'add it with `banger ssh-config --install`' });
  if (f.disk.freeBytes === null) results.push({ name: 'disk', status: 'WARN', message: `could not measure free space at ${f.disk.path}` });
  else if (f.disk.freeBytes < 2 * GIB) results.push({ name: 'disk', status: 'FAIL', message: `only ${formatBytesIec(f.disk.freeBytes)} free at ${f.disk.path}`, hint: 'images and VM disks need several GiB: free space or move the state dir' });
  else if (f.disk.freeBytes < 10 * GIB) results.push({ name: 'disk', status: 'WARN', message: `${formatBytesIec(f.disk.freeBytes)} free at ${f.disk.path}`, hint: 'a few VMs and images fit; `banger image cache prune` frees cache' });
  else results.push({ name: 'disk', status: 'PASS', message: `${formatBytesIec(f.disk.freeBytes)} free at ${f.disk.path}` });
  return results;
}

function versionDrift(f: HostFacts): CheckResult {
  const cli = `${f.cli.version} (${f.cli.commit})`;
  if (f.install && (f.install.version !== f.cli.version || f.install.commit !== f.cli.commit)) {
    return { name: 'version', status: 'WARN', message: `CLI is ${cli} but the system install is ${f.install.version} (${f.install.commit})`, hint: 'use the installed banger, or reinstall with `sudo banger system install`' };
  }
  if (f.daemon.reachable && (f.daemon.version !== f.cli.version || f.daemon.commit !== f.cli.commit)) {
    return { name: 'version', status: 'WARN', message: `CLI is ${cli} but the running daemon is ${f.daemon.version} (${f.daemon.commit})`, hint: 'restart it: `banger daemon stop` (the next command starts the matching one)' };
  }
  return { name: 'version', status: 'PASS', message: `CLI ${cli}${f.daemon.reachable ? ' matches the daemon' : ''}` };
}

function storeCheck(f: HostFacts): CheckResult {
  const s = f.store;
  switch (s.state) {
    case 'compatible': return { name: 'state-store', status: 'PASS', message: `${s.path} is readable and current (${s.detail})` };
    case 'missing': return { name: 'state-store', status: 'PASS', message: `${s.path} does not exist yet; the daemon creates it` };
    case 'migrations_needed': return { name: 'state-store', status: 'WARN', message: `${s.path} needs migrations (${s.detail})`, hint: 'they run automatically when the daemon starts' };
    case 'incompatible': return { name: 'state-store', status: 'FAIL', message: `${s.path}: ${s.detail}`, hint: 'install the newer banger that wrote it' };
    case 'unreadable': return { name: 'state-store', status: 'FAIL', message: `${s.path} cannot be read: ${s.detail}`, hint: 'check its permissions; restore it from a backup if it is corrupt' };
  }
}
