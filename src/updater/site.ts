/**
 * A release site (docs/howto/install.md): what `npm run release` publishes and what
 * scripts/install.sh and `banger update` read.
 *   SITE/manifest.json                       every release, latest_stable the newest (relative URLs)
 *   SITE/v<version>/banger-<version>-linux-x64.tar.gz, SHA256SUMS, SHA256SUMS.sig
 *   SITE/install.sh                          the installer, with the release public key in it
 */
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../system/index.js';
import { bare, compareVersions, MANIFEST_SCHEMA_VERSION, requireReleaseVersion } from './manifest.js';
import { tarballName } from './signing.js';

/** The line of scripts/install.sh that a published copy replaces with the release public key. */
export const INSTALLER_KEY_LINE = '@RELEASE_PUBLIC_KEY@';
/** The placeholder of scripts/install.sh's default SOURCE, which a published copy replaces with its site. */
const INSTALLER_SITE = '@RELEASE_SITE@';

/** The directory of release `version` inside a site. */
export const releaseDirName = (version: string) => `v${bare(version)}`;

/** The SPKI PEM public key of an ECDSA private key in PEM. */
export function publicKeyOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}

interface Entry {
  version: string;
  tarball: string;
  sha256sums: string;
  signature: string;
}

/** Adds (or replaces) `version` in SITE/manifest.json, making the newest release latest_stable. */
export function addToManifest(site: string, version: string): void {
  const v = `v${bare(requireReleaseVersion(version, '--version'))}`;
  const file = join(site, 'manifest.json');
  const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { releases?: Entry[] }) : {};
  const dir = releaseDirName(v);
  const entry: Entry = {
    version: v,
    tarball: `${dir}/${tarballName(v)}`,
    sha256sums: `${dir}/SHA256SUMS`,
    signature: `${dir}/SHA256SUMS.sig`,
  };
  const releases = [...(old.releases ?? []).filter((r) => bare(r.version) !== bare(v)), entry].sort((a, b) =>
    compareVersions(b.version, a.version),
  );
  const manifest = { schema_version: MANIFEST_SCHEMA_VERSION, latest_stable: releases[0]!.version, releases };
  writeFileAtomic(file, `${JSON.stringify(manifest, null, 2)}\n`, 0o644);
}

/**
 * scripts/install.sh's text as a site publishes it: the release public key in place of its
 * INSTALLER_KEY_LINE, and `siteUrl` (where the manifest is) as its default SOURCE.
 */
export function publishedInstaller(script: string, publicKeyPem: string, siteUrl: string): string {
  const lines = script.split('\n');
  const at = lines.findIndex((l) => l.trim() === INSTALLER_KEY_LINE);
  if (at < 0 || !script.includes(`'${INSTALLER_SITE}'`))
    throw new Error(`the installer has no ${INSTALLER_KEY_LINE} line or '${INSTALLER_SITE}' default`);
  if (/['\\\n]/.test(siteUrl)) throw new Error(`the site URL ${JSON.stringify(siteUrl)} cannot be quoted for sh`);
  lines.splice(at, 1, ...publicKeyPem.trim().split('\n'));
  return lines.join('\n').replace(`'${INSTALLER_SITE}'`, `'${siteUrl}'`);
}

/** The site of a manifest URL: its directory. */
export const siteOf = (manifestUrl: string) => manifestUrl.replace(/\/[^/]*$/, '');
