import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestExecCommand, guestExportScript, guestPrepareScript, incomingDir, planWorkspace } from './plan.js';
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
