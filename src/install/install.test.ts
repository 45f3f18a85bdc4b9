import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DENIED_SYSCALL_GROUPS, FIXED_PATH, HELPER_CAPABILITIES, helperWritablePaths, parseInstallToml, renderDaemonUnit, renderHelperUnit, renderInstallToml } from './index.js';

const input = { node: '/usr/bin/node', libDir: '/usr/local/lib/banger/current', owner: 'ada' };
const directives = (unit: string) => new Map(unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

test('daemon unit: runs as the owner in system mode, keeps VMs and runtime files across restarts, sandboxed', () => {
  const d = directives(renderDaemonUnit(input));
  assert.equal(d.get('User'), 'ada');
  assert.equal(d.get('ExecStart'), '/usr/bin/node /usr/local/lib/banger/current/bangerd.js --system');
  assert.equal(d.get('Environment'), 'BANGER_MODE=system');
  assert.equal(d.get('KillMode'), 'process');
  assert.equal(d.get('RuntimeDirectoryPreserve'), 'yes');
  assert.equal(d.get('RuntimeDirectory'), 'banger');
  assert.equal(d.get('NoNewPrivileges'), 'yes');
  assert.equal(d.get('CapabilityBoundingSet'), 'CAP_NET_BIND_SERVICE');
  assert.equal(d.get('ProtectSystem'), 'strict');
  assert.equal(d.get('ProtectHome'), 'read-only', 'workspaces are read from the owner\'s home');
  assert.equal(d.get('RestrictNamespaces'), 'yes');
  assert.equal(d.get('RestrictSUIDSGID'), 'yes');
  assert.equal(d.get('UMask'), '0077');
  assert.equal(d.has('MemoryDenyWriteExecute'), false, "Node's JIT and QEMU's TCG need W+X memory");
  assert.equal(d.has('PrivateDevices'), false, 'its VMMs need /dev/kvm and /dev/net/tun');
  assert.equal(d.get('WantedBy'), 'multi-user.target');
});

test('helper unit: root, never SIGKILLed, preserved runtime dir, only the capabilities it uses, a fixed PATH, least privilege', () => {
  const h = directives(renderHelperUnit(input));
  assert.equal(h.has('User'), false, 'root');
  assert.equal(h.get('ExecStart'), '/usr/bin/node /usr/local/lib/banger/current/banger-root-helper.js');
  assert.equal(h.get('Environment'), `PATH=${FIXED_PATH} LANG=C`);
  assert.equal(FIXED_PATH, '/usr/sbin:/usr/bin:/sbin:/bin');
  assert.equal(h.get('KillMode'), 'process');
  assert.equal(h.get('SendSIGKILL'), 'no');
  assert.equal(h.get('RuntimeDirectory'), 'banger-root');
  assert.equal(h.get('RuntimeDirectoryMode'), '0711');
  assert.equal(h.get('RuntimeDirectoryPreserve'), 'yes');
  assert.deepEqual(h.get('CapabilityBoundingSet')!.split(' ').sort(), [...HELPER_CAPABILITIES].sort());
  for (const cap of ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN', 'CAP_DAC_READ_SEARCH', 'CAP_MKNOD', 'CAP_KILL', 'CAP_SETUID', 'CAP_SETGID', 'CAP_SYS_CHROOT']) assert.ok(HELPER_CAPABILITIES.includes(cap as never), cap);
  for (const cap of ['CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_BOOT', 'CAP_SYS_TIME', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_BPF']) assert.ok(!HELPER_CAPABILITIES.includes(cap as never), cap);
  assert.equal(h.get('NoNewPrivileges'), 'yes', 'the jailer drops privileges, it never gains them');
  assert.equal(h.get('ProtectSystem'), 'strict');
  assert.equal(h.get('ReadWritePaths'), '-/var/lib/banger-root -/var/cache/banger-root -/var/lib/banger');
  assert.deepEqual(helperWritablePaths(), ['/var/lib/banger-root', '/var/cache/banger-root', '/var/lib/banger']);
  assert.equal(h.get('PrivateTmp'), 'yes');
  assert.equal(h.get('ProtectHome'), 'yes');
  assert.equal(h.get('RestrictNamespaces'), 'mnt pid', "the jailer's --new-pid-ns and its mount namespace");
  assert.equal(h.get('SystemCallArchitectures'), 'native');
  assert.equal(h.get('SystemCallFilter'), `~${DENIED_SYSCALL_GROUPS.join(' ')}`);
  assert.equal(h.get('SystemCallErrorNumber'), 'EPERM');
  for (const k of ['ProtectKernelModules', 'ProtectKernelLogs', 'ProtectControlGroups', 'LockPersonality', 'PrivateMounts']) assert.equal(h.get(k), 'yes', k);
  assert.equal(h.has('MemoryDenyWriteExecute'), false, "Node's JIT");
  assert.equal(h.has('RestrictSUIDSGID'), false, "image builds install the distribution's setuid binaries");
  assert.equal(h.has('ProtectKernelTunables'), false, 'it writes /proc/sys/net/ipv4/ip_forward');
  assert.equal(h.get('RestrictAddressFamilies'), 'AF_UNIX AF_INET AF_INET6 AF_NETLINK');
});

test('install.toml round trip, with the pinned network', () => {
  const r = {
    owner: 'ada', owner_uid: 1000, owner_gid: 1000, home: '/home/ada', prefix: '/usr/local', version: '0.1.0', commit: 'abc', built_at: 'x', installed_at: 'y',
    supervisor: 'fallback' as const, tun_mode_before: 0o600, bridge_name: 'br-fc', bridge_ip: '10.9.0.1', cidr: 24,
  };
  assert.deepEqual({ ...parseInstallToml(renderInstallToml(r)) }, r);
  assert.throws(() => parseInstallToml('owner = "x"\n'), /lacks owner, owner_uid or prefix/);
});

