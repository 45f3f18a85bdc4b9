import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProcessIdentity } from '../system/index.js';
import { firecrackerIdArg, isJailedFirecrackerOf, qemuVmIdArg, vmmVmId } from './index.js';

const jailBase = '/var/lib/banger-root/jail';
const who = (o: Partial<ProcessIdentity>): ProcessIdentity => ({
  comm: 'MainThread',
  cmdline: [],
  uid: 1000,
  uids: [1000, 1000, 1000, 1000],
  exe: null,
  ...o,
});
const jailed = who({
  exe: `${jailBase}/firecracker/abcd1234/root/firecracker`,
  cmdline: ['/firecracker', '--id=abcd1234', '--api-sock', '/run/firecracker.socket'],
});

test('VM ids are read from the VMM command lines banger writes', () => {
  assert.equal(firecrackerIdArg(['fc', '--id=abcd1234']), 'abcd1234');
  assert.equal(firecrackerIdArg(['fc', '--id', 'abcd1234']), 'abcd1234');
  assert.equal(firecrackerIdArg(['fc', '--id']), null);
  assert.equal(qemuVmIdArg(['qemu-system-x86_64', '-name', 'banger-abcd1234']), 'abcd1234');
  assert.equal(qemuVmIdArg(['qemu-system-x86_64', '-name', 'other']), null);
});

test("a jailed Firecracker is the jail's own exec file, for that VM, with every uid the owner's; the thread name counts for nothing", () => {
  const o = { jailBase, firecrackerBin: '/usr/bin/firecracker', vmId: 'abcd1234', uid: 1000 };
  assert.equal(isJailedFirecrackerOf(jailed, o), true);
  assert.equal(
    isJailedFirecrackerOf({ ...jailed, comm: 'firecracker' }, { ...o, vmId: 'ffff0000' }),
    false,
    'another VM',
  );
  assert.equal(isJailedFirecrackerOf({ ...jailed, uids: [1000, 0, 0, 0] }, o), false, 'a setuid process');
  assert.equal(isJailedFirecrackerOf({ ...jailed, exe: '/home/owner/firecracker' }, o), false, "the owner's own copy");
  assert.equal(
    isJailedFirecrackerOf(
      who({
        exe: '/usr/bin/node',
        cmdline: ['/usr/bin/node', `${jailBase}/firecracker/abcd1234/root/firecracker`, '--id=abcd1234'],
      }),
      o,
    ),
    true,
    'a #! stand-in',
  );
});

test('only banger VMMs running as the owner are signalled: jailed, plain and QEMU; not root, not another program', () => {
  const o = { jailBase, firecrackerBin: '/usr/bin/firecracker', uid: 1000 };
  assert.equal(vmmVmId(jailed, o), 'abcd1234');
  assert.equal(
    vmmVmId(
      who({ exe: '/usr/bin/firecracker', cmdline: ['/usr/bin/firecracker', '--api-sock', '/x', '--id', 'abcd1234'] }),
      o,
    ),
    'abcd1234',
  );
  assert.equal(
    vmmVmId(
      who({ exe: '/usr/bin/qemu-system-x86_64', cmdline: ['qemu-system-x86_64', '-name', 'banger-abcd1234'] }),
      o,
    ),
    'abcd1234',
  );
  assert.equal(vmmVmId({ ...jailed, uid: 0, uids: [0, 0, 0, 0] }, o), null, "root's process");
  assert.equal(
    vmmVmId(who({ exe: '/usr/bin/sleep', cmdline: ['sleep', '--id=abcd1234', '-name', 'banger-abcd1234'] }), o),
    null,
    'a program that only says the words',
  );
  assert.equal(
    vmmVmId(who({ exe: '/tmp/firecracker', cmdline: ['/tmp/firecracker', '--id=abcd1234'] }), o),
    null,
    'a firecracker root did not choose',
  );
  assert.equal(vmmVmId(jailed, { ...o, firecrackerBin: null }), null, 'no firecracker on this host');
});
