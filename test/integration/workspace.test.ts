/**
 * The workspace copy end to end on the host: real git, GNU tar and sh, with a local
 * directory standing in for the guest (the scripts are the ones the guest runs). The VM
 * version of these checks is test/e2e/workspace.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecHostRunner } from '../../src/system/index.js';
import {
  guestExportScript,
  inspectRepo,
  listTree,
  planFullCopy,
  planWorkspace,
  sendWorkspace,
} from '../../src/workspace/index.js';
import { BangerError } from '../../src/model/index.js';

const runner = new ExecHostRunner();
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-C', cwd, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Ada',
      GIT_AUTHOR_EMAIL: 'ada@example.com',
      GIT_COMMITTER_NAME: 'Ada',
      GIT_COMMITTER_EMAIL: 'ada@example.com',
    },
  }).trim();

function fixture(dir: string): string {
  const repo = join(dir, 'repo');
  mkdirSync(join(repo, 'src'), { recursive: true });
  git(dir, 'init', '-q', '-b', 'main', repo);
  git(repo, 'config', 'user.name', 'Ada Lovelace');
  git(repo, 'config', 'user.email', 'ada@example.com');
  writeFileSync(join(repo, 'tracked.txt'), 'tracked\n');
  writeFileSync(join(repo, 'src', 'a.txt'), 'a\n');
  writeFileSync(join(repo, 'gone.txt'), 'will be deleted\n');
  writeFileSync(join(repo, '.gitignore'), 'build/\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'first');
  writeFileSync(join(repo, 'src', 'a.txt'), 'a, edited\n');
  rmSync(join(repo, 'gone.txt'));
  writeFileSync(join(repo, 'untracked.txt'), 'untracked\n');
  mkdirSync(join(repo, 'build'));
  writeFileSync(join(repo, 'build', 'big.bin'), Buffer.alloc(4 << 20, 7)); // ignored build output
  return repo;
}

test('preflight: a missing path, a plain directory and a bare repository are clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-ws-'));
  try {
    await assert.rejects(inspectRepo(runner, join(dir, 'nope')), /does not exist/);
    await assert.rejects(
      inspectRepo(runner, dir),
      (e: BangerError) => /is not inside a git repository/.test(e.message) && /git init/.test(e.hint ?? ''),
    );
    git(dir, 'init', '-q', '--bare', join(dir, 'bare.git'));
    await assert.rejects(inspectRepo(runner, join(dir, 'bare.git')), /is a bare repository/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('copy into a stand-in guest: same HEAD, the work tree as on the host, ignored output not sent; export applies with git am', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-ws-'));
  try {
    const repo = fixture(dir);
    const info = await inspectRepo(runner, join(repo, 'src'));
    assert.equal(info.root, repo);
    assert.equal(info.branch, 'main');
    assert.deepEqual(info.changed, ['src/a.txt']);
    assert.deepEqual(info.deleted, ['gone.txt']);
    assert.deepEqual(info.untracked, ['untracked.txt']);
    const guestRoot = join(dir, 'guest', 'root');
    mkdirSync(guestRoot, { recursive: true });
    const guestPath = join(guestRoot, 'repo');
    const local = (script: string) => ['sh', '-c', script];

    const plan = planWorkspace(info, { includeUntracked: false }, [], guestPath);
    const sent = await sendWorkspace(runner, repo, plan, local);
    assert.equal(sent.guestHead, info.head);
    assert.equal(git(guestPath, 'rev-parse', 'HEAD'), git(repo, 'rev-parse', 'HEAD'));
    assert.equal(git(guestPath, 'symbolic-ref', '--short', 'HEAD'), 'main');
    assert.equal(git(guestPath, 'config', 'user.name'), 'Ada Lovelace');
    assert.equal(readFileSync(join(guestPath, 'src', 'a.txt'), 'utf8'), 'a, edited\n');
    assert.equal(existsSync(join(guestPath, 'gone.txt')), false);
    assert.equal(existsSync(join(guestPath, 'untracked.txt')), false, 'untracked files stay home by default');
    assert.equal(existsSync(join(guestPath, 'build')), false, 'ignored build output is not sent');
    assert.ok(sent.bytes < 1 << 20, `bytes follow the tracked content, not the 4 MiB build output (${sent.bytes})`);
    assert.equal(git(guestPath, 'status', '--porcelain'), git(repo, 'status', '--porcelain', '--untracked-files=no'));
    assert.equal(
      existsSync(join(guestRoot, '.cache', 'banger', 'workspace-incoming')),
      false,
      'the staging directory is gone',
    );

    // Again with untracked files: the earlier copy is kept once as repo.previous.
    const withUntracked = planWorkspace(info, { includeUntracked: true }, [], guestPath);
    await sendWorkspace(runner, repo, withUntracked, local);
    assert.equal(readFileSync(join(guestPath, 'untracked.txt'), 'utf8'), 'untracked\n');
    assert.ok(existsSync(`${guestPath}.previous`));

    // Work in the "guest": one commit and an uncommitted edit; export them as mail for git am.
    writeFileSync(join(guestPath, 'tracked.txt'), 'tracked, changed in the guest\n');
    git(guestPath, 'commit', '-q', '-am', 'guest commit');
    writeFileSync(join(guestPath, 'new-in-guest.txt'), 'new\n');
    const patch = execFileSync('sh', ['-c', guestExportScript(info.head!, 'dev', guestPath)], { encoding: 'utf8' });
    assert.match(patch, /^Subject: \[PATCH 1\/2\] guest commit$/m);
    assert.match(patch, /^Subject: \[PATCH 2\/2\] banger: uncommitted changes in dev$/m);
    assert.doesNotMatch(patch, /untracked\.txt/, 'files copied from the host untracked stay out');
    assert.equal(
      git(guestPath, 'rev-parse', 'HEAD'),
      git(guestPath, 'rev-parse', 'main'),
      "the guest's branch is untouched",
    );
    // Apply on a clean clone of the host repository at the base commit.
    const clone = join(dir, 'clone');
    git(dir, 'clone', '-q', repo, clone);
    writeFileSync(join(dir, 'ws.patch'), patch);
    git(clone, 'am', '-q', join(dir, 'ws.patch'));
    assert.equal(readFileSync(join(clone, 'tracked.txt'), 'utf8'), 'tracked, changed in the guest\n');
    assert.equal(readFileSync(join(clone, 'new-in-guest.txt'), 'utf8'), 'new\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('full copy into a stand-in guest: the directory as it is (untracked, ignored, .git), same HEAD; --readonly drops every write bit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-ws-'));
  try {
    const repo = fixture(dir);
    symlinkSync('tracked.txt', join(repo, 'link'));
    const info = await inspectRepo(runner, repo);
    const guestRoot = join(dir, 'guest', 'root');
    mkdirSync(guestRoot, { recursive: true });
    const guestPath = join(guestRoot, 'repo');
    const local = (script: string) => ['sh', '-c', script];

    const tree = listTree(repo);
    assert.ok(tree.includes('build/big.bin') && tree.includes('untracked.txt') && tree.includes('.git/HEAD'));
    assert.ok(tree.includes('link'));
    const plan = planFullCopy(info, tree, { readonly: false }, guestPath);
    const sent = await sendWorkspace(runner, repo, plan, local);
    assert.equal(sent.guestHead, info.head);
    for (const f of ['build/big.bin', 'untracked.txt', 'src/a.txt', '.gitignore'])
      assert.deepEqual(readFileSync(join(guestPath, f)), readFileSync(join(repo, f)), f);
    assert.equal(existsSync(join(guestPath, 'gone.txt')), false, 'a file deleted on the host is not there');
    assert.equal(readlinkSync(join(guestPath, 'link')), 'tracked.txt', 'symlinks stay symlinks');
    assert.ok(sent.bytes > 4 << 20, `the ignored build output travels too (${sent.bytes})`);
    assert.equal(git(guestPath, 'status', '--porcelain'), git(repo, 'status', '--porcelain'), 'the same work tree');
    assert.equal(git(guestPath, 'log', '--format=%s'), 'first', 'the history came along with .git');
    assert.equal(statSync(join(guestPath, 'tracked.txt')).uid, process.getuid!(), "owned by the guest's user");

    // Again, read-only: the first copy is kept as repo.previous; no write bit anywhere in the new one.
    const ro = planFullCopy(info, tree, { readonly: true }, guestPath);
    await sendWorkspace(runner, repo, ro, local);
    assert.ok(existsSync(join(`${guestPath}.previous`, 'build', 'big.bin')));
    const writable = execFileSync('find', [guestPath, '-perm', '/222', '-not', '-type', 'l'], { encoding: 'utf8' });
    assert.equal(writable, '', 'no file or directory keeps a write bit');
    assert.equal(statSync(join(guestPath, 'src', 'a.txt')).mode & 0o777, 0o444);

    // The git mode with --readonly too.
    const gitRo = planWorkspace(info, { includeUntracked: false, readonly: true }, [], guestPath);
    const gitSent = await sendWorkspace(runner, repo, gitRo, local);
    assert.equal(gitSent.guestHead, info.head);
    assert.equal(existsSync(join(guestPath, 'build')), false);
    assert.equal(execFileSync('find', [guestPath, '-perm', '/222', '-not', '-type', 'l'], { encoding: 'utf8' }), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
