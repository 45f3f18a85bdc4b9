/**
 * End-to-end: workspaces on real guests (docs/howto/workspaces.md). A repository made here (tracked,
 * untracked and ignored files) is copied into VMs; work done in a guest comes back with
 * `vm workspace export` and `git am`; `[[file_sync]]` lands in /root at every start.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createE2eSandbox, type E2eSandbox } from './e2eSandbox.js';

let e: E2eSandbox;
let repo: string;
let miseRepo: string;
let head: string;
const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Ada',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', env: gitEnv }).trim();

function makeRepo(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'first');
  return dir;
}

before(() => {
  e = createE2eSandbox();
  const home = e.s.dir;
  // file_sync sources, and a global git identity, in the sandbox's HOME (the daemon's).
  writeFileSync(join(home, 'npmrc'), 'registry=http://localhost\n');
  mkdirSync(join(home, 'cfgdir', 'sub'), { recursive: true });
  writeFileSync(join(home, 'cfgdir', 'a.conf'), 'a\n');
  writeFileSync(join(home, 'cfgdir', 'sub', 'b.conf'), 'b\n');
  writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Ada Lovelace\n\temail = ada@example.com\n');
  writeFileSync(
    e.s.configFile,
    readFileSync(e.s.configFile, 'utf8') +
      [
        '[[file_sync]]',
        'host = "~/npmrc"',
        'guest = "~/.npmrc"',
        '',
        '[[file_sync]]',
        'host = "~/cfgdir"',
        'guest = "/root/.config/tool"',
        'mode = "0644"',
        '',
        '[[file_sync]]',
        'host = "~/not-there"',
        'guest = "~/nothing"',
        '',
      ].join('\n'),
  );
  repo = makeRepo(join(home, 'src', 'app'), { 'tracked.txt': 'hello\n', '.gitignore': 'build/\n' });
  writeFileSync(join(repo, 'untracked.txt'), 'untracked\n');
  mkdirSync(join(repo, 'build'));
  writeFileSync(join(repo, 'build', 'output.bin'), Buffer.alloc(8 << 20, 1));
  head = git(repo, 'rev-parse', 'HEAD');
  miseRepo = makeRepo(join(home, 'src', 'tools'), { '.mise.toml': '[tools]\nnode = "20"\n' });
});

after(async () => {
  await e.teardown();
});

test('--dry-run lists the tracked files and their size and creates nothing', async () => {
  const r = await e.ok(['vm', 'run', repo, '--dry-run']);
  assert.equal(r.stdout, '.gitignore\ntracked.txt\n');
  assert.match(
    r.stderr,
    /^2 files, \d+B from .*src\/app \([0-9a-f]{12} on main\) would be copied to \/root\/repo; nothing was created$/m,
  );
  assert.equal((await e.ok(['vm', 'list', '--json'])).stdout.trim(), '[]');
});

test('vm run --rm REPO -- CMD runs in /root/repo: tracked file there, untracked absent, HEAD equal to the host', async () => {
  const r = await e.ok(
    [
      'vm',
      'run',
      '--rm',
      repo,
      '--',
      'sh',
      '-c',
      'pwd; cat tracked.txt; test -e untracked.txt && echo present || echo absent; test -e build && echo build || echo no-build; git rev-parse HEAD',
    ],
    900_000,
  );
  assert.equal(r.stdout, `/root/repo\nhello\nabsent\nno-build\n${head}\n`);
  assert.match(r.stderr, /workspace \(\d+(\.\d+)?[KM]?B? sent in [\d.]+s; HEAD [0-9a-f]{12} on main\)/);
  const withUntracked = await e.ok(
    ['vm', 'run', '--rm', '--include-untracked', repo, '--', 'cat', 'untracked.txt'],
    300_000,
  );
  assert.equal(withUntracked.stdout, 'untracked\n');
});

test('-d prepares and returns; exec runs in the workspace with its exit status; a guest commit comes back through export and git am', async () => {
  const refused = await e.s.banger(['vm', 'run', '-d', repo, '--', 'true']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /-d\/--detach cannot be combined with a command/);
  const d = await e.ok(['vm', 'run', '-d', '--name', 'ws1', repo], 300_000);
  assert.equal(d.stdout, 'ws1\n');
  await e.ok(['vm', 'ssh', 'ws1', '--', 'true']);
  const shown = JSON.parse((await e.ok(['vm', 'show', 'ws1', '--json'])).stdout) as {
    workspace: { hostPath: string; baseCommit: string; head: string; guestPath: string };
  };
  assert.deepEqual(shown.workspace, { guestPath: '/root/repo', hostPath: repo, baseCommit: head, head });
  assert.match((await e.ok(['vm', 'list'])).stdout, new RegExp(`ws1 .*${repo.replace(/[/.]/g, '\\$&')}`));

  const ex = await e.s.banger(['vm', 'exec', 'ws1', '--', 'sh', '-c', 'pwd; exit 3']);
  assert.equal(ex.code, 3, ex.stderr);
  assert.equal(ex.stdout, '/root/repo\n');

  await e.ok([
    'vm',
    'ssh',
    'ws1',
    '--',
    'sh',
    '-c',
    'cd /root/repo && echo "from the guest" >> tracked.txt && git commit -qam "guest change" && echo draft > notes.txt',
  ]);
  const patch = join(e.s.dir, 'ws1.patch');
  const exported = await e.ok(['vm', 'workspace', 'export', 'ws1', '-o', patch]);
  assert.match(exported.stderr, /2 commit\(s\) since [0-9a-f]{12} written to/);
  const clone = join(e.s.dir, 'clone');
  execFileSync('git', ['clone', '-q', repo, clone]);
  git(clone, 'am', '-q', patch);
  assert.equal(readFileSync(join(clone, 'tracked.txt'), 'utf8'), 'hello\nfrom the guest\n');
  assert.equal(readFileSync(join(clone, 'notes.txt'), 'utf8'), 'draft\n', 'uncommitted work comes back too');
  assert.match(
    git(clone, 'log', '--format=%an %s', '-2'),
    /^Ada Lovelace banger: uncommitted changes in ws1\nAda Lovelace guest change$/,
  );

  // The host moves on: --auto-prepare copies the workspace again before running.
  writeFileSync(join(repo, 'second.txt'), 'second\n');
  git(repo, 'add', 'second.txt');
  git(repo, 'commit', '-q', '-m', 'second');
  const moved = await e.ok([
    'vm',
    'exec',
    'ws1',
    '--auto-prepare',
    '--',
    'sh',
    '-c',
    'git rev-parse HEAD; cat second.txt',
  ]);
  assert.equal(moved.stdout, `${git(repo, 'rev-parse', 'HEAD')}\nsecond\n`);
  assert.match(moved.stderr, /host HEAD moved/);
});

test('file_sync: a file and a directory land in /root with their modes at start and again after stop/start; the git identity too', async () => {
  const check = async () =>
    (
      await e.ok([
        'vm',
        'ssh',
        'ws1',
        '--',
        'sh',
        '-c',
        'stat -c "%a %n" /root/.npmrc /root/.config/tool/a.conf /root/.config/tool/sub/b.conf; cat /root/.npmrc; git config --global user.name',
      ])
    ).stdout;
  const expected =
    '600 /root/.npmrc\n644 /root/.config/tool/a.conf\n644 /root/.config/tool/sub/b.conf\nregistry=http://localhost\nAda Lovelace\n';
  assert.equal(await check(), expected);
  await e.ok([
    'vm',
    'ssh',
    'ws1',
    '--',
    'sh',
    '-c',
    'rm /root/.npmrc && echo local > /root/.config/tool/a.conf && sync',
  ]);
  await e.ok(['vm', 'stop', 'ws1'], 120_000);
  const started = await e.ok(['vm', 'start', 'ws1'], 300_000);
  assert.match(started.stderr, /file_sync: .*not-there does not exist on the host; skipped/);
  assert.equal(await check(), expected, 'written again at start');
  assert.equal(
    (await e.ok(['vm', 'exec', 'ws1', '--', 'git', 'rev-parse', 'HEAD'])).stdout.trim().length,
    40,
    'the workspace survives stop/start',
  );
  await e.ok(['vm', 'delete', 'ws1'], 120_000);
});

test('vm exec --auto-prepare refuses a VM without a workspace; a stopped VM is not_running', async () => {
  await e.ok(['vm', 'create', '--no-start', '--name', 'plain']);
  const r = await e.s.banger(['vm', 'exec', 'plain', '--auto-prepare', '--', 'true']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^banger: VM plain has no workspace to copy again \(--auto-prepare\)$/m);
  const stopped = await e.s.banger(['vm', 'exec', 'plain', '--', 'true']);
  assert.equal(stopped.code, 5);
  assert.match(stopped.stderr, /VM plain is not running/);
  await e.ok(['vm', 'delete', 'plain']);
});

test('a repository that declares tools is refused without --nat (nothing created) unless --no-bootstrap is given', async () => {
  const refused = await e.s.banger(['vm', 'run', '--rm', miseRepo, '--', 'true']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /declares tools \(\.mise\.toml\)/);
  assert.match(refused.stderr, /hint: add --nat .* or --no-bootstrap/);
  assert.equal((await e.ok(['vm', 'list', '--json'])).stdout.trim(), '[]');
  const skipped = await e.ok(['vm', 'run', '--rm', '--no-bootstrap', miseRepo, '--', 'cat', '.mise.toml'], 300_000);
  assert.equal(skipped.stdout, '[tools]\nnode = "20"\n');
  assert.match(skipped.stderr, /tools \(not installed \(--no-bootstrap\): \.mise\.toml\)/);
});
