/**
 * Numeric bounds over the real socket (docs/howto/vms.md "Limits"): out-of-range numbers
 * in vm.create and vm.set are refused naming the field and the limit, and nothing is
 * stored; the CLI refuses the same values before it calls the daemon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';
import { sampleVm } from '../fixtures/vms.js';
import { createSandbox } from './harness.js';

test('vm.create and vm.set refuse 1e308, -1, 1.5, a huge disk and more than host RAM; nothing is stored', async () => {
  const s = createSandbox();
  try {
    assert.equal((await s.banger(['vm', 'list'])).code, 0); // starts the daemon, migrates the store
    const store = Store.open(join(s.stateDir, 'state.db'));
    store.vms.insert(sampleVm({ state: 'stopped' }));
    store.close();
    const before = (await s.banger(['vm', 'list', '--json'])).stdout;

    const overHost = Math.floor(totalmem() / 2 ** 20) + 1024;
    const cases: Array<[string, object, RegExp]> = [
      ['vm.create', { memoryMib: 1e308 }, /params\.memoryMib: must be a whole number from 128 to 1048576 MiB/],
      ['vm.create', { memoryMib: -1 }, /params\.memoryMib: must be a whole number from 128 to 1048576 MiB/],
      ['vm.create', { vcpu: 1.5 }, /params\.vcpu: must be a whole number from 1 to 32/],
      ['vm.create', { vcpu: 1e308 }, /params\.vcpu: must be a whole number from 1 to 32/],
      ['vm.create', { diskSizeBytes: 1e308 }, /params\.diskSizeBytes: must be a whole number from 256M to 16T/],
      ['vm.create', { diskSizeBytes: 2 ** 50 }, /params\.diskSizeBytes: must be a whole number from 256M to 16T/],
      ['vm.create', { name: 'big', memoryMib: overHost }, /memory must be at most the host's RAM/],
      ['vm.set', { name: 'dev', memoryMib: 1e308 }, /params\.memoryMib: must be a whole number from 128/],
      ['vm.set', { name: 'dev', vcpu: -1 }, /params\.vcpu: must be a whole number from 1 to 32/],
      ['vm.set', { name: 'dev', diskSizeBytes: 1.5 }, /params\.diskSizeBytes: must be a whole number/],
      ['vm.set', { name: 'dev', memoryMib: overHost }, /memory must be at most the host's RAM/],
      ['vm.logs', { name: 'dev', offset: 1e308 }, /params\.offset: must be a whole number from 0 to/],
    ];
    for (const [method, params, re] of cases) {
      const r = await s.banger(['internal', 'rpc', method, JSON.stringify(params).replace('1e+308', '1e308')]);
      assert.equal(r.code, 2, `${method} ${JSON.stringify(params)}: ${r.stderr}`);
      assert.match(r.stderr, re, `${method} ${JSON.stringify(params)}`);
    }
    // The CLI refuses the same before any call.
    for (const [args, re] of [
      [['vm', 'create', '--no-start', '--memory', '64M'], /^banger: --memory: memory must be a whole number from 128/m],
      [['vm', 'create', '--no-start', '--vcpu', '1.5'], /^banger: --vcpu: vcpu must be a whole number from 1 to 32/m],
      [
        ['vm', 'set', 'dev', '--disk-size', '100T'],
        /^banger: --disk-size: disk size must be a whole number from 256M/m,
      ],
    ] as const) {
      const r = await s.banger([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
    }
    assert.equal((await s.banger(['vm', 'list', '--json'])).stdout, before, 'no VM was added or changed');
    assert.equal(JSON.parse(before)[0].spec.memoryMib, 2048);
  } finally {
    await s.cleanup();
  }
});
