/**
 * The OCI registry client and blob cache (src/oci) against a real Debian `docker-registry`
 * (distribution v2) on 127.0.0.1, anonymous and with htpasswd basic auth, plus small loopback
 * HTTP servers for what that registry cannot show: the bearer-token flow with a redirect to
 * another host, and hostile answers (bytes that do not match their digest).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BangerError } from '../../src/model/index.js';
import { BlobCache, type BlobProgress, parseImageRef, RegistryClient } from '../../src/oci/index.js';
import { blobGets, startDockerRegistry, type TestRegistry } from '../fixtures/dockerRegistry.js';
import { OCI_MANIFEST, pushImage, pushIndex, sha256Digest } from '../fixtures/registryPush.js';
import { freePort, waitFor } from './harness.js';

const layer = (n: number) => gzipSync(randomBytes(n), { level: 1 });
const tmp = () => mkdtempSync(join(tmpdir(), 'banger-test-oci-'));
const NO_CONFIG = '/nonexistent/banger-test/config.json';
const ref = (text: string) => parseImageRef(text)!;
const isErr =
  (code: string, ...res: RegExp[]) =>
  (e: unknown) => {
    assert.ok(e instanceof BangerError, String(e));
    assert.equal(e.code, code, e.message);
    for (const re of res) assert.match(e.message, re);
    assert.ok(e.hint, `no hint: ${e.message}`);
    return true;
  };
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const blobFiles = (cacheDir: string) => {
  try {
    return readdirSync(join(cacheDir, 'blobs', 'sha256'));
  } catch {
    return [];
  }
};

interface Served {
  url: string;
  host: string;
  requests: Array<{ url: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/** A loopback HTTP server recording every request; `handler` answers. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Served> {
  const requests: Served['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function anonymousPulls(t: TestContext, reg: TestRegistry): Promise<void> {
  const layers = [layer(300_000), layer(1000)];
  const pushed = await pushImage(reg.url, 'team/app', 'v1', {
    layers,
    config: {
      config: { Env: ['PATH=/usr/bin', 'A=1'], Entrypoint: ['/init'], Cmd: ['run'], WorkingDir: '/srv', User: 'app' },
    },
  });
  const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });

  await t.test('resolve and fetch an OCI image; cache hit the second time', async () => {
    const r = await client.resolve(ref(`${reg.host}/team/app:v1`));
    assert.equal(r.manifestDigest, pushed.manifestDigest);
    assert.equal(r.indexDigest, null);
    assert.equal(r.configDigest, pushed.configDigest);
    assert.deepEqual(
      r.layers.map((l) => [l.digest, l.size, l.mediaType]),
      layers.map((l, i) => [pushed.layerDigests[i], l.length, 'application/vnd.oci.image.layer.v1.tar+gzip']),
    );
    assert.deepEqual(r.config, {
      os: 'linux',
      architecture: 'amd64',
      env: ['PATH=/usr/bin', 'A=1'],
      entrypoint: ['/init'],
      cmd: ['run'],
      workingDir: '/srv',
      user: 'app',
    });
    const dir = tmp();
    try {
      const cache = new BlobCache(join(dir, 'oci'));
      const seen: BlobProgress[] = [];
      const path = await cache.ensure(client, r.ref, r.layers[0]!, (p) => seen.push(p));
      assert.deepEqual(readFileSync(path), layers[0]);
      assert.equal(path, cache.pathFor(pushed.layerDigests[0]!));
      assert.deepEqual(seen.at(-1) && { ...seen.at(-1)!, bytesPerSec: 0 }, {
        digest: pushed.layerDigests[0],
        doneBytes: layers[0]!.length,
        totalBytes: layers[0]!.length,
        bytesPerSec: 0,
        cached: false,
      });
      const again: BlobProgress[] = [];
      assert.equal(await cache.ensure(client, r.ref, r.layers[0]!, (p) => again.push(p)), path);
      assert.deepEqual(
        again.map((p) => p.cached),
        [true],
      );
      assert.equal(await blobGets(reg, pushed.layerDigests[0]!, { repo: 'team/app', atLeast: 1 }), 1);
      assert.equal((execFileSync('stat', ['-c', '%a', join(dir, 'oci', 'blobs', 'sha256')]) + '').trim(), '700');
      assert.deepEqual(cache.list(), [{ digest: pushed.layerDigests[0], size: layers[0]!.length }]);
      // A cached file of the wrong size (truncated behind our back) is fetched again.
      truncateSync(path, 1000);
      assert.deepEqual(readFileSync(await cache.ensure(client, r.ref, r.layers[0]!)), layers[0]);
      assert.equal(await blobGets(reg, pushed.layerDigests[0]!, { repo: 'team/app', atLeast: 2 }), 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  await t.test('a Docker schema 2 image, and by digest', async () => {
    const d = await pushImage(reg.url, 'team/dock', 'x', { layers: [layer(100)], format: 'docker' });
    const r = await client.resolve(ref(`${reg.host}/team/dock:x`));
    assert.equal(r.manifestDigest, d.manifestDigest);
    assert.equal(r.layers[0]!.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    const byDigest = await client.resolve(ref(`${reg.host}/team/dock@${d.manifestDigest}`));
    assert.equal(byDigest.configDigest, d.configDigest);
  });

  await t.test('an index resolves to linux/amd64 (OCI index and Docker manifest list)', async () => {
    for (const format of ['oci', 'docker'] as const) {
      const idx = await pushIndex(
        reg.url,
        'team/multi',
        format,
        [
          { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, image: { layers: [layer(50)] } },
          { platform: { os: 'linux', architecture: 'amd64' }, image: { layers: [layer(60)] } },
        ],
        { format },
      );
      const r = await client.resolve(ref(`${reg.host}/team/multi:${format}`));
      assert.equal(r.manifestDigest, idx.manifests[1]!.pushed.manifestDigest);
      assert.equal(r.indexDigest, idx.indexDigest);
      assert.equal(r.config.architecture, 'amd64');
    }
  });

  await t.test('an index without linux/amd64 names the ref and lists its platforms', async () => {
    await pushIndex(reg.url, 'team/arm', 'only', [
      { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, image: { layers: [layer(50)] } },
      { platform: { os: 'linux', architecture: 's390x' }, image: { layers: [layer(50)] } },
    ]);
    await assert.rejects(
      client.resolve(ref(`${reg.host}/team/arm:only`)),
      isErr(
        'not_found',
        new RegExp(`${esc(reg.host)}/team/arm:only has no linux/amd64`),
        /linux\/arm64\/v8, linux\/s390x/,
      ),
    );
    // A single-platform image for another architecture is refused the same way.
    await pushImage(reg.url, 'team/arm', 'single', { layers: [layer(10)], config: { architecture: 'riscv64' } });
    await assert.rejects(client.resolve(ref(`${reg.host}/team/arm:single`)), isErr('not_found', /linux\/riscv64/));
  });

  await t.test('a missing tag or repository is not_found naming the ref', async () => {
    await assert.rejects(
      client.resolve(ref(`${reg.host}/team/app:nope`)),
      isErr('not_found', new RegExp(`${esc(reg.host)}/team/app:nope`)),
    );
    await assert.rejects(client.resolve(ref(`${reg.host}/no/such:v1`)), isErr('not_found', /no\/such:v1/));
  });

  await t.test('two concurrent ensure() of one layer, by two refs, download it once', async () => {
    const shared = layer(2_000_000);
    const a = await pushImage(reg.url, 'team/a', '1', { layers: [shared, layer(10)] });
    await pushImage(reg.url, 'team/b', '1', { layers: [shared, layer(20)] });
    const [ra, rb] = await Promise.all([
      client.resolve(ref(`${reg.host}/team/a:1`)),
      client.resolve(ref(`${reg.host}/team/b:1`)),
    ]);
    const dir = tmp();
    try {
      const cache = new BlobCache(dir);
      const progA: BlobProgress[] = [];
      const [pa, pb] = await Promise.all([
        cache.ensure(client, ra.ref, ra.layers[0]!, (p) => progA.push(p)),
        cache.ensure(client, rb.ref, rb.layers[0]!),
      ]);
      assert.equal(pa, pb);
      assert.deepEqual(readFileSync(pa), shared);
      const gets = await blobGets(reg, a.layerDigests[0]!, { atLeast: 1 }); // of team/a or team/b
      assert.equal(gets, 1);
      assert.equal(progA.at(-1)?.doneBytes, shared.length);
      assert.deepEqual(blobFiles(dir), [a.layerDigests[0]!.slice(7)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  await t.test('a leftover .partial-* is never used; prune keeps the keep-set, dry-run removes nothing', async () => {
    const r = await client.resolve(ref(`${reg.host}/team/app:v1`));
    const dir = tmp();
    try {
      const cache = new BlobCache(dir);
      const blobDir = join(dir, 'blobs', 'sha256');
      mkdirSync(blobDir, { recursive: true });
      const hex = r.layers[1]!.digest.slice(7);
      // A planted partial with the right bytes, and one with wrong bytes: neither is read.
      writeFileSync(join(blobDir, `.partial-${hex}-planted`), layers[1]!);
      writeFileSync(join(blobDir, `.partial-${hex}-wrong`), Buffer.alloc(layers[1]!.length));
      const before = await blobGets(reg, r.layers[1]!.digest, { repo: 'team/app' });
      const path = await cache.ensure(client, r.ref, r.layers[1]!);
      assert.equal(await blobGets(reg, r.layers[1]!.digest, { repo: 'team/app', atLeast: before + 1 }), before + 1);
      assert.deepEqual(readFileSync(path), layers[1]);
      await cache.ensure(client, r.ref, r.layers[0]!);
      // Young partials survive a prune (they may belong to a live download); old ones go.
      const keep = new Set([r.layers[0]!.digest]);
      assert.deepEqual(cache.prune(keep, true), {
        removed: [{ digest: r.layers[1]!.digest, size: layers[1]!.length }],
        freedBytes: layers[1]!.length,
        removedPartials: 0,
      });
      const old = new Date(Date.now() - 2 * 3600_000);
      utimesSync(join(blobDir, `.partial-${hex}-wrong`), old, old);
      const dry = cache.prune(keep, true);
      assert.equal(dry.removedPartials, 1);
      assert.equal(dry.freedBytes, 2 * layers[1]!.length);
      assert.equal(blobFiles(dir).length, 4);
      const real = cache.prune(keep, false);
      assert.deepEqual(real, dry);
      assert.deepEqual(blobFiles(dir).sort(), [`.partial-${hex}-planted`, r.layers[0]!.digest.slice(7)].sort());
      assert.equal(cache.has(r.layers[1]!.digest), false);
      assert.equal(cache.has(r.layers[0]!.digest), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  await t.test('a full disk: ENOSPC is "no space left in <cache dir>", no partial left', async (st) => {
    const dir = tmp();
    let mounted = false;
    try {
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'banger-test-oci', dir], { stdio: 'pipe' });
        mounted = true;
      } catch {
        st.skip('cannot mount a tmpfs here (not root?)');
        return;
      }
      const big = await pushImage(reg.url, 'team/big', '1', { layers: [layer(2_500_000)] });
      const r = await client.resolve(ref(`${reg.host}/team/big:1`));
      const cache = new BlobCache(dir);
      await assert.rejects(
        cache.ensure(client, r.ref, r.layers[0]!),
        isErr(
          'operation_failed',
          new RegExp(`no space left in ${esc(dir)}`),
          new RegExp(esc(big.layerDigests[0]!)),
          /team\/big:1/,
        ),
      );
      assert.deepEqual(blobFiles(dir), []);
    } finally {
      if (mounted) execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a real registry, anonymous', async (t) => {
  const reg = await startDockerRegistry();
  try {
    await anonymousPulls(t, reg);
  } finally {
    await reg.stop();
  }
});

test('a real registry with htpasswd basic auth: credentials from a docker config, denied without', async (t) => {
  const auth = { username: 'banger', password: `pw-${randomBytes(4).toString('hex')}` };
  const reg = await startDockerRegistry({ auth });
  const dir = tmp();
  try {
    const pushed = await pushImage(reg.url, 'private/app', 'v1', { layers: [layer(5000)] }, auth);
    const image = ref(`${reg.host}/private/app:v1`);
    const configPath = join(dir, 'config.json');
    const entry = { auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') };
    writeFileSync(configPath, JSON.stringify({ auths: { [`http://${reg.host}`]: entry } }));

    await t.test('with dockerConfigPath', async () => {
      const client = new RegistryClient({ dockerConfigPath: configPath });
      const r = await client.resolve(image);
      assert.equal(r.manifestDigest, pushed.manifestDigest);
      const cache = new BlobCache(join(dir, 'cache'));
      assert.equal(await cache.ensure(client, image, r.layers[0]!), cache.pathFor(pushed.layerDigests[0]!));
    });

    await t.test('with $DOCKER_CONFIG', async () => {
      const saved = process.env.DOCKER_CONFIG;
      process.env.DOCKER_CONFIG = dir;
      try {
        assert.equal((await new RegistryClient().resolve(image)).manifestDigest, pushed.manifestDigest);
      } finally {
        if (saved === undefined) delete process.env.DOCKER_CONFIG;
        else process.env.DOCKER_CONFIG = saved;
      }
    });

    await t.test('denied without credentials, and with a wrong password', async () => {
      await assert.rejects(
        new RegistryClient({ dockerConfigPath: NO_CONFIG }).resolve(image),
        isErr('unauthorized', /private\/app:v1/),
      );
      const wrong = join(dir, 'wrong.json');
      writeFileSync(wrong, JSON.stringify({ auths: { [reg.host]: { username: auth.username, password: 'nope' } } }));
      await assert.rejects(new RegistryClient({ dockerConfigPath: wrong }).resolve(image), (e: BangerError) => {
        assert.equal(e.code, 'unauthorized');
        assert.match(e.hint ?? '', /docker login/);
        return true;
      });
    });
  } finally {
    await reg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a registry that is down: "cannot reach registry", naming the ref', async () => {
  const port = await freePort();
  await assert.rejects(
    new RegistryClient({ dockerConfigPath: NO_CONFIG }).resolve(ref(`127.0.0.1:${port}/team/app:v1`)),
    isErr(
      'operation_failed',
      new RegExp(`cannot reach registry 127\\.0\\.0\\.1:${port} for 127\\.0\\.0\\.1:${port}/team/app:v1`),
      /ECONNREFUSED/,
    ),
  );
});

/** An image's documents built in memory, for the loopback servers below to serve. */
function fakeImage(layerBytes: Buffer) {
  const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', config: { Cmd: ['sh'] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256Digest(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: sha256Digest(layerBytes),
          size: layerBytes.length,
        },
      ],
    }),
  );
  return {
    config,
    manifest,
    manifestDigest: sha256Digest(manifest),
    configDigest: sha256Digest(config),
    layerDigest: sha256Digest(layerBytes),
  };
}

