import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dmSnapshotCowArgv, dmSnapshotCreate, dmSnapshotTeardown, parseSnapshotTable } from './index.js';

test('dm-snapshot plan: exact argv for the COW file, the persistent snapshot table and the teardown', () => {
  assert.deepEqual(dmSnapshotCowArgv('/var/lib/banger/vms/abcd1234/rootfs.cow', 8589934592), [
    'truncate',
    '-s',
    '8589934592',
    '/var/lib/banger/vms/abcd1234/rootfs.cow',
  ]);
  assert.deepEqual(dmSnapshotCreate('abcd1234', 1073741824, '/dev/loop3', '/dev/loop4'), [
    'dmsetup',
    'create',
    'fc-rootfs-abcd1234',
    '--table',
    '0 2097152 snapshot /dev/loop3 /dev/loop4 P 8',
  ]);
  assert.deepEqual(dmSnapshotTeardown('abcd1234', '/dev/loop3', '/dev/loop4'), [
    ['dmsetup', 'remove', 'fc-rootfs-abcd1234'],
    ['losetup', '-d', '/dev/loop4'],
    ['losetup', '-d', '/dev/loop3'],
  ]);
  assert.deepEqual(parseSnapshotTable('0 2097152 snapshot 7:3 7:4 P 8\n'), { origin: '7:3', cow: '7:4' });
  assert.equal(parseSnapshotTable('0 2097152 linear 7:3 0'), null);
});
