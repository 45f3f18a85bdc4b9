/**
 * The release builder end to end (real esbuild, gcc, tar) and the interoperability of its
 * signatures: openssl verifies what banger signs, and banger verifies what openssl signs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecHostRunner } from '../../src/system/index.js';
import { buildRelease } from '../../src/updater/release.js';
import { parseSums, sha256Hex, verifySums } from '../../src/updater/signing.js';
import { repoRoot } from './harness.js';

test('a release: tarball with launchers and the whole bundle, SHA256SUMS, and a signature openssl verifies (and the other way round)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-rel-'));
  try {
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'key.pem')]);
    execFileSync('openssl', ['ec', '-in', join(dir, 'key.pem'), '-pubout', '-out', join(dir, 'pub.pem')], {
      stdio: 'ignore',
    });
    const out = await buildRelease({
      runner: new ExecHostRunner(),
      repoRoot,
      version: '7.7.7',
      privateKeyPem: readFileSync(join(dir, 'key.pem'), 'utf8'),
      outDir: join(dir, 'out'),
    });
    const files = execFileSync('tar', ['-tzf', out.tarball], { encoding: 'utf8' }).split('\n');
    for (const f of [
      'banger-7.7.7/bin/banger',
      'banger-7.7.7/bin/bangerd',
      'banger-7.7.7/dist/banger.js',
      'banger-7.7.7/dist/bangerd.js',
      'banger-7.7.7/dist/native/hostcalls.node',
      'banger-7.7.7/dist/banger-root-helper.js',
      'banger-7.7.7/dist/agent/banger-agent',
    ]) {
      assert.ok(files.includes(f), `${f} in the tarball`);
    }
    execFileSync('tar', ['-xzf', out.tarball, '-C', dir]);
    assert.match(
      execFileSync(join(dir, 'banger-7.7.7', 'bin', 'banger'), ['--version'], { encoding: 'utf8' }),
      /^banger v7\.7\.7 /,
      'the release reports its version',
    );
    const sums = readFileSync(out.sums);
    assert.equal(parseSums(sums.toString()).get('banger-7.7.7-linux-x64.tar.gz'), sha256Hex(readFileSync(out.tarball)));
    // openssl verifies banger's signature...
    writeFileSync(join(dir, 'sig.der'), Buffer.from(readFileSync(out.signature, 'utf8'), 'base64'));
    const v = execFileSync(
      'openssl',
      ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig.der'), out.sums],
      { encoding: 'utf8' },
    );
    assert.match(v, /Verified OK/);
    // ...and banger verifies openssl's (cosign's format is the same base64 DER).
    const osig = execFileSync('openssl', ['dgst', '-sha256', '-sign', join(dir, 'key.pem'), out.sums]);
    assert.equal(verifySums(sums, osig.toString('base64'), readFileSync(join(dir, 'pub.pem'), 'utf8')), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
