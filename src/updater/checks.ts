/**
 * The update's checks before anything is downloaded: which release, whether it is wanted,
 * and whether this process may and should replace the install now. Each throws a
 * BangerError naming what to do instead.
 */
import type { InstallRecord } from '../installmeta/index.js';
import { BangerError } from '../model/index.js';
import type { Layout } from '../paths/index.js';
import { METHODS, RpcClient } from '../rpc/index.js';
import { CAPS, fetchCapped } from './download.js';
import { bare, compareVersions, parseManifest, requireReleaseVersion, type ManifestRelease } from './manifest.js';
import { releasePublicKey } from './signing.js';

/**
 * The release to go to: `to` (validated as a release version before any fetch) or the
 * manifest's latest stable; throws `not_found`, listing the manifest's releases, when absent.
 */
export async function resolveRelease(to: string | undefined, manifestUrl: string): Promise<ManifestRelease> {
  const wanted = to !== undefined ? requireReleaseVersion(to, '--to') : undefined;
  const manifestText = (await fetchCapped(manifestUrl, CAPS.manifest, 'release manifest')).data!.toString('utf8');
  const manifest = parseManifest(manifestText, manifestUrl);
  const target = wanted ?? manifest.latestStable;
  const release = manifest.releases.find((r) => bare(r.version) === bare(target));
  if (!release)
    throw new BangerError('not_found', `no release ${target} in the manifest`, {
      hint: `releases: ${manifest.releases.map((r) => r.version).join(', ') || 'none'}`,
    });
  return release;
}

/** `banger update --check`'s answer: whether `release` is newer than the running build `current`. */
export function checkMessage(release: string, current: string): string {
  return compareVersions(release, current) > 0
    ? `update available: v${bare(release)} (this is v${bare(current)})`
    : `up to date (v${bare(current)})`;
}

/** Throws `unauthorized` unless this process runs as root. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new BangerError('unauthorized', 'banger update needs root (it replaces the system install)', {
      hint: 'run `sudo banger update`',
    });
}

/** Throws `conflict` when `release` is older than the installed version, unless a downgrade is allowed. */
export function refuseDowngrade(release: string, install: InstallRecord, allowDowngrade: boolean): void {
  if (compareVersions(release, install.version) < 0 && !allowDowngrade) {
    throw new BangerError(
      'conflict',
      `v${bare(release)} is older than the installed v${bare(install.version)}; refusing to downgrade`,
      {
        hint: 'an older release may have known holes; to go back on purpose, pass --allow-downgrade',
      },
    );
  }
}

/** Throws `conflict` while the daemon has unfinished operations; a daemon that does not answer counts as idle. */
export async function requireIdleDaemon(layout: Layout): Promise<void> {
  const ops = await new RpcClient(layout.daemonSocket, METHODS).call('daemon.operations.list', {}).catch(() => null);
  const busy = ops?.operations.filter((op) => op.doneAt === null) ?? [];
  if (busy.length)
    throw new BangerError(
      'conflict',
      `the daemon is busy (${busy.map((b) => `${b.kind}${b.vm ? ` ${b.vm}` : ''}`).join(', ')})`,
      { hint: 'retry when it is done, or pass --force' },
    );
}

/** Throws `unauthorized` when this build's release key is a placeholder: it could verify nothing. */
export function requireReleaseKey(publicKeyPem: string): void {
  if (!releasePublicKey(publicKeyPem))
    throw new BangerError(
      'unauthorized',
      'this build carries no release key (a placeholder), so it cannot verify an update',
      { hint: 'install a release build of banger by hand' },
    );
}
