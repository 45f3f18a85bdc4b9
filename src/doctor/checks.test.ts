import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateChecks, parseVersion, compareVersions, type HostFacts, type CheckResult } from './index.js';
import { GIB } from '../model/index.js';

const tool = (path: string | null, version: string | null = null) => ({ path, version });

/** Facts shaped like our CI machines: PVM KVM, no device-mapper, no vhost-vsock, not systemd. */
function ciLikeHost(): HostFacts {
  return {
    arch: 'x64',
    kvm: { devExists: true, accessible: true, modules: ['kvm', 'kvm_pvm'], probe: null },
    firecracker: tool(null),
    jailer: { path: '/usr/bin/jailer', exists: false, enabled: true },
    qemu: tool('/usr/bin/qemu-system-x86_64', 'QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)'),
    qemuImg: tool('/usr/bin/qemu-img', 'qemu-img version 7.2.19'),
    deviceMapper: {
      controlExists: true,
      registered: false,
      dmsetupWorks: false,
      dmsetupError: 'Device mapper not loaded',
    },
    vmm: { setting: 'auto' },
    jail: { base: '/s-root/jail', stateDir: '/s', sameFilesystem: true },
    vhostVsock: false,
    tun: true,
    bridge: { name: 'br-fc', exists: false, kernelSupport: true },
    nft: tool('/usr/sbin/nft', 'nftables v1.0.6 (Lester Gooch #5)'),
    iptablesNft: tool(null),
    mkfsExt4: tool('/usr/sbin/mkfs.ext4', 'mke2fs 1.47.0 (5-Feb-2023)'),
    debugfs: tool('/usr/sbin/debugfs', 'debugfs 1.47.0 (5-Feb-2023)'),
    mmdebstrap: tool('/usr/bin/mmdebstrap', 'mmdebstrap 1.3.5'),
    debootstrap: tool(null),
    ssh: tool('/usr/bin/ssh', 'OpenSSH_9.2p1 Debian-2+deb12u7, OpenSSL 3.0.17 1 Jul 2025'),
    sshKeygen: tool('/usr/bin/ssh-keygen'),
    pid1: 'process_api',
    resolved: false,
    agent: { path: '/opt/banger/dist/agent/banger-agent', version: 'banger-agent 0.1.0 (protocol 1)' },
    natUplink: { configured: null, detected: 'eth0' },
    daemon: { reachable: true, version: '0.1.0', commit: 'abc', pid: 42, error: null },
    cli: { version: '0.1.0', commit: 'abc' },
    install: null,
    store: { path: '/s/state.db', state: 'compatible', detail: '2 migrations' },
    config: { path: '/c/config.toml', exists: false, error: null },
    defaultImage: { name: 'debian-bookworm', present: false },
    defaultImageBuild: { source: 'auto', ociBase: 'docker.io/library/debian:bookworm', canRunAsRoot: true },
    defaultKernel: { name: null, present: false, localKernels: 0 },
    warmStart: { enabled: true, templates: 0, bytes: 0, dir: '/s/templates' },
    vmDefaults: [{ field: 'vcpu', shown: '2 vcpu', source: 'built-in', reason: 'host has 2 CPUs' }],
    sshConfig: { path: '/h/.ssh/config', hasInclude: false },
    disk: { path: '/s', freeBytes: 80 * GIB },
    missingPieces: [],
  };
}

const byName = (rs: CheckResult[], name: string) => {
  const r = rs.find((x) => x.name === name);
  assert.ok(r, `check ${name} present`);
  return r;
};

test('a CI-like host: PVM KVM warned as unusable, dm and vsock missing, not systemd, QEMU passes', () => {
  const rs = evaluateChecks(ciLikeHost());
  assert.deepEqual(
    [byName(rs, 'kvm').status, /paravirtual.*unusable.*TCG/.test(byName(rs, 'kvm').message)],
    ['WARN', true],
  );
  assert.equal(byName(rs, 'device-mapper').status, 'WARN');
  assert.equal(byName(rs, 'vhost-vsock').status, 'WARN');
  assert.equal(byName(rs, 'systemd').status, 'WARN');
  assert.match(byName(rs, 'systemd').message, /PID 1 is process_api/);
  assert.equal(byName(rs, 'qemu').status, 'PASS');
  assert.equal(byName(rs, 'firecracker').status, 'WARN');
  assert.equal(rs.filter((r) => r.status === 'FAIL').length, 0);
  for (const r of rs) if (r.status !== 'PASS') assert.ok(r.hint, `${r.name} has a hint`);
});

