import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BangerError } from '../model/index.js';
import { parseImageConfig } from './imageConfig.js';
import { type IndexEntry, MEDIA, parseManifest, selectPlatform, wrongPlatform } from './manifest.js';
import { parseImageRef } from './ref.js';

const ref = parseImageRef('127.0.0.1:5000/team/app:1')!;
const d = (c: string) => `sha256:${c.repeat(64)}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const image = (layers: Array<{ mediaType: string }>, extra: Record<string, unknown> = {}) =>
  json({
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: d('c'), size: 10 },
    layers: layers.map((l, i) => ({ digest: d(String(i)), size: 5, ...l })),
    ...extra,
  });
const bad = (code: string, re: RegExp) => (e: unknown) =>
  e instanceof BangerError && e.code === code && re.test(e.message) && e.message.includes(ref.text);

test('parseManifest: the four accepted layer media types', () => {
  const types = [
    'application/vnd.oci.image.layer.v1.tar',
    'application/vnd.oci.image.layer.v1.tar+gzip',
    'application/vnd.oci.image.layer.v1.tar+zstd',
    'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ];
  const m = parseManifest(ref, image(types.map((mediaType) => ({ mediaType }))), null);
  assert.equal(m.kind, 'image');
  assert.deepEqual(m.kind === 'image' && m.layers.map((l) => l.mediaType), types);
});

test('parseManifest: foreign/nondistributable and non-tar layers, schema 1, artifacts refused', () => {
  for (const mediaType of [
    'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
    'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ])
    assert.throws(() => parseManifest(ref, image([{ mediaType }]), null), bad('bad_request', /non-distributable/));
  assert.throws(
    () => parseManifest(ref, image([{ mediaType: 'application/x-helm' }]), null),
    bad('bad_request', /not a tar layer/),
  );
  assert.throws(
    () => parseManifest(ref, json({ schemaVersion: 1, name: 'x', fsLayers: [] }), null),
    bad('bad_request', /schema 1/),
  );
  assert.throws(
    () => parseManifest(ref, json({ schemaVersion: 1 }), 'application/vnd.docker.distribution.manifest.v1+prettyjws'),
    /unsupported/,
  );
  const artifact = json({
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: d('c'), size: 1 },
    layers: [],
  });
  assert.throws(() => parseManifest(ref, artifact, null), bad('bad_request', /not a container image/));
  assert.throws(() => parseManifest(ref, json({ mediaType: 'text/plain' }), null), /not an image/);
  assert.throws(() => parseManifest(ref, Buffer.from('{'), null), /not valid JSON/);
  assert.throws(() => parseManifest(ref, json([1]), null), /not valid JSON/);
});

test('parseManifest: descriptors are checked (sha256 only, sizes sane)', () => {
  const l = { mediaType: 'application/vnd.oci.image.layer.v1.tar' };
  assert.throws(
    () => parseManifest(ref, image([{ ...l, digest: `sha512:${'a'.repeat(128)}` } as never]), null),
    /only sha256/,
  );
  assert.throws(() => parseManifest(ref, image([{ ...l, digest: 'sha256:../../etc' } as never]), null), /digest/);
  assert.throws(() => parseManifest(ref, image([{ ...l, size: -1 } as never]), null), /bad size/);
  assert.throws(() => parseManifest(ref, image([{ ...l, size: 1.5 } as never]), null), /bad size/);
  assert.throws(() => parseManifest(ref, image([{ ...l, size: '5' } as never]), null), /not a descriptor/);
  assert.throws(() => parseManifest(ref, image([l], { layers: 'x' }), null), /no layers/);
});

test('parseManifest: kind from mediaType, else Content-Type, else shape', () => {
  const idx = { schemaVersion: 2, manifests: [{ mediaType: MEDIA.ociManifest, digest: d('1'), size: 3 }] };
  assert.equal(parseManifest(ref, json(idx), null).kind, 'index');
  assert.equal(parseManifest(ref, json(idx), `${MEDIA.dockerList}; charset=utf-8`).kind, 'index');
  const img = JSON.parse(image([]).toString());
  delete img.mediaType;
  assert.equal(parseManifest(ref, json(img), 'application/json').kind, 'image');
  assert.equal(parseManifest(ref, json(img), MEDIA.dockerManifest).kind, 'image');
});

test('selectPlatform: linux/amd64, variant ignored, attestations skipped; the error lists platforms', () => {
  const e = (os: string, architecture: string, c: string, variant?: string): IndexEntry => ({
    mediaType: MEDIA.ociManifest,
    digest: d(c),
    size: 1,
    platform: { os, architecture, ...(variant ? { variant } : {}) },
  });
  const entries = [
    e('unknown', 'unknown', '0'),
    e('linux', 'arm64', '1', 'v8'),
    e('linux', 'amd64', '2', 'v3'),
    e('linux', 'amd64', '3'),
  ];
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'amd64' })?.digest, d('2'));
  assert.equal(
    selectPlatform([{ ...e('linux', 'amd64', '4'), platform: null }], { os: 'linux', architecture: 'amd64' }),
    null,
  );
  assert.equal(selectPlatform(entries.slice(0, 2), { os: 'linux', architecture: 'amd64' }), null);
  const err = wrongPlatform(ref, { os: 'linux', architecture: 'amd64' }, [
    'linux/arm64/v8',
    'unknown/unknown',
    'linux/s390x',
  ]);
  assert.equal(err.code, 'not_found');
  assert.match(
    err.message,
    /127\.0\.0\.1:5000\/team\/app:1 has no linux\/amd64 image \(it has: linux\/arm64\/v8, linux\/s390x\)/,
  );
});

test('parseImageConfig: the summary, with mistyped fields read as absent', () => {
  const c = parseImageConfig(
    ref,
    json({
      os: 'linux',
      architecture: 'amd64',
      config: { Env: ['PATH=/bin'], Entrypoint: ['/init'], Cmd: null, WorkingDir: '/srv', User: 1000 },
    }),
  );
  assert.deepEqual(c, {
    os: 'linux',
    architecture: 'amd64',
    env: ['PATH=/bin'],
    entrypoint: ['/init'],
    cmd: null,
    workingDir: '/srv',
    user: null,
  });
  assert.deepEqual(parseImageConfig(ref, json({})).env, []);
  assert.throws(() => parseImageConfig(ref, Buffer.from('nope')), /not valid JSON/);
});

test('parseManifest: layer count and declared sizes are capped (256 layers, 16 GiB each, 32 GiB in all)', () => {
  const GIB = 1024 ** 3;
  const gz = 'application/vnd.oci.image.layer.v1.tar+gzip';
  const sized = (sizes: number[]) =>
    json({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: d('c'), size: 10 },
      layers: sizes.map((size) => ({ mediaType: gz, digest: d('1'), size })),
    });
  assert.equal(parseManifest(ref, sized([16 * GIB, 16 * GIB]), null).kind, 'image');
  assert.throws(() => parseManifest(ref, sized([2 ** 50]), null), bad('bad_request', /more than 17179869184/));
  assert.throws(() => parseManifest(ref, sized([16 * GIB + 1]), null), bad('bad_request', /16 GiB/));
  assert.throws(
    () => parseManifest(ref, sized([16 * GIB, 16 * GIB, 1]), null),
    bad('bad_request', /sum to .* more than .*32 GiB/),
  );
  assert.equal(parseManifest(ref, sized(new Array(256).fill(1)), null).kind, 'image');
  assert.throws(() => parseManifest(ref, sized(new Array(257).fill(1)), null), bad('bad_request', /257 layers/));
});
