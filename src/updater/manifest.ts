/**
 * The release manifest (docs/howto/system-install.md):
 *   { "schema_version": 1, "latest_stable": "v0.2.0",
 *     "releases": [ { "version": "v0.2.0", "tarball": URL, "sha256sums": URL, "signature": URL } ] }
 * URLs may be relative to the manifest's own URL. The manifest is not signed: every version
 * in it must be a plain release version before it is used anywhere (a path, a file name, a
 * comparison), and what it points at is trusted only through the signed SHA256SUMS.
 */
import { BangerError, compareVersions as compareNumbers, parseVersion } from '../model/index.js';

export const MANIFEST_SCHEMA_VERSION = 1;

/** The only version text an update accepts: "v1.2.3" or "1.2.3". */
export const RELEASE_VERSION_PATTERN = /^v?\d+\.\d+\.\d+$/;

export interface ManifestRelease {
  version: string;
  tarball: string;
  sha256sums: string;
  signature: string;
}
export interface Manifest {
  latestStable: string;
  releases: ManifestRelease[];
}

/** A value shown in an error: quoted, escaped and cut short (it may come from a hostile server). */
export function shown(v: unknown): string {
  const s = JSON.stringify(typeof v === 'string' ? v : String(v));
  return s.length > 200 ? `${s.slice(0, 197)}…"` : s;
}

/** `v` if it is a release version (RELEASE_VERSION_PATTERN); otherwise an error naming the value and where it came from. */
export function requireReleaseVersion(v: unknown, what: string): string {
  if (typeof v === 'string' && RELEASE_VERSION_PATTERN.test(v)) return v;
  throw new BangerError(
    'unauthorized',
    `${what} ${shown(v)} is not a release version (vMAJOR.MINOR.PATCH); refusing it`,
    {
      hint: what.startsWith('--to')
        ? 'give a release version such as v0.2.0'
        : 'the release server is broken or hostile; nothing was changed',
    },
  );
}

export function parseManifest(text: string, baseUrl: string): Manifest {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new BangerError('operation_failed', 'the release manifest is not JSON');
  }
  if (v === null || typeof v !== 'object')
    throw new BangerError('operation_failed', 'the release manifest is not a JSON object');
  if (v.schema_version !== MANIFEST_SCHEMA_VERSION) {
    throw new BangerError(
      'operation_failed',
      `the release manifest has schema_version ${String(v.schema_version)}, which this banger does not know`,
      { hint: 'install a newer banger by hand' },
    );
  }
  if (typeof v.latest_stable !== 'string' || !Array.isArray(v.releases))
    throw new BangerError('operation_failed', 'the release manifest lacks latest_stable or releases');
  const latestStable = requireReleaseVersion(v.latest_stable, "the manifest's latest_stable");
  const releases = (v.releases as Array<Record<string, unknown>>).map((r) => {
    if (r === null || typeof r !== 'object')
      throw new BangerError('operation_failed', 'a release in the manifest is not an object');
    for (const k of ['version', 'tarball', 'sha256sums', 'signature']) {
      if (typeof r[k] !== 'string') throw new BangerError('operation_failed', `a release in the manifest lacks "${k}"`);
    }
    const version = requireReleaseVersion(r.version, "the manifest's release");
    const abs = (u: string) => {
      let url: URL;
      try {
        url = new URL(u, baseUrl);
      } catch {
        throw new BangerError('operation_failed', `release ${version} in the manifest has a bad URL ${shown(u)}`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:')
        throw new BangerError(
          'unauthorized',
          `release ${version} in the manifest points at ${shown(u)}, which is not http(s); refusing it`,
        );
      return url.toString();
    };
    return {
      version,
      tarball: abs(r.tarball as string),
      sha256sums: abs(r.sha256sums as string),
      signature: abs(r.signature as string),
    };
  });
  return { latestStable, releases };
}

/**
 * Versions compared numerically by their MAJOR.MINOR.PATCH ("v1.2.3", "1.2.3", and an
 * installed development build's "1.2.3-dev" as 1.2.3); text without one by text.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a.trim());
  const pb = parseVersion(b.trim());
  if (!pa || !pb) return a.localeCompare(b);
  return compareNumbers(pa, pb);
}

export const bare = (v: string) => v.replace(/^v/, '');
