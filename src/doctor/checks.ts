/**
 * Doctor's verdicts (docs/howto/troubleshooting.md): PASS/WARN/FAIL with a fix hint each, derived purely from
 * HostFacts. FAIL means banger cannot do its main job here; WARN means it works with a
 * reduced or slower path.
 *
 * The checks are data (as Lima's requirement lists are): CHECKS names each check, how it
 * judges the facts and, where one fix serves all its WARN and FAIL verdicts, that hint.
 * evaluateChecks runs them in that order; the order is the report's.
 */
import { judgeFirecrackerVersion, parseFirecrackerVersion } from '../firecracker/index.js';
import { DEFAULT_KERNEL_NAME, findKernelEntry } from '../kernelcat/index.js';
import { compareVersions, formatBytesIec, GIB, parseVersion, type BangerError } from '../model/index.js';
import { kvmVerdict, selectVmm } from '../vmm/index.js';
import type { HostFacts, ToolFact } from './facts.js';

export type Status = 'PASS' | 'WARN' | 'FAIL';

export interface CheckResult {
  name: string;
  status: Status;
  message: string;
  hint?: string;
}

/** What a check says; `name` only where one check yields several results (vm-defaults.vcpu, …). */
export interface Verdict {
  name?: string;
  status: Status;
  message: string;
  hint?: string;
}

export interface Check {
  name: string;
  /** The verdict(s) on these facts; null when the check does not apply to this host. */
  evaluate(f: HostFacts): Verdict | Verdict[] | null;
  /** The fix shown with a WARN or FAIL verdict that names none of its own. */
  hint?: string;
}

const MIN_E2FSPROGS = [1, 43] as const;

const v = (xs: readonly number[]) => xs.join('.');
const present = (t: ToolFact) => t.path !== null;
const pass = (message: string): Verdict => ({ status: 'PASS', message });
const verdict =
  (status: Status) =>
  (message: string, hint?: string): Verdict =>
    hint === undefined ? { status, message } : { status, message, hint };
const warn = verdict('WARN');
const fail = verdict('FAIL');

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

function e2fsprogs(f: HostFacts): Verdict {
  if (!present(f.mkfsExt4)) return fail('mkfs.ext4 not found: disks cannot be built', 'apt-get install e2fsprogs');
  const e2 = parseVersion(f.mkfsExt4.version);
  if (e2 && compareVersions(e2, MIN_E2FSPROGS) < 0) {
    return fail(`e2fsprogs ${v(e2)} is older than 1.43 (no mkfs.ext4 -d)`, 'upgrade e2fsprogs');
  }
  return pass(`e2fsprogs ${e2 ? v(e2) : '(version unknown)'} with mkfs.ext4 -d`);
}

function versionDrift(f: HostFacts): Verdict {
  const cli = `${f.cli.version} (${f.cli.commit})`;
  if (f.install && (f.install.version !== f.cli.version || f.install.commit !== f.cli.commit)) {
    return warn(
      `CLI is ${cli} but the system install is ${f.install.version} (${f.install.commit})`,
      'use the installed banger, or reinstall with `sudo banger system install`',
    );
  }
  if (f.daemon.reachable && (f.daemon.version !== f.cli.version || f.daemon.commit !== f.cli.commit)) {
    return warn(
      `CLI is ${cli} but the running daemon is ${f.daemon.version} (${f.daemon.commit})`,
      'restart it: `banger daemon stop` (the next command starts the matching one)',
    );
  }
  return pass(`CLI ${cli}${f.daemon.reachable ? ' matches the daemon' : ''}`);
}

function store(f: HostFacts): Verdict {
  const s = f.store;
  switch (s.state) {
    case 'compatible':
      return pass(`${s.path} is readable and current (${s.detail})`);
    case 'missing':
      return pass(`${s.path} does not exist yet; the daemon creates it`);
    case 'migrations_needed':
      return warn(`${s.path} needs migrations (${s.detail})`, 'they run automatically when the daemon starts');
    case 'incompatible':
      return fail(`${s.path}: ${s.detail}`, 'install the newer banger that wrote it');
    case 'unreadable':
      return fail(
        `${s.path} cannot be read: ${s.detail}`,
        'check its permissions; restore it from a backup if it is corrupt',
      );
  }
}

function disk(f: HostFacts): Verdict {
  const { freeBytes, path } = f.disk;
  if (freeBytes === null) return warn(`could not measure free space at ${path}`);
  if (freeBytes < 2 * GIB) {
    return fail(
      `only ${formatBytesIec(freeBytes)} free at ${path}`,
      'images and VM disks need several GiB: free space or move the state dir',
    );
  }
  if (freeBytes < 10 * GIB) {
    return warn(
      `${formatBytesIec(freeBytes)} free at ${path}`,
      'a few VMs and images fit; `banger image cache prune` frees cache',
    );
  }
  return pass(`${formatBytesIec(freeBytes)} free at ${path}`);
}

