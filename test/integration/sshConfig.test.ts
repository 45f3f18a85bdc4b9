/** `banger ssh-config --install/--uninstall` on a real ~/.ssh/config (HOME is a temp dir). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSandbox } from './harness.js';

test('install/uninstall round trip leaves ~/.ssh/config byte-identical, and creates it with the right modes', async () => {
  const s = createSandbox();
  try {
    const sshDir = join(s.dir, '.ssh');
    const cfg = join(sshDir, 'config');
    // No ~/.ssh at all: install creates it privately; uninstall removes what it created.
    assert.equal((await s.banger(['ssh-config', '--install'])).code, 0);
    assert.equal(statSync(sshDir).mode & 0o777, 0o700);
    assert.equal(statSync(cfg).mode & 0o777, 0o600);
    assert.match(readFileSync(cfg, 'utf8'), new RegExp(`^# >>> banger.*\\nInclude ${s.stateDir}/ssh/config\\n`));
    assert.equal((await s.banger(['ssh-config', '--uninstall'])).code, 0);
    assert.equal(existsSync(cfg), false);

    // An existing config with its own mode: byte-identical after the round trip.
    mkdirSync(sshDir, { recursive: true });
    const original = 'Host work\n  User me\n  Port 2222\n\n# my notes, no trailing newline';
    writeFileSync(cfg, original, { mode: 0o644 });
    assert.equal((await s.banger(['ssh-config', '--install'])).code, 0);
    assert.match((await s.banger(['ssh-config', '--install'])).stdout, /already installed/);
    assert.match((await s.banger(['ssh-config'])).stdout, /^installed in /m);
    assert.equal(statSync(cfg).mode & 0o777, 0o644, 'mode kept');
    assert.equal((await s.banger(['ssh-config', '--uninstall'])).code, 0);
    assert.equal(readFileSync(cfg, 'utf8'), original);
    assert.match((await s.banger(['ssh-config', '--uninstall'])).stdout, /not installed/);
    assert.equal((await s.banger(['ssh-config', '--install', '--uninstall'])).code, 2);
  } finally {
    await s.cleanup();
  }
});
