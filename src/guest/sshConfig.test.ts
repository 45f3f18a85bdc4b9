import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderBangerSshConfig, installInclude, uninstallInclude, hasInclude } from './sshConfig.js';

test('banger ssh config: one HostName per addressed VM and a Host *.vm block', () => {
  const c = renderBangerSshConfig(
    [
      { name: 'dev', ip: '172.16.0.2' },
      { name: 'gone', ip: null },
    ],
    '/s/ssh/id_ed25519',
    '/s/known_hosts',
  );
  assert.match(c, /^Host dev\.vm\n {2}HostName 172\.16\.0\.2\n/m);
  assert.doesNotMatch(c, /gone/);
  assert.match(c, /^Host \*\.vm\n {2}User root\n {2}IdentityFile \/s\/ssh\/id_ed25519\n/m);
  assert.match(c, /UserKnownHostsFile \/s\/known_hosts/);
  assert.match(c, /StrictHostKeyChecking accept-new/);
});

test('install puts the Include first, is idempotent, and uninstall restores the exact bytes', () => {
  for (const original of ['', 'Host work\n  User me\n', 'Host a\n\n# trailing comment without newline']) {
    const installed = installInclude(original, '/s/ssh/config');
    assert.ok(installed.startsWith('# >>> banger'));
    assert.ok(installed.includes('Include /s/ssh/config\n'));
    assert.ok(hasInclude(installed));
    assert.equal(installInclude(installed, '/s/ssh/config'), installed);
    assert.equal(uninstallInclude(installed), original);
    assert.equal(uninstallInclude(original), original);
  }
});
