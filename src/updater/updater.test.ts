import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { MAX_REDIRECTS, redirectTarget } from './download.js';
import { compareVersions, parseManifest, RELEASE_VERSION_PATTERN, requireReleaseVersion } from './manifest.js';
import {
  parseSums,
  releasePublicKey,
  renderSums,
  signedTarballHash,
  signSums,
  tarballName,
  verifySums,
} from './signing.js';
import { newDoctorFailures } from './swap.js';

const pair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
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
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  assert.throws(() => signSums(sums, rsa), /ECDSA P-256/);
});

test('SHA256SUMS: GNU and BSD lines', () => {
  const h = 'ab'.repeat(32);
  const sums = parseSums(`${h}  banger.tar.gz\n${'CD'.repeat(32)} *bin.tar.gz\nSHA256 (bsd.tar.gz) = ${h}\ngarbage\n`);
  assert.deepEqual(
    [...sums],
    [
      ['banger.tar.gz', h],
      ['bin.tar.gz', 'cd'.repeat(32)],
      ['bsd.tar.gz', h],
    ],
  );
});

test('manifest: schema checked, URLs made absolute; versions compare numerically', () => {
  const m = parseManifest(
    JSON.stringify({
      schema_version: 1,
      latest_stable: 'v0.2.0',
      releases: [
        { version: 'v0.2.0', tarball: 'v0.2.0/b.tar.gz', sha256sums: 'v0.2.0/SHA256SUMS', signature: 'https://x/sig' },
      ],
    }),
    'http://127.0.0.1:8000/m/manifest.json',
  );
  assert.equal(m.latestStable, 'v0.2.0');
  assert.equal(m.releases[0]!.tarball, 'http://127.0.0.1:8000/m/v0.2.0/b.tar.gz');
  assert.equal(m.releases[0]!.signature, 'https://x/sig');
  assert.throws(
    () => parseManifest('{"schema_version":2,"latest_stable":"v1","releases":[]}', 'http://x/'),
    /schema_version 2/,
  );
  assert.throws(() => parseManifest('not json', 'http://x/'), /not JSON/);
  assert.ok(compareVersions('v0.10.0', '0.9.9') > 0);
  assert.equal(compareVersions('v1.2.3', '1.2.3'), 0);
});

test('release versions: only vMAJOR.MINOR.PATCH, before anything uses them', () => {
  for (const ok of ['v0.2.0', '0.2.0', 'v10.20.30']) assert.equal(requireReleaseVersion(ok, '--to'), ok);
  for (const bad of [
    '../../../../etc',
    'v1.2',
    'v1.2.3-rc1',
    'v1.2.3/..',
    ' v1.2.3',
    'v1.2.3\n',
    'V1.2.3',
    '1.2.3.4',
    '',
    'v١.٢.٣',
  ]) {
    assert.equal(RELEASE_VERSION_PATTERN.test(bad), false, bad);
    assert.throws(
      () => requireReleaseVersion(bad, '--to'),
      (e: Error & { code?: string }) => e.code === 'unauthorized' && e.message.includes(JSON.stringify(bad)),
      bad,
    );
  }
  assert.throws(() => requireReleaseVersion(7, 'x'), /x "7" is not a release version/);
  const entry = (version: string) => ({ version, tarball: 't', sha256sums: 's', signature: 'g' });
  const m = (latest: string, versions: string[]) =>
    JSON.stringify({ schema_version: 1, latest_stable: latest, releases: versions.map(entry) });
  assert.throws(
    () => parseManifest(m('../../x', []), 'http://h/'),
    /latest_stable "\.\.\/\.\.\/x" is not a release version/,
  );
  assert.throws(
    () => parseManifest(m('v1.0.0', ['v1.0.0', '/etc']), 'http://h/'),
    /the manifest's release "\/etc" is not a release version/,
  );
  assert.throws(
    () =>
      parseManifest(
        JSON.stringify({
          schema_version: 1,
          latest_stable: 'v1.0.0',
          releases: [{ ...entry('v1.0.0'), tarball: 'file:///etc/shadow' }],
        }),
        'http://h/',
      ),
    /not http\(s\)/,
  );
  // A development build's version compares by its numbers.
  assert.equal(compareVersions('v0.1.0', '0.1.0-dev'), 0);
  assert.ok(compareVersions('v0.1.0', '0.2.0') < 0);
});

