/**
 * `npm run release -- --key KEY.pem --out DIR [--version X.Y.Z]`: builds the release
 * tarball, SHA256SUMS and SHA256SUMS.sig (src/updater/release.ts). The key is an ECDSA
 * P-256 private key in PEM (`openssl ecparam -name prime256v1 -genkey -noout -out key.pem`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ExecHostRunner } from '../src/system/index.js';
import { buildRelease } from '../src/updater/release.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: { key: { type: 'string' }, out: { type: 'string' }, version: { type: 'string' } },
});
if (!values.key || !values.out) {
  console.error('usage: npm run release -- --key KEY.pem --out DIR [--version X.Y.Z]');
  process.exit(2);
}
const version =
  values.version ?? (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const out = await buildRelease({
  runner: new ExecHostRunner(),
  repoRoot,
  version,
  privateKeyPem: readFileSync(values.key, 'utf8'),
  outDir: resolve(values.out),
});
console.log(`release ${version}:\n  ${out.tarball}\n  ${out.sums}\n  ${out.signature}`);
