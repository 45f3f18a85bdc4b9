import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { compareVersions, parseManifest } from './manifest.js';
import { parseSums, releasePublicKey, renderSums, signSums, verifySums } from './signing.js';

const pair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), pub: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
};

test('signatures: ECDSA P-256 over SHA256SUMS verify with the right key only, and not after a change', () => {
  const k = pair();
  const other = pair();
  const sums = renderSums([{ file: 'banger-0.2.0-linux-x64.tar.gz', sha256: 'a'.repeat(64) }]);
  const sig = signSums(sums, k.priv);
  assert.equal(verifySums(sums, sig, k.pub), true);
  assert.equal(verifySums(sums, sig, other.pub), false, 'another key');
  assert.equal(verifySums(sums.replace('a', 'b'), sig, k.pub), false, 'changed SHA256SUMS');
  assert.equal(verifySums(sums, '', k.pub), false);
  assert.equal(verifySums(sums, sig, 'PLACEHOLDER: no release key'), false, 'a placeholder key verifies nothing');
  assert.equal(releasePublicKey('PLACEHOLDER'), null);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  assert.throws(() => signSums(sums, rsa), /ECDSA P-256/);
});

test('SHA256SUMS: GNU and BSD lines', () => {
  const h = 'ab'.repeat(32);
  const sums = parseSums(`${h}  banger.tar.gz\n${'CD'.repeat(32)} *bin.tar.gz\nSHA256 (bsd.tar.gz) = ${h}\ngarbage\n`);
  assert.deepEqual([...sums], [['banger.tar.gz', h], ['bin.tar.gz', 'cd'.repeat(32)], ['bsd.tar.gz', h]]);
});

test('manifest: schema checked, URLs made absolute; versions compare numerically', () => {
  const m = parseManifest(JSON.stringify({ schema_version: 1, latest_stable: 'v0.2.0', releases: [{ version: 'v0.2.0', tarball: 'v0.2.0/b.tar.gz', sha256sums: 'v0.2.0/SHA256SUMS', signature: 'https://x/sig' }] }), 'http://127.0.0.1:8000/m/manifest.json');
  assert.equal(m.latestStable, 'v0.2.0');
  assert.equal(m.releases[0]!.tarball, 'http://127.0.0.1:8000/m/v0.2.0/b.tar.gz');
  assert.equal(m.releases[0]!.signature, 'https://x/sig');
  assert.throws(() => parseManifest('{"schema_version":2,"latest_stable":"v1","releases":[]}', 'http://x/'), /schema_version 2/);
  assert.throws(() => parseManifest('not json', 'http://x/'), /not JSON/);
  assert.ok(compareVersions('v0.10.0', '0.9.9') > 0);
  assert.equal(compareVersions('v1.2.3', '1.2.3'), 0);
});
