/** The install path: scripts/install.sh puts a build somewhere that no longer needs the checkout. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, run } from './harness.js';

test('install.sh --prefix installs launchers that run the copied bundle from anywhere', async () => {
  const prefix = mkdtempSync(join(tmpdir(), 'bgr-prefix-'));
  try {
    const inst = await run(['sh', join(repoRoot, 'scripts', 'install.sh'), '--prefix', prefix], process.env);
    assert.equal(inst.code, 0, inst.stderr);
    const build = JSON.parse(readFileSync(join(repoRoot, 'dist', 'BUILD'), 'utf8')) as {
      version: string;
      commit: string;
    };
    for (const name of ['banger', 'bangerd']) {
      const launcher = readFileSync(join(prefix, 'bin', name), 'utf8');
      assert.ok(!launcher.includes(repoRoot), `${name} launcher does not point into the checkout`);
      const v = await run([join(prefix, 'bin', name), '--version'], { PATH: '/usr/bin:/bin' });
      assert.equal(v.code, 0, v.stderr);
      assert.equal(
        v.stdout.trim(),
        `${name} v${build.version} (commit ${build.commit}, built ${JSON.parse(readFileSync(join(repoRoot, 'dist', 'BUILD'), 'utf8')).builtAt})`,
      );
    }
    assert.equal(readlinkSync(join(prefix, 'lib', 'banger', 'current')), build.version);
    // Reinstalling over an existing install works (the symlink flip is atomic and idempotent).
    assert.equal((await run(['sh', join(repoRoot, 'scripts', 'install.sh'), '--prefix', prefix], process.env)).code, 0);
    const bad = await run(['sh', join(repoRoot, 'scripts', 'install.sh'), '--bogus'], process.env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown argument --bogus/);
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
});
