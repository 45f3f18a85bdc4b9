import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chownSync,
  existsSync,
  fstatSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeHostRunner } from '../../test/fakes/fakeHostRunner.js';
import {
  deviceMapperAvailable,
  deviceNumbers,
  FdDir,
  loopsBackedBy,
  parseLoopList,
  RootSnapshotOps,
  type HelperScope,
} from './index.js';

/** The owner the tests hand files to: nobody, so ownership checks bite (the tests run as root). */
const OWNER = 65534;

/** A root-owned temp dir with the owner's state dir in it, holding an image and a VM's COW file. */
function ownerTree() {
  const dir = mkdtempSync(join(tmpdir(), 'banger-priv-'));
  const state = join(dir, 'state');
  const vmDir = join(state, 'vms', 'abcd1234');
  mkdirSync(vmDir, { recursive: true });
  mkdirSync(join(state, 'images', 'deb'), { recursive: true });
  const image = join(state, 'images', 'deb', 'rootfs.ext4');
  const cow = join(vmDir, 'rootfs.cow');
  writeFileSync(image, Buffer.alloc(8192));
  writeFileSync(cow, '');
  for (const p of [state, join(state, 'vms'), vmDir, join(state, 'images'), join(state, 'images', 'deb'), image, cow])
    chownSync(p, OWNER, OWNER);
  const scope: HelperScope = {
    ownerUid: OWNER,
    ownerGid: OWNER,
    ownerStateDir: state,
    rootStateDir: join(dir, 'root'),
    network: { bridgeName: 'br-fc', bridgeIp: '172.16.0.1', cidr: 24 },
  };
  return { dir, state, image, cow, scope, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('removing a tree by descriptor unlinks symlinks without following them and leaves what they point at', () => {
  const t = ownerTree();
  try {
    const outside = join(t.dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep'), 'precious');
    const jail = join(t.dir, 'jail');
    mkdirSync(join(jail, 'root', 'run'), { recursive: true });
    writeFileSync(join(jail, 'root', 'vmlinux'), 'k');
    symlinkSync(outside, join(jail, 'root', 'run', 'dir-link'));
    symlinkSync(join(outside, 'keep'), join(jail, 'root', 'file-link'));
    linkSync(join(outside, 'keep'), join(jail, 'root', 'hard-link'));
    const top = FdDir.openAnchor(t.dir);
    try {
      top.removeTree('jail');
      assert.equal(existsSync(jail), false);
      assert.equal(readFileSync(join(outside, 'keep'), 'utf8'), 'precious');
      assert.equal(statSync(join(outside, 'keep')).nlink, 1, 'the hard link went, the file stayed');
      top.removeTree('jail'); // absent is fine
      // A symlink as the entry to remove is removed itself, not its target.
      symlinkSync(outside, join(t.dir, 'top-link'));
      top.removeTree('top-link');
      assert.equal(existsSync(join(outside, 'keep')), true);
      assert.throws(() => top.removeTree('../etc'), /not a plain file name/);
    } finally {
      top.close();
    }
  } finally {
    t.cleanup();
  }
});

test('anchors: root refuses a directory whose ancestors or itself someone else could rename or replace', () => {
  const t = ownerTree();
  try {
    assert.throws(
      () => FdDir.openAnchor(join(t.state, 'vms')),
      /is not a root-owned directory that only root can change/,
      'nothing under an owner directory is a root anchor',
    );
    assert.throws(() => FdDir.openAnchor(t.state), /root expects uid 0/, 'an owner directory is no root anchor');
    assert.equal(
      FdDir.openAnchor(t.state, { ownerUid: OWNER }).use((d) => d.stat().uid),
      OWNER,
    );
    assert.throws(
      () => FdDir.openAnchor(join(t.state, 'vms', 'abcd1234'), { ownerUid: OWNER }),
      /is not a root-owned directory that only root can change/,
      'under an owner directory',
    );
    symlinkSync(t.state, join(t.dir, 'state-link'));
    assert.throws(() => FdDir.openAnchor(join(t.dir, 'state-link'), { ownerUid: OWNER }), /symbolic link/);
    const made = FdDir.openAnchor(join(t.dir, 'root'), { createMode: 0o711 });
    assert.equal(made.stat().mode & 0o777, 0o711);
    made.close();
  } finally {
    t.cleanup();
  }
});

test('owner files resolve under the anchor only: no symlink, no "..", no other owner', () => {
  const t = ownerTree();
  try {
    const owner = FdDir.openAnchor(t.state, { ownerUid: OWNER });
    try {
      symlinkSync('/etc/passwd', join(t.state, 'vms', 'abcd1234', 'console.log'));
      assert.throws(() => owner.openFile('vms/abcd1234/console.log', 1), /symbolic link/);
      assert.throws(() => owner.openFile('vms/../../etc/passwd', 0), /not a plain relative path/);
      rmSync(join(t.state, 'vms', 'abcd1234'), { recursive: true });
      symlinkSync('/etc', join(t.state, 'vms', 'abcd1234'));
      assert.throws(
        () => owner.openFile('vms/abcd1234/passwd', 0),
        /symbolic link/,
        'a symlinked directory on the way',
      );
    } finally {
      owner.close();
    }
  } finally {
    t.cleanup();
  }
});

test('device numbers decode like glibc (small and large majors)', () => {
  assert.deepEqual(deviceNumbers(0x0103n), { major: 1, minor: 3 }); // /dev/null
  assert.deepEqual(deviceNumbers(0xfd00n), { major: 253, minor: 0 }); // a dm device
  // glibc's makedev for numbers beyond 12 and 8 bits.
  const makedev = (major: bigint, minor: bigint) =>
    ((major & 0xfffff000n) << 32n) | ((major & 0xfffn) << 8n) | ((minor & 0xffffff00n) << 12n) | (minor & 0xffn);
  assert.deepEqual(deviceNumbers(makedev(0x1234n, 0x56789n)), { major: 0x1234, minor: 0x56789 });
});

test('device-mapper is detected from /proc/misc; loop lists parse, by number and by backing inode', () => {
  const t = ownerTree();
  try {
    writeFileSync(join(t.dir, 'misc'), ' 58 memory_bandwidth\n236 device-mapper\n 60 loop-control\n');
    assert.equal(deviceMapperAvailable(join(t.dir, 'misc')), true);
    writeFileSync(join(t.dir, 'misc'), ' 60 loop-control\n');
    assert.equal(deviceMapperAvailable(join(t.dir, 'misc')), false);
    assert.equal(deviceMapperAvailable(join(t.dir, 'absent')), false);
    assert.deepEqual(
      [...parseLoopList('/dev/loop3   7:3\n/dev/loop12  7:12\n')],
      [
        ['7:3', '/dev/loop3'],
        ['7:12', '/dev/loop12'],
      ],
    );
    assert.deepEqual(
      loopsBackedBy('/dev/loop3 77 8:1\n/dev/loop4 78 8:1\n/dev/loop5 77 0:45\n/dev/loop6 77 8:1\n', 77, '8:1'),
      ['/dev/loop3', '/dev/loop6'],
    );
  } finally {
    t.cleanup();
  }
});

/** Records the descriptors attach hands to LOOP_SET_FD, with what each one is. */
function recordingLoops(names: string[]) {
  const attached: Array<{ ino: number; writable: boolean }> = [];
  return {
    attached,
    attachLoop: (fd: number) => {
      const flags = parseInt(/flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8); // octal open flags
      attached.push({ ino: fstatSync(fd).ino, writable: (flags & 3) !== 0 });
      return names.shift()!;
    },
  };
}

test('attach: refused without device-mapper before touching the host; owner inputs by descriptor (LOOP_SET_FD, the image read-only); then snapshot and owner, in that order', async () => {
  const t = ownerTree();
  try {
    const none = new FakeHostRunner();
    const p = { vmId: 'abcd1234', image: t.image };
    await assert.rejects(
      new RootSnapshotOps({ runner: none, scope: t.scope, deviceMapper: () => false }).attach(p),
      /device-mapper is not available on this host/,
    );
    assert.equal(none.calls.length, 0);
    const empty = () => new FakeHostRunner().on(['dmsetup', 'table'], { exitCode: 1 }).on(['losetup', '--list']);
    const never = () => {
      throw new Error('no loop may be attached');
    };
    await assert.rejects(
      new RootSnapshotOps({ runner: empty(), scope: t.scope, deviceMapper: () => true, attachLoop: never }).attach({
        ...p,
        image: '/etc/passwd',
      }),
      /outside the owner's state directory/,
    );
    writeFileSync(join(t.state, 'images', 'deb', 'roots'), 'x'); // root's file in the owner's directory
    await assert.rejects(
      new RootSnapshotOps({ runner: empty(), scope: t.scope, deviceMapper: () => true, attachLoop: never }).attach({
        ...p,
        image: join(t.state, 'images', 'deb', 'roots'),
      }),
      /belongs to uid 0, not to the install's owner/,
    );

    const r = new FakeHostRunner()
      .on(['dmsetup', 'table'], { exitCode: 1 })
      .on(['losetup', '--list'])
      .on(['dmsetup', 'create'])
      .on(['chown']);
    const loops = recordingLoops(['/dev/loop3', '/dev/loop4']);
    const ops = new RootSnapshotOps({
      runner: r,
      scope: t.scope,
      deviceMapper: () => true,
      attachLoop: loops.attachLoop,
    });
    assert.deepEqual(await ops.attach(p), { device: '/dev/mapper/fc-rootfs-abcd1234' });
    assert.deepEqual(loops.attached, [
      { ino: statSync(t.image).ino, writable: false },
      { ino: statSync(t.cow).ino, writable: true },
    ]);
    assert.deepEqual(r.argvs(), [
      'dmsetup table fc-rootfs-abcd1234',
      'losetup --list --noheadings --output NAME,BACK-INO,BACK-MAJ:MIN',
      'dmsetup create fc-rootfs-abcd1234 --table 0 16 snapshot /dev/loop3 /dev/loop4 P 8',
      `chown ${OWNER}:${OWNER} /dev/mapper/fc-rootfs-abcd1234`,
    ]);
  } finally {
    t.cleanup();
  }
});

test("attach undoes its loop devices when the snapshot cannot be made; detach finds them from the table and the COW file's inode", async () => {
  const t = ownerTree();
  try {
    const r = new FakeHostRunner()
      .on(['dmsetup', 'table'], { exitCode: 1 })
      .on(['losetup', '--list'])
      .on(['losetup', '-d'])
      .on(['dmsetup', 'remove'], { exitCode: 1 })
      .on(['dmsetup', 'create'], { exitCode: 1, stderr: 'device-mapper: reload ioctl failed: Invalid argument' });
    const loops = recordingLoops(['/dev/loop3', '/dev/loop4']);
    await assert.rejects(
      new RootSnapshotOps({ runner: r, scope: t.scope, deviceMapper: () => true, attachLoop: loops.attachLoop }).attach(
        { vmId: 'abcd1234', image: t.image },
      ),
      /reload ioctl failed/,
    );
    assert.deepEqual(r.argvs().slice(-3), [
      'dmsetup remove fc-rootfs-abcd1234',
      'losetup -d /dev/loop4',
      'losetup -d /dev/loop3',
    ]);

    const cow = statSync(t.cow);
    const majMin = `${Math.floor(cow.dev / 256) & 0xfff}:${cow.dev & 0xff}`;
    const d = new FakeHostRunner()
      .on(['dmsetup', 'table'], { stdout: '0 16 snapshot 7:3 7:4 P 8\n' })
      .on(['losetup', '--list', '--noheadings', '--output', 'NAME,MAJ:MIN'], {
        stdout: '/dev/loop3 7:3\n/dev/loop4 7:4\n/dev/loop5 7:5\n',
      })
      .on(['losetup', '--list', '--noheadings', '--output', 'NAME,BACK-INO,BACK-MAJ:MIN'], {
        stdout: `/dev/loop5 ${cow.ino} ${majMin}\n/dev/loop6 ${cow.ino + 1} ${majMin}\n`,
      })
      .on(['dmsetup', 'remove'])
      .on(['losetup', '-d']);
    await new RootSnapshotOps({ runner: d, scope: t.scope, deviceMapper: () => true }).detach({ vmId: 'abcd1234' });
    assert.deepEqual(d.argvs(), [
      'dmsetup table fc-rootfs-abcd1234',
      'losetup --list --noheadings --output NAME,MAJ:MIN',
      'dmsetup remove fc-rootfs-abcd1234',
      'losetup -d /dev/loop4',
      'losetup -d /dev/loop3',
      'losetup --list --noheadings --output NAME,BACK-INO,BACK-MAJ:MIN',
      'losetup -d /dev/loop5',
    ]);
  } finally {
    t.cleanup();
  }
});
