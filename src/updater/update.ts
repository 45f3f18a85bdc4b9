import { constants, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildInfo } from '../buildinfo/index.js';
import { flipCurrent, libDirOf, placeBuild, readInstall, renderInstallToml, systemRestart } from '../install/index.js';
import { BangerError } from '../model/index.js';
import type { Layout } from '../paths/index.js';
import { METHODS, RpcClient } from '../rpc/index.js';
import { ensureRootOwnedDir, writeFileAtomic, type HostRunner } from '../system/index.js';
import { fetchCapped } from './download.js';
import {
  bare,
  compareVersions,
  parseManifest,
  requireReleaseVersion,
  shown,
  type ManifestRelease,
} from './manifest.js';
import { releasePublicKey, signedTarballHash, tarballName, verifySums } from './signing.js';

/** Size caps of docs/howto/system-install.md. */
export const CAPS = { manifest: 1 << 20, sums: 16 << 10, signature: 1 << 10, tarball: 256 << 20 } as const;

/** Files a staged build must have, relative to its dist/. */
const EXPECTED = [
  'banger.js',
  'bangerd.js',
  'BUILD',
  'package.json',
  'native/better_sqlite3.node',
  'native/hostcalls.node',
  'banger-root-helper.js',
  'agent/banger-agent',
];

export interface UpdateOptions {
  check: boolean;
  to?: string | undefined;
  dryRun: boolean;
  force: boolean;
  /** Accept a target older than the installed version. */
  allowDowngrade?: boolean;
  manifestUrl: string;
  publicKeyPem: string;
  current: BuildInfo;
}

export interface UpdateDeps {
  runner: HostRunner;
  layout: Layout;
  progress: (msg: string) => void;
  /** Restarts the helper and the daemon (default: `system restart`); tests stand in for it. */
  restart?: () => Promise<void>;
}

/** One doctor check, as `banger doctor --json` prints it. */
interface DoctorCheck {
  name: string;
  status: 'PASS' | 'WARN' | 'FAIL';
  message?: string;
}

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
  const to = o.to !== undefined ? requireReleaseVersion(o.to, '--to') : undefined;
  const manifestText = (await fetchCapped(o.manifestUrl, CAPS.manifest, 'release manifest')).data!.toString('utf8');
  const manifest = parseManifest(manifestText, o.manifestUrl);
  const target = to ?? manifest.latestStable;
  const release = manifest.releases.find((r) => bare(r.version) === bare(target));
  if (!release)
    throw new BangerError('not_found', `no release ${target} in the manifest`, {
      hint: `releases: ${manifest.releases.map((r) => r.version).join(', ') || 'none'}`,
    });
  const current = o.current.version;
  if (o.check)
    return compareVersions(release.version, current) > 0
      ? `update available: v${bare(release.version)} (this is v${bare(current)})`
      : `up to date (v${bare(current)})`;

  if (process.getuid?.() !== 0)
    throw new BangerError('unauthorized', 'banger update needs root (it replaces the system install)', {
      hint: 'run `sudo banger update`',
    });
  const install = readInstall(d.layout);
  const order = compareVersions(release.version, install.version);
  if (!o.force && order === 0) return `already at v${bare(release.version)}`;
  if (order < 0 && !o.allowDowngrade) {
    throw new BangerError(
      'conflict',
      `v${bare(release.version)} is older than the installed v${bare(install.version)}; refusing to downgrade`,
      {
        hint: 'an older release may have known holes; to go back on purpose, pass --allow-downgrade',
      },
    );
  }
  if (!o.force) {
    const ops = await new RpcClient(d.layout.daemonSocket, METHODS)
      .call('daemon.operations.list', {})
      .catch(() => null);
    const busy = ops?.operations.filter((op) => op.doneAt === null) ?? [];
    if (busy.length)
      throw new BangerError(
        'conflict',
        `the daemon is busy (${busy.map((b) => `${b.kind}${b.vm ? ` ${b.vm}` : ''}`).join(', ')})`,
        { hint: 'retry when it is done, or pass --force' },
      );
  }
  if (!releasePublicKey(o.publicKeyPem))
    throw new BangerError(
      'unauthorized',
      'this build carries no release key (a placeholder), so it cannot verify an update',
      { hint: 'install a release build of banger by hand' },
    );

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

