import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../log/index.js';
import { FakePrivilegedOps } from '../../test/fakes/fakePrivilegedOps.js';
import { TapPool } from './tapPool.js';

const ctx = { opId: 'op-test' };
const pool = (ops: FakePrivilegedOps, size = 2) =>
  new TapPool({ privileged: ops, log: silentLogger, bridge: 'br-fc', size });

test('refill creates the missing taps in parallel with free names; take hands them out once', async () => {
  const ops = new FakePrivilegedOps();
  ops.taps.set('tap-pool-0', 'br-fc-other'); // another daemon's: its name is skipped, the tap untouched
  const p = pool(ops, 3);
  await Promise.all([p.refill(ctx), p.refill(ctx)]); // concurrent refills share one
  assert.deepEqual([...p.idleTaps()].sort(), ['tap-pool-1', 'tap-pool-2', 'tap-pool-3']);
  assert.equal(ops.ops().filter((o) => o === 'createTap').length, 3);
  const a = p.take();
  const b = p.take();
  assert.notEqual(a, b);
  assert.equal(p.idleTaps().length, 1);
  await p.refill(ctx);
  assert.equal(p.idleTaps().length, 3, 'topped up again');
  assert.equal(ops.taps.get('tap-pool-0'), 'br-fc-other');
});

test('a failed tap creation leaves the pool short, not broken', async () => {
  const ops = new FakePrivilegedOps();
  ops.failCreateTap = (n) => n === 'tap-pool-0';
  const p = pool(ops, 2);
  await p.refill(ctx);
  assert.deepEqual(p.idleTaps(), ['tap-pool-1']);
});

test('size 0 turns the pool off', async () => {
  const ops = new FakePrivilegedOps();
  const p = pool(ops, 0);
  await p.refill(ctx);
  assert.equal(p.take(), null);
  assert.deepEqual(ops.ops(), []);
});

test('reclaim at start: idle pool taps on our bridge are adopted, stray VM taps deleted, in-use and foreign taps kept', async () => {
  const ops = new FakePrivilegedOps();
  ops.taps.set('tap-pool-0', 'br-fc');
  ops.taps.set('tap-pool-1', 'br-fc'); // held by a running VM
  ops.taps.set('tap-pool-2', 'br-fc');
  ops.taps.set('tap-pool-3', 'br-fc'); // more than the pool size: deleted
  ops.taps.set('tap-fc-dead0001', 'br-fc');
  ops.taps.set('tap-fc-live0001', 'br-fc');
  ops.taps.set('tap-fc-other001', 'br-fc-x');
  const p = pool(ops, 2);
  const r = await p.reclaim(new Set(['tap-pool-1', 'tap-fc-live0001']), ctx);
  assert.deepEqual(r.adopted, ['tap-pool-0', 'tap-pool-2']);
  assert.deepEqual(r.deleted.sort(), ['tap-fc-dead0001', 'tap-pool-3']);
  assert.deepEqual([...ops.taps.keys()].sort(), [
    'tap-fc-live0001',
    'tap-fc-other001',
    'tap-pool-0',
    'tap-pool-1',
    'tap-pool-2',
  ]);
  assert.equal(p.take(), 'tap-pool-0');
});
