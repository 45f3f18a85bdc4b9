import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeHostRunner } from '../../test/fakes/fakeHostRunner.js';
import { deviceMapperAvailable, deviceNumbers, mknodArgv, parseLoopList, removeTreeNoFollow, RootSnapshotOps } from './index.js';

function tempTree() {
  const dir = mkdtempSync(join(tmpdir(), 'banger-priv-'));
  const image = join(dir, 'rootfs.ext4');
  const cow = join(dir, 'rootfs.cow');
  writeFileSync(image, Buffer.alloc(8192));
  writeFileSync(cow, '');
  return { dir, image, cow };
}

test('removing a jail unlinks symlinks without following them and leaves what they point at', () => {
  const t = tempTree();
  try {
    const outside = join(t.dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep'), 'precious');
    const jail = join(t.dir, 'jail');
    mkdirSync(join(jail, 'root', 'run'), { recursive: true });
    writeFileSync(join(jail, 'root', 'vmlinux'), 'k');
    symlinkSync(outside, join(jail, 'root', 'run', 'dir-link'));
    symlinkSync(join(outside, 'keep'), join(jail, 'root', 'file-link'));
    removeTreeNoFollow(jail);
    assert.equal(existsSync(jail), false);
    assert.equal(readFileSync(join(outside, 'keep'), 'utf8'), 'precious');
    removeTreeNoFollow(jail); // absent is fine
    // A symlink given as the top is removed itself, not its target.
    symlinkSync(outside, join(t.dir, 'top-link'));
    removeTreeNoFollow(join(t.dir, 'top-link'));
    assert.equal(existsSync(join(outside, 'keep')), true);
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
});

test('device numbers decode like glibc (small and large majors), and mknod is exact', () => {
  assert.deepEqual(deviceNumbers(0x0103n), { major: 1, minor: 3 }); // /dev/null
  assert.deepEqual(deviceNumbers(0xfd00n), { major: 253, minor: 0 }); // a dm device
  // glibc's makedev for numbers beyond 12 and 8 bits.
  const makedev = (major: bigint, minor: bigint) => ((major & 0xfffff000n) << 32n) | ((major & 0xfffn) << 8n) | ((minor & 0xffffff00n) << 12n) | (minor & 0xffn);
  assert.deepEqual(deviceNumbers(makedev(0x1234n, 0x56789n)), { major: 0x1234, minor: 0x56789 });
  assert.deepEqual(mknodArgv('/j/root/rootfs', 'b', { major: 253, minor: 4 }), ['mknod', '-m', '0600', '/j/root/rootfs', 'b', '253', '4']);
});

test('device-mapper is detected from /proc/misc; loop lists parse', () => {
  const t = tempTree();
  try {
    writeFileSync(join(t.dir, 'misc'), ' 58 memory_bandwidth\n236 device-mapper\n 60 loop-control\n');
    assert.equal(deviceMapperAvailable(join(t.dir, 'misc')), true);
    writeFileSync(join(t.dir, 'misc'), ' 60 loop-control\n');
    assert.equal(deviceMapperAvailable(join(t.dir, 'misc')), false);
    assert.equal(deviceMapperAvailable(join(t.dir, 'absent')), false);
    assert.deepEqual([...parseLoopList('/dev/loop3   7:3\n/dev/loop12  7:12\n')], [['7:3', '/dev/loop3'], ['7:12', '/dev/loop12']]);
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
});

test('attach: refused without device-mapper before touching the host; else loops, snapshot, owner, in that order', async () => {
  const t = tempTree();
  try {
    const none = new FakeHostRunner();
    const p = { vmId: 'abcd1234', image: t.image, cowFile: t.cow, ownerUid: 1000, ownerGid: 1000 };
    await assert.rejects(new RootSnapshotOps({ runner: none, roots: [t.dir], deviceMapper: () => false }).attach(p), /device-mapper is not available on this host/);
    assert.equal(none.calls.length, 0);
    await assert.rejects(new RootSnapshotOps({ runner: none, roots: [t.dir], deviceMapper: () => true }).attach({ ...p, image: '/etc/passwd' }), /outside banger's directories/);

    const r = new FakeHostRunner()
      .on(['dmsetup', 'table'], { exitCode: 1 }).on(['losetup', '-j'])
      .on(['losetup', '--find', '--show', '--read-only'], { stdout: '/dev/loop3\n' }).on(['losetup', '--find', '--show', t.cow], { stdout: '/dev/loop4\n' })
      .on(['dmsetup', 'create']).on(['chown']);
    const ops = new RootSnapshotOps({ runner: r, roots: [t.dir], deviceMapper: () => true });
    assert.deepEqual(await ops.attach(p), { device: '/dev/mapper/fc-rootfs-abcd1234' });
    assert.deepEqual(r.argvs(), [
      'dmsetup table fc-rootfs-abcd1234',
      `losetup -j ${t.cow}`,
      `losetup --find --show --read-only ${t.image}`,
      `losetup --find --show ${t.cow}`,
      'dmsetup create fc-rootfs-abcd1234 --table 0 16 snapshot /dev/loop3 /dev/loop4 P 8',
      'chown 1000:1000 /dev/mapper/fc-rootfs-abcd1234',
    ]);
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
});

test('attach undoes its loop devices when the snapshot cannot be made; detach finds them from the table and the COW file', async () => {
  const t = tempTree();
  try {
    const r = new FakeHostRunner()
      .on(['dmsetup', 'table'], { exitCode: 1 }).on(['losetup', '-j']).on(['losetup', '-d']).on(['dmsetup', 'remove'], { exitCode: 1 })
      .on(['losetup', '--find', '--show', '--read-only'], { stdout: '/dev/loop3\n' }).on(['losetup', '--find', '--show', t.cow], { stdout: '/dev/loop4\n' })
      .on(['dmsetup', 'create'], { exitCode: 1, stderr: 'device-mapper: reload ioctl failed: Invalid argument' });
    await assert.rejects(new RootSnapshotOps({ runner: r, roots: [t.dir], deviceMapper: () => true }).attach({ vmId: 'abcd1234', image: t.image, cowFile: t.cow, ownerUid: 0, ownerGid: 0 }), /reload ioctl failed/);
    assert.deepEqual(r.argvs().slice(-3), ['dmsetup remove fc-rootfs-abcd1234', 'losetup -d /dev/loop4', 'losetup -d /dev/loop3']);

    const d = new FakeHostRunner()
      .on(['dmsetup', 'table'], { stdout: '0 16 snapshot 7:3 7:4 P 8\n' })
      .on(['losetup', '--list'], { stdout: '/dev/loop3 7:3\n/dev/loop4 7:4\n/dev/loop5 7:5\n' })
      .on(['dmsetup', 'remove']).on(['losetup', '-d'])
      .on(['losetup', '-j'], { stdout: `/dev/loop5: [2049]:77 (${t.cow})\n` });
    await new RootSnapshotOps({ runner: d, roots: [t.dir], deviceMapper: () => true }).detach({ vmId: 'abcd1234', cowFile: t.cow });
    assert.deepEqual(d.argvs(), [
      'dmsetup table fc-rootfs-abcd1234',
      'losetup --list --noheadings --output NAME,MAJ:MIN',
      'dmsetup remove fc-rootfs-abcd1234',
      'losetup -d /dev/loop4',
      'losetup -d /dev/loop3',
      `losetup -j ${t.cow}`,
      'losetup -d /dev/loop5',
    ]);
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
});
