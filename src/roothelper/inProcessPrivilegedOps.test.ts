import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHostRunner } from '../../test/fakes/fakeHostRunner.js';
import { silentLogger } from '../log/index.js';
import { validatingOps } from '../privops/index.js';
import {
  InProcessPrivilegedOps,
  isGuestAddress,
  UnavailablePrivilegedOps,
  type InProcessPrivilegedOpsOptions,
} from './index.js';

const ctx = { opId: 'op-test' };
const scope = {
  ownerUid: 1000,
  ownerGid: 1000,
  ownerStateDir: '/s',
  rootStateDir: '/s-root',
  network: { bridgeName: 'br-fc', bridgeIp: '172.16.0.1', cidr: 24 },
};
const opsWith = (runner: InProcessPrivilegedOpsOptions['runner'], extra: Partial<InProcessPrivilegedOpsOptions> = {}) =>
  new InProcessPrivilegedOps({ runner, log: silentLogger, scope, ...extra });

test('ensureBridge creates a missing bridge, then addresses it and brings it up', async () => {
  const r = new FakeHostRunner().on(['ip']).on(['ip', '-o', 'link', 'show'], { exitCode: 1 });
  await opsWith(r).ensureBridge({}, ctx);
  assert.deepEqual(r.argvs(), [
    'ip -o link show dev br-fc',
    'ip link add name br-fc type bridge',
    'ip addr replace 172.16.0.1/24 dev br-fc',
    'ip link set dev br-fc up',
  ]);
});

test('createTap on the pinned bridge, for the pinned owner; invalid or smuggled parameters never reach the host', async () => {
  const r = new FakeHostRunner()
    .on(['ip'])
    .on(['ip', '-o', 'link', 'show'], { exitCode: 1 })
    .on(['ip', '-o', 'link', 'show', 'dev', 'br-fc']);
  const ops = validatingOps(opsWith(r));
  await ops.createTap({ name: 'tap-fc-abcd1234' }, ctx);
  assert.deepEqual(r.argvs().slice(2), [
    'ip tuntap add dev tap-fc-abcd1234 mode tap user 1000 group 1000',
    'ip link set dev tap-fc-abcd1234 master br-fc',
    'ip link set dev tap-fc-abcd1234 up',
  ]);
  const before = r.calls.length;
  await assert.rejects(ops.createTap({ name: 'eth0' }, ctx), /name: must be tap-fc-<id> or tap-pool-<n>/);
  await assert.rejects(
    ops.createTap({ name: 'tap-fc-abcd1234', ownerUid: 0 } as never, ctx),
    /unknown parameter ownerUid/,
  );
  await assert.rejects(
    ops.ensureBridge({ name: 'br0', address: '10.0.0.1', prefix: 8 } as never, ctx),
    /unknown parameters name, address, prefix/,
  );
  await assert.rejects(ops.deleteTap({ name: 'lo' }, ctx), /must be tap-fc/);
  await assert.rejects(ops.signalProcess({ pid: process.pid, signal: 'STOP' as never }, ctx), /signal/);
  await assert.rejects(
    ops.applyNat({ vmId: 'abcd1234', guestIp: '192.168.1.1', uplink: 'eth0' }, ctx),
    /not a guest address of the install's subnet 172\.16\.0\.1\/24/,
  );
  await assert.rejects(
    ops.applyNat({ vmId: 'abcd1234', guestIp: '172.16.0.9', uplink: 'br-fc' }, ctx),
    /uplink: must be a host interface/,
  );
  assert.equal(r.calls.length, before, 'nothing ran for invalid input');
});

test('listTaps reports only banger taps, with their bridge', async () => {
  const r = new FakeHostRunner().on(['ip', '-o', 'link', 'show'], {
    stdout:
      '1: lo: <LOOPBACK>\n5: tap-fc-abcd1234: <BROADCAST> mtu 1500 qdisc fq_codel master br-fc state UP\n6: tap-pool-0@if2: <X>\n7: tapx: <X>\n8: br-fc: <X>\n',
  });
  assert.deepEqual(await opsWith(r).listTaps({}, ctx), [
    { name: 'tap-fc-abcd1234', master: 'br-fc' },
    { name: 'tap-pool-0', master: null },
  ]);
});

test('createTap refuses a tap that another bridge owns', async () => {
  const r = new FakeHostRunner()
    .on(['ip', '-o', 'link', 'show', 'dev', 'br-fc'], { stdout: '8: br-fc: <X>\n' })
    .on(['ip', '-o', 'link', 'show', 'dev', 'tap-pool-0'], {
      stdout: '6: tap-pool-0: <X> mtu 1500 master br-fc-other state UP\n',
    });
  await assert.rejects(opsWith(r).createTap({ name: 'tap-pool-0' }, ctx), /already exists on bridge br-fc-other/);
});