test("vmm: what new VMs get, by the daemon's rule; an explicit firecracker that cannot work fails; the QEMU-only kernel is named", () => {
  assert.match(byName(evaluateChecks(ciLikeHost()), 'vmm').message, /new VMs use qemu \(no firecracker binary\)/);
  const fcHost = () => {
    const f = ciLikeHost();
    f.firecracker = tool('/usr/bin/firecracker', 'Firecracker v1.14.1');
    f.kvm.modules = ['kvm', 'kvm_intel'];
    return f;
  };
  const kernelOnly = byName(evaluateChecks(fcHost()), 'vmm');
  assert.equal(kernelOnly.status, 'WARN');
  assert.match(
    kernelOnly.message,
    /Firecracker is installed, but new VMs use QEMU: the default kernel debian-bookworm-cloud suits QEMU only/,
  );
  const own = fcHost();
  own.defaultKernel = { name: 'my-vmlinux', present: true, localKernels: 1 };
  assert.match(
    byName(evaluateChecks(own), 'vmm').message,
    /new VMs use firecracker: kernel my-vmlinux is not in banger's catalog/,
  );
  const forced = ciLikeHost();
  forced.vmm = { setting: 'firecracker' };
  const r = byName(evaluateChecks(forced), 'vmm');
  assert.equal(r.status, 'FAIL');
  assert.match(
    r.message,
    /vmm = "firecracker" cannot work here: Firecracker was asked for, but no firecracker binary was found/,
  );
});

test('jail: another filesystem fails, only with firecracker and the jailer on', () => {
  const f = ciLikeHost();
  assert.equal(
    evaluateChecks(f).some((r) => r.name === 'jail'),
    false,
    'no firecracker: no jail check',
  );
  f.firecracker = tool('/usr/bin/firecracker', 'Firecracker v1.14.1');
  assert.equal(byName(evaluateChecks(f), 'jail').status, 'PASS');
  f.jail = { ...f.jail, sameFilesystem: false };
  assert.match(byName(evaluateChecks(f), 'jail').message, /on another filesystem/);
});

test('no usable VMM at all is a FAIL', () => {
  const f = ciLikeHost();
  f.qemu = tool(null);
  const q = byName(evaluateChecks(f), 'qemu');
  assert.equal(q.status, 'FAIL');
  assert.match(q.hint ?? '', /apt-get install qemu-system-x86/);
});

test('firecracker version range: below minimum fails, tested passes, newer warns', () => {
  const at = (ver: string) => {
    const f = ciLikeHost();
    f.firecracker = tool('/usr/bin/firecracker', `Firecracker ${ver}`);
    f.kvm.modules = ['kvm', 'kvm_intel'];
    return byName(evaluateChecks(f), 'firecracker').status;
  };
  assert.equal(at('v1.4.1'), 'FAIL');
  assert.equal(at('v1.5.0'), 'PASS');
  assert.equal(at('v1.14.1'), 'PASS');
  assert.equal(at('v1.16.0'), 'WARN');
});

test('kvm variants: absent, inaccessible, hardware, failed probe', () => {
  const kvm = (k: Partial<HostFacts['kvm']>) => {
    const f = ciLikeHost();
    f.kvm = { ...f.kvm, ...k };
    return byName(evaluateChecks(f), 'kvm');
  };
  assert.equal(kvm({ devExists: false }).status, 'WARN');
  assert.match(kvm({ accessible: false }).hint ?? '', /kvm group/);
  assert.equal(kvm({ modules: ['kvm', 'kvm_intel'] }).status, 'PASS');
  assert.equal(kvm({ modules: ['kvm', 'kvm_amd'], probe: 'unusable' }).status, 'WARN');
});

