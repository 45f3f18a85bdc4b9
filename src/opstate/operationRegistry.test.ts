import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperationRegistry, newOpId } from './index.js';

test('operations move from in-flight to finished with stage, vm and error', () => {
  const r = new OperationRegistry(2);
  const a = r.begin('vm.start', { vm: 'dev' });
  const b = r.begin('image.pull');
  a.setStage('booting');
  assert.equal(r.inFlightCount(), 2);
  assert.deepEqual(
    r.list().map((o) => [o.kind, o.stage, o.doneAt]),
    [
      ['vm.start', 'booting', null],
      ['image.pull', null, null],
    ],
  );
  b.finish('network down');
  a.finish();
  a.finish('ignored: already done');
  assert.equal(r.inFlightCount(), 0);
  const l = r.list();
  assert.deepEqual(
    l.map((o) => [o.kind, o.vm, o.error]),
    [
      ['vm.start', 'dev', null],
      ['image.pull', null, 'network down'],
    ],
  );
  assert.ok(l.every((o) => o.doneAt));
});

test('finished operations are bounded', () => {
  const r = new OperationRegistry(3);
  for (let i = 0; i < 10; i++) r.begin(`k${i}`).finish();
  assert.deepEqual(
    r.list().map((o) => o.kind),
    ['k9', 'k8', 'k7'],
  );
});

test('op ids are unique and short', () => {
  const ids = new Set(Array.from({ length: 1000 }, newOpId));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^op-[0-9a-f]{10}$/);
});
