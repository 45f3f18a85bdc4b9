import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log/index.js';
import type { Vm } from '../model/index.js';
import { Store } from '../store/index.js';
import { sampleVm } from '../../test/fixtures/vms.js';
import { ForwardService } from './forwardService.js';

async function listening(handler?: (c: import('node:net').Socket) => void): Promise<Server> {
  const s = createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}
const portOf = (s: Server) => (s.address() as AddressInfo).port;
const close = (s: Server) => new Promise((r) => s.close(r));

function read(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    let t = '';
    c.on('data', (d) => {
      t += d;
    });
    c.on('end', () => resolve(t));
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

test('ForwardService: a port taken while the VM was stopped shows failed (the start goes on); it opens once free, closes on vmDown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-fwd-'));
  const store = Store.open(join(dir, 'state.db'));
  const guest = await listening((c) => c.end('guest'));
  const running = new Set<string>();
  const fwd = new ForwardService({ store, log: silentLogger, isRunning: (vm) => running.has(vm.id) });
  try {
    store.vms.insert(sampleVm({ id: 'bbbb0001', name: 'web', guestIp: '127.0.0.1', mac: 'm1' }));
    const vm = store.vms.find('web') as Vm;
    const squatter = await listening();
    const local = portOf(squatter);
    await close(squatter);
    const [added] = await fwd.add(vm, [{ local, guest: portOf(guest) }]);
    assert.equal(added!.state, 'inactive', 'a stopped VM: stored, not listening');
    assert.equal(await read(local), 'ECONNREFUSED');

    const taken = createServer();
    await new Promise<void>((r) => taken.listen(local, '127.0.0.1', r));
    running.add(vm.id);
    await fwd.vmUp(vm);
    const [failed] = fwd.list(vm);
    assert.equal(failed!.state, 'failed');
    assert.match(
      failed!.error!,
      new RegExp(`local port ${local} is in use by banger's own daemon \\(pid ${process.pid}\\)`),
    );

    await close(taken);
    await fwd.vmUp(vm);
    assert.equal(fwd.list(vm)[0]!.state, 'active');
    assert.equal(await read(local), 'guest');

    await fwd.vmDown(vm);
    assert.deepEqual(
      fwd.list(vm).map((f) => [f.state, f.error]),
      [['inactive', null]],
    );
    assert.equal(await read(local), 'ECONNREFUSED');
  } finally {
    await fwd.closeAll();
    await close(guest);
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ForwardService: adding is all or none; removing an unknown port changes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-fwd-'));
  const store = Store.open(join(dir, 'state.db'));
  const fwd = new ForwardService({ store, log: silentLogger, isRunning: () => true });
  const taken = await listening();
  try {
    store.vms.insert(sampleVm({ id: 'bbbb0002', name: 'api', guestIp: '127.0.0.1', mac: 'm2' }));
    const vm = store.vms.find('api') as Vm;
    const free = await listening();
    const freePort = portOf(free);
    await close(free);
    await assert.rejects(
      fwd.add(vm, [
        { local: freePort, guest: 80 },
        { local: portOf(taken), guest: 81 },
      ]),
      (e: Error & { code?: string }) => e.code === 'conflict' && /in use by/.test(e.message),
    );
    assert.deepEqual(fwd.list(vm), []);
    assert.equal(await read(freePort), 'ECONNREFUSED', 'the listener opened first was closed again');
    await fwd.add(vm, [{ local: freePort, guest: 80 }]);
    await assert.rejects(fwd.remove(vm, [freePort, 1]), /VM api has no forward on local port 1/);
    assert.equal(fwd.list(vm).length, 1);
    await fwd.remove(vm, [freePort]);
    assert.deepEqual(fwd.list(vm), []);
    assert.equal(await read(freePort), 'ECONNREFUSED');
  } finally {
    await fwd.closeAll();
    await close(taken);
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
