import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CleanupStack } from './cleanupStack.js';

test('unwinds newest first, continues past failures, reports them all', async () => {
  const order: string[] = [];
  const s = new CleanupStack();
  s.push('a', () => {
    order.push('a');
  });
  s.push('b', async () => {
    order.push('b');
    throw new Error('b broke');
  });
  s.push('c', () => {
    order.push('c');
  });
  assert.deepEqual(await s.unwind(), ['b: b broke']);
  assert.deepEqual(order, ['c', 'b', 'a']);
  assert.deepEqual(await s.unwind(), [], 'nothing twice');
  s.push('x', () => {
    throw new Error('never');
  });
  s.commit();
  assert.deepEqual(await s.unwind(), []);
});
