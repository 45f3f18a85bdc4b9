import { BangerError, compareVersions as compareNumbers, parseVersion } from '../model/index.js';

/**
 * The release manifest (SPEC 9):
 *   { "schema_version": 1, "latest_stable": "v0.2.0",
 *     "releases": [ { "version": "v0.2.0", "tarball": URL, "sha256sums": URL, "signature": URL } ] }
 * URLs may be relative to the manifest's own URL.
 */
export const MANIFEST_SCHEMA_VERSION = 1;

export interface ManifestRelease { version: string; tarball: string; sha256sums: string; signature: string }
export interface Manifest { latestStable: string; releases: ManifestRelease[] }

export function parseManifest(text: string, baseUrl: string): Manifest {
  let v: Record<string, unknown>;
  try { v = JSON.parse(text) as Record<string, unknown>; } catch { throw new BangerError('operation_failed', 'the release manifest is not JSON'); }
  if (v.schema_version !== MANIFEST_SCHEMA_VERSION) {
    throw new BangerError('operation_failed', `the release manifest has schema_version ${String(v.schema_version)}, which this banger does not know`, { hint: 'install a newer banger by hand' });
  }
  if (typeof v.latest_stable !== 'string' || !Array.isArray(v.releases)) throw new BangerError('operation_failed', 'the release manifest lacks latest_stable or releases');
  const releases = (v.releases as Array<Record<string, unknown>>).map((r) => {
    for (const k of ['version', 'tarball', 'sha256sums', 'signature']) {
      if (typeof r[k] !== 'string') throw new BangerError('operation_failed', `a release in the manifest lacks "${k}"`);
    }
    const abs = (u: string) => new URL(u, baseUrl).toString();
    return { version: r.version as string, tarball: abs(r.tarball as string), sha256sums: abs(r.sha256sums as string), signature: abs(r.signature as string) };
  });
  return { latestStable: v.latest_stable, releases };
}

/** Release versions ("v1.2.3" or "1.2.3") compared numerically; anything else by text. */
export function compareVersions(a: string, b: string): number {
  const release = /^v?\d+\.\d+\.\d+$/;
  if (!release.test(a.trim()) || !release.test(b.trim())) return a.localeCompare(b);
  return compareNumbers(parseVersion(a)!, parseVersion(b)!);
}

export const bare = (v: string) => v.replace(/^v/, '');
