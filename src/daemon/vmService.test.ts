import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../store/index.js';
import { VmService } from './vmService.js';
import { sampleVm } from '../../test/fixtures/vms.js';

test('fresh names are unique against the real store; show finds by name and reports unknown ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-vms-'));
  const store = Store.open(join(dir, 'state.db'));
  try {
    const svc = new VmService(store);
    // The first pick (index 0, 0) is taken in the store, so the generator must move on.
    store.vms.insert(sampleVm({ name: 'amber-badger' }));
    let calls = 0;
    const name = svc.freshName(() => (calls++ < 2 ? 0 : 1));
    assert.notEqual(name, 'amber-badger');
    assert.equal(name, 'bold-beacon');
    assert.equal(svc.show('amber-badger').id, 'abcd1234');
    assert.throws(() => svc.show('nope'), /no VM named "nope"/);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