test('redirects: followed only within the origin asked for (scheme, host, port), naming both hosts otherwise', () => {
  const asked = 'https://releases.example:8443/banger/manifest.json';
  assert.equal(
    redirectTarget(asked, asked, '/banger/v2/manifest.json', 'release manifest'),
    'https://releases.example:8443/banger/v2/manifest.json',
  );
  assert.equal(
    redirectTarget(asked, 'https://releases.example:8443/a/b', 'c', 'x'),
    'https://releases.example:8443/a/c',
    'relative to the hop',
  );
  for (const [to, host] of [
    ['https://evil.example/m.json', 'https://evil.example'],
    ['http://releases.example:8443/m.json', 'http://releases.example:8443'],
    ['https://releases.example/m.json', 'https://releases.example'],
    ['https://releases.example:8444/m.json', 'https://releases.example:8444'],
    ['//127.0.0.1:8443/m.json', 'https://127.0.0.1:8443'],
  ] as const) {
    assert.throws(
      () => redirectTarget(asked, asked, to, 'release manifest'),
      (e: Error) =>
        e.message ===
        `the release manifest at ${asked} redirects to another host (${host}, not https://releases.example:8443); refusing it`,
      to,
    );
  }
  // The origin compared is the first URL's, not the previous hop's.
  assert.throws(
    () => redirectTarget('http://127.0.0.1:1/a', 'http://127.0.0.1:2/b', '/c', 'x'),
    /another host \(http:\/\/127\.0\.0\.1:2, not http:\/\/127\.0\.0\.1:1\)/,
  );
  assert.throws(() => redirectTarget(asked, asked, null, 'x'), /without a Location/);
  assert.equal(MAX_REDIRECTS, 5);
});

test("the signature binds the version: SHA256SUMS must list that release's tarball and no other release's", () => {
  const h = 'ab'.repeat(32);
  assert.equal(tarballName('v0.2.0'), 'banger-0.2.0-linux-x64.tar.gz');
  assert.equal(signedTarballHash(renderSums([{ file: tarballName('0.2.0'), sha256: h }]), 'v0.2.0'), h);
  assert.equal(
    signedTarballHash(
      renderSums([
        { file: tarballName('0.2.0'), sha256: h },
        { file: 'banger-0.2.0-linux-arm64.tar.gz', sha256: 'cd'.repeat(32) },
        { file: 'NOTES.txt', sha256: h },
      ]),
      '0.2.0',
    ),
    h,
  );
  assert.throws(
    () => signedTarballHash(renderSums([{ file: tarballName('0.1.0'), sha256: h }]), 'v0.2.0'),
    (e: Error & { code?: string }) =>
      e.code === 'unauthorized' &&
      /the signature covers another release \(its SHA256SUMS lists banger-0\.1\.0-linux-x64\.tar\.gz\), not v0\.2\.0/.test(
        e.message,
      ),
  );
  assert.throws(
    () =>
      signedTarballHash(
        renderSums([
          { file: tarballName('0.2.0'), sha256: h },
          { file: tarballName('0.1.0'), sha256: h },
        ]),
        '0.2.0',
      ),
    /covers another release/,
  );
  assert.throws(
    () => signedTarballHash(renderSums([{ file: tarballName('0.2.0'), sha256: h }]), '0.2.00'),
    /covers another release/,
  );
  assert.throws(
    () => signedTarballHash(renderSums([{ file: 'other.tar.gz', sha256: h }]), '0.2.0'),
    /has no line for banger-0\.2\.0-linux-x64\.tar\.gz/,
  );
});

test('doctor after an update: only FAILs that were not FAILs before count', () => {
  const c = (name: string, status: 'PASS' | 'WARN' | 'FAIL') => ({ name, status });
  assert.deepEqual(newDoctorFailures([c('a', 'FAIL'), c('b', 'PASS')], [c('a', 'FAIL'), c('b', 'WARN')]), []);
  assert.deepEqual(
    newDoctorFailures([c('a', 'FAIL'), c('b', 'PASS')], [c('a', 'PASS'), c('b', 'FAIL'), c('new', 'FAIL')]),
    [c('b', 'FAIL'), c('new', 'FAIL')],
  );
  assert.deepEqual(
    newDoctorFailures(null, [c('a', 'FAIL'), c('b', 'PASS')]),
    [c('a', 'FAIL')],
    'no baseline: every FAIL',
  );
});
