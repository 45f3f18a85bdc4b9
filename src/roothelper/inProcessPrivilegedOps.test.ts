import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHostRunner } from '../../test/fakes/fakeHostRunner.js';
import { silentLogger } from '../log/index.js';
import { InProcessPrivilegedOps, UnavailablePrivilegedOps } from './index.js';

const ctx = { opId: 'op-test' };

test('ensureBridge creates a missing bridge, then addresses it and brings it up', async () => {
  const r = new FakeHostRunner().on(['ip']).on(['ip', '-o', 'link', 'show'], { exitCode: 1 });
  await new InProcessPrivilegedOps({ runner: r, log: silentLogger, roots: ['/s'] }).ensureBridge({ name: 'br-fc', address: '172.16.0.1', prefix: 24 }, ctx);
  assert.deepEqual(r.argvs(), [
    'ip -o link show dev br-fc',
    'ip link add name br-fc type bridge',
    'ip addr replace 172.16.0.1/24 dev br-fc',
    'ip link set dev br-fc up',
  ]);
});

test('createTap on an existing bridge; invalid names never reach the host', async () => {
  const r = new FakeHostRunner().on(['ip']).on(['ip', '-o', 'link', 'show'], { exitCode: 1 }).on(['ip', '-o', 'link', 'show', 'dev', 'br-fc']);
  const ops = new InProcessPrivilegedOps({ runner: r, log: silentLogger, roots: ['/s'] });
  await ops.createTap({ name: 'tap-fc-abcd1234', bridge: 'br-fc', ownerUid: 1000, ownerGid: 1000 }, ctx);
  assert.deepEqual(r.argvs().slice(2), [
    'ip tuntap add dev tap-fc-abcd1234 mode tap user 1000 group 1000',
    'ip link set dev tap-fc-abcd1234 master br-fc',
    'ip link set dev tap-fc-abcd1234 up',
  ]);
  const before = r.calls.length;
  await assert.rejects(ops.createTap({ name: 'eth0', bridge: 'br-fc', ownerUid: 0, ownerGid: 0 }, ctx), /tap name "eth0" is not allowed/);
  await assert.rejects(ops.ensureBridge({ name: 'br0', address: '1.2.3.4', prefix: 24 }, ctx), /bridge name "br0"/);
  await assert.rejects(ops.deleteTap({ name: 'lo' }, ctx), /not allowed/);
  await assert.rejects(ops.signalProcess({ pid: process.pid, signal: 'STOP' as never }, ctx), /signal "STOP" is not allowed/);
  assert.equal(r.calls.length, before, 'nothing ran for invalid input');
});

test('listTaps reports only banger taps, with their bridge', async () => {
  const r = new FakeHostRunner().on(['ip', '-o', 'link', 'show'], {
    stdout: '1: lo: <LOOPBACK>\n5: tap-fc-abcd1234: <BROADCAST> mtu 1500 qdisc fq_codel master br-fc state UP\n6: tap-pool-0@if2: <X>\n7: tapx: <X>\n8: br-fc: <X>\n',
  });
  assert.deepEqual(await new InProcessPrivilegedOps({ runner: r, log: silentLogger, roots: ['/s'] }).listTaps(ctx), [
    { name: 'tap-fc-abcd1234', master: 'br-fc' }, { name: 'tap-pool-0', master: null },
  ]);
});

test('createTap refuses a tap that another bridge owns', async () => {
  const r = new FakeHostRunner()
    .on(['ip', '-o', 'link', 'show', 'dev', 'br-fc'], { stdout: '8: br-fc: <X>\n' })
    .on(['ip', '-o', 'link', 'show', 'dev', 'tap-pool-0'], { stdout: '6: tap-pool-0: <X> mtu 1500 master br-fc-other state UP\n' });
  await assert.rejects(new InProcessPrivilegedOps({ runner: r, log: silentLogger, roots: ['/s'] }).createTap({ name: 'tap-pool-0', bridge: 'br-fc', ownerUid: 0, ownerGid: 0 }, ctx), /already exists on bridge br-fc-other/);
});

test('without root or helper every operation says what to do', async () => {
  await assert.rejects(new UnavailablePrivilegedOps().ensureBridge(), (e: Error & { hint?: string }) => /needs root/.test(e.message) && /system install/.test(e.hint ?? ''));
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
  const ops = new InProcessPrivilegedOps({ runner: r, log: silentLogger, roots: ['/s'], natBackend: { kind: 'iptables', bin: ipt } });
  await ops.applyNat({ vmId: 'abcd1234', guestIp: '172.16.0.5', bridge: 'br-fc', uplink: 'eth0' }, ctx);
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
  await new InProcessPrivilegedOps({ runner: d, log: silentLogger, roots: ['/s'], natBackend: { kind: 'iptables', bin: ipt } }).removeNat({ vmId: 'abcd1234' }, ctx);
  const removed = d.argvs().filter((a) => !/ -S /.test(a));
  assert.deepEqual(removed, [
    `${ipt} -t filter -D BANGER-FORWARD -s 172.16.0.5/32 -i br-fc -o eth0 -m comment --comment banger-vm:abcd1234 -j ACCEPT`,
    `${ipt} -t nat -D POSTROUTING -j BANGER-POSTROUTING`,
    `${ipt} -t filter -D FORWARD -j BANGER-FORWARD`,
    `${ipt} -t nat -F BANGER-POSTROUTING`,
    `${ipt} -t filter -F BANGER-FORWARD`,
    `${ipt} -t nat -X BANGER-POSTROUTING`,
    `${ipt} -t filter -X BANGER-FORWARD`,
  ], 'the last VM gone: jumps and chains removed too');
});
