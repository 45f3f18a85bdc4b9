import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HELPER_CAPABILITIES, parseInstallToml, renderDaemonUnit, renderHelperUnit, renderInstallToml } from './index.js';

const input = { node: '/usr/bin/node', libDir: '/usr/local/lib/banger/current', owner: 'ada' };
const directives = (unit: string) => new Map(unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

test('daemon unit: runs as the owner in system mode, keeps VMs and runtime files across restarts', () => {
  const d = directives(renderDaemonUnit(input));
  assert.equal(d.get('User'), 'ada');
  assert.equal(d.get('ExecStart'), '/usr/bin/node /usr/local/lib/banger/current/bangerd.js --system');
  assert.equal(d.get('Environment'), 'BANGER_MODE=system');
  assert.equal(d.get('KillMode'), 'process');
  assert.equal(d.get('RuntimeDirectoryPreserve'), 'yes');
  assert.equal(d.get('RuntimeDirectory'), 'banger');
  assert.equal(d.get('NoNewPrivileges'), 'yes');
  assert.equal(d.get('WantedBy'), 'multi-user.target');
});

test('helper unit: root, never SIGKILLed, preserved runtime dir, only the capabilities it uses, hardened', () => {
  const h = directives(renderHelperUnit(input));
  assert.equal(h.has('User'), false, 'root');
  assert.equal(h.get('ExecStart'), '/usr/bin/node /usr/local/lib/banger/current/banger-root-helper.js');
  assert.equal(h.get('KillMode'), 'process');
  assert.equal(h.get('SendSIGKILL'), 'no');
  assert.equal(h.get('RuntimeDirectory'), 'banger-root');
  assert.equal(h.get('RuntimeDirectoryMode'), '0711');
  assert.equal(h.get('RuntimeDirectoryPreserve'), 'yes');
  assert.deepEqual(h.get('CapabilityBoundingSet')!.split(' ').sort(), [...HELPER_CAPABILITIES].sort());
  assert.equal(h.get('LockPersonality'), 'yes');
  assert.equal(h.get('RestrictAddressFamilies'), 'AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_VSOCK');
});

test('install.toml round trip', () => {
  const r = { owner: 'ada', owner_uid: 1000, owner_gid: 1000, home: '/home/ada', prefix: '/usr/local', version: '0.1.0', commit: 'abc', built_at: 'x', installed_at: 'y', supervisor: 'fallback' as const, tun_mode_before: 0o600 };
  assert.deepEqual({ ...parseInstallToml(renderInstallToml(r)) }, r);
  assert.throws(() => parseInstallToml('owner = "x"\n'), /lacks owner, owner_uid or prefix/);
});
