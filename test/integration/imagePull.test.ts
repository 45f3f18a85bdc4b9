/**
 * `image pull` of OCI images through the real daemon (real socket, real SQLite) from a real
 * registry on 127.0.0.1 (Debian's docker-registry, anonymous and with htpasswd basic auth),
 * flattened and built into ext4 with the real tools; the kernel is a placeholder (nothing
 * boots here: test/e2e/ociImages.test.ts boots them). Checks: the image record and what
 * `image show` reports, the injected files in the ext4 as root-owned, two concurrent pulls
 * sharing a layer (one download), cache prune, credentials from ~/.docker/config.json, and
 * failures (missing tag, registry down, denied, hostile layer) that name the reference and
 * leave no image record and no file behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { blobGets, startDockerRegistry, type TestRegistry } from '../fixtures/dockerRegistry.js';
import { gzipLayer, tarLayer } from '../fixtures/layerTar.js';
import { busyboxLayers, extraLayer } from '../fixtures/ociTestImages.js';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, pushImage, sha256Digest } from '../fixtures/registryPush.js';
import { createSandbox, type Sandbox } from './harness.js';

let s: Sandbox;
let reg: TestRegistry;
let authReg: TestRegistry;
const creds = { username: 'bgtuser', password: 'bgt-secret-pw' };

const ok = async (args: string[]) => {
  const r = await s.banger(args, { timeoutMs: 300_000 });
  assert.equal(r.code, 0, `banger ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r;
};
const imagesDir = () => join(s.stateDir, 'images');
const listing = () => (existsSync(imagesDir()) ? readdirSync(imagesDir()).sort() : []);
const imageNames = async () =>
  (JSON.parse((await ok(['image', 'list', '--json'])).stdout) as Array<{ name: string }>).map((i) => i.name);

before(async () => {
  s = createSandbox();
  reg = await startDockerRegistry();
  authReg = await startDockerRegistry({ auth: creds });
  const kernelDir = join(s.dir, 'fake-kernel');
  mkdirSync(kernelDir);
  writeFileSync(join(kernelDir, 'vmlinuz'), 'a placeholder: nothing boots in this test');
  await ok(['kernel', 'import', 'placeholder', '--from', kernelDir]);
  const busybox = busyboxLayers('gzip').map((l) => l.blob);
  await pushImage(reg.url, 'it/busybox', '1', { layers: busybox, layerMediaType: OCI_LAYER_GZIP });
  await pushImage(reg.url, 'it/busybox-plus', '1', {
    layers: [...busybox, extraLayer('etc/plus', 'plus\n').blob],
    layerMediaType: OCI_LAYER_GZIP,
  });
  await pushImage(authReg.url, 'it/private', '1', { layers: busybox, layerMediaType: OCI_LAYER_GZIP }, creds);
  const hostile = gzipLayer(
    tarLayer([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/ok', content: 'fine\n' },
      { name: '../../escape', content: 'outside\n' },
    ]),
  );
  await pushImage(reg.url, 'it/hostile', '1', { layers: [hostile], layerMediaType: OCI_LAYER_GZIP });
  // An Alpine-like image: apk and an os-release, no sshd (only detection reads them).
  const alpineish = gzipLayer(
    tarLayer([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/os-release', content: 'ID=alpine\nPRETTY_NAME="Alpine-like test"\n' },
      { name: 'sbin/', type: 'dir' },
      { name: 'sbin/apk', content: '#!/bin/sh\n', mode: 0o755 },
      { name: 'sbin/init', content: '#!/bin/sh\n', mode: 0o755 },
    ]),
  );
  await pushImage(reg.url, 'it/alpineish', '1', { layers: [alpineish], layerMediaType: OCI_LAYER_GZIP });
});
after(async () => {
  try {
    await s.cleanup();
  } finally {
    await reg.stop();
    await authReg.stop();
  }
});

test('two concurrent pulls sharing a layer fetch it once; the image records ref, digest, layers and injection', async () => {
  const [a, b] = await Promise.all([
    ok(['image', 'pull', `${reg.host}/it/busybox:1`, '--kernel', 'placeholder']),
    ok(['image', 'pull', `${reg.host}/it/busybox-plus:1`, '--kernel', 'placeholder', '--name', 'plus']),
  ]);
  assert.match(a.stdout, /^busybox-1 ready from 127\.0\.0\.1:\d+\/it\/busybox:1 \(sha256:/);
  assert.match(b.stderr, /layer/);
  const img = JSON.parse((await ok(['image', 'show', 'busybox-1'])).stdout);
  assert.equal(img.oci.ref, `${reg.host}/it/busybox:1`);
  assert.equal(img.oci.init, 'other');
  assert.equal(img.oci.initPath, '/sbin/init');
  assert.deepEqual(img.oci.injected, ['/.banger/agent', '/.banger/init', '/.banger/next-init']);
  assert.equal(
    await blobGets(reg, img.oci.layers[0].digest, { atLeast: 1 }),
    1,
    'the shared layer was downloaded once',
  );
  // The injected files are in the ext4 as root's, whoever ran the pull.
  const debugfs = (cmd: string) =>
    execFileSync('debugfs', ['-R', cmd, img.rootfsPath], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const stat = debugfs('stat /.banger/init');
  assert.match(stat, /Mode:\s+0755/);
  assert.match(stat, /User:\s+0\s+Group:\s+0/);
  const nextInit = debugfs('cat /.banger/next-init');
  assert.equal(nextInit, '/sbin/init\n');
  // A reference is an image name too: show by ref, and a second pull is up to date.
  assert.equal(JSON.parse((await ok(['image', 'show', `${reg.host}/it/busybox:1`])).stdout).name, 'busybox-1');
  assert.match(
    (await ok(['image', 'pull', `${reg.host}/it/busybox:1`, '--kernel', 'placeholder'])).stderr,
    /up to date/,
  );
});

test('cache prune frees only blobs no image refers to; --dry-run removes nothing', async () => {
  const plus = JSON.parse((await ok(['image', 'show', 'plus'])).stdout);
  await ok(['image', 'delete', 'plus']);
  assert.equal(existsSync(join(imagesDir(), 'plus')), false, 'delete removes the image directory');
  const extra = plus.oci.layers[1].digest;
  const dry = await ok(['image', 'cache', 'prune', '--dry-run']);
  assert.match(dry.stdout, new RegExp(`would remove ${extra}`));
  assert.doesNotMatch(dry.stdout, new RegExp(plus.oci.layers[0].digest), 'busybox-1 still uses the base');
  const blobs = join(s.dir, '.cache', 'banger', 'oci', 'blobs', 'sha256');
  assert.ok(existsSync(join(blobs, extra.slice(7))), 'dry run removed nothing');
  const real = await ok(['image', 'cache', 'prune']);
  assert.match(real.stdout, /^removed sha256:/m);
  assert.match(real.stdout, /freed .* across \d+ blob\(s\) in .*oci\/blobs\/sha256/);
  assert.equal(existsSync(join(blobs, extra.slice(7))), false);
  assert.ok(existsSync(join(blobs, plus.oci.layers[0].digest.slice(7))));
});

test('credentials come from ~/.docker/config.json; without them the pull is denied, naming the ref', async () => {
  const ref = `${authReg.host}/it/private:1`;
  const denied = await s.banger(['image', 'pull', ref, '--kernel', 'placeholder', '--name', 'private']);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, new RegExp(ref.replaceAll('.', '\\.')));
  assert.match(denied.stderr, /docker login|config\.json|credentials|denied|unauthorized/i);
  mkdirSync(join(s.dir, '.docker'), { recursive: true });
  const auth = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
  writeFileSync(join(s.dir, '.docker', 'config.json'), JSON.stringify({ auths: { [authReg.host]: { auth } } }));
  await ok(['image', 'pull', ref, '--kernel', 'placeholder', '--name', 'private']);
  await ok(['image', 'delete', 'private']);
});

test('failed pulls (missing tag, registry down, hostile layer) name the ref and leave no image and no file', async () => {
  const before = listing();
  const names = await imageNames();
  const missing = await s.banger(['image', 'pull', `${reg.host}/it/busybox:nope`, '--kernel', 'placeholder']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /it\/busybox:nope/);
  assert.match(missing.stderr, /not found|unknown|no such/i);
  const down = await s.banger(['image', 'pull', '127.0.0.1:9/it/busybox:1', '--kernel', 'placeholder']);
  assert.notEqual(down.code, 0);
  assert.match(down.stderr, /127\.0\.0\.1:9/);
  const hostile = await s.banger(['image', 'pull', `${reg.host}/it/hostile:1`, '--kernel', 'placeholder']);
  assert.notEqual(hostile.code, 0);
  assert.match(hostile.stderr, /it\/hostile:1/);
  assert.match(hostile.stderr, /\.\.\/\.\.\/escape/);
  assert.equal(existsSync(join(s.stateDir, 'escape')), false);
  assert.equal(existsSync(join(s.dir, 'escape')), false);
  assert.deepEqual(listing(), before, 'no image directory or scratch left');
  assert.deepEqual(await imageNames(), names);
});

test('--install-sshd: recorded with the package manager os-release names; VMs of it need NAT; refused without a package manager', async () => {
  await ok([
    'image',
    'pull',
    `${reg.host}/it/alpineish:1`,
    '--kernel',
    'placeholder',
    '--install-sshd',
    '--name',
    'alp',
  ]);
  const img = JSON.parse((await ok(['image', 'show', 'alp'])).stdout);
  assert.deepEqual(
    [img.oci.installSshd, img.oci.packageManager, img.oci.sshd, img.distro],
    [true, 'apk', false, 'alpine'],
  );
  const noNat = await s.banger(['vm', 'create', '--image', 'alp', '--name', 'no-nat', '--no-start']);
  assert.notEqual(noNat.code, 0);
  assert.match(noNat.stderr, /installs openssh-server at first boot, which needs NAT/);
  assert.match(noNat.stderr, /--nat/);
  assert.deepEqual(JSON.parse((await ok(['vm', 'list', '--json'])).stdout), [], 'nothing was created');
  await ok(['image', 'delete', 'alp']);
  const bb = await s.banger([
    'image',
    'pull',
    `${reg.host}/it/busybox:1`,
    '--kernel',
    'placeholder',
    '--install-sshd',
    '--name',
    'bb-sshd',
  ]);
  assert.notEqual(bb.code, 0);
  assert.match(bb.stderr, /--install-sshd needs a package manager, and this image has none/);
  assert.ok(!(await imageNames()).includes('bb-sshd'));
});

test('a name taken by another image is refused with a hint; a bad reference is a usage error', async () => {
  const taken = await s.banger([
    'image',
    'pull',
    `${reg.host}/it/busybox-plus:1`,
    '--kernel',
    'placeholder',
    '--name',
    'busybox-1',
  ]);
  assert.notEqual(taken.code, 0);
  assert.match(taken.stderr, /an image named "busybox-1" already exists/);
  assert.match(taken.stderr, /--name/);
  const bad = await s.banger(['image', 'pull', 'UPPER/Case:tag']);
  assert.notEqual(bad.code, 0);
  const catalog = await s.banger(['image', 'pull', 'debian-bookworm', '--name', 'x', '--size', '2G']);
  assert.notEqual(catalog.code, 0);
  assert.match(catalog.stderr, /"debian-bookworm" is a catalog name: --name, --size apply to OCI references only/);
});

test('scratch that a daemon killed mid-pull left behind is removed at the next start', async () => {
  await ok(['daemon', 'stop']);
  const stale = join(imagesDir(), '.pull-killed');
  mkdirSync(join(stale, 'tree', 'etc'), { recursive: true });
  writeFileSync(join(stale, 'tree', 'etc', 'half-written'), 'x');
  mkdirSync(join(imagesDir(), '.import-killed'));
  await ok(['image', 'list']); // starts the daemon again
  assert.equal(existsSync(stale), false);
  assert.equal(existsSync(join(imagesDir(), '.import-killed')), false);
  assert.ok((await imageNames()).includes('busybox-1'), 'images are untouched');
});

// ---- review15 (hostile review of issue 15): failing test that demonstrates a finding ----

test('review15: re-pulling a tag that changed upstream replaces the image (record and rootfs agree)', async () => {
  // importAndRecord -> store.images.replace(), whose UPDATE is run with imageParams(img),
  // which carries @name (and @id) ... node:sqlite refuses the unknown named parameter "name":
  // every re-pull of a changed tag fails with an internal error, AFTER importOciImage has
  // already replaced <images>/NAME: the record (old manifest digest, layers) now describes
  // another rootfs than the one on disk.
  const busybox = busyboxLayers('gzip').map((l) => l.blob);
  await pushImage(reg.url, 'it/changing', '1', { layers: busybox, layerMediaType: OCI_LAYER_GZIP });
  await ok(['image', 'pull', `${reg.host}/it/changing:1`, '--kernel', 'placeholder', '--name', 'changing']);
  const pushed = await pushImage(reg.url, 'it/changing', '1', {
    layers: [...busybox, extraLayer('etc/changed', 'yes\n').blob],
    layerMediaType: OCI_LAYER_GZIP,
  });
  try {
    const again = await s.banger([
      'image',
      'pull',
      `${reg.host}/it/changing:1`,
      '--kernel',
      'placeholder',
      '--name',
      'changing',
    ]);
    assert.equal(again.code, 0, again.stderr);
    const img = JSON.parse((await ok(['image', 'show', 'changing'])).stdout);
    assert.equal(img.oci.manifestDigest, pushed.manifestDigest);
  } finally {
    await s.banger(['image', 'delete', 'changing']);
  }
});

test('review15: deleting an image while it is re-pulled leaves a recorded image or nothing, never an orphan', async () => {
  // importAndRecord captured `existing` before the download; `image delete` meanwhile removes
  // the record and the directory; the pull then renames its new directory into place and
  // store.images.replace() UPDATEs a row that no longer exists: the CLI says "ready", no image
  // is recorded, and <images>/race holds a rootfs nothing refers to (nor prune removes).
  // (The same stale `existing` lets a VM be created on the old image after the "used by VMs"
  // check and then have its rootfs replaced under its snapshot.)
  const busybox = busyboxLayers('gzip').map((l) => l.blob);
  const extra = extraLayer('etc/v2', 'v2\n').blob;
  const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', config: {} }));
  const manifestOf = (ls: Buffer[]) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: sha256Digest(config), size: config.length },
        layers: ls.map((b) => ({ mediaType: OCI_LAYER_GZIP, digest: sha256Digest(b), size: b.length })),
      }),
    );
  let layers = busybox;
  const blobs = new Map([...busybox, extra, config].map((b) => [sha256Digest(b), b]));
  let stalled: () => void = () => {};
  const stall = new Promise<void>((r) => {
    stalled = r;
  });
  let held: ServerResponse | null = null;
  const server = createServer((req, res) => {
    if (req.url === '/v2/t/app/manifests/v1') {
      res.setHeader('content-type', OCI_MANIFEST);
      res.end(manifestOf(layers));
      return;
    }
    const digest = /^\/v2\/t\/app\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '')?.[1];
    const blob = digest ? blobs.get(digest) : undefined;
    if (!blob) {
      res.statusCode = 404;
      res.end();
    } else if (digest === sha256Digest(extra)) {
      res.setHeader('content-length', blob.length);
      res.write(blob.subarray(0, 10));
      held = res;
      stalled();
    } else res.end(blob);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ref = `127.0.0.1:${(server.address() as AddressInfo).port}/t/app:v1`;
  try {
    await ok(['image', 'pull', ref, '--kernel', 'placeholder', '--name', 'race']);
    layers = [...busybox, extra];
    const pulling = s.banger(['image', 'pull', ref, '--kernel', 'placeholder', '--name', 'race'], {
      timeoutMs: 300_000,
    });
    await stall;
    const del = await s.banger(['image', 'delete', 'race']);
    (held as ServerResponse | null)?.end(extra.subarray(10));
    const pulled = await pulling;
    const recorded = (await imageNames()).includes('race');
    assert.ok(
      del.code !== 0 || pulled.code !== 0 || recorded,
      `delete and pull both succeeded ("${pulled.stdout.trim()}") but no image "race" is recorded`,
    );
    assert.equal(
      existsSync(join(imagesDir(), 'race')),
      recorded,
      `an image directory without its record (delete: ${del.code} ${del.stderr.trim()}; pull: ${pulled.code} ${pulled.stdout.trim()} ${pulled.stderr.trim().split('\n').slice(-4).join(' | ')})`,
    );
  } finally {
    server.closeAllConnections();
    server.close();
    await s.banger(['image', 'delete', 'race']);
  }
});
