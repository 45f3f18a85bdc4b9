import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dmSnapshotCowArgv, dmSnapshotCreate, dmSnapshotLoopArgv, dmSnapshotTeardown, isJailedFirecracker, parseSnapshotTable, planJailer, sameFilesystemProblem,
} from './index.js';

test('dm-snapshot plan: exact argv for the COW file, the loop devices, the persistent snapshot table and the teardown', () => {
  assert.deepEqual(dmSnapshotCowArgv('/var/lib/banger/vms/abcd1234/rootfs.cow', 8589934592), ['truncate', '-s', '8589934592', '/var/lib/banger/vms/abcd1234/rootfs.cow']);
  assert.deepEqual(dmSnapshotLoopArgv('/var/lib/banger/images/deb/rootfs.ext4', '/var/lib/banger/vms/abcd1234/rootfs.cow'), {
    origin: ['losetup', '--find', '--show', '--read-only', '/var/lib/banger/images/deb/rootfs.ext4'],
    cow: ['losetup', '--find', '--show', '/var/lib/banger/vms/abcd1234/rootfs.cow'],
  });
  assert.deepEqual(dmSnapshotCreate('abcd1234', 1073741824, '/dev/loop3', '/dev/loop4'), ['dmsetup', 'create', 'fc-rootfs-abcd1234', '--table', '0 2097152 snapshot /dev/loop3 /dev/loop4 P 8']);
  assert.deepEqual(dmSnapshotTeardown('abcd1234', '/dev/loop3', '/dev/loop4'), [['dmsetup', 'remove', 'fc-rootfs-abcd1234'], ['losetup', '-d', '/dev/loop4'], ['losetup', '-d', '/dev/loop3']]);
  assert.deepEqual(parseSnapshotTable('0 2097152 snapshot 7:3 7:4 P 8\n'), { origin: '7:3', cow: '7:4' });
  assert.equal(parseSnapshotTable('0 2097152 linear 7:3 0'), null);
});

test('jailer plan: argv with its own pid namespace, chroot layout and pid file', () => {
  const p = planJailer({ vmId: 'abcd1234', jailerBin: '/usr/bin/jailer', firecrackerBin: '/usr/bin/firecracker', chrootBase: '/srv/jail', uid: 1000, gid: 1000 });
  assert.deepEqual(p.argv, ['/usr/bin/jailer', '--id', 'abcd1234', '--exec-file', '/usr/bin/firecracker', '--uid', '1000', '--gid', '1000', '--chroot-base-dir', '/srv/jail', '--new-pid-ns', '--', '--api-sock', '/run/firecracker.socket']);
  assert.equal(p.jailDir, '/srv/jail/firecracker/abcd1234');
  assert.equal(p.chrootRoot, '/srv/jail/firecracker/abcd1234/root');
  assert.equal(p.pidFile, '/srv/jail/firecracker/abcd1234/root/firecracker.pid');
  const versioned = planJailer({ vmId: 'abcd1234', jailerBin: '/opt/fc/jailer', firecrackerBin: '/opt/fc/firecracker-v1.14.1-x86_64', chrootBase: '/srv/jail', uid: 0, gid: 0 });
  assert.equal(versioned.pidFile, '/srv/jail/firecracker-v1.14.1-x86_64/abcd1234/root/firecracker-v1.14.1-x86_64.pid');
  assert.equal(sameFilesystemProblem({ path: '/a', dev: 1 }, { path: '/b', dev: 1 }), null);
  assert.match(sameFilesystemProblem({ path: '/a', dev: 1 }, { path: '/b', dev: 2 })!, /different filesystems/);
});

test('a jailed Firecracker is recognised by name, --id and uid; anything else is not', () => {
  const fc = { comm: 'firecracker', cmdline: ['/firecracker', '--id=abcd1234', '--start-time-us=1', '--api-sock', '/run/firecracker.socket'], uid: 1000 };
  assert.equal(isJailedFirecracker(fc, 'abcd1234', 1000), true);
  assert.equal(isJailedFirecracker(fc, 'abcd1234'), true);
  assert.equal(isJailedFirecracker(fc, 'abcd9999', 1000), false, 'another VM');
  assert.equal(isJailedFirecracker(fc, 'abcd1234', 0), false, 'another uid');
  assert.equal(isJailedFirecracker({ ...fc, comm: 'sleep' }, 'abcd1234', 1000), false, 'not firecracker');
  assert.equal(isJailedFirecracker({ ...fc, cmdline: ['firecracker', '--id', 'abcd1234'] }, 'abcd1234'), true);
});
