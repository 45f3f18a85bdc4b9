import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, summarize } from './stats.js';

test('median and p90 use the nearest-rank method', () => {
  assert.deepEqual(summarize([5, 1, 3, 2, 4]), { n: 5, median: 3, p90: 5 });
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
  assert.ok(Number.isNaN(percentile([], 50)));
});
