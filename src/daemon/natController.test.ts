import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log/index.js';
import { FakeHostRunner } from '../../test/fakes/fakeHostRunner.js';
import { FakePrivilegedOps } from '../../test/fakes/fakePrivilegedOps.js';
import { NatController } from './natController.js';

const ctx = { opId: 'op-test' };

function setup(routes = '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0"}]', uplink?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'banger-nat-'));
  const ops = new FakePrivilegedOps();
  const forward = join(dir, 'ip_forward');
  writeFileSync(forward, '0\n');
  // The fake ops write the sysctl the controller reads, as the real helper would.
  const setIp = ops.setIpForward.bind(ops);
  ops.setIpForward = async (p, c) => {
    writeFileSync(forward, p.enabled ? '1\n' : '0\n');
    return setIp(p, c);
  };
  const runner = new FakeHostRunner().on(['ip', '-j', 'route', 'show', 'default'], { stdout: routes });
  const nat = new NatController({
    privileged: ops,
    runner,
    log: silentLogger,
    bridge: 'br-fc',
    uplink,
    stateFile: join(dir, 'nat.json'),
    ipForwardPath: forward,
  });
  return { dir, ops, nat, forward, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('two NAT VMs: forwarding on with the first, off only after the last, and remembered in the state file', async () => {
  const s = setup();
  try {
    await s.nat.vmUp({ id: 'aaaa0001', guestIp: '172.16.0.2' }, ctx);
    await s.nat.vmUp({ id: 'bbbb0002', guestIp: '172.16.0.3' }, ctx);
    assert.deepEqual(s.ops.ops(), ['applyNat', 'setIpForward', 'applyNat']);
    assert.deepEqual(s.ops.nat.get('aaaa0001'), { guestIp: '172.16.0.2', uplink: 'eth0' });
    assert.equal(JSON.parse(readFileSync(join(s.dir, 'nat.json'), 'utf8')).forwardingIsOurs, true);
    await s.nat.vmDown('aaaa0001', ctx);
    assert.equal(readFileSync(s.forward, 'utf8').trim(), '1', 'still needed by the other VM');
    await s.nat.vmDown('bbbb0002', ctx);
    assert.equal(readFileSync(s.forward, 'utf8').trim(), '0', 'restored after the last');
    assert.equal(s.ops.nat.size, 0);
  } finally {
    s.cleanup();
  }
});

test('a host that already forwarded keeps forwarding', async () => {
  const s = setup();
  try {
    writeFileSync(s.forward, '1\n');
    await s.nat.vmUp({ id: 'aaaa0001', guestIp: '172.16.0.2' }, ctx);
    await s.nat.vmDown('aaaa0001', ctx);
    assert.deepEqual(s.ops.ops(), ['applyNat', 'removeNat']);
    assert.equal(readFileSync(s.forward, 'utf8').trim(), '1');
  } finally {
    s.cleanup();
  }
});

test('no default route and no nat_uplink: a clear error and nothing applied; nat_uplink wins over the route', async () => {
  const s = setup('[]');
  try {
    await assert.rejects(s.nat.vmUp({ id: 'aaaa0001', guestIp: '172.16.0.2' }, ctx), /no default route/);
    assert.deepEqual(s.ops.ops(), []);
  } finally {
    s.cleanup();
  }
  const t = setup('[]', 'veth-out');
  try {
    await t.nat.vmUp({ id: 'aaaa0001', guestIp: '172.16.0.2' }, ctx);
    assert.equal(t.ops.nat.get('aaaa0001')?.uplink, 'veth-out');
  } finally {
    t.cleanup();
  }
});
