import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BangerError } from '../../../model/index.js';
import { readRunInvocation } from './runArgs.js';

const usage = (message: RegExp) => (e: unknown) =>
  e instanceof BangerError && e.code === 'usage' && message.test(e.message);

test('vm run: no path and no `--` is a shell in a fresh VM', () => {
  assert.deepEqual(readRunInvocation(['vm', 'run'], undefined, {}), { repo: undefined, command: [] });
});

test('vm run: the words after `--` are the guest command, and the first of them is not a repository', () => {
  assert.deepEqual(readRunInvocation(['vm', 'run', '--rm', '--', 'echo', 'ok'], 'echo', { rm: true }), {
    repo: undefined,
    command: ['echo', 'ok'],
  });
  assert.deepEqual(readRunInvocation(['vm', 'run', '--', '--', 'x'], '--', {}), {
    repo: undefined,
    command: ['--', 'x'],
  });
});

test('vm run: a path before `--` is the repository', () => {
  assert.deepEqual(readRunInvocation(['vm', 'run', './repo'], './repo', {}), { repo: './repo', command: [] });
  assert.deepEqual(readRunInvocation(['vm', 'run', '--rm', './repo', '--', 'make', 'test'], './repo', { rm: true }), {
    repo: './repo',
    command: ['make', 'test'],
  });
  assert.deepEqual(readRunInvocation(['vm', 'run', './repo', '--dry-run'], './repo', { dryRun: true }), {
    repo: './repo',
    command: [],
  });
});

test('vm run: the repository-only options need a repository', () => {
  assert.throws(
    () => readRunInvocation(['vm', 'run', '--dry-run'], undefined, { dryRun: true }),
    usage(/^--dry-run needs a repository path$/),
  );
  assert.throws(
    () => readRunInvocation(['vm', 'run', '--include-untracked', '--', 'ls'], 'ls', { includeUntracked: true }),
    usage(/^--include-untracked needs a repository path$/),
  );
  assert.throws(
    () => readRunInvocation(['vm', 'run', '--branch', 'b'], undefined, { branch: 'b' }),
    usage(/^--branch needs/),
  );
  assert.throws(
    () => readRunInvocation(['vm', 'run', '--from', 'v1'], undefined, { from: 'v1' }),
    usage(/^--from needs/),
  );
});

test('vm run: --detach excludes --rm and a guest command', () => {
  assert.throws(
    () => readRunInvocation(['vm', 'run', '-d', '--rm'], undefined, { detach: true, rm: true }),
    usage(/^-d\/--detach cannot be combined with --rm/),
  );
  assert.throws(
    () => readRunInvocation(['vm', 'run', '-d', '--', 'ls'], 'ls', { detach: true }),
    usage(
      /^-d\/--detach cannot be combined with a command: the command would need a terminal to report its status to$/,
    ),
  );
  assert.deepEqual(readRunInvocation(['vm', 'run', '-d', './repo'], './repo', { detach: true }), {
    repo: './repo',
    command: [],
  });
});
