import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDaemonLock, claimLayout } from './daemonLock.js';

function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-lock-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('the lock is a pid file created whole; release removes it only while it is ours', () =>
  withDir((dir) => {
    const pidFile = join(dir, 'bangerd.pid');
    const lock = acquireDaemonLock(pidFile);
    assert.equal(lock.acquired, true);
    assert.equal(readFileSync(pidFile, 'utf8'), `${process.pid}\n`);
    assert.deepEqual(readdirSync(dir), ['bangerd.pid'], 'nothing staged is left beside it');
    if (lock.acquired) lock.release();
    assert.deepEqual(readdirSync(dir), []);
    // Taken over by another daemon since: not ours to remove.
    const again = acquireDaemonLock(pidFile);
    writeFileSync(pidFile, '999999\n');
    if (again.acquired) again.release();
    assert.equal(readFileSync(pidFile, 'utf8'), '999999\n');
  }));

test('a live bangerd holds the lock; a dead pid, an empty file and garbage are stale and taken over', () =>
  withDir(async (dir) => {
    const pidFile = join(dir, 'bangerd.pid');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)', 'bangerd'], { stdio: 'ignore' });
    try {
      writeFileSync(pidFile, `${holder.pid}\n`);
      assert.deepEqual(acquireDaemonLock(pidFile), { acquired: false, holderPid: holder.pid });
    } finally {
      holder.kill('SIGKILL');
    }
    const notBangerd = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      for (const stale of [`${notBangerd.pid}\n`, '2147483646\n', '', 'garbage']) {
        writeFileSync(pidFile, stale);
        const lock = acquireDaemonLock(pidFile);
        assert.equal(lock.acquired, true, JSON.stringify(stale));
        assert.equal(readFileSync(pidFile, 'utf8'), `${process.pid}\n`);
        if (lock.acquired) lock.release();
      }
    } finally {
      notBangerd.kill('SIGKILL');
    }
  }));

test('behind the lock the socket decides: one that answers is left alone and the lock given back; a dead one is no obstacle', () =>
  withDir(async (dir) => {
    const pidFile = join(dir, 'bangerd.pid');
    const socket = join(dir, 'bangerd.sock');
    // A daemon whose lock file a racing starter removed as stale: its socket still answers.
    const server = createServer((c) => c.destroy());
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      assert.deepEqual(await claimLayout(pidFile, socket), { acquired: false, holderPid: 0 });
      assert.equal(existsSync(pidFile), false, 'the lock was given back');
    } finally {
      await new Promise((r) => server.close(r));
    }
    writeFileSync(socket, ''); // a leftover file where a socket was: nothing answers
    const lock = await claimLayout(pidFile, socket);
    assert.equal(lock.acquired, true);
    if (lock.acquired) lock.release();
  }));
