/**
 * `vm workspace prepare --dry-run` through the real CLI and daemon: it reports the files,
 * their size, the mode and the destination for a VM that need not be running, and changes
 * nothing; the modes differ as documented (docs/howto/workspaces.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/index.js';
import { sampleVm } from '../fixtures/vms.js';
import { createSandbox } from './harness.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-C', cwd, '-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', ...args], {
    encoding: 'utf8',
  });

test('prepare --dry-run: git and full_copy file lists, sizes, mode and destination; nothing changes', async () => {
  const s = createSandbox();
  try {
    const repo = join(s.dir, 'app');
    mkdirSync(join(repo, 'build'), { recursive: true });
    git(s.dir, 'init', '-q', '-b', 'main', repo);
    writeFileSync(join(repo, 'tracked.txt'), 'hello\n');
    writeFileSync(join(repo, '.gitignore'), 'build/\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'first');
    writeFileSync(join(repo, 'untracked.txt'), 'u\n');
    writeFileSync(join(repo, 'build', 'out.bin'), Buffer.alloc(1 << 20, 1));

    assert.equal((await s.banger(['vm', 'list'])).code, 0);
    const store = Store.open(join(s.stateDir, 'state.db'));
    store.vms.insert(sampleVm({ state: 'stopped' }));
    store.close();
    const before = (await s.banger(['vm', 'show', 'dev', '--json'])).stdout;

    const gitRun = await s.banger(['vm', 'workspace', 'prepare', 'dev', '--path', repo, '--dry-run']);
    assert.equal(gitRun.code, 0, gitRun.stderr);
    assert.equal(gitRun.stdout, '.gitignore\ntracked.txt\n');
    assert.match(
      gitRun.stderr,
      new RegExp(`^2 files, \\d+B from ${repo} would be copied to dev:/root/repo \\(git\\); nothing was changed$`, 'm'),
    );

    const full = await s.banger([
      'vm',
      'workspace',
      'prepare',
      'dev',
      '--path',
      repo,
      '--mode',
      'full_copy',
      '--readonly',
      '--dry-run',
    ]);
    assert.equal(full.code, 0, full.stderr);
    const files = full.stdout.trimEnd().split('\n');
    for (const f of ['.git/HEAD', '.gitignore', 'build/out.bin', 'tracked.txt', 'untracked.txt'])
      assert.ok(files.includes(f), f);
    assert.match(
      full.stderr,
      new RegExp(
        `^${files.length} files, 1(\\.\\d)?M from ${repo} would be copied to dev:/root/repo \\(full_copy, read-only\\); nothing was changed$`,
        'm',
      ),
    );

    const json = JSON.parse(
      (
        await s.banger([
          'vm',
          'workspace',
          'prepare',
          'dev',
          '--path',
          repo,
          '--mode',
          'full_copy',
          '--dry-run',
          '--json',
        ])
      ).stdout,
    );
    assert.deepEqual(
      [json.dryRun, json.mode, json.readonly, json.guestPath, json.files],
      [true, 'full_copy', false, '/root/repo', files.length],
    );
    assert.ok(json.bytes >= 1 << 20);

    assert.equal((await s.banger(['vm', 'show', 'dev', '--json'])).stdout, before, 'the VM record is unchanged');
    // A real copy needs the VM running; bad combinations are refused before any call.
    const stopped = await s.banger(['vm', 'workspace', 'prepare', 'dev', '--path', repo, '--mode', 'full_copy']);
    assert.equal(stopped.code, 5, stopped.stderr);
    const both = await s.banger(['vm', 'workspace', 'prepare', 'dev', '--mode', 'full_copy', '--include-untracked']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--include-untracked is for the git mode/);
    const bad = await s.banger(['vm', 'workspace', 'prepare', 'dev', '--mode', 'rsync']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Allowed choices are git, full_copy/);
  } finally {
    await s.cleanup();
  }
});
