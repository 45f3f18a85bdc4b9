import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dmSnapshotCreate, dmSnapshotPrepare, dmSnapshotTeardown, planJailer, sameFilesystemProblem } from './index.js';

test('dm-snapshot plan: exact argv for the loop devices, the persistent snapshot table and the teardown', () => {
  const i = { vmId: 'abcd1234', image: '/var/lib/banger/images/deb/rootfs.ext4', imageSizeBytes: 1073741824, cowFile: '/var/lib/banger/vms/abcd1234/rootfs.cow', cowSizeBytes: 8589934592 };
  assert.deepEqual(dmSnapshotPrepare(i), [
    ['truncate', '-s', '8589934592', '/var/lib/banger/vms/abcd1234/rootfs.cow'],
    ['losetup', '--find', '--show', '--read-only', '/var/lib/banger/images/deb/rootfs.ext4'],
    ['losetup', '--find', '--show', '/var/lib/banger/vms/abcd1234/rootfs.cow'],
  ]);
  assert.deepEqual(dmSnapshotCreate(i, '/dev/loop3', '/dev/loop4'), ['dmsetup', 'create', 'fc-rootfs-abcd1234', '--table', '0 2097152 snapshot /dev/loop3 /dev/loop4 P 8']);
  assert.deepEqual(dmSnapshotTeardown('abcd1234', '/dev/loop3', '/dev/loop4'), [['dmsetup', 'remove', 'fc-rootfs-abcd1234'], ['losetup', '-d', '/dev/loop4'], ['losetup', '-d', '/dev/loop3']]);
});

test('jailer plan: argv, chroot layout, links and devices; a long API socket path gets a short symlink', () => {
  const base = { vmId: 'abcd1234', jailerBin: '/usr/bin/jailer', firecrackerBin: '/usr/bin/firecracker', chrootBase: '/srv/jail', uid: 1000, gid: 1000, kernel: '/k/vmlinux', initrd: '/k/initrd.img', rootDrive: '/dev/mapper/fc-rootfs-abcd1234', workDisk: '/v/work.ext4', shortDir: '/run/banger/vms/abcd1234' };
  const p = planJailer(base);
  assert.deepEqual(p.argv, ['/usr/bin/jailer', '--id', 'abcd1234', '--exec-file', '/usr/bin/firecracker', '--uid', '1000', '--gid', '1000', '--chroot-base-dir', '/srv/jail', '--daemonize', '--', '--api-sock', '/run/firecracker.socket']);
  assert.equal(p.chrootRoot, '/srv/jail/firecracker/abcd1234/root');
  assert.deepEqual(p.links.map((l) => l.inJail), ['/vmlinux', '/initrd.img', '/work.ext4']);
  assert.deepEqual(p.devices.map((d) => [d.hostDevice, d.inJail]), [['/dev/mapper/fc-rootfs-abcd1234', '/rootfs'], ['/dev/vhost-vsock', '/dev/vhost-vsock']]);
  assert.equal(p.pidFile, '/srv/jail/firecracker/abcd1234/root/firecracker.pid');
  assert.equal(p.apiSocketDial, p.apiSocket, 'short enough to dial directly');
  const long = planJailer({ ...base, chrootBase: `/srv/${'j'.repeat(90)}` });
  assert.ok(long.apiSocket.length > 107);
  assert.equal(long.apiSocketDial, '/run/banger/vms/abcd1234/fc-api.sock');
  const copy = planJailer({ ...base, rootDrive: '/v/rootfs.raw' });
  assert.ok(copy.links.some((l) => l.from === '/v/rootfs.raw' && l.inJail === '/rootfs'), 'a sparse-copy root is linked like a file');
  assert.equal(sameFilesystemProblem({ path: '/a', dev: 1 }, { path: '/b', dev: 1 }), null);
  assert.match(sameFilesystemProblem({ path: '/a', dev: 1 }, { path: '/b', dev: 2 })!, /different filesystems/);
});
