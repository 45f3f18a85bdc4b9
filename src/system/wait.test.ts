import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { waitForExit } from './index.js';

test('waitForExit: true once the process is gone, false when it outlives the wait', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    assert.equal(await waitForExit(child.pid!, 150), false, 'still running after 150 ms');
    child.kill('SIGKILL');
    assert.equal(await waitForExit(child.pid!, 5_000), true);
  } finally {
    child.kill('SIGKILL');
  }
});

test("waitForExit: the alive check can be the caller's (e.g. a start-time match against pid reuse)", async () => {
  let polls = 0;
  assert.equal(
    await waitForExit(1, 2_000, { alive: () => ++polls < 3, intervalMs: 1 }),
    true,
    'pid 1 lives, but the check says it is gone',
  );
  assert.ok(polls >= 3);
});
