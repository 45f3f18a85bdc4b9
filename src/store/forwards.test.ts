import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from './index.js';
import { sampleVm } from '../../test/fixtures/vms.js';

test('forwards: stored per VM by host port, one owner per port, all-or-none, removed with their VM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-store-'));
  const store = Store.open(join(dir, 'state.db'));
  try {
    store.vms.insert(sampleVm({ id: 'aaaa0001', name: 'web', guestIp: '172.16.0.7', mac: 'm1' }));
    store.vms.insert(sampleVm({ id: 'aaaa0002', name: 'db', guestIp: '172.16.0.8', mac: 'm2' }));
    const at = new Date().toISOString();
    store.forwards.insertAll([
      { vmId: 'aaaa0001', local: 8081, guest: 81, createdAt: at },
      { vmId: 'aaaa0001', local: 8080, guest: 80, createdAt: at },
    ]);
    assert.deepEqual(
      store.forwards.ofVm('aaaa0001').map((f) => [f.local, f.guest]),
      [
        [8080, 80],
        [8081, 81],
      ],
    );
    assert.equal(store.forwards.byLocalPort(8080)?.vmId, 'aaaa0001');
    assert.throws(
      () =>
        store.forwards.insertAll([
          { vmId: 'aaaa0002', local: 5432, guest: 5432, createdAt: at },
          { vmId: 'aaaa0002', local: 8080, guest: 80, createdAt: at },
        ]),
      /UNIQUE|PRIMARY KEY/,
    );
    assert.deepEqual(store.forwards.ofVm('aaaa0002'), [], 'a failed insert stores none of its rows');
    assert.throws(() => store.forwards.insertAll([{ vmId: 'aaaa0002', local: 0, guest: 1, createdAt: at }]), /CHECK/);
    assert.throws(() => store.forwards.insertAll([{ vmId: 'nope', local: 9, guest: 1, createdAt: at }]), /FOREIGN KEY/);
    store.forwards.removeAll('aaaa0001', [8081]);
    assert.deepEqual(
      store.forwards.ofVm('aaaa0001').map((f) => f.local),
      [8080],
    );
    store.vms.remove('aaaa0001');
    assert.equal(store.forwards.byLocalPort(8080), undefined, 'deleting the VM removes its forwards');
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
