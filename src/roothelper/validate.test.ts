import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate, natAddScript, vmRuleHandles, ruleHandles, hasVmRules, natDeleteScript, parseDebugfsStat } from './index.js';

test('bridge, tap, prefix, address, signal and id rules', () => {
  for (const ok of ['br-fc', 'br-fc-1', 'br-fc-test']) assert.equal(validate.validateBridgeName(ok), ok);
  for (const bad of ['br0', 'docker0', 'br-fc-', 'br-fc-waytoolongname', 'br-fc;rm']) assert.throws(() => validate.validateBridgeName(bad), /not allowed/, bad);
  for (const ok of ['tap-fc-abcd1234', 'tap-pool-0', 'tap-pool-12']) assert.equal(validate.validateTapName(ok), ok);
  for (const bad of ['eth0', 'tap-fc-', 'tap-fc-abcd12345', 'tap-other-1', 'tap-fc-ABCD']) assert.throws(() => validate.validateTapName(bad), /not allowed/, bad);
  assert.equal(validate.validatePrefix(8), 8);
  assert.equal(validate.validatePrefix(32), 32);
  for (const bad of [7, 33, 24.5]) assert.throws(() => validate.validatePrefix(bad), /out of range/);
  assert.throws(() => validate.validateIPv4('172.16.0.300'), /not an IPv4/);
  assert.throws(() => validate.validateIPv4('::1'), /not an IPv4/);
  assert.equal(validate.validateSignal('KILL'), 'KILL');
  for (const bad of ['STOP', 'SIGKILL', 'USR1', '9']) assert.throws(() => validate.validateSignal(bad), /not allowed/);
  assert.throws(() => validate.validateVmId('../etc'), /8 lowercase hex/);
  assert.throws(() => validate.validateNftTable('filter'), /not banger's/);
  assert.equal(validate.validateNftTable('banger_zt1'), 'banger_zt1');
  assert.throws(() => validate.validateUplink('tap-fc-abcd1234'), /not a valid host interface/);
  assert.throws(() => validate.validateUplink('nosuchif0'), /does not exist/);
  assert.equal(validate.validateUplink('lo'), 'lo');
  assert.throws(() => validate.validateMode(0o10000), /not a valid permission mode/);
  assert.throws(() => validate.validateId(-1, 'uid'), /not a valid id/);
});

test('guest paths are absolute, normalised and plain', () => {
  assert.equal(validate.validateGuestPath('/root/.ssh/authorized_keys'), '/root/.ssh/authorized_keys');
  for (const bad of ['root/x', '/root/../etc/shadow', '/root//x', '/', '/root/x/', '/root/a b', '/root/a"b', '/etc/x\nrm /']) {
    assert.throws(() => validate.validateGuestPath(bad), /guest path/, JSON.stringify(bad));
  }
});

test('host paths must lie under banger roots with no symlinked component', () => {
  const base = mkdtempSync(join(tmpdir(), 'banger-val-'));
  try {
    const state = join(base, 'state');
    mkdirSync(join(state, 'vms', 'abcd1234'), { recursive: true });
    writeFileSync(join(state, 'vms', 'abcd1234', 'work.ext4'), '');
    const outside = join(base, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'shadow'), '');
    symlinkSync(outside, join(state, 'vms', 'evil'));
    const roots = [state];
    assert.equal(validate.validatePathUnder(join(state, 'vms', 'abcd1234', 'work.ext4'), roots), join(state, 'vms', 'abcd1234', 'work.ext4'));
    assert.throws(() => validate.validatePathUnder(join(state, 'vms', 'evil', 'shadow'), roots), /through a symlink/);
    assert.throws(() => validate.validatePathUnder(join(outside, 'shadow'), roots), /outside banger's directories/);
    assert.throws(() => validate.validatePathUnder(`${state}/vms/../../outside/shadow`, roots), /normalised/);
    assert.throws(() => validate.validatePathUnder(`${state}-evil/x`, roots), /outside/);
    assert.throws(() => validate.validatePathUnder(join(state, 'missing'), roots), /does not exist/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('only banger VMM processes may be signalled', () => {
  assert.throws(() => validate.validateVmmPid(process.pid, ['/var/lib/banger']), /is not a banger VMM/);
  assert.throws(() => validate.validateVmmPid(1, ['/var/lib/banger']), /not a valid process id/);
  assert.throws(() => validate.validateVmmPid(2 ** 22 + 12345, ['/var/lib/banger']), /does not exist/);
});

test('nat script: table and chains, VM rules at the head with their comment, isolation last; handles found per chain', () => {
  const req = { table: 'banger', vmId: 'abcd1234', guestIp: '172.16.0.5', bridge: 'br-fc', uplink: 'eth0' };
  assert.equal(natAddScript(req, true), [
    'table ip banger {',
    '  chain postrouting { type nat hook postrouting priority srcnat; policy accept; }',
    '  chain forward { type filter hook forward priority filter; policy accept; }',
    '}',
    'insert rule ip banger forward iifname "br-fc" oifname "eth0" ip saddr 172.16.0.5 accept comment "banger-vm:abcd1234"',
    'insert rule ip banger forward iifname "eth0" oifname "br-fc" ip daddr 172.16.0.5 ct state established,related accept comment "banger-vm:abcd1234"',
    'add rule ip banger postrouting oifname "eth0" ip saddr 172.16.0.5 masquerade comment "banger-vm:abcd1234"',
    'add rule ip banger forward iifname "br-fc" oifname != "br-fc" drop comment "banger-bridge:br-fc"',
    '',
  ].join('\n'));
  assert.doesNotMatch(natAddScript(req, false), /banger-bridge/);
  const listing = `table ip banger {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" ip saddr 172.16.0.5 masquerade comment "banger-vm:abcd1234" # handle 4
		oifname "eth0" ip saddr 172.16.0.6 masquerade comment "banger-vm:ffff0000" # handle 5
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "br-fc" oifname "eth0" ip saddr 172.16.0.5 accept comment "banger-vm:abcd1234" # handle 6
		iifname "br-fc" oifname != "br-fc" drop comment "banger-bridge:br-fc" # handle 7
	}
}`;
  const h = vmRuleHandles(listing, 'abcd1234');
  assert.deepEqual(h, [{ chain: 'postrouting', handle: 4 }, { chain: 'forward', handle: 6 }]);
  assert.deepEqual(ruleHandles(listing, 'banger-bridge:br-fc'), [{ chain: 'forward', handle: 7 }]);
  assert.equal(hasVmRules(listing), true);
  assert.equal(hasVmRules(listing.replace(/.*banger-vm.*\n/g, '')), false);
  assert.equal(natDeleteScript('banger', h), 'delete rule ip banger postrouting handle 4\ndelete rule ip banger forward handle 6\n');
  assert.equal(natDeleteScript('banger', []), '');
});

test('debugfs stat parsing', () => {
  const out = 'Inode: 12   Type: regular    Mode:  0600   Flags: 0x80000\nUser:     0   Group:     0   Project:     0   Size: 3\n';
  assert.deepEqual(parseDebugfsStat(out), { size: 3, mode: '0600', uid: 0, gid: 0 });
  assert.equal(parseDebugfsStat('garbage'), null);
});
