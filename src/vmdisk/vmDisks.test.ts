import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecHostRunner } from '../system/index.js';
import { createWorkDisk, writeWorkDiskFiles } from './index.js';
import { GIB } from '../model/index.js';

const runner = new ExecHostRunner();

test('work disk: cloned from a seed, grown sparse, files written with modes, filesystem clean', async () => {
  const d = mkdtempSync(join(tmpdir(), 'banger-disk-'));
  try {
    const seed = join(d, 'seed.ext4');
    await runner.run(['truncate', '-s', '32M', seed]);
    await runner.run(['mkfs.ext4', '-q', '-F', '-E', 'root_owner=0:0', seed]);
    const disk = join(d, 'work.ext4');
    await createWorkDisk(runner, seed, disk, 2 * GIB);
    assert.equal(statSync(disk).size, 2 * GIB);
    assert.ok(statSync(disk).blocks * 512 < 200 * 1024 * 1024, 'sparse');
    await writeWorkDiskFiles(runner, disk, [
      { path: '/.ssh/authorized_keys', content: 'ssh-ed25519 AAAA banger\n', mode: 0o600 },
      { path: '/.banger-hostkey/ssh_host_ed25519_key', content: 'PRIVATE\n', mode: 0o600 },
      { path: '/.banger-hostkey/ssh_host_ed25519_key.pub', content: 'ssh-ed25519 BBBB\n', mode: 0o644 },
    ]);
    // Again, over existing directories and files: must not corrupt anything.
    await writeWorkDiskFiles(runner, disk, [
      { path: '/.ssh/authorized_keys', content: 'ssh-ed25519 CCCC banger\n', mode: 0o600 },
    ]);
    assert.equal(
      (await runner.run(['debugfs', '-R', 'cat /.ssh/authorized_keys', disk])).stdout,
      'ssh-ed25519 CCCC banger\n',
    );
    assert.match(
      (await runner.run(['debugfs', '-R', 'stat /.banger-hostkey/ssh_host_ed25519_key.pub', disk])).stdout,
      /Mode:\s+0644/,
    );
    assert.match((await runner.run(['debugfs', '-R', 'stat /.ssh', disk])).stdout, /Mode:\s+0700/);
    assert.equal((await runner.run(['e2fsck', '-fn', disk], { allowFailure: true })).exitCode, 0);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