test('without root or helper every operation says what to do', async () => {
  await assert.rejects(
    new UnavailablePrivilegedOps().ensureBridge({}, ctx),
    (e: Error & { hint?: string }) => /needs root/.test(e.message) && /system install/.test(e.hint ?? ''),
  );
});

test('NAT through the iptables-nft fallback: chains and jumps once, VM rules with comments, removed per VM, chains gone with the last VM', async () => {
  const ipt = '/usr/sbin/iptables-nft';
  const vmRules = [
    '-N BANGER-FORWARD',
    '-A BANGER-FORWARD -s 172.16.0.5/32 -i br-fc -o eth0 -m comment --comment banger-vm:abcd1234 -j ACCEPT',
    '-A BANGER-FORWARD -i br-fc ! -o br-fc -m comment --comment banger-bridge:br-fc -j DROP',
  ].join('\n');
  const r = new FakeHostRunner()
    .on([ipt], { exitCode: 1 }) // checks fail: nothing of banger's exists yet...
    .on([ipt, '-t', 'nat', '-N'])
    .on([ipt, '-t', 'filter', '-N'])
    .on([ipt, '-t', 'nat', '-A'])
    .on([ipt, '-t', 'filter', '-I'])
    .on([ipt, '-t', 'filter', '-A'])
    .on([ipt, '-t', 'filter', '-S', 'BANGER-FORWARD'], { stdout: '-N BANGER-FORWARD\n' }); // ...but an empty forward chain
  const ops = opsWith(r, { natBackend: { kind: 'iptables', bin: ipt } });
  await ops.applyNat({ vmId: 'abcd1234', guestIp: '172.16.0.5', uplink: 'eth0' }, ctx);
  const applied = r.argvs().filter((a) => !/ -[SC] /.test(a));
  assert.deepEqual(applied, [
    `${ipt} -t nat -N BANGER-POSTROUTING`,
    `${ipt} -t nat -A POSTROUTING -j BANGER-POSTROUTING`,
    `${ipt} -t filter -I FORWARD 1 -j BANGER-FORWARD`,
    `${ipt} -t filter -I BANGER-FORWARD 1 -i br-fc -o eth0 -s 172.16.0.5/32 -m comment --comment banger-vm:abcd1234 -j ACCEPT`,
    `${ipt} -t filter -I BANGER-FORWARD 1 -i eth0 -o br-fc -d 172.16.0.5/32 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment banger-vm:abcd1234 -j ACCEPT`,
    `${ipt} -t nat -A BANGER-POSTROUTING -o eth0 -s 172.16.0.5/32 -m comment --comment banger-vm:abcd1234 -j MASQUERADE`,
    `${ipt} -t filter -A BANGER-FORWARD -i br-fc ! -o br-fc -m comment --comment banger-bridge:br-fc -j DROP`,
  ]);

  const d = new FakeHostRunner()
    .on([ipt], { exitCode: 0 })
    .on([ipt, '-t', 'filter', '-S', 'BANGER-FORWARD'], { stdout: vmRules })
    .on([ipt, '-t', 'nat', '-S', 'BANGER-POSTROUTING'], { stdout: '-N BANGER-POSTROUTING\n' });
  await opsWith(d, { natBackend: { kind: 'iptables', bin: ipt } }).removeNat({ vmId: 'abcd1234' }, ctx);
  const removed = d.argvs().filter((a) => !/ -S /.test(a));
  assert.deepEqual(
    removed,
    [
      `${ipt} -t filter -D BANGER-FORWARD -s 172.16.0.5/32 -i br-fc -o eth0 -m comment --comment banger-vm:abcd1234 -j ACCEPT`,
      `${ipt} -t nat -D POSTROUTING -j BANGER-POSTROUTING`,
      `${ipt} -t filter -D FORWARD -j BANGER-FORWARD`,
      `${ipt} -t nat -F BANGER-POSTROUTING`,
      `${ipt} -t filter -F BANGER-FORWARD`,
      `${ipt} -t nat -X BANGER-POSTROUTING`,
      `${ipt} -t filter -X BANGER-FORWARD`,
    ],
    'the last VM gone: jumps and chains removed too',
  );
});

test('a guest address is inside the pinned subnet, and not its network, broadcast or bridge address', () => {
  const net = { bridgeIp: '172.16.0.1', cidr: 24 };
  assert.equal(isGuestAddress('172.16.0.2', net), true);
  assert.equal(isGuestAddress('172.16.0.254', net), true);
  for (const ip of ['172.16.0.1', '172.16.0.0', '172.16.0.255', '172.16.1.2', '10.0.0.2', '0.0.0.0'])
    assert.equal(isGuestAddress(ip, net), false, ip);
  assert.equal(isGuestAddress('10.1.2.3', { bridgeIp: '10.0.0.1', cidr: 8 }), true);
});
