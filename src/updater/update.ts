import { rmSync } from 'node:fs';
import { readInstall } from '../install/index.js';
import { bare, compareVersions } from './manifest.js';
import {
  checkMessage,
  refuseDowngrade,
  requireIdleDaemon,
  requireReleaseKey,
  requireRoot,
  resolveRelease,
} from './checks.js';
import type { UpdateDeps, UpdateOptions } from './deps.js';
import { downloadAndStage, makeStagingDir, sanityRun } from './stage.js';
import { swapAndRestart } from './swap.js';

export type { UpdateDeps, UpdateOptions } from './deps.js';

/**
 * `banger update` (docs/howto/system-install.md): manifest, checks, download with caps and streaming hashes,
 * signature, staging and sanity runs, then an atomic flip of the install's `current`
 * symlink, a restart of the helper and the daemon, and doctor with the new build. A failure
 * before the restart leaves the install as it was; one after it flips back and restarts
 * again. VMs are never stopped: restarts leave VMM processes alone.
 *
 * Root's side of the boundary: every version is a plain release version before it is used
 * at all; the release is staged in a fresh directory under the root-owned rootCacheDir
 * (never in the owner's cache, whose entries the owner can swap at any moment); the tarball
 * is listed and unpacked from the descriptor its bytes were hashed through; the signed
 * SHA256SUMS must be the target version's; no downgrade without --allow-downgrade; no
 * redirect to another origin.
 */
export async function runUpdate(d: UpdateDeps, o: UpdateOptions): Promise<string> {
  const release = await resolveRelease(o.to, o.manifestUrl);
  if (o.check) return checkMessage(release.version, o.current.version);

  requireRoot();
  const install = readInstall(d.layout);
  if (!o.force && compareVersions(release.version, install.version) === 0)
    return `already at v${bare(release.version)}`;
  refuseDowngrade(release.version, install, o.allowDowngrade ?? false);
  if (!o.force) await requireIdleDaemon(d.layout);
  requireReleaseKey(o.publicKeyPem);

  const staging = makeStagingDir(d.layout);
  try {
    const staged = await downloadAndStage(d, release, staging, o.publicKeyPem);
    await sanityRun(d, staged, release.version);
    if (o.dryRun)
      return `dry run: v${bare(release.version)} downloaded, verified and staged; nothing changed (still v${bare(install.version)})`;
    return await swapAndRestart(d, staged, release.version, install.version);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
