/**
 * Verbs that take several VMs (docs/howto/vms.md): through the real CLI and daemon, every
 * VM is handled and gets its line in argument order, a failure is reported with the VM's
 * name and the rest are still done, and the exit code is non-zero when any failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';
import { sampleVm } from '../fixtures/vms.js';
import { createSandbox } from './harness.js';

test('vm set a b c: one line per VM in order; a missing VM is reported, the others still change; exit 3', async () => {
  const s = createSandbox();
  try {
    assert.equal((await s.banger(['vm', 'list'])).code, 0);
    const store = Store.open(join(s.stateDir, 'state.db'));
    for (const [i, name] of ['alpha', 'beta', 'gamma'].entries()) {
      store.vms.insert(
        sampleVm({
          id: `0000000${i}`,
          name,
          dnsName: `${name}.vm`,
          guestIp: `172.16.0.${i + 2}`,
          mac: `52:54:00:00:00:0${i}`,
          vmDir: join(s.stateDir, 'vms', `0000000${i}`),
        }),
      );
    }
    store.close();

    const set = await s.banger(['vm', 'set', 'alpha', 'nope', 'beta', 'gamma', '--memory', '1G', '--vcpu', '1']);
    assert.equal(set.code, 3, set.stderr);
    assert.equal(
      set.stdout,
      ['alpha', 'beta', 'gamma'].map((n) => `${n}: 1 vcpu | 1024 MiB | 8G disk | NAT off\n`).join(''),
    );
    assert.match(set.stderr, /^banger: nope: no VM named "nope"/m);
    const vms = JSON.parse((await s.banger(['vm', 'list', '--json'])).stdout) as Array<{
      name: string;
      spec: { vcpu: number; memoryMib: number };
    }>;
    for (const v of vms) assert.deepEqual([v.name, v.spec.vcpu, v.spec.memoryMib], [v.name, 1, 1024]);

    const json = await s.banger(['vm', 'set', 'alpha', 'beta', '--memory', '512M', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      (JSON.parse(json.stdout) as Array<{ name: string; spec: { memoryMib: number } }>).map((v) => [
        v.name,
        v.spec.memoryMib,
      ]),
      [
        ['alpha', 512],
        ['beta', 512],
      ],
    );

    // A bad flag is refused once, before any VM is touched.
    const bad = await s.banger(['vm', 'set', 'alpha', 'beta', '--memory', '1e308']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');

    // The lifecycle verbs behave alike: delete two VMs and a missing one.
    const del = await s.banger(['vm', 'delete', 'alpha', 'ghost', 'beta']);
    assert.equal(del.code, 3, del.stderr);
    assert.equal(del.stdout, 'deleted alpha\ndeleted beta\n');
    assert.match(del.stderr, /^banger: ghost: no VM named "ghost"/m);
    const left = JSON.parse((await s.banger(['vm', 'list', '--json'])).stdout) as Array<{ name: string }>;
    assert.deepEqual(
      left.map((v) => v.name),
      ['gamma'],
    );
    // One name: the error as ever (message, hint), no name prefix.
    const one = await s.banger(['vm', 'stop', 'ghost']);
    assert.equal(one.code, 3);
    assert.match(one.stderr, /^banger: no VM named "ghost"/m);
  } finally {
    await s.cleanup();
  }
});
