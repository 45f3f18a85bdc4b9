import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinHostKey, unpinHostKey, sshArgv, describeSshFailure, shellQuote } from './index.js';

test('known_hosts pinning replaces, keeps others, unpins, and stays private', () => {
  const d = mkdtempSync(join(tmpdir(), 'banger-kh-'));
  try {
    const kh = join(d, 'known_hosts');
    pinHostKey(kh, 'a.vm', 'ssh-ed25519 AAAA1 banger-a');
    pinHostKey(kh, 'b.vm', 'ssh-ed25519 BBBB1 banger-b');
    pinHostKey(kh, 'a.vm', 'ssh-ed25519 AAAA2 banger-a');
    assert.equal(readFileSync(kh, 'utf8'), 'b.vm ssh-ed25519 BBBB1\na.vm ssh-ed25519 AAAA2\n');
    assert.equal(statSync(kh).mode & 0o777, 0o600);
    unpinHostKey(kh, 'a.vm');
    assert.equal(readFileSync(kh, 'utf8'), 'b.vm ssh-ed25519 BBBB1\n');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('ssh argv: strict checking against banger known_hosts, tty only when interactive', () => {
  const t = { ip: '172.16.0.2', alias: 'dev.vm', keyPath: '/s/ssh/id_ed25519', knownHosts: '/s/known_hosts' };
  const interactive = sshArgv(t, []);
  assert.ok(interactive.includes('-t'));
  assert.ok(interactive.includes('StrictHostKeyChecking=yes'));
  assert.ok(interactive.includes('UserKnownHostsFile=/s/known_hosts'));
  assert.ok(interactive.includes('HostKeyAlias=dev.vm'));
  assert.equal(interactive.at(-1), 'root@172.16.0.2');
  const cmd = sshArgv(t, ['sh', '-c', 'exit 42']);
  assert.deepEqual(cmd.slice(-3), ['root@172.16.0.2', '--', "sh -c 'exit 42'"]);
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote('plain/path-1.txt'), 'plain/path-1.txt');
  assert.equal(shellQuote(''), "''");
  assert.ok(cmd.includes('-T'));
  assert.match(
    describeSshFailure('@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@', 'dev.vm')!.message,
    /possible MITM/,
  );
  assert.equal(describeSshFailure('Connection refused', 'dev.vm'), null);
});