test('tools, disk, store, config, version drift', () => {
  const f = ciLikeHost();
  f.mkfsExt4 = tool('/sbin/mkfs.ext4', 'mke2fs 1.42.9 (28-Dec-2013)');
  f.disk.freeBytes = GIB;
  f.store = { path: '/s/state.db', state: 'incompatible', detail: 'written by a newer banger (3)' };
  f.config.error = 'config /c/config.toml: unknown key "colour"';
  f.daemon = { reachable: true, version: '0.0.9', commit: 'old', pid: 1, error: null };
  f.tun = false;
  f.ssh = tool(null);
  const rs = evaluateChecks(f);
  for (const n of ['e2fsprogs', 'disk', 'state-store', 'config', 'tun', 'ssh'])
    assert.equal(byName(rs, n).status, 'FAIL', n);
  assert.equal(byName(rs, 'version').status, 'WARN');
  assert.match(byName(rs, 'version').message, /running daemon is 0\.0\.9/);
});

test('dmsetup failure reason skips the generic last line', async () => {
  const { dmsetupReason } = await import('./index.js');
  assert.equal(
    dmsetupReason(
      'Library version:   1.02.185\n/proc/misc: No entry for device-mapper found\nIs device-mapper driver missing from kernel?\nCommand failed.\n',
    ),
    '/proc/misc: No entry for device-mapper found',
  );
  assert.equal(dmsetupReason('Command failed.\n'), null);
});

test('version helpers', () => {
  assert.deepEqual(parseVersion('Firecracker v1.14.1'), [1, 14, 1]);
  assert.deepEqual(parseVersion('mke2fs 1.47.0 (5-Feb-2023)'), [1, 47, 0]);
  assert.equal(parseVersion('nothing'), null);
  assert.equal(compareVersions([1, 5, 0], [1, 14, 1]), -1);
  assert.equal(compareVersions([1, 14], [1, 14, 0]), 0);
});

test('host-packages: passes on a full host; names every missing piece and the one apt command', () => {
  assert.equal(byName(evaluateChecks(ciLikeHost()), 'host-packages').status, 'PASS');
  const r = byName(evaluateChecks({ ...ciLikeHost(), missingPieces: ['qemu-img', 'mmdebstrap'] }), 'host-packages');
  assert.equal(r.status, 'WARN');
  assert.match(r.message, /^missing: qemu-img \(makes the root disk overlays\), mmdebstrap/);
  assert.equal(r.hint, 'install them all at once: sudo apt-get install -y qemu-utils mmdebstrap');
});

test('default-image-path says which way the default image is made here, and warns when a forced mmdebstrap cannot run', () => {
  const root = byName(evaluateChecks(ciLikeHost()), 'default-image-path');
  assert.equal(root.status, 'PASS');
  assert.match(root.message, /mmdebstrap from the host's Debian mirror/);
  const owner = ciLikeHost();
  owner.defaultImageBuild = { ...owner.defaultImageBuild, canRunAsRoot: false };
  assert.match(
    byName(evaluateChecks(owner), 'default-image-path').message,
    /docker\.io\/library\/debian:bookworm plus the recipe in a builder VM with NAT \(banger does not run as root here/,
  );
  owner.defaultImageBuild = { ...owner.defaultImageBuild, source: 'mmdebstrap' };
  assert.equal(byName(evaluateChecks(owner), 'default-image-path').status, 'WARN');
});

test('warm-start says whether VMs restore from templates and what the templates take', () => {
  const on = byName(evaluateChecks(ciLikeHost()), 'warm-start');
  assert.equal(on.status, 'PASS');
  assert.match(on.message, /^on: .*0 template\(s\), 0 MiB in \/s\/templates/);
  const host = ciLikeHost();
  host.warmStart = { enabled: false, templates: 2, bytes: 300 * 1024 * 1024, dir: '/s/templates' };
  assert.match(byName(evaluateChecks(host), 'warm-start').message, /off \(warm_start = false\)/);
});
