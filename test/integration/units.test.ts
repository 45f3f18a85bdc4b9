/** The systemd units of a system install, checked by systemd itself (`systemd-analyze verify`). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAEMON_UNIT, HELPER_UNIT, renderDaemonUnit, renderHelperUnit } from '../../src/install/index.js';

test('systemd-analyze verify accepts both units (no unknown keys, no bad values)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-units-'));
  try {
    const input = { node: process.execPath, libDir: '/usr/local/lib/banger/current', owner: 'daemon' };
    writeFileSync(join(dir, DAEMON_UNIT), renderDaemonUnit(input));
    writeFileSync(join(dir, HELPER_UNIT), renderHelperUnit(input));
    const r = spawnSync('systemd-analyze', ['verify', join(dir, DAEMON_UNIT), join(dir, HELPER_UNIT)], { encoding: 'utf8' });
    assert.equal(r.error, undefined, 'systemd-analyze is installed (scripts/setup.sh installs systemd)');
    assert.equal(r.status, 0, r.stderr);
    const complaints = r.stderr.split('\n').filter((l) => l.includes(dir));
    assert.deepEqual(complaints, [], 'nothing to say about either unit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