/** Every check, in the order doctor reports them. */
export const CHECKS: readonly Check[] = [
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
  {
    name: 'tun',
    hint: '`modprobe tun`',
    evaluate: (f) => (f.tun ? pass('/dev/net/tun present') : fail('/dev/net/tun is missing: VMs cannot get a network')),
  },
  {
    name: 'bridge',
    hint: '`modprobe bridge`; it usually loads on demand',
    evaluate: ({ bridge: b }) =>
      b.exists
        ? pass(`bridge ${b.name} exists`)
        : b.kernelSupport
          ? pass(`bridge support present; ${b.name} is created when the first VM starts`)
          : warn('bridge support not detected (module not loaded)'),
  },
  {
    name: 'nftables',
    hint: 'apt-get install nftables',
    evaluate: (f) =>
      present(f.nft)
        ? pass(`${f.nft.version ?? 'nft'} (NAT rules go in banger's own table)`)
        : present(f.iptablesNft)
          ? warn('nft not found; NAT falls back to iptables-nft')
          : warn('neither nft nor iptables-nft found: --nat will not work'),
  },
  {
    name: 'nat-uplink',
    hint: 'set nat_uplink in the config to the interface that reaches the outside',
    evaluate: ({ natUplink: n }) =>
      n.configured
        ? pass(`--nat masquerades out of ${n.configured} (nat_uplink)`)
        : n.detected
          ? pass(`--nat masquerades out of ${n.detected} (the default route)`)
          : warn('no default route: --nat has no uplink to masquerade out of'),
  },
  {
    name: 'guest-agent',
    hint: 'build banger (`npm run build`, needs musl-tools) or reinstall it',
    evaluate: ({ agent: a }) =>
      present(a)
        ? pass(`${a.version ?? 'banger-agent'} (${a.path}) goes into images`)
        : fail('the guest agent binary is missing: images cannot be built and VM readiness falls back to ssh'),
  },
  { name: 'e2fsprogs', evaluate: e2fsprogs },
  {
    name: 'debugfs',
    hint: 'apt-get install e2fsprogs',
    evaluate: (f) =>
      present(f.debugfs)
        ? pass(`${f.debugfs.version ?? 'debugfs'} at ${f.debugfs.path}`)
        : fail('debugfs not found: guest files cannot be written into disks'),
  },
  {
    name: 'debootstrap',
    hint: 'apt-get install mmdebstrap',
    evaluate: (f) =>
      present(f.mmdebstrap) || present(f.debootstrap)
        ? pass(`${present(f.mmdebstrap) ? 'mmdebstrap' : 'debootstrap'} available to build the default image`)
        : warn('neither mmdebstrap nor debootstrap found: the default image cannot be built locally'),
  },
  {
    name: 'ssh',
    hint: 'apt-get install openssh-client',
    evaluate: (f) =>
      present(f.ssh) && present(f.sshKeygen)
        ? pass(`${f.ssh.version ?? 'ssh'}`)
        : fail(`${present(f.ssh) ? 'ssh-keygen' : 'ssh'} not found: guests cannot be reached`),
  },
  {
    name: 'systemd',
    hint: 'nothing to fix: banger runs without systemd',
    evaluate: (f) =>
      f.pid1 === 'systemd'
        ? pass('systemd is PID 1: system install uses systemd units')
        : warn(`PID 1 is ${f.pid1}, not systemd: system install uses banger's fallback supervisor`),
  },
  {
    name: 'resolved',
    hint:
      'send *.vm to 127.0.0.1:42069 from your resolver, e.g. dnsmasq `server=/vm/127.0.0.1#42069`' +
      ' (docs/howto/dns.md)',
    evaluate: (f) =>
      f.resolved
        ? pass('systemd-resolved is running: ~vm can be routed to banger')
        : warn('systemd-resolved is not running: the host resolves NAME.vm only after you add a resolver rule'),
  },
  {
    name: 'daemon',
    hint: 'it starts automatically on the next banger command',
    evaluate: ({ daemon: d }) =>
      d.reachable
        ? pass(`bangerd v${d.version} is running (pid ${d.pid})`)
        : warn(`bangerd is not running${d.error ? ` (${d.error})` : ''}`),
  },
  { name: 'version', evaluate: versionDrift },
  { name: 'state-store', evaluate: store },
  {
    name: 'config',
    hint: 'fix the key named above (docs/reference/config.md)',
    evaluate: ({ config: c }) =>
      c.error
        ? fail(c.error)
        : pass(c.exists ? `config ${c.path} is valid` : `no config file (${c.path}); defaults apply`),
  },
  {
    name: 'default-image',
    hint: 'the first `banger vm run` builds or pulls it (this takes minutes once)',
    evaluate: ({ defaultImage: i }) =>
      i.present ? pass(`default image ${i.name} is present`) : warn(`default image ${i.name} is not present locally`),
  },
  {
    name: 'default-kernel',
    hint: 'the first `banger vm run` obtains it',
    evaluate: ({ defaultKernel: k }) =>
      k.present
        ? pass(`default kernel ${k.name ?? '(catalog default)'} is present`)
        : warn(
            `default kernel ${k.name ?? '(catalog default)'} is not present locally` +
              ` (${k.localKernels} kernel(s) installed)`,
          ),
  },
  {
    name: 'vm-defaults',
    evaluate: (f) =>
      f.vmDefaults.map((d) => ({
        name: `vm-defaults.${d.field}`,
        ...pass(`${d.shown} from ${d.source} (${d.reason})`),
      })),
  },
  {
    name: 'ssh-config',
    hint: 'add it with `banger ssh-config --install`',
    evaluate: ({ sshConfig: s }) =>
      s.hasInclude
        ? pass(`${s.path} includes banger's Host *.vm block`)
        : warn(`${s.path} has no banger Include: plain \`ssh NAME.vm\` will not work (banger vm ssh does)`),
  },
  { name: 'disk', evaluate: disk },
];

/** One result per verdict, in CHECKS order. */
export function evaluateChecks(f: HostFacts): CheckResult[] {
  const results: CheckResult[] = [];
  for (const check of CHECKS) {
    const verdicts = check.evaluate(f) ?? [];
    for (const said of Array.isArray(verdicts) ? verdicts : [verdicts]) {
      const result: CheckResult = { name: said.name ?? check.name, status: said.status, message: said.message };
      const hint = said.hint ?? (said.status === 'PASS' ? undefined : check.hint);
      if (hint !== undefined) result.hint = hint;
      results.push(result);
    }
  }
  return results;
}
