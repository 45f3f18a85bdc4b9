/**
 * The in-process privileged operations against the real host: a real bridge and tap,
 * real nft rules in a test table, a real image handed over to an owner, real processes.
 * Every resource carries the "zt" test prefix and is removed in `finally`, even when a test
 * fails. The owner is uid 65534 (nobody), so ownership checks bite.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  chmodSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecHostRunner, isProcessAlive } from '../../src/system/index.js';
import { silentLogger } from '../../src/log/index.js';
import { handOverImage, InProcessPrivilegedOps, type HelperScope } from '../../src/roothelper/index.js';

const OWNER = 65534;
const scopeFor = (
  ownerStateDir: string,
  network = { bridgeName: 'br-fc', bridgeIp: '172.16.0.1', cidr: 24 },
): HelperScope => ({
  ownerUid: OWNER,
  ownerGid: OWNER,
  ownerStateDir,
  rootStateDir: `${ownerStateDir}-root`,
  network,
});

const runner = new ExecHostRunner();
const ctx = { opId: 'op-itest' };
const suffix = randomBytes(3).toString('hex');

before(() => {
  assert.equal(
    process.getuid?.(),
    0,
    'these tests create bridges, taps and nft tables and must run as root (the README test command does)',
  );
});

async function linkExists(name: string): Promise<boolean> {
  return (await runner.run(['ip', 'link', 'show', 'dev', name], { allowFailure: true })).exitCode === 0;
}

test('bridge and tap: created, enslaved, idempotent, deleted', async () => {
  const bridge = `br-fc-zt${suffix}`;
  const tap = `tap-fc-zt${suffix}`;
  const ops = new InProcessPrivilegedOps({
    runner,
    log: silentLogger,
    scope: scopeFor('/nonexistent', { bridgeName: bridge, bridgeIp: '10.213.7.1', cidr: 24 }),
  });
  try {
    await ops.ensureBridge({}, ctx);
    await ops.ensureBridge({}, ctx);
    const addr = await runner.run(['ip', '-o', '-4', 'addr', 'show', 'dev', bridge]);
    assert.match(addr.stdout, /inet 10\.213\.7\.1\/24/);
    await ops.createTap({ name: tap }, ctx);
    await ops.createTap({ name: tap }, ctx);
    const link = await runner.run(['ip', '-d', 'link', 'show', 'dev', tap]);
    assert.match(link.stdout, new RegExp(`master ${bridge}`));
    assert.match(link.stdout, /tun type tap/);
    assert.match(readFileSync(`/sys/class/net/${tap}/owner`, 'utf8'), /65534/);
    assert.ok((await ops.listTaps({}, ctx)).some((t) => t.name === tap && t.master === bridge));
    await ops.deleteTap({ name: tap }, ctx);
    await ops.deleteTap({ name: tap }, ctx);
    assert.equal(await linkExists(tap), false);
  } finally {
    await runner.run(['ip', 'link', 'del', 'dev', tap], { allowFailure: true });
    await runner.run(['ip', 'link', 'del', 'dev', bridge], { allowFailure: true });
  }
  assert.equal(await linkExists(bridge), false);
});

test('nat rules live in their own table, are idempotent, are removed per VM, and the table goes with the last VM', async () => {
  const table = `banger_zt${suffix}`;
  const bridge = `br-fc-zt${suffix}`;
  const ops = new InProcessPrivilegedOps({
    runner,
    log: silentLogger,
    scope: scopeFor('/nonexistent', { bridgeName: bridge, bridgeIp: '10.213.8.1', cidr: 24 }),
    nftTable: table,
  });
  const listing = async () => (await runner.run(['nft', '-a', 'list', 'table', 'ip', table])).stdout;
  const count = async (marker: string) => (await listing()).split('\n').filter((x) => x.includes(marker)).length;
  try {
    const a = { vmId: 'aaaa0001', guestIp: '10.213.8.2', uplink: 'lo' };
    const b = { vmId: 'bbbb0002', guestIp: '10.213.8.3', uplink: 'lo' };
    await assert.rejects(
      ops.applyNat({ ...a, guestIp: '10.213.9.2' }, ctx),
      /not a guest address of the install's subnet/,
    );
    await ops.applyNat(a, ctx);
    await ops.applyNat(a, ctx);
    await ops.applyNat(b, ctx);
    assert.equal(await count('banger-vm:aaaa0001'), 3, 'applying twice leaves one set of rules');
    assert.equal(await count('banger-vm:bbbb0002'), 3);
    assert.equal(await count(`banger-bridge:${bridge}`), 1, 'one isolation rule per bridge');
    const forward = (await listing())
      .split('chain forward')[1]!
      .split('\n')
      .filter((l) => l.includes('comment'));
    assert.match(forward.at(-1)!, /drop comment "banger-bridge:/, 'the isolation rule stays last');
    await ops.removeNat({ vmId: 'aaaa0001' }, ctx);
    await ops.removeNat({ vmId: 'aaaa0001' }, ctx);
    assert.equal(await count('banger-vm:aaaa0001'), 0);
    assert.equal(await count('banger-vm:bbbb0002'), 3, "another VM's rules stay");
    await ops.removeNat({ vmId: 'bbbb0002' }, ctx);
    const tables = await runner.run(['nft', 'list', 'tables']);
    assert.doesNotMatch(tables.stdout, new RegExp(`table ip ${table}\\b`), 'no table is left once no VM has NAT');
  } finally {
    await runner.run(['nft', 'delete', 'table', 'ip', table], { allowFailure: true });
  }
});

test('ip_forward: reports the previous value and restores it (on a copy of the sysctl file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-zt-'));
  try {
    const fake = join(dir, 'ip_forward');
    copyFileSync('/proc/sys/net/ipv4/ip_forward', fake);
    const original = readFileSync(fake, 'utf8').trim() === '1';
    const ops = new InProcessPrivilegedOps({ runner, log: silentLogger, scope: scopeFor(dir), ipForwardPath: fake });
    assert.deepEqual(await ops.setIpForward({ enabled: !original }, ctx), { previous: original });
    assert.deepEqual(await ops.setIpForward({ enabled: original }, ctx), { previous: !original });
    assert.equal(readFileSync(fake, 'utf8').trim(), original ? '1' : '0');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a built image is handed to the owner as new files it owns, sparse, with the image modes; links planted in its place are never followed', async () => {
  const base = mkdtempSync(join(tmpdir(), 'banger-zt-'));
  const state = join(base, 'state');
  const built = join(base, 'built');
  try {
    mkdirSync(join(state, 'images'), { recursive: true });
    chownSync(state, OWNER, OWNER);
    chownSync(join(state, 'images'), OWNER, OWNER);
    mkdirSync(built);
    await runner.run(['truncate', '-s', '64M', join(built, 'rootfs.ext4')]);
    writeFileSync(join(built, 'work-seed.ext4'), 'seed');
    writeFileSync(join(base, 'canary'), 'root only');
    // The owner planted a link where the image goes: root replaces the name, never writes through it.
    mkdirSync(join(state, 'images', 'deb'));
    chownSync(join(state, 'images', 'deb'), OWNER, OWNER);
    symlinkSync(join(base, 'canary'), join(state, 'images', 'deb', 'rootfs.ext4'));
    await handOverImage(runner, scopeFor(state), 'deb', built);
    assert.equal(readFileSync(join(base, 'canary'), 'utf8'), 'root only');
    assert.equal(statSync(join(base, 'canary')).uid, 0);
    const rootfs = statSync(join(state, 'images', 'deb', 'rootfs.ext4'));
    assert.equal(rootfs.isFile(), true);
    assert.deepEqual([rootfs.uid, rootfs.mode & 0o777, rootfs.size], [OWNER, 0o444, 64 << 20]);
    assert.ok(rootfs.blocks * 512 < 1 << 20, 'copied sparse');
    assert.equal(readFileSync(join(state, 'images', 'deb', 'work-seed.ext4'), 'utf8'), 'seed');
    // A symlinked image directory is refused outright.
    rmSync(join(state, 'images', 'deb'), { recursive: true });
    symlinkSync(join(base), join(state, 'images', 'deb'));
    await assert.rejects(handOverImage(runner, scopeFor(state), 'deb', built), /symbolic link/);
    assert.equal(existsSync(join(base, 'rootfs.ext4')), false);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('signalProcess: a VMM of an existing VM, running as the owner, is signalled through a pidfd; anything else is refused', async () => {
  const state = mkdtempSync(join(tmpdir(), 'banger-zt-state-'));
  const bin = mkdtempSync(join(tmpdir(), 'banger-zt-bin-'));
  chmodSync(bin, 0o755);
  mkdirSync(join(state, 'vms', 'abcd1234'), { recursive: true });
  chownSync(state, OWNER, OWNER);
  // A stand-in whose executable is named like QEMU and whose argv carries banger's -name.
  copyFileSync('/bin/sh', join(bin, 'qemu-system-x86_64'));
  chmodSync(join(bin, 'qemu-system-x86_64'), 0o755);
  const qemuLike = (vm: string, uid: number) =>
    spawn(join(bin, 'qemu-system-x86_64'), ['-c', 'sleep 60; :', '-name', `banger-${vm}`], {
      stdio: 'ignore',
      uid,
      gid: uid,
    });
  const vmm = qemuLike('abcd1234', OWNER);
  const rootVmm = qemuLike('abcd1234', 0);
  const noVm = qemuLike('ffff0000', OWNER);
  const other = spawn('sleep', ['60'], { stdio: 'ignore', uid: OWNER, gid: OWNER });
  const ops = new InProcessPrivilegedOps({
    runner,
    log: silentLogger,
    scope: scopeFor(state),
    jail: { jailerBin: '/nonexistent/jailer', firecrackerBin: null },
  });
  try {
    await new Promise((r) => setTimeout(r, 150));
    await assert.rejects(
      ops.signalProcess({ pid: other.pid!, signal: 'KILL' }, ctx),
      /is not a banger VMM running as the install's owner/,
    );
    await assert.rejects(
      ops.signalProcess({ pid: rootVmm.pid!, signal: 'KILL' }, ctx),
      /is not a banger VMM running as the install's owner/,
      "root's process",
    );
    await assert.rejects(
      ops.signalProcess({ pid: noVm.pid!, signal: 'KILL' }, ctx),
      /names VM ffff0000, which does not exist/,
    );
    await assert.rejects(ops.signalProcess({ pid: 2 ** 22 - 3, signal: 'KILL' }, ctx), /does not exist/);
    for (const p of [other, rootVmm, noVm]) assert.equal(isProcessAlive(p.pid!), true);
    const exited = new Promise((r) => vmm.once('exit', r));
    await ops.signalProcess({ pid: vmm.pid!, signal: 'KILL' }, ctx);
    await exited;
  } finally {
    for (const p of [vmm, rootVmm, noVm, other]) p.kill('SIGKILL');
    rmSync(state, { recursive: true, force: true });
    rmSync(bin, { recursive: true, force: true });
  }
});
