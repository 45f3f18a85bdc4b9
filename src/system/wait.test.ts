import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsConnections, waitForExit } from './index.js';

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

test('acceptsConnections: true for a listening socket; false for a missing one and for a socket file nobody accepts on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-sock-'));
  try {
    const live = join(dir, 'live.sock');
    const server = createServer((c) => c.destroy());
    await new Promise<void>((r) => server.listen(live, r));
    try {
      assert.equal(await acceptsConnections(live), true);
    } finally {
      server.close();
    }
    assert.equal(await acceptsConnections(join(dir, 'missing.sock')), false);
    // A killed server leaves its socket file behind: it exists, and connecting is refused
    // (as between a server's bind() and its listen()).
    const stale = join(dir, 'stale.sock');
    const script = `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.kill('SIGKILL');
    // Gone means every thread gone (isProcessAlive), not just a zombie main thread: Node's
    // other threads hold the listening socket until they too have exited.
    assert.equal(await waitForExit(child.pid!, 5_000), true);
    assert.equal(existsSync(stale), true, 'the socket file outlives its server');
    assert.equal(await acceptsConnections(stale), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
