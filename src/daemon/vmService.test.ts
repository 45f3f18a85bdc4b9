import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../store/index.js';
import { VmService } from './vmService.js';
import { sampleVm } from '../../test/fixtures/vms.js';
import { FakeVmmDriver } from '../../test/fakes/fakeVmmDriver.js';
import { FakeHostRunner } from '../../test/fakes/fakeHostRunner.js';
import { defaultConfig } from '../config/index.js';
import { userLayout } from '../paths/index.js';
import { silentLogger } from '../log/index.js';
import { UnavailablePrivilegedOps } from '../roothelper/index.js';
import { ImageService } from './imageService.js';
import { KernelService } from './kernelService.js';
import { NatController } from './natController.js';
import { TapPool } from './tapPool.js';
import { WorkspaceService } from './workspaceService.js';

test('fresh names are unique against the real store; show finds by name and reports unknown ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-vms-'));
  const store = Store.open(join(dir, 'state.db'));
  try {
    const layout = userLayout({ home: dir, uid: 1000, env: {} });
    const runner = new FakeHostRunner();
    const images = new ImageService({
      store,
      runner,
      layout,
      kernels: new KernelService({ store, runner, layout, defaultName: null }),
      privileged: new UnavailablePrivilegedOps(),
    });
    const privileged = new UnavailablePrivilegedOps();
    const nat = new NatController({
      privileged,
      runner,
      log: silentLogger,
      bridge: 'br-fc',
      uplink: undefined,
      stateFile: join(dir, 'nat.json'),
    });
    const taps = new TapPool({ privileged, log: silentLogger, bridge: 'br-fc', size: 0 });
    const workspaces = new WorkspaceService({ runner, store, log: silentLogger });
    const svc = new VmService({
      store,
      layout,
      config: defaultConfig(layout),
      runner,
      privileged,
      drivers: { qemu: new FakeVmmDriver(), firecracker: new FakeVmmDriver() },
      hostFacts: () => ({ firecrackerBin: null, kvm: { usable: false, reason: 'test' }, deviceMapper: false }),
      images,
      nat,
      taps,
      workspaces,
      log: silentLogger,
    });
    // The first pick (index 0, 0) is taken in the store, so the generator must move on.
    store.vms.insert(sampleVm({ name: 'amber-badger' }));
    let calls = 0;
    const name = svc.freshName(() => (calls++ < 2 ? 0 : 1));
    assert.notEqual(name, 'amber-badger');
    assert.equal(name, 'bold-beacon');
    assert.equal(svc.show('amber-badger').id, 'abcd1234');
    assert.throws(() => svc.show('nope'), /no VM named "nope"/);
    // Bad input is refused before anything is created.
    assert.throws(() => svc.resolveCreate({ name: 'Bad_Name', start: false }), /uppercase letter 'B'/);
    assert.throws(
      () => svc.resolveCreate({ name: 'ok', vcpu: 0, start: false }),
      /vcpu must be a whole number from 1 to 32/,
    );
    assert.throws(() => svc.resolveCreate({ name: 'amber-badger', start: false }), /already exists/);
    assert.equal(runner.calls.length, 0);
    assert.equal(store.vms.list().length, 1);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
