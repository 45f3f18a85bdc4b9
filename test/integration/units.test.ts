/**
 * The systemd units of a system install, checked by systemd itself: `systemd-analyze verify`
 * (no unknown keys, no bad values) and `systemd-analyze security --offline=true` (the
 * sandbox: both units rate "OK" or better; docs/howto/system-install.md records the scores).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAEMON_UNIT, HELPER_UNIT, renderDaemonUnit, renderHelperUnit } from '../../src/install/index.js';

/** systemd's exposure ratings, best first (src/analyze/analyze-security.c). */
const RATINGS = ['PERFECT', 'SAFE', 'OK', 'MEDIUM', 'EXPOSED', 'UNSAFE', 'DANGEROUS'];

function withUnits<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'banger-units-'));
  try {
    const input = { node: process.execPath, libDir: '/usr/local/lib/banger/current', owner: 'daemon' };
    writeFileSync(join(dir, DAEMON_UNIT), renderDaemonUnit(input));
    writeFileSync(join(dir, HELPER_UNIT), renderHelperUnit(input));
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('systemd-analyze verify accepts both units (no unknown keys, no bad values)', () => {
  withUnits((dir) => {
    const r = spawnSync('systemd-analyze', ['verify', join(dir, DAEMON_UNIT), join(dir, HELPER_UNIT)], {
      encoding: 'utf8',
    });
    assert.equal(r.error, undefined, 'systemd-analyze is installed (scripts/setup.sh installs systemd)');
    assert.equal(r.status, 0, r.stderr);
    const complaints = r.stderr.split('\n').filter((l) => l.includes(dir));
    assert.deepEqual(complaints, [], 'nothing to say about either unit');
  });
});

/** `systemd-analyze security --offline=true UNIT`: the overall exposure and its rating. */
function exposure(unitFile: string): { score: number; rating: string; output: string } {
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unitFile], {
    encoding: 'utf8',
    env: { ...process.env, SYSTEMD_COLORS: '0' },
  });
  assert.equal(r.error, undefined, 'systemd-analyze is installed');
  const m = /Overall exposure level for \S+: ([\d.]+) ([A-Z]+)/.exec(r.stdout);
  assert.ok(m, `no "Overall exposure level" line in:\n${r.stdout}\n${r.stderr}`);
  return { score: Number(m[1]), rating: m[2]!, output: r.stdout };
}

test('systemd-analyze security rates the root helper\'s unit, and the daemon\'s, "OK" or better', () => {
  withUnits((dir) => {
    for (const unit of [HELPER_UNIT, DAEMON_UNIT]) {
      const { score, rating, output } = exposure(join(dir, unit));
      assert.ok(RATINGS.includes(rating), `a known rating: ${rating}`);
      assert.ok(
        RATINGS.indexOf(rating) <= RATINGS.indexOf('OK'),
        `${unit}: ${score} ${rating}, worse than OK:\n${output
          .split('\n')
          .filter((l) => l.startsWith('✗'))
          .join('\n')}`,
      );
    }
  });
});
