import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  guestExecCommand,
  guestExportScript,
  guestFullCopyScript,
  guestPrepareScript,
  incomingDir,
  planFullCopy,
  planWorkspace,
} from './plan.js';
import type { RepoInfo } from './repo.js';

const repo: RepoInfo = {
  root: '/home/ada/app',
  head: 'a'.repeat(40),
  branch: 'main',
  tracked: ['src/a.ts', 'README.md'],
  changed: ['src/a.ts'],
  deleted: ['old.txt'],
  untracked: ['notes.txt'],
  submodules: ['vendor/lib'],
  identity: { name: 'Ada', email: 'ada@example.com' },
};

test('plan: HEAD with the work tree; untracked only when asked; --from another commit sends that commit alone', () => {
  const head = planWorkspace(repo, { includeUntracked: false });
  assert.deepEqual(
    {
      commit: head.commit,
      branch: head.branch,
      overlay: head.overlay,
      deleted: head.deleted,
      files: head.files,
      includesWorkTree: head.includesWorkTree,
    },
    {
      commit: 'a'.repeat(40),
      branch: 'main',
      overlay: ['src/a.ts'],
      deleted: ['old.txt'],
      files: ['README.md', 'src/a.ts'],
      includesWorkTree: true,
    },
  );
  const untracked = planWorkspace(repo, { includeUntracked: true });
  assert.deepEqual(untracked.overlay, ['src/a.ts', 'notes.txt']);
  assert.deepEqual(untracked.untrackedCopied, ['notes.txt']);
  assert.deepEqual(untracked.files, ['README.md', 'notes.txt', 'src/a.ts']);
  const other = planWorkspace(repo, { includeUntracked: true, fromCommit: 'b'.repeat(40) }, ['x.ts']);
  assert.deepEqual(
    {
      commit: other.commit,
      branch: other.branch,
      overlay: other.overlay,
      deleted: other.deleted,
      files: other.files,
      untracked: other.untrackedCopied,
    },
    { commit: 'b'.repeat(40), branch: 'workspace', overlay: [], deleted: [], files: ['x.ts'], untracked: [] },
  );
  assert.equal(planWorkspace(repo, { includeUntracked: false, branch: 'feature' }).branch, 'feature');
  assert.equal(
    planWorkspace({ ...repo, branch: null }, { includeUntracked: false }).branch,
    'workspace',
    'a detached HEAD gets a branch of its own',
  );
  const empty = planWorkspace({ ...repo, head: null, changed: [], deleted: [] }, { includeUntracked: false });
  assert.equal(empty.commit, null);
  assert.deepEqual(empty.overlay, ['src/a.ts', 'README.md'], 'without commits every tracked file travels as a file');
});

test('guest scripts: quoted values, the pack only when there is a commit, staging beside the workspace', () => {
  const plan = planWorkspace(
    { ...repo, identity: { name: "O'Brien", email: 'o@example.com' } },
    { includeUntracked: false },
  );
  const s = guestPrepareScript(plan);
  assert.match(s, /^set -eu$/m);
  assert.match(s, /^git config user\.name 'O'\\''Brien'$/m);
  assert.match(s, /^git update-ref refs\/heads\/main a{40}$/m);
  assert.match(s, /^in=\/root\/\.cache\/banger\/workspace-incoming$/m);
  assert.doesNotMatch(
    guestPrepareScript(planWorkspace({ ...repo, head: null }, { includeUntracked: false })),
    /pack-|update-ref/,
  );
  assert.equal(incomingDir('/tmp/x/root/repo'), '/tmp/x/root/.cache/banger/workspace-incoming');
  assert.match(guestExportScript('c'.repeat(40), 'dev'), /git format-patch --stdout --binary c{40}\.\."\$tip"$/m);
  const exec = guestExecCommand(['echo', 'two words']);
  assert.deepEqual(exec.slice(0, 2), ['sh', '-c']);
  assert.deepEqual(exec.slice(3), ['banger-exec', 'echo', 'two words']);
  assert.match(exec[2]!, /^cd \/root\/repo$/m);
  assert.match(exec[2]!, /exec "\$m" exec -- "\$@"/);
});

test('full copy plan: every file of the tree, .git and ignored ones included, the HEAD recorded; git mode is the default', () => {
  assert.deepEqual(
    [planWorkspace(repo, { includeUntracked: false }).mode, planWorkspace(repo, { includeUntracked: false }).readonly],
    ['git', false],
  );
  const p = planFullCopy(repo, ['src/a.ts', '.git/HEAD', 'build/out.bin', 'notes.txt'], { readonly: true });
  assert.deepEqual(
    { mode: p.mode, readonly: p.readonly, commit: p.commit, branch: p.branch, files: p.files, overlay: p.overlay },
    {
      mode: 'full_copy',
      readonly: true,
      commit: 'a'.repeat(40),
      branch: 'main',
      files: ['.git/HEAD', 'build/out.bin', 'notes.txt', 'src/a.ts'],
      overlay: [],
    },
  );
  assert.equal(planFullCopy({ ...repo, branch: null }, [], {}).branch, 'workspace');
  assert.equal(planFullCopy(repo, [], {}).readonly, false);
});

test('guest scripts: full copy unpacks owned by the guest user and moves into place; --readonly drops write bits in both modes', () => {
  const full = guestFullCopyScript(planFullCopy(repo, ['a'], { readonly: false }, '/root/my repo'));
  assert.match(full, /^tar -x --no-same-owner -f - -C "\$in"$/m);
  assert.match(
    full,
    /^if \[ -e '\/root\/my repo' \]; then rm -rf '\/root\/my repo\.previous'; mv '\/root\/my repo' '\/root\/my repo\.previous'; fi$/m,
  );
  assert.match(full, /^mv "\$in" '\/root\/my repo'$/m);
  assert.doesNotMatch(full, /chmod|git init|cp -a/);
  assert.match(full, /git rev-parse -q --verify HEAD 2>\/dev\/null \|\| echo none\n$/);
  const ro = guestFullCopyScript(planFullCopy(repo, ['a'], { readonly: true }));
  assert.match(ro, /^mv "\$in" \/root\/repo\nchmod -R a-w \/root\/repo\ncd \/root\/repo$/m);
  const gitRo = guestPrepareScript(planWorkspace(repo, { includeUntracked: false, readonly: true }));
  assert.match(gitRo, /^rm -rf "\$in"\nchmod -R a-w \/root\/repo\ngit rev-parse -q --verify HEAD \|\| echo none$/m);
  assert.doesNotMatch(guestPrepareScript(planWorkspace(repo, { includeUntracked: false })), /chmod/);
});