/**
 * A fresh directory for one update under `<rootCacheDir>/updates/`, both root-only
 * (ensureRootOwnedDir: made 0700 if absent, refused if it or any ancestor could be
 * changed by someone else).
 */
export function makeStagingDir(layout: Layout): string {
  ensureRootOwnedDir(layout.rootCacheDir, 0o700);
  const updates = join(layout.rootCacheDir, 'updates');
  ensureRootOwnedDir(updates, 0o700);
  return mkdtempSync(join(updates, 'update-'));
}

async function downloadAndStage(
  d: UpdateDeps,
  r: ManifestRelease,
  staging: string,
  publicKeyPem: string,
): Promise<string> {
  const version = bare(r.version);
  d.progress(`downloading v${version}`);
  const sums = (await fetchCapped(r.sha256sums, CAPS.sums, 'SHA256SUMS')).data!;
  const sig = (await fetchCapped(r.signature, CAPS.signature, 'SHA256SUMS.sig')).data!.toString('utf8');
  if (!verifySums(sums, sig, publicKeyPem))
    throw new BangerError(
      'unauthorized',
      "the release's signature does not verify against banger's release key; refusing it",
    );
  // The signature covers SHA256SUMS only: it binds the version through the tarball's name.
  const expected = signedTarballHash(sums.toString('utf8'), version);
  const file = await open(
    join(staging, tarballName(version)),
    constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  const top = `banger-${version}`;
  const stage = join(staging, 'stage');
  try {
    const got = await fetchCapped(r.tarball, CAPS.tarball, 'release tarball', file);
    if (got.sha256 !== expected) {
      throw new BangerError(
        'unauthorized',
        `the tarball's SHA-256 (${got.sha256.slice(0, 16)}…) is not the signed one (${expected.slice(0, 16)}…); refusing it`,
      );
    }
    // tar reads the very bytes that were hashed: the open descriptor, reached through this
    // process's /proc entry, never the file's name.
    const hashed = `/proc/${process.pid}/fd/${file.fd}`;
    // Only regular files and directories under banger-<version>/, nothing else.
    const listing = await d.runner.run(['tar', '-tzvf', hashed], { maxOutputBytes: 64 << 20 });
    for (const line of listing.stdout.split('\n').filter(Boolean)) {
      const type = line[0];
      const path = line.split(/\s+/).slice(5).join(' ');
      if (
        (type !== '-' && type !== 'd') ||
        !(path === `${top}/` || path.startsWith(`${top}/`)) ||
        path.split('/').includes('..')
      ) {
        throw new BangerError(
          'unauthorized',
          `the tarball holds an unexpected entry ${shown(line.trim())}; refusing it`,
        );
      }
    }
    mkdirSync(stage, { mode: 0o700 });
    await d.runner.run(['tar', '-xzf', hashed, '-C', stage, '--no-same-owner', '--no-same-permissions']);
  } finally {
    await file.close();
  }
  const dist = join(stage, top, 'dist');
  const missing = EXPECTED.filter((f) => {
    try {
      return !lstatSync(join(dist, f)).isFile();
    } catch {
      return true;
    }
  });
  if (missing.length) throw new BangerError('operation_failed', `the release lacks ${missing.join(', ')}; refusing it`);
  let built: unknown;
  try {
    built = (JSON.parse(readFileSync(join(dist, 'BUILD'), 'utf8')) as { version?: unknown }).version;
  } catch {
    built = undefined;
  }
  if (typeof built !== 'string' || bare(built) !== version) {
    throw new BangerError(
      'unauthorized',
      `the release's dist/BUILD says version ${shown(built)}, not v${version}; refusing it`,
    );
  }
  return dist;
}

async function sanityRun(d: UpdateDeps, dist: string, version: string): Promise<void> {
  d.progress('checking the new build');
  const v = await d.runner.run([process.execPath, join(dist, 'banger.js'), '--version'], { allowFailure: true });
  if (v.exitCode !== 0 || !v.stdout.includes(`v${bare(version)} `)) {
    throw new BangerError(
      'operation_failed',
      `the new build does not report v${bare(version)} (it says "${v.stdout.trim() || v.stderr.trim()}"); refusing it`,
    );
  }
  const m = await d.runner.run([process.execPath, join(dist, 'bangerd.js'), '--check-migrations', '--system'], {
    allowFailure: true,
  });
  if (m.exitCode !== 0 && m.exitCode !== 1)
    throw new BangerError(
      'operation_failed',
      `the new build cannot use this state database: ${m.stdout.trim() || m.stderr.trim()}`,
    );
}

/** `banger doctor --json` of the build at `dist`: its checks, or null when it did not run or printed no report. */
async function doctor(d: UpdateDeps, dist: string): Promise<{ checks: DoctorCheck[] | null; why: string }> {
  const r = await d.runner.run([process.execPath, join(dist, 'banger.js'), 'doctor', '--json'], {
    allowFailure: true,
    timeoutMs: 120_000,
  });
  try {
    const checks = JSON.parse(r.stdout) as unknown;
    if (
      Array.isArray(checks) &&
      checks.every(
        (c) =>
          c &&
          typeof (c as DoctorCheck).name === 'string' &&
          ['PASS', 'WARN', 'FAIL'].includes((c as DoctorCheck).status),
      )
    ) {
      return { checks: checks as DoctorCheck[], why: '' };
    }
  } catch {
    /* below */
  }
  return { checks: null, why: r.stderr.trim().split('\n').pop() || `exit code ${r.exitCode}` };
}

/** FAILs of `after` that were not FAILs `before` (with no baseline, every FAIL is new). */
export function newDoctorFailures(before: readonly DoctorCheck[] | null, after: readonly DoctorCheck[]): DoctorCheck[] {
  const failed = new Set((before ?? []).filter((c) => c.status === 'FAIL').map((c) => c.name));
  return after.filter((c) => c.status === 'FAIL' && !failed.has(c.name));
}

async function swapAndRestart(d: UpdateDeps, stagedDist: string, version: string, oldVersion: string): Promise<string> {
  const install = readInstall(d.layout);
  const lib = libDirOf(install.prefix);
  const previous = readlinkSync(join(lib, 'current'));
  const next = bare(version);
  // Reinstalling the running version (--force) must not replace the directory in use.
  const newDir = next === previous ? `${next}.updated` : next;
  const restart =
    d.restart ??
    (async () => {
      await systemRestart({ runner: d.runner, layout: d.layout });
    });
  d.progress(`doctor with v${bare(oldVersion)} (the baseline)`);
  const baseline = await doctor(d, join(lib, 'current'));
  d.progress(`installing v${next} beside v${bare(oldVersion)}`);
  await placeBuild(d.runner, lib, stagedDist, newDir);
  rmSync(join(lib, 'previous'), { force: true });
  symlinkSync(previous, join(lib, 'previous'));
  flipCurrent(lib, newDir);
  try {
    d.progress('restarting the root helper, then the daemon (VMs keep running)');
    await restart();
    d.progress('doctor with the new build');
    const after = await doctor(d, join(lib, 'current'));
    if (!after.checks) throw new BangerError('operation_failed', `doctor did not run with the new build: ${after.why}`);
    const failures = newDoctorFailures(baseline.checks, after.checks);
    if (failures.length) {
      throw new BangerError(
        'operation_failed',
        `doctor FAILs with the new build: ${failures.map((f) => `${f.name}${f.message ? ` (${f.message})` : ''}`).join('; ')}${baseline.checks ? '' : ' (the old build gave no baseline)'}`,
      );
    }
  } catch (e) {
    d.progress(`the new build failed (${(e as Error).message}); rolling back to v${bare(oldVersion)}`);
    flipCurrent(lib, previous);
    rmSync(join(lib, 'previous'), { force: true });
    rmSync(join(lib, newDir), { recursive: true, force: true });
    await restart();
    throw new BangerError(
      'operation_failed',
      `update to v${next} failed: ${(e as Error).message} (rolled back to previous install, v${bare(oldVersion)})`,
      { hint: 'the VMs kept running; see the daemon log' },
    );
  }
  // Success: record the build, drop the backup.
  const build = JSON.parse(readFileSync(join(lib, 'current', 'BUILD'), 'utf8')) as {
    version: string;
    commit: string;
    builtAt: string;
  };
  writeFileAtomic(
    d.layout.installToml,
    renderInstallToml({ ...install, version: build.version, commit: build.commit, built_at: build.builtAt }),
    0o644,
  );
  rmSync(join(lib, 'previous'), { force: true });
  if (previous !== newDir) rmSync(join(lib, previous), { recursive: true, force: true });
  return `updated to v${next} (was v${bare(oldVersion)})`;
}