test('the bearer-token flow: challenge, token (cached), and no Authorization to a blob store on another host', async () => {
  const layerBytes = layer(70_000);
  const img = fakeImage(layerBytes);
  const TOKEN = `tok-${randomBytes(8).toString('hex')}`;
  const store = await serve((req, res) => {
    res.end(req.url === `/blob/${img.layerDigest.slice(7)}?sig=1` ? layerBytes : '');
  });
  let tokenStatus = 200;
  const reg: Served = await serve((req, res) => {
    const u = new URL(req.url ?? '/', reg.url);
    if (u.pathname === '/token') {
      res.statusCode = tokenStatus;
      res.end(JSON.stringify({ access_token: TOKEN }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.statusCode = 401;
      res.setHeader(
        'www-authenticate',
        `Bearer realm="${reg.url}/token",service="fake-svc",scope="repository:team/app:pull"`,
      );
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    if (u.pathname === '/v2/team/app/manifests/v1') {
      res.setHeader('content-type', OCI_MANIFEST);
      res.setHeader('docker-content-digest', img.manifestDigest);
      res.end(img.manifest);
    } else if (u.pathname === `/v2/team/app/blobs/${img.configDigest}`) res.end(img.config);
    else if (u.pathname === `/v2/team/app/blobs/${img.layerDigest}`) {
      res.statusCode = 307;
      res.setHeader('location', `${store.url}/blob/${img.layerDigest.slice(7)}?sig=1`);
      res.end();
    } else {
      res.statusCode = 404;
      res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    }
  });
  const dir = tmp();
  try {
    const image = ref(`${reg.host}/team/app:v1`);
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });
    const r = await client.resolve(image);
    assert.equal(r.manifestDigest, img.manifestDigest);
    const cache = new BlobCache(dir);
    assert.deepEqual(readFileSync(await cache.ensure(client, image, r.layers[0]!)), layerBytes);
    const tokenReqs = reg.requests.filter((q) => q.url.startsWith('/token'));
    assert.equal(tokenReqs.length, 1, 'one token for the client life');
    const q = new URL(tokenReqs[0]!.url, reg.url).searchParams;
    assert.deepEqual([q.get('service'), q.get('scope')], ['fake-svc', 'repository:team/app:pull']);
    assert.equal(tokenReqs[0]!.headers.authorization, undefined, 'anonymous token request');
    assert.equal(reg.requests.filter((q) => q.headers.authorization === `Bearer ${TOKEN}`).length, 3);
    assert.equal(store.requests.length, 1);
    assert.equal(store.requests[0]!.headers.authorization, undefined, 'Authorization leaked to the blob store');

    // With credentials in the docker config, the token request carries them (Basic).
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify({ auths: { [reg.host]: { username: 'u', password: 'p' } } }));
    await new RegistryClient({ dockerConfigPath: configPath }).resolve(image);
    assert.equal(
      reg.requests.filter((q) => q.url.startsWith('/token')).at(-1)!.headers.authorization,
      `Basic ${Buffer.from('u:p').toString('base64')}`,
    );

    tokenStatus = 403;
    await assert.rejects(
      new RegistryClient({ dockerConfigPath: NO_CONFIG }).resolve(image),
      isErr('unauthorized', /team\/app:v1/),
    );
  } finally {
    await reg.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile answers: digest mismatches, long bodies, schema 1, plain-http redirects; nothing left in the cache', async (t) => {
  const layerBytes = layer(50_000);
  const img = fakeImage(layerBytes);
  const schema1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'team/app', tag: 'old', fsLayers: [] }));
  const routes: Record<string, (res: ServerResponse) => void> = {
    '/v2/team/app/manifests/liar': (res) => {
      res.setHeader('docker-content-digest', sha256Digest(Buffer.from('other')));
      res.end(img.manifest);
    },
    [`/v2/team/app/manifests/${sha256Digest(Buffer.from('asked'))}`]: (res) => res.end(img.manifest),
    '/v2/team/app/manifests/good': (res) => res.end(img.manifest),
    '/v2/team/app/manifests/old': (res) => {
      res.setHeader('content-type', 'application/vnd.docker.distribution.manifest.v1+prettyjws');
      res.end(schema1);
    },
    '/v2/team/app/manifests/huge': (res) => res.end(Buffer.alloc(5 << 20, 0x20)),
    [`/v2/team/app/blobs/${img.configDigest}`]: (res) => res.end(img.config),
    [`/v2/team/app/blobs/${img.layerDigest}`]: (res) =>
      res.end(
        mode === 'flip'
          ? Buffer.from(layerBytes).fill(1, 0, 10)
          : mode === 'long'
            ? Buffer.concat([layerBytes, Buffer.from('x')])
            : layerBytes,
      ),
  };
  let mode: 'flip' | 'long' | 'chunked-long' | 'redirect' | 'slow' = 'flip';
  let release = () => {};
  let slowServed = 0;
  const srv = await serve((req, res) => {
    if (mode === 'slow' && req.url === `/v2/team/app/blobs/${img.layerDigest}`) {
      // Half now, the rest when the test releases it (never, for the idle-timeout case).
      slowServed++;
      res.setHeader('content-length', layerBytes.length);
      res.write(layerBytes.subarray(0, 20_000));
      release = () => res.end(layerBytes.subarray(20_000));
      return;
    }
    if (mode === 'chunked-long' && req.url === `/v2/team/app/blobs/${img.layerDigest}`) {
      res.write(layerBytes);
      res.end(Buffer.alloc(100));
      return;
    }
    if (mode === 'redirect' && req.url === `/v2/team/app/blobs/${img.layerDigest}`) {
      res.statusCode = 302;
      res.setHeader('location', 'http://10.255.255.1:5000/blob');
      res.end();
      return;
    }
    const route = routes[req.url ?? ''];
    if (route) route(res);
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  const dir = tmp();
  const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });
  const cache = new BlobCache(dir);
  try {
    await t.test('a manifest whose Docker-Content-Digest disagrees with its bytes', async () => {
      await assert.rejects(
        client.resolve(ref(`${srv.host}/team/app:liar`)),
        isErr('operation_failed', /team\/app:liar/, /does not match/),
      );
    });
    await t.test('a manifest asked by digest whose bytes hash otherwise', async () => {
      const asked = sha256Digest(Buffer.from('asked'));
      await assert.rejects(
        client.resolve(ref(`${srv.host}/team/app@${asked}`)),
        isErr('operation_failed', new RegExp(asked), /does not match/),
      );
    });
    await t.test('schema 1 and oversized manifests are refused', async () => {
      await assert.rejects(
        client.resolve(ref(`${srv.host}/team/app:old`)),
        isErr('bad_request', /schema 1/, /team\/app:old/),
      );
      await assert.rejects(
        client.resolve(ref(`${srv.host}/team/app:huge`)),
        isErr('operation_failed', /larger than 4194304/),
      );
    });
    const image = ref(`${srv.host}/team/app:good`);
    const r = await client.resolve(image);
    for (const [m, re] of [
      ['flip', /does not match/],
      ['long', /more than the 50|longer than/],
      ['chunked-long', /longer than/],
    ] as const) {
      await t.test(`a blob that is ${m}: refused, no file left`, async () => {
        mode = m;
        await assert.rejects(
          cache.ensure(client, image, r.layers[0]!),
          isErr('operation_failed', re, new RegExp(img.layerDigest), /team\/app:good/),
        );
        assert.deepEqual(blobFiles(dir), []);
      });
    }
    await t.test(
      'cancelling one of two waiters leaves the download to the other; cancelling all removes the partial',
      async () => {
        mode = 'slow';
        // The download is under way: the registry has sent half and the partial file exists.
        const downloading = (served: number) =>
          waitFor(() => slowServed > served && blobFiles(dir).length === 1, 30_000);
        const before = slowServed;
        const c1 = new AbortController();
        const p1 = cache.ensure(client, image, r.layers[0]!, undefined, c1.signal);
        const p2 = cache.ensure(client, image, r.layers[0]!);
        assert.ok(await downloading(before), 'the download started');
        c1.abort();
        await assert.rejects(p1, (e: BangerError) => e.code === 'interrupted');
        release();
        assert.deepEqual(readFileSync(await p2), layerBytes);
        rmSync(cache.pathFor(img.layerDigest));
        const c3 = new AbortController();
        const served = slowServed;
        const p3 = cache.ensure(client, image, r.layers[0]!, undefined, c3.signal);
        assert.ok(await downloading(served), 'the partial while downloading');
        c3.abort();
        await assert.rejects(p3, (e: BangerError) => e.code === 'interrupted' && /team\/app:good/.test(e.message));
        assert.deepEqual(blobFiles(dir), []);
        release();
      },
    );
    await t.test('a registry that stalls mid-blob times out (idle timeout), no file left', async () => {
      mode = 'slow';
      const impatient = new RegistryClient({ dockerConfigPath: NO_CONFIG, timeoutMs: 300 });
      await assert.rejects(
        cache.ensure(impatient, image, r.layers[0]!),
        isErr('operation_failed', /ETIMEDOUT/, /team\/app:good/),
      );
      assert.deepEqual(blobFiles(dir), []);
      release();
    });
    await t.test('a redirect to plain http on another (non-loopback) host needs --insecure', async () => {
      mode = 'redirect';
      await assert.rejects(cache.ensure(client, image, r.layers[0]!), (e: BangerError) => {
        assert.equal(e.code, 'bad_request');
        assert.match(e.hint ?? '', /--insecure/);
        return true;
      });
      assert.deepEqual(blobFiles(dir), []);
    });
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- review15 (hostile review of issue 15): failing tests that demonstrate findings ----

test('review15: a 401 from a blob store the registry redirected to does not get the registry credentials', async () => {
  // The registry (honest) redirects a blob to a store on another origin; the store (hostile or
  // compromised CDN) answers 401 with a Bearer realm of its choosing. get() treats that 401 as
  // the registry's own challenge and sends the docker-config credentials of the REGISTRY to
  // the store's realm as Basic.
  const layerBytes = layer(10_000);
  const img = fakeImage(layerBytes);
  const evil = await serve((_req, res) => res.end(JSON.stringify({ token: 'evil-token' })));
  const store = await serve((_req, res) => {
    res.statusCode = 401;
    res.setHeader('www-authenticate', `Bearer realm="${evil.url}/token",service="x"`);
    res.end();
  });
  const reg = await serve((req, res) => {
    if (req.url === '/v2/team/app/manifests/v1') {
      res.setHeader('content-type', OCI_MANIFEST);
      res.end(img.manifest);
    } else if (req.url === `/v2/team/app/blobs/${img.configDigest}`) res.end(img.config);
    else if (req.url === `/v2/team/app/blobs/${img.layerDigest}`) {
      res.statusCode = 307;
      res.setHeader('location', `${store.url}/blob?sig=1`);
      res.end();
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  const dir = tmp();
  try {
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify({ auths: { [reg.host]: { username: 'u', password: 's3cret' } } }));
    const client = new RegistryClient({ dockerConfigPath: configPath });
    const image = ref(`${reg.host}/team/app:v1`);
    const r = await client.resolve(image);
    await new BlobCache(dir).ensure(client, image, r.layers[0]!).catch(() => undefined);
    const leaked = evil.requests.filter((q) => q.headers.authorization !== undefined);
    assert.deepEqual(
      leaked.map((q) => q.headers.authorization),
      [],
      'the registry credentials went to a token service named by the blob store',
    );
  } finally {
    await reg.close();
    await store.close();
    await evil.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('review15: a remote registry cannot send the client to this host loopback (redirect spellings, token realm)', async (t) => {
  // The registry is reached as [::ffff:7f00:1]:PORT, which the client classifies as remote
  // (isLoopbackRegistry: false), so plain http needs insecure. The "internal" service on
  // 127.0.0.1 stands for anything listening on the daemon host's loopback.
  const layerBytes = layer(10_000);
  const img = fakeImage(layerBytes);
  const internal = await serve((_req, res) => res.end(JSON.stringify({ token: 'from-internal' })));
  const port = internal.host.split(':')[1]!;
  let where = '';
  let challenge = false;
  const reg = await serve((req, res) => {
    if (challenge && !req.headers.authorization) {
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer realm="${internal.url}/token",service="x"`);
      res.end();
      return;
    }
    if (req.url === '/v2/team/app/manifests/v1') {
      res.setHeader('content-type', OCI_MANIFEST);
      res.end(img.manifest);
    } else if (req.url === `/v2/team/app/blobs/${img.configDigest}`) res.end(img.config);
    else if (req.url === `/v2/team/app/blobs/${img.layerDigest}`) {
      res.statusCode = 307;
      res.setHeader('location', `${where}/blob`);
      res.end();
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  const dir = tmp();
  try {
    const image = ref(`[::ffff:7f00:1]:${reg.host.split(':')[1]}/team/app:v1`);
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG, insecure: true });
    const r = await client.resolve(image);
    for (const host of ['127.0.0.1', '0.0.0.0', '[::ffff:127.0.0.1]']) {
      await t.test(`a redirect to http://${host}:PORT is refused`, async () => {
        where = `http://${host}:${port}`;
        const before = internal.requests.length;
        await new BlobCache(dir).ensure(client, image, r.layers[0]!).catch(() => undefined);
        assert.equal(internal.requests.length, before, `the client followed the redirect to ${where}`);
      });
    }
    await t.test('a token realm on loopback is refused', async () => {
      challenge = true;
      const before = internal.requests.length;
      await new RegistryClient({ dockerConfigPath: NO_CONFIG, insecure: true }).resolve(image).catch(() => undefined);
      assert.equal(internal.requests.length, before, 'the client fetched a token from the host loopback');
    });
  } finally {
    await reg.close();
    await internal.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('review15: a layer descriptor larger than any layer banger would flatten is refused before it is downloaded', async () => {
  // Nothing caps a descriptor's size (checkDescriptor: any safe integer) or the sum over
  // layers, so a registry declaring a 1 PiB layer and streaming it fills the disk holding the
  // blob cache (and the daemon's VM disks) until ENOSPC; the 16 GiB flatten cap only applies
  // after the download. A plain-tar layer over 16 GiB could never be flattened anyway.
  const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64' }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256Digest(config),
        size: config.length,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest(Buffer.from('x')), size: 2 ** 50 },
      ],
    }),
  );
  const reg = await serve((req, res) => {
    if (req.url === '/v2/team/app/manifests/v1') {
      res.setHeader('content-type', OCI_MANIFEST);
      res.end(manifest);
    } else if (req.url === `/v2/team/app/blobs/${sha256Digest(config)}`) res.end(config);
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  try {
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });
    const resolved = await client.resolve(ref(`${reg.host}/team/app:v1`)).catch((e: unknown) => e);
    assert.ok(resolved instanceof BangerError, `a ${2 ** 50}-byte layer was accepted for download`);
  } finally {
    await reg.close();
  }
});

test('a loopback registry the user named keeps its loopback token service (plain http) and loopback blob store', async () => {
  const layerBytes = layer(10_000);
  const img = fakeImage(layerBytes);
  const tokens = await serve((_req, res) => res.end(JSON.stringify({ token: 'loopback-token' })));
  const store = await serve((_req, res) => res.end(layerBytes));
  const reg = await serve((req, res) => {
    if (req.headers.authorization !== 'Bearer loopback-token') {
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer realm="http://localhost:${tokens.host.split(':')[1]}/token"`);
      res.end();
    } else if (req.url === '/v2/team/app/manifests/v1') {
      res.setHeader('content-type', OCI_MANIFEST);
      res.end(img.manifest);
    } else if (req.url === `/v2/team/app/blobs/${img.configDigest}`) res.end(img.config);
    else if (req.url === `/v2/team/app/blobs/${img.layerDigest}`) {
      res.statusCode = 307;
      res.setHeader('location', `http://localhost:${store.host.split(':')[1]}/blob`);
      res.end();
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  const dir = tmp();
  try {
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });
    const image = ref(`${reg.host}/team/app:v1`);
    const r = await client.resolve(image);
    assert.deepEqual(readFileSync(await new BlobCache(dir).ensure(client, image, r.layers[0]!)), layerBytes);
    assert.equal(tokens.requests.length, 1);
    assert.equal(store.requests.length, 1);
  } finally {
    await reg.close();
    await store.close();
    await tokens.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refusals name the ref: a blob store 401, a redirect to loopback, a loopback token realm', async () => {
  const img = fakeImage(layer(1000));
  let mode: 'store401' | 'redirect' | 'realm' = 'store401';
  const store = await serve((_req, res) => {
    res.statusCode = 401;
    res.setHeader('www-authenticate', 'Bearer realm="https://example.invalid/token"');
    res.end();
  });
  const reg = await serve((req, res) => {
    if (mode === 'realm') {
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer realm="http://127.0.0.1:1/token"`);
      res.end();
    } else if (req.url === '/v2/team/app/manifests/v1') {
      res.setHeader('content-type', OCI_MANIFEST);
      res.end(img.manifest);
    } else if (req.url === `/v2/team/app/blobs/${img.configDigest}`) res.end(img.config);
    else {
      res.statusCode = 307;
      res.setHeader('location', mode === 'redirect' ? 'http://0.0.0.0:1/blob' : `${store.url}/blob`);
      res.end();
    }
  });
  const dir = tmp();
  try {
    const local = ref(`${reg.host}/team/app:v1`);
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });
    const r = await client.resolve(local);
    await assert.rejects(
      new BlobCache(dir).ensure(client, local, r.layers[0]!),
      isErr('operation_failed', /team\/app:v1/, new RegExp(`${esc(store.host)}.*refused it \\(HTTP 401\\)`)),
    );
    assert.equal(store.requests.length, 1);
    // The same server reached as a remote registry (an IPv4-mapped spelling is not a loopback registry).
    const remote = ref(`[::ffff:7f00:1]:${reg.host.split(':')[1]}/team/app:v1`);
    const insecure = new RegistryClient({ dockerConfigPath: NO_CONFIG, insecure: true });
    mode = 'redirect';
    await assert.rejects(
      new BlobCache(dir).ensure(insecure, remote, r.layers[0]!),
      isErr('operation_failed', /team\/app:v1/, /0\.0\.0\.0:1/),
    );
    mode = 'realm';
    await assert.rejects(
      insecure.resolve(remote),
      isErr('operation_failed', /team\/app:v1/, /token service http:\/\/127\.0\.0\.1:1/),
    );
  } finally {
    await reg.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
