import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BangerError } from '../model/index.js';
import { isLoopbackRegistry, normalizeRegistryKey, parseImageRef } from './ref.js';

const HEX = 'a'.repeat(64);

test('parseImageRef: plain catalog names are not references', () => {
  for (const s of ['debian-bookworm', 'alpine', 'my_image.v2', '', 'UPPER']) assert.equal(parseImageRef(s), null, s);
});

test('parseImageRef: canonical forms, Docker Hub defaults and contacted registry', () => {
  assert.deepEqual(parseImageRef('debian:bookworm'), {
    registry: 'registry-1.docker.io',
    repository: 'library/debian',
    tag: 'bookworm',
    digest: null,
    text: 'docker.io/library/debian:bookworm',
  });
  assert.equal(parseImageRef('docker.io/library/debian:bookworm')?.text, 'docker.io/library/debian:bookworm');
  assert.equal(parseImageRef('index.docker.io/debian')?.text, 'docker.io/library/debian:latest');
  assert.equal(parseImageRef('user/app')?.text, 'docker.io/user/app:latest');
  assert.equal(parseImageRef('user/app')?.registry, 'registry-1.docker.io');
  const g = parseImageRef(`ghcr.io/org/img@sha256:${HEX}`)!;
  assert.deepEqual([g.registry, g.repository, g.tag, g.digest], ['ghcr.io', 'org/img', null, `sha256:${HEX}`]);
  const both = parseImageRef(`ghcr.io/org/img:1.0@sha256:${HEX}`)!;
  assert.deepEqual([both.tag, both.digest, both.text], ['1.0', `sha256:${HEX}`, `ghcr.io/org/img:1.0@sha256:${HEX}`]);
  const local = parseImageRef('127.0.0.1:5000/team/dev:1')!;
  assert.deepEqual([local.registry, local.repository, local.tag], ['127.0.0.1:5000', 'team/dev', '1']);
  assert.equal(parseImageRef('localhost:5000/x')?.text, 'localhost:5000/x:latest');
  assert.equal(parseImageRef('localhost/x')?.registry, 'localhost');
  const v6 = parseImageRef('[::1]:5000/x:y')!;
  assert.deepEqual([v6.registry, v6.repository, v6.tag], ['[::1]:5000', 'x', 'y']);
  assert.equal(parseImageRef('Registry.Example.COM/a/b')?.registry, 'registry.example.com');
  assert.equal(parseImageRef('a/b/c/d:t_1.x-2')?.repository, 'a/b/c/d');
  // "localhost:5000" alone is a Docker Hub repo "localhost" with tag 5000, as docker reads it.
  assert.equal(parseImageRef('localhost:5000')?.text, 'docker.io/library/localhost:5000');
});

test('parseImageRef: malformed references are bad_request with a hint, never null', () => {
  const hostile = [
    'http://registry/x',
    'https://ghcr.io/a/b',
    'a b/c',
    'x/y\n',
    'x/\u0000y',
    'ghcr.io/Org/img',
    'ghcr.io//img',
    '/img',
    'img/',
    'ghcr.io/a/../b',
    'ghcr.io/a/./b',
    'ghcr.io/a/b:',
    'ghcr.io/a/b:-bad',
    `ghcr.io/a/b:${'t'.repeat(129)}`,
    'ghcr.io/a/b@',
    'ghcr.io/a/b@sha256:abc',
    `ghcr.io/a/b@sha256:${'A'.repeat(64)}`,
    `ghcr.io/a/b@sha512:${'a'.repeat(128)}`,
    'ghcr.io:99999/a',
    'ghcr.io:0/a',
    '-bad.io/a',
    'a@b@c',
    `x/${'a'.repeat(600)}`,
    `registry.io/${'a'.repeat(250)}`,
    'ghcr.io/a/b:c:d',
    'ghcr.io/a/ü',
    ':',
    '@',
    '/',
  ];
  for (const s of hostile) {
    assert.throws(
      () => parseImageRef(s),
      (e: unknown) => e instanceof BangerError && e.code === 'bad_request' && !!e.hint && !e.message.includes('\n'),
      JSON.stringify(s),
    );
  }
  assert.throws(() => parseImageRef(`a/b@sha512:${'a'.repeat(128)}`), /only sha256/);
  assert.throws(() => parseImageRef('ghcr.io/Org/img'), /lowercase/);
  assert.throws(
    () => parseImageRef('http://x/y'),
    (e: BangerError) => /--insecure/.test(e.hint ?? ''),
  );
});

test('isLoopbackRegistry: localhost, 127/8 and ::1 only', () => {
  for (const r of ['localhost', 'localhost:5000', '127.0.0.1', '127.0.0.1:5000', '127.9.8.7:1', '[::1]:5000', '[::1]'])
    assert.equal(isLoopbackRegistry(r), true, r);
  for (const r of [
    '128.0.0.1',
    '10.0.0.1:5000',
    'localhost.example.com',
    '127.0.0.1.nip.io',
    'ghcr.io',
    '[::2]:5000',
    '127.0.0.256',
  ])
    assert.equal(isLoopbackRegistry(r), false, r);
});

test('normalizeRegistryKey: docker-config keys as URLs or hosts', () => {
  assert.equal(normalizeRegistryKey('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(normalizeRegistryKey('registry-1.docker.io'), 'docker.io');
  assert.equal(normalizeRegistryKey('http://127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(normalizeRegistryKey('GHCR.io'), 'ghcr.io');
});
