/**
 * QEMU's save path against a real QEMU (no guest: `-machine none` with one qcow2 drive, so
 * migration and block inactivation are QEMU's own). Skipped where QEMU is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VmFiles } from '../paths/index.js';
import { acceptsConnections, sleep, which } from '../system/index.js';
import { incomingUri, outgoingUri } from './argv.js';
import { qmpPause, qmpResume, qmpSaveState, qmpStatus } from './qemuSnapshot.js';

const qemu = which('qemu-system-x86_64');

test('a paused guest whose state was saved once (a fork of a paused VM) can be saved again', {
  skip: qemu ? false : 'no qemu-system-x86_64',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-qsnap-'));
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'root.qcow2'), '16M']);
  const files = { qmpSocket: join(dir, 'qmp.sock'), vmmLog: join(dir, 'vmm.log') } as VmFiles;
  const proc = spawn(
    qemu!,
    [
      '-machine',
      'none',
      '-nodefaults',
      '-display',
      'none',
      '-drive',
      `id=root,file=${join(dir, 'root.qcow2')},format=qcow2,if=none`,
      '-qmp',
      `unix:${files.qmpSocket},server=on,wait=off`,
    ],
    { stdio: 'ignore' },
  );
  try {
    let up = await acceptsConnections(files.qmpSocket);
    for (let i = 0; i < 200 && !up; i++) {
      await sleep(50);
      up = await acceptsConnections(files.qmpSocket);
    }
    assert.ok(up, 'QEMU serves QMP');
    await qmpPause(files); // `vm pause`
    for (const n of ['fork-1', 'fork-2']) {
      const stateDir = join(dir, n);
      mkdirSync(stateDir);
      // The fork of a paused source leaves it paused (fork.ts); a second fork, or a
      // `vm stop --save` of it, saves again.
      await qmpSaveState(files, stateDir);
      assert.ok(existsSync(join(stateDir, 'vmstate')));
    }
    await qmpResume(files);
    assert.equal(await qmpStatus(files), 'running', 'the source still runs after both saves');
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the exec: migration URIs carry any state path through /bin/sh, and nothing in it runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-quri-'));
  try {
    const pwned = join(dir, 'PWNED');
    // A home such as /home/ada@corp.example (SSSD users), a space, and hostile names.
    for (const name of ['ada@corp.example', 'a b', `x'; touch ${pwned}; '`, `$(touch ${pwned})`, 'a"b\\c']) {
      const stateDir = join(dir, name);
      mkdirSync(stateDir, { recursive: true });
      const file = join(stateDir, 'vmstate');
      // QEMU runs what follows `exec:` with /bin/sh -c, the stream on stdin (save) or stdout (load).
      execFileSync('/bin/sh', ['-c', outgoingUri(file).slice('exec:'.length)], { input: `state of ${name}` });
      assert.equal(readFileSync(file, 'utf8'), `state of ${name}`);
      const back = execFileSync('/bin/sh', ['-c', incomingUri(file).slice('exec:'.length)], { encoding: 'utf8' });
      assert.equal(back, `state of ${name}`);
    }
    assert.equal(existsSync(pwned), false, 'no part of a path runs as a command');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
