/**
 * End-to-end: `vm workspace prepare` modes on a real guest (docs/howto/workspaces.md).
 * A repository with untracked and ignored files is copied into a VM in the git mode, then
 * again with --mode full_copy --readonly: the guest gets the directory as it is (.git with
 * history, ignored build output, untracked files) with no write bit left; --dry-run reports
 * and changes nothing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createE2eSandbox, type E2eSandbox } from './e2eSandbox.js';

let e: E2eSandbox;
let repo: string;
let head: string;
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-C', cwd, '-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', ...args], {
    encoding: 'utf8',
  }).trim();
const inGuest = async (script: string) => (await e.ok(['vm', 'ssh', 'wsm', '--', 'sh', '-c', script])).stdout;

before(() => {
  e = createE2eSandbox();
  repo = join(e.s.dir, 'src', 'app');
  mkdirSync(join(repo, 'build'), { recursive: true });
  git(e.s.dir, 'init', '-q', '-b', 'main', repo);
  writeFileSync(join(repo, 'tracked.txt'), 'hello\n');
  writeFileSync(join(repo, '.gitignore'), 'build/\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'first');
  writeFileSync(join(repo, 'untracked.txt'), 'untracked\n');
  writeFileSync(join(repo, 'build', 'output.bin'), Buffer.alloc(2 << 20, 7));
  head = git(repo, 'rev-parse', 'HEAD');
});

after(async () => {
  await e.teardown();
});

test('prepare: git mode leaves ignored and untracked files home; full_copy --readonly brings them, with .git, read-only; --dry-run changes nothing', async () => {
  await e.ok(['vm', 'run', '-d', '--name', 'wsm', repo], 600_000);
  assert.equal(await inGuest('cd /root/repo && ls -A | sort | tr "\\n" " "'), '.git .gitignore tracked.txt ');

  const dry = await e.ok(['vm', 'workspace', 'prepare', 'wsm', '--mode', 'full_copy', '--readonly', '--dry-run']);
  assert.ok(dry.stdout.split('\n').includes('build/output.bin'));
  assert.match(dry.stderr, /would be copied to wsm:\/root\/repo \(full_copy, read-only\); nothing was changed/);
  assert.equal(await inGuest('test -e /root/repo/build && echo yes || echo no'), 'no\n', 'the dry run copied nothing');

  const full = await e.ok(['vm', 'workspace', 'prepare', 'wsm', '--mode', 'full_copy', '--readonly']);
  assert.match(full.stdout, /^wsm: \d+ files, [\d.]+M in [\d.]+s to \/root\/repo \(full_copy, read-only\)$/m);
  assert.equal(await inGuest('find /root/repo -perm /222 -not -type l | wc -l'), '0\n', 'no write bit is left');
  assert.equal(
    await inGuest(
      'cd /root/repo && wc -c < build/output.bin && cat untracked.txt && git rev-parse HEAD && git log --format=%s && git --no-optional-locks status --porcelain',
    ),
    `${2 << 20}\nuntracked\n${head}\nfirst\n?? untracked.txt\n`,
  );
  assert.equal(await inGuest('stat -c %A /root/repo/tracked.txt'), '-r--r--r--\n');
  assert.equal(
    await inGuest('test -d /root/repo.previous/.git && echo kept'),
    'kept\n',
    'the git-mode copy is kept once',
  );
  const shown = (await e.vmJson('wsm')) as unknown as { workspace: { head: string; baseCommit: string } };
  assert.deepEqual([shown.workspace.head, shown.workspace.baseCommit], [head, head]);

  // Back to the git mode, writable: the tree is tracked files only again.
  await e.ok(['vm', 'workspace', 'prepare', 'wsm']);
  assert.equal(
    await inGuest('cd /root/repo && ls -A | sort | tr "\\n" " "; stat -c %A tracked.txt'),
    '.git .gitignore tracked.txt -rw-r--r--\n',
  );
});
