import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BangerError } from '../model/index.js';
import { parseWwwAuthenticate } from './challenge.js';
import { credentialsFor, defaultDockerConfigPath, loadDockerConfig, parseDockerConfig } from './dockerConfig.js';

test('parseWwwAuthenticate: Docker Hub bearer challenge', () => {
  assert.deepEqual(
    parseWwwAuthenticate(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull"',
    ),
    [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/debian:pull',
        },
      },
    ],
  );
});

test('parseWwwAuthenticate: basic, several challenges, tokens, escapes, commas in quotes, junk', () => {
  assert.deepEqual(parseWwwAuthenticate('Basic realm="basic-realm"'), [
    { scheme: 'basic', params: { realm: 'basic-realm' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate(['Basic realm="r"', 'Bearer realm="https://x/t", scope="a,b"']), [
    { scheme: 'basic', params: { realm: 'r' } },
    { scheme: 'bearer', params: { realm: 'https://x/t', scope: 'a,b' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate('BEARER Realm=tok , Service = svc'), [
    { scheme: 'bearer', params: { realm: 'tok', service: 'svc' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="a\\"b"'), [{ scheme: 'bearer', params: { realm: 'a"b' } }]);
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="unterminated'), [
    { scheme: 'bearer', params: { realm: 'unterminated' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
  assert.deepEqual(parseWwwAuthenticate(''), []);
  assert.deepEqual(parseWwwAuthenticate('=,=,"'), []);
  assert.equal(parseWwwAuthenticate('x'.repeat(100_000)).length, 1);
});

test('docker config: auth (base64) and username/password entries, keys normalized', () => {
  const cfg = parseDockerConfig(
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw:with:colons').toString('base64') },
        '127.0.0.1:5000': { username: 'u', password: 'p' },
        'ghcr.io': { auth: '' },
        'bad.io': { auth: Buffer.from('nocolon').toString('base64') },
        'weird.io': 'string',
      },
      credsStore: 'desktop',
    }),
    '/x/config.json',
  );
  assert.deepEqual(credentialsFor(cfg, 'registry-1.docker.io'), { username: 'hub', password: 'pw:with:colons' });
  assert.deepEqual(credentialsFor(cfg, '127.0.0.1:5000'), { username: 'u', password: 'p' });
  assert.equal(credentialsFor(cfg, 'ghcr.io'), null);
  assert.equal(credentialsFor(cfg, 'bad.io'), null);
  assert.equal(credentialsFor(cfg, 'weird.io'), null);
  assert.equal(cfg.usesHelper, true);
  assert.equal(parseDockerConfig('{}', 'p').auths.size, 0);
  assert.equal(parseDockerConfig('[1]', 'p').auths.size, 0);
  assert.throws(
    () => parseDockerConfig('{not json', '/x/config.json'),
    (e: BangerError) => e.code === 'bad_request' && /\/x\/config.json/.test(e.message),
  );
});

test('docker config: default path from DOCKER_CONFIG or HOME; a missing file means no credentials', () => {
  assert.equal(defaultDockerConfigPath({ DOCKER_CONFIG: '/d', HOME: '/h' }), '/d/config.json');
  assert.equal(defaultDockerConfigPath({ HOME: '/h' }), '/h/.docker/config.json');
  const dir = mkdtempSync(join(tmpdir(), 'banger-oci-unit-'));
  try {
    assert.equal(loadDockerConfig(join(dir, 'none.json')).auths.size, 0);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'r.io': { username: 'a', password: 'b' } } }));
    assert.deepEqual(credentialsFor(loadDockerConfig(join(dir, 'config.json')), 'r.io'), {
      username: 'a',
      password: 'b',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
