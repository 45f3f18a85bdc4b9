import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkipList } from './skipList.js';

test('SkipList keeps the first 100 rows and counts the rest per reason', () => {
  const s = new SkipList();
  for (let i = 0; i < 150; i++) s.add(`f${i}`, 'overlayfs bookkeeping xattr dropped');
  for (let i = 0; i < 30; i++) s.add(`g${i}`, `reason ${i}`);
  const rows = s.list();
  assert.equal(rows.length, 100 + 11);
  assert.deepEqual(rows[99], { path: 'f99', why: 'overlayfs bookkeeping xattr dropped' });
  assert.deepEqual(rows[100], { path: '…', why: 'and 50 more: overlayfs bookkeeping xattr dropped' });
  assert.deepEqual(rows[110], { path: '…', why: 'and 21 more: other reasons' });
});

test('SkipList clips long paths and reasons', () => {
  const s = new SkipList();
  s.add('p'.repeat(5000), 'w'.repeat(5000));
  const [row] = s.list();
  assert.ok(row!.path.length <= 301 && row!.why.length <= 301);
});
