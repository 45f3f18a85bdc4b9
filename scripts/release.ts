/**
 * `npm run release -- --key KEY.pem --out SITE [--version X.Y.Z] [--manifest-url URL]`: builds
 * release X.Y.Z into a release site (src/updater/site.ts, docs/howto/install.md):
 * SITE/vX.Y.Z/{tarball, SHA256SUMS, SHA256SUMS.sig} (src/updater/release.ts; the tarball
 * brings the Node runtime pinned as NODE_NEWEST_LTS in scripts/node-runtimes.env), the
 * release added to SITE/manifest.json, and SITE/install.sh with the release public key in it.
 * The build's `banger update` trusts that key and the manifest at URL (default: the
 * BANGER_MANIFEST_URL environment variable, else releases.banger.dev). The key is an ECDSA
 * P-256 private key in PEM (`openssl ecparam -name prime256v1 -genkey -noout -out key.pem`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ExecHostRunner } from '../src/system/index.js';
import { buildRelease } from '../src/updater/release.js';
import { addToManifest, publicKeyOf, publishedInstaller, releaseDirName, siteOf } from '../src/updater/site.js';
import { requireReleaseVersion } from '../src/updater/manifest.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    key: { type: 'string' },
    out: { type: 'string' },
    version: { type: 'string' },
    'manifest-url': { type: 'string' },
  },
});
if (!values.key || !values.out) {
  console.error('usage: npm run release -- --key KEY.pem --out SITE [--version X.Y.Z] [--manifest-url URL]');
  process.exit(2);
}
const version = requireReleaseVersion(
  values.version ?? (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version,
  '--version',
).replace(/^v/, '');
const site = resolve(values.out);
const privateKeyPem = readFileSync(values.key, 'utf8');
const publicKeyPem = publicKeyOf(privateKeyPem);
const keyDir = mkdtempSync(join(tmpdir(), 'banger-release-key-'));
try {
  writeFileSync(join(keyDir, 'pub.pem'), publicKeyPem);
  const manifestUrl =
    values['manifest-url'] ?? process.env.BANGER_MANIFEST_URL ?? 'https://releases.banger.dev/manifest.json';
  const out = await buildRelease({
    runner: new ExecHostRunner(),
    repoRoot,
    version,
    privateKeyPem,
    outDir: join(site, releaseDirName(version)),
    env: { BANGER_MANIFEST_URL: manifestUrl, BANGER_UPDATE_PUBKEY_FILE: join(keyDir, 'pub.pem') },
    progress: (m) => console.error(`  ${m}`),
  });
  addToManifest(site, version);
  const installer = join(site, 'install.sh');
  const script = readFileSync(join(repoRoot, 'scripts', 'install.sh'), 'utf8');
  writeFileSync(installer, publishedInstaller(script, publicKeyPem, siteOf(manifestUrl)), { mode: 0o755 });
  console.log(
    `release ${version} in ${site}:\n  ${out.tarball}\n  ${out.sums}\n  ${out.signature}\n  ${join(site, 'manifest.json')}\n  ${installer}`,
  );
} finally {
  rmSync(keyDir, { recursive: true, force: true });
}
