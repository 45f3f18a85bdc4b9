/**
 * Port forwards through the real CLI and daemon (docs/howto/networking.md). A VM is made
 * to look running without booting one: its record says running with the address 127.0.0.1,
 * and a stand-in process whose command line names the VM's QMP socket is its "VMM", which
 * the daemon's reconcile adopts. A TCP server on loopback stands in for the guest's
 * service, so the forward's real proxy is exercised end to end: adding, serving, a busy port
 * held by a child process (its owner named), conflicts and bad input (nothing stored),
 * restore after a daemon restart, close on kill, removal and delete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { userLayout, vmFiles } from '../../src/paths/index.js';
import { Store } from '../../src/store/index.js';
import { sampleVm } from '../fixtures/vms.js';
import { createSandbox, freePort, type Sandbox } from './harness.js';

/** Connects to 127.0.0.1:port and reads until the server closes; 'refused' when nothing listens. */
function fetchLine(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    let text = '';
    c.on('data', (d) => {
      text += d;
    });
    c.on('end', () => resolve(text));
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : `error ${e.code}`));
  });
}

/** A child that holds 127.0.0.1:port until killed. */
async function holdPort(port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await new Promise((r) => child.stdout!.once('data', r));
  return child;
}

const ok = async (s: Sandbox, args: string[]) => {
  const r = await s.banger(args);
  assert.equal(r.code, 0, `banger ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

interface Fixture {
  s: Sandbox;
  guest: Server;
  guestPort: number;
  vmm: ChildProcess;
}

/** The sandbox (its own bridge, so nothing of the host's is touched), the records, the stand-in VMM and guest service. */
async function setUp(): Promise<Fixture> {
  const s = createSandbox();
  await ok(s, ['vm', 'list']); // creates and migrates the database
  await ok(s, ['daemon', 'stop']);
  const guest = createServer((c) => c.end('hello from the guest\n'));
  await new Promise<void>((r) => guest.listen(0, '127.0.0.1', r));
  const layout = userLayout({ home: s.dir, uid: process.getuid!(), env: s.env });
  const files = vmFiles(layout, 'f0f0f0f1');
  mkdirSync(files.dir, { recursive: true });
  const vmm = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', files.qmpSocket], { stdio: 'ignore' });
  const store = Store.open(join(s.stateDir, 'state.db'));
  try {
    store.vms.insert(sampleVm({ id: 'f0f0f0f1', name: 'web', guestIp: '127.0.0.1', mac: 'm1', vmDir: files.dir }));
    store.vms.setRuntime('f0f0f0f1', 'running', {
      pid: vmm.pid,
      tap: 'tap-zwfwd0',
      vmm: 'qemu',
      startedAt: new Date().toISOString(),
    });
    store.vms.insert(sampleVm({ id: 'f0f0f0f2', name: 'db', guestIp: '127.0.0.2', mac: 'm2' }));
  } finally {
    store.close();
  }
  return { s, guest, guestPort: (guest.address() as AddressInfo).port, vmm };
}

test('vm forward through the real daemon: serves, names a busy port’s owner, conflicts, restores after restart, closes on kill', async () => {
  const f = await setUp();
  const { s, guestPort: g } = f;
  let holder: ChildProcess | null = null;
  try {
    const [l1, l2, busy] = [await freePort(), await freePort(), await freePort()];
    const added = await ok(s, ['vm', 'forward', 'web', `${l1}:${g}`]);
    assert.equal(added, `127.0.0.1:${l1} -> web:${g}  (listening)\n`, 'the reconciled VM runs: its forward listens');
    assert.equal(await fetchLine(l1), 'hello from the guest\n');
    assert.equal(await ok(s, ['vm', 'forward', 'web', `${l1}:${g}`]), added, 'asking again changes nothing');

    // Bad input and conflicts: clear errors, nothing stored.
    const zero = await s.banger(['vm', 'forward', 'web', '0:80']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /local port 0 is out of range \(1-65535\)/);
    const wire = await s.banger([
      'internal',
      'rpc',
      'vm.forward.add',
      '{"name":"web","forwards":[{"local":8080,"guest":70000}]}',
    ]);
    assert.equal(wire.code, 2);
    assert.match(wire.stderr, /guest port must be 1-65535/);
    const taken = await s.banger(['vm', 'forward', 'db', `${l1}:22`]);
    assert.equal(taken.code, 4);
    assert.match(taken.stderr, new RegExp(`local port ${l1} already forwards to web:${g}`));
    const twice = await s.banger(['vm', 'forward', 'web', `${l2}:1`, `${l2}:2`]);
    assert.match(twice.stderr, new RegExp(`local port ${l2} is asked for twice`));

    // A port another process holds: its owner is named, with a port to try instead.
    holder = await holdPort(busy);
    const inUse = await s.banger(['vm', 'forward', 'web', `${l2}:${g}`, `${busy}:${g}`]);
    assert.equal(inUse.code, 4, inUse.stderr);
    assert.match(inUse.stderr, new RegExp(`banger: local port ${busy} is in use by pid ${holder.pid} \\(node -e `));
    assert.match(inUse.stderr, new RegExp(`hint: choose another: banger vm forward web ${busy + 1}:${g}`));
    assert.equal(await fetchLine(l2), 'refused', 'the request was all or none: the first listener was closed again');
    const stopped = await s.banger(['vm', 'forward', 'db', `${busy}:5432`]);
    assert.match(stopped.stderr, new RegExp(`local port ${busy} is in use by pid ${holder.pid}`), 'a stopped VM too');
    const listed = JSON.parse(await ok(s, ['vm', 'forward', 'web', '--json']));
    assert.deepEqual(
      listed.map((x: { local: number; guest: number; state: string }) => [x.local, x.guest, x.state]),
      [[l1, g, 'active']],
    );

    // A stopped VM's forward is stored and listens only once it runs.
    assert.equal(
      await ok(s, ['vm', 'forward', 'db', `${l2}:5432`]),
      `127.0.0.1:${l2} -> db:5432  (listens once db runs)\n`,
    );
    assert.equal(await fetchLine(l2), 'refused');

    const show = await ok(s, ['vm', 'show', 'web']);
    assert.match(show, new RegExp(`forward\\s+127\\.0\\.0\\.1:${l1} -> web:${g} \\(listening\\)`));
    assert.equal(JSON.parse(await ok(s, ['vm', 'show', 'web', '--json'])).forwards[0].local, l1);

    // The daemon's stop closes the listener; its next start restores it.
    await ok(s, ['daemon', 'stop']);
    assert.equal(await fetchLine(l1), 'refused');
    assert.match(await ok(s, ['vm', 'forward', 'web']), new RegExp(`127\\.0\\.0\\.1:${l1} -> web:${g}\\s+listening`));
    assert.equal(await fetchLine(l1), 'hello from the guest\n');

    // Kill: the VM stops, its forward closes but stays, inactive.
    await ok(s, ['vm', 'kill', 'web']);
    assert.equal(await fetchLine(l1), 'refused');
    assert.match(await ok(s, ['vm', 'forward', 'web']), /listens once web runs/);
    assert.equal(
      await ok(s, ['vm', 'forward', 'web', '--remove', String(l1)]),
      `removed 127.0.0.1:${l1} -> web:${g}\n`,
    );
    const none = await s.banger(['vm', 'forward', 'web', '--remove', String(l1)]);
    assert.equal(none.code, 3);
    assert.match(none.stderr, new RegExp(`VM web has no forward on local port ${l1}`));

    // Delete: the VM's forwards go with it; its port is free for another VM.
    await ok(s, ['vm', 'delete', 'db']);
    assert.match(await ok(s, ['vm', 'forward', 'web', `${l2}:${g}`]), /listens once web runs/);
  } finally {
    holder?.kill('SIGKILL');
    f.vmm.kill('SIGKILL');
    f.guest.close();
    await s.cleanup();
  }
});

test('vm forward: usage errors name the field and change nothing', async () => {
  const s = createSandbox();
  try {
    const r = await s.banger(['vm', 'forward', 'ghost', 'http:80']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /local port "http" is not a port number/);
    const rm = await s.banger(['vm', 'forward', 'ghost', '--remove']);
    assert.match(rm.stderr, /--remove needs the local ports/);
    const missing = await s.banger(['vm', 'forward', 'ghost', '8080:80']);
    assert.equal(missing.code, 3, 'an unknown VM is not_found');
  } finally {
    await s.cleanup();
  }
});
