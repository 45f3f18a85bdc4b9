/**
 * The in-process privileged operations against the real host: a real bridge and tap,
 * real nft rules in a test table, a real ext4 image, real processes. Every resource
 * carries the "zt" test prefix and is removed in `finally`, even when a test fails.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, chmodSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecHostRunner, isProcessAlive } from '../../src/system/index.js';
import { silentLogger } from '../../src/log/index.js';
import { InProcessPrivilegedOps } from '../../src/roothelper/index.js';

const runner = new ExecHostRunner();
const ctx = { opId: 'op-itest' };
const suffix = randomBytes(3).toString('hex');

before(() => {
  assert.equal(process.getuid?.(), 0, 'these tests create bridges, taps and nft tables and must run as root (the README test command does)');
});

async function linkExists(name: string): Promise<boolean> {
  return (await runner.run(['ip', 'link', 'show', 'dev', name], { allowFailure: true })).exitCode === 0;
}

test('bridge and tap: created, enslaved, idempotent, deleted', async () => {
  const bridge = `br-fc-zt${suffix}`;
  const tap = `tap-fc-zt${suffix}`;
  const ops = new InProcessPrivilegedOps({ runner, log: silentLogger, roots: ['/nonexistent'] });
  try {
    await ops.ensureBridge({ name: bridge, address: '10.213.7.1', prefix: 24 }, ctx);
    await ops.ensureBridge({ name: bridge, address: '10.213.7.1', prefix: 24 }, ctx);
    const addr = await runner.run(['ip', '-o', '-4', 'addr', 'show', 'dev', bridge]);
    assert.match(addr.stdout, /inet 10\.213\.7\.1\/24/);
    await ops.createTap({ name: tap, bridge, ownerUid: 65534, ownerGid: 65534 }, ctx);
    await ops.createTap({ name: tap, bridge, ownerUid: 65534, ownerGid: 65534 }, ctx);
    const link = await runner.run(['ip', '-d', 'link', 'show', 'dev', tap]);
    assert.match(link.stdout, new RegExp(`master ${bridge}`));
    assert.match(link.stdout, /tun type tap/);
    assert.match(readFileSync(`/sys/class/net/${tap}/owner`, 'utf8'), /65534/);
    assert.ok((await ops.listTaps(ctx)).some((t) => t.name === tap && t.master === bridge));
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
  const ops = new InProcessPrivilegedOps({ runner, log: silentLogger, roots: ['/nonexistent'], nftTable: table });
  const listing = async () => (await runner.run(['nft', '-a', 'list', 'table', 'ip', table])).stdout;
  const count = async (marker: string) => (await listing()).split('\n').filter((x) => x.includes(marker)).length;
  try {
    const a = { vmId: 'aaaa0001', guestIp: '10.213.8.2', bridge, uplink: 'lo' };
    const b = { vmId: 'bbbb0002', guestIp: '10.213.8.3', bridge, uplink: 'lo' };
    await ops.applyNat(a, ctx);
    await ops.applyNat(a, ctx);
    await ops.applyNat(b, ctx);
    assert.equal(await count('banger-vm:aaaa0001'), 3, 'applying twice leaves one set of rules');
    assert.equal(await count('banger-vm:bbbb0002'), 3);
    assert.equal(await count(`banger-bridge:${bridge}`), 1, 'one isolation rule per bridge');
    const forward = (await listing()).split('chain forward')[1]!.split('\n').filter((l) => l.includes('comment'));
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
    const ops = new InProcessPrivilegedOps({ runner, log: silentLogger, roots: [dir], ipForwardPath: fake });
    assert.deepEqual(await ops.setIpForward({ enabled: !original }, ctx), { previous: original });
    assert.deepEqual(await ops.setIpForward({ enabled: original }, ctx), { previous: !original });
    assert.equal(readFileSync(fake, 'utf8').trim(), original ? '1' : '0');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeFileToImage writes into a real ext4 image with mode and owner, refusing paths outside the roots', async () => {
  const state = mkdtempSync(join(tmpdir(), 'banger-zt-state-'));
  try {
    const image = join(state, 'work.ext4');
    await runner.run(['truncate', '-s', '16M', image]);
    await runner.run(['mkfs.ext4', '-q', '-F', '-E', 'root_owner=0:0', image]);
    const ops = new InProcessPrivilegedOps({ runner, log: silentLogger, roots: [state] });
    await ops.writeFileToImage({ image, path: '/root/.ssh/authorized_keys', content: 'ssh-ed25519 AAAA test\n', mode: 0o600, uid: 0, gid: 0 }, ctx);
    await ops.writeFileToImage({ image, path: '/root/.ssh/authorized_keys', content: 'ssh-ed25519 BBBB replaced\n', mode: 0o640, uid: 1000, gid: 1000 }, ctx);
    const cat = await runner.run(['debugfs', '-R', 'cat /root/.ssh/authorized_keys', image]);
    assert.equal(cat.stdout, 'ssh-ed25519 BBBB replaced\n');
    const st = await runner.run(['debugfs', '-R', 'stat /root/.ssh/authorized_keys', image]);
    assert.match(st.stdout, /Mode:\s+0640/);
    assert.match(st.stdout, /User:\s+1000\s+Group:\s+1000/);
    await assert.rejects(ops.writeFileToImage({ image: '/etc/passwd', path: '/x', content: '', mode: 0o600, uid: 0, gid: 0 }, ctx), /outside banger's directories/);
    const fsck = await runner.run(['e2fsck', '-fn', image], { allowFailure: true });
    assert.equal(fsck.exitCode, 0, `image stays consistent: ${fsck.stdout}`);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});

test('signalProcess: a banger VMM is signalled; another process is refused', async () => {
  const state = mkdtempSync(join(tmpdir(), 'banger-zt-state-'));
  const bin = join(state, 'bin');
  mkdirSync(bin);
  // A stand-in whose executable is named like QEMU and whose argv names a banger VM dir.
  copyFileSync('/bin/sh', join(bin, 'qemu-system-x86_64'));
  chmodSync(join(bin, 'qemu-system-x86_64'), 0o755);
  const vmm = spawn(join(bin, 'qemu-system-x86_64'), ['-c', 'sleep 60; :', join(state, 'vms', 'abcd1234', 'qmp.sock')], { stdio: 'ignore' });
  const other = spawn('sleep', ['60'], { stdio: 'ignore' });
  const ops = new InProcessPrivilegedOps({ runner, log: silentLogger, roots: [state] });
  try {
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(ops.signalProcess({ pid: other.pid!, signal: 'KILL' }, ctx), /is not a banger VMM/);
    await assert.rejects(new InProcessPrivilegedOps({ runner, log: silentLogger, roots: ['/elsewhere'] }).signalProcess({ pid: vmm.pid!, signal: 'KILL' }, ctx), /not started by banger/);
    assert.equal(isProcessAlive(other.pid!), true);
    const exited = new Promise((r) => vmm.once('exit', r));
    await ops.signalProcess({ pid: vmm.pid!, signal: 'KILL' }, ctx);
    await exited;
  } finally {
    vmm.kill('SIGKILL');
    other.kill('SIGKILL');
    rmSync(state, { recursive: true, force: true });
  }
});
