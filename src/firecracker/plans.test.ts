import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isJailedFirecracker, planJailer, sameFilesystemProblem } from './index.js';

test('jailer plan: argv with its own pid namespace, chroot layout and pid file', () => {
  const p = planJailer({
    vmId: 'abcd1234',
    jailerBin: '/usr/bin/jailer',
    firecrackerBin: '/usr/bin/firecracker',
    chrootBase: '/srv/jail',
    uid: 1000,
    gid: 1000,
  });
  assert.deepEqual(p.argv, [
    '/usr/bin/jailer',
    '--id',
    'abcd1234',
    '--exec-file',
    '/usr/bin/firecracker',
    '--uid',
    '1000',
    '--gid',
    '1000',
    '--chroot-base-dir',
    '/srv/jail',
    '--new-pid-ns',
    '--',
    '--api-sock',
    '/run/firecracker.socket',
  ]);
  assert.equal(p.jailDir, '/srv/jail/firecracker/abcd1234');
  assert.equal(p.chrootRoot, '/srv/jail/firecracker/abcd1234/root');
  assert.equal(p.pidFile, '/srv/jail/firecracker/abcd1234/root/firecracker.pid');
  const versioned = planJailer({
    vmId: 'abcd1234',
    jailerBin: '/opt/fc/jailer',
    firecrackerBin: '/opt/fc/firecracker-v1.14.1-x86_64',
    chrootBase: '/srv/jail',
    uid: 0,
    gid: 0,
  });
  assert.equal(versioned.pidFile, '/srv/jail/firecracker-v1.14.1-x86_64/abcd1234/root/firecracker-v1.14.1-x86_64.pid');
  assert.equal(sameFilesystemProblem({ path: '/a', dev: 1 }, { path: '/b', dev: 1 }), null);
  assert.match(sameFilesystemProblem({ path: '/a', dev: 1 }, { path: '/b', dev: 2 })!, /different filesystems/);
});

test('a jailed Firecracker is recognised by what it runs, --id and uid, never by its thread name; anything else is not', () => {
  const fc = {
    comm: 'MainThread',
    exe: '/srv/jail/firecracker/abcd1234/root/firecracker',
    cmdline: ['/firecracker', '--id=abcd1234', '--start-time-us=1', '--api-sock', '/run/firecracker.socket'],
    uid: 1000,
  };
  assert.equal(isJailedFirecracker(fc, 'abcd1234', 1000), true);
  assert.equal(isJailedFirecracker(fc, 'abcd1234'), true);
  assert.equal(isJailedFirecracker(fc, 'abcd9999', 1000), false, 'another VM');
  assert.equal(isJailedFirecracker(fc, 'abcd1234', 0), false, 'another uid');
  assert.equal(
    isJailedFirecracker({ ...fc, exe: '/usr/bin/sleep', cmdline: ['sleep', '--id=abcd1234'] }, 'abcd1234', 1000),
    false,
    'not firecracker',
  );
  assert.equal(
    isJailedFirecracker(
      {
        ...fc,
        exe: '/usr/bin/node',
        cmdline: ['/usr/bin/node', '/srv/jail/firecracker/abcd1234/root/firecracker', '--id', 'abcd1234'],
      },
      'abcd1234',
    ),
    true,
    'a script stand-in',
  );
});
