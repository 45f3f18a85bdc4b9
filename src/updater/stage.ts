/**
 * A release, staged: its signed SHA256SUMS verified, its tarball downloaded and hashed,
 * listed and unpacked from the very descriptor that was hashed, its dist/ inspected, and
 * the build run once to check it. Every refusal is a BangerError; nothing here touches
 * the install.
 */
import { constants, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeFor, RUNTIME_NODE } from '../install/index.js';
import { BangerError } from '../model/index.js';
import type { Layout } from '../paths/index.js';
import { ensureRootOwnedDir, type HostRunner } from '../system/index.js';
import type { UpdateDeps } from './deps.js';
import { CAPS, fetchCapped } from './download.js';
import { bare, shown, type ManifestRelease } from './manifest.js';
import { signedTarballHash, tarballName, verifySums } from './signing.js';

/**
 * Files a staged build must have, relative to its dist/ once the release's runtime/ has been
 * moved into it (the installed layout: an update places, flips and rolls back both together).
 */
const EXPECTED = [
  'banger.js',
  'bangerd.js',
  'BUILD',
  'package.json',
  'native/hostcalls.node',
  'banger-root-helper.js',
  'agent/banger-agent',
  RUNTIME_NODE,
];

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

/**
 * Downloads, verifies and unpacks release `r` into `staging`; returns the path of its inspected
 * dist/, with the release's runtime/ moved inside it (the installed layout).
 */
export async function downloadAndStage(
  d: UpdateDeps,
  r: ManifestRelease,
  staging: string,
  publicKeyPem: string,
): Promise<string> {
  const version = bare(r.version);
  d.progress(`downloading v${version}`);
  const expected = await signedHash(r, version, publicKeyPem);
  const file = await open(
    join(staging, tarballName(version)),
    constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  const top = `banger-${version}`;
  const stage = join(staging, 'stage');
  try {
    await downloadTarball(r, file, expected);
    // tar reads the very bytes that were hashed: the open descriptor, reached through this
    // process's /proc entry, never the file's name.
    await unpackListed(d.runner, `/proc/${process.pid}/fd/${file.fd}`, top, stage);
  } finally {
    await file.close();
  }
  const dist = join(stage, top, 'dist');
  adoptRuntime(join(stage, top), dist);
  inspectDist(dist, version);
  return dist;
}

/**
 * The tarball's SHA-256 as the release's signed SHA256SUMS gives it; throws `unauthorized`
 * when the signature does not verify against the release key. The signature covers
 * SHA256SUMS only: it binds the version through the tarball's name.
 */
async function signedHash(r: ManifestRelease, version: string, publicKeyPem: string): Promise<string> {
  const sums = (await fetchCapped(r.sha256sums, CAPS.sums, 'SHA256SUMS')).data!;
  const sig = (await fetchCapped(r.signature, CAPS.signature, 'SHA256SUMS.sig')).data!.toString('utf8');
  if (!verifySums(sums, sig, publicKeyPem))
    throw new BangerError(
      'unauthorized',
      "the release's signature does not verify against banger's release key; refusing it",
    );
  return signedTarballHash(sums.toString('utf8'), version);
}

/** Streams the tarball into `file`, hashing as it goes; throws `unauthorized` unless the hash is `expected`. */
async function downloadTarball(r: ManifestRelease, file: FileHandle, expected: string): Promise<void> {
  const got = await fetchCapped(r.tarball, CAPS.tarball, 'release tarball', file);
  if (got.sha256 !== expected) {
    throw new BangerError(
      'unauthorized',
      `the tarball's SHA-256 (${got.sha256.slice(0, 16)}…) is not the signed one (${expected.slice(0, 16)}…); refusing it`,
    );
  }
}

/**
 * Lists the tarball at `hashed` and, if it holds only regular files and directories under
 * `top`/ (no `..`), unpacks it into `stage` (made 0700) without owners or permissions from
 * the archive; otherwise throws `unauthorized` naming the first unexpected entry.
 */
async function unpackListed(runner: HostRunner, hashed: string, top: string, stage: string): Promise<void> {
  const listing = await runner.run(['tar', '-tzvf', hashed], { maxOutputBytes: 64 << 20 });
  for (const line of listing.stdout.split('\n').filter(Boolean)) {
    const type = line[0];
    const path = line.split(/\s+/).slice(5).join(' ');
    if (
      (type !== '-' && type !== 'd') ||
      !(path === `${top}/` || path.startsWith(`${top}/`)) ||
      path.split('/').includes('..')
    ) {
      throw new BangerError('unauthorized', `the tarball holds an unexpected entry ${shown(line.trim())}; refusing it`);
    }
  }
  mkdirSync(stage, { mode: 0o700 });
  await runner.run(['tar', '-xzf', hashed, '-C', stage, '--no-same-owner', '--no-same-permissions']);
}

/** Moves the release tree's runtime/ into its dist/; refuses a release without one, or whose dist/ has its own. */
function adoptRuntime(top: string, dist: string): void {
  if (!existsSync(join(top, 'runtime')))
    throw new BangerError('operation_failed', 'the release brings no runtime/ (its Node.js); refusing it', {
      hint: 'releases built by `npm run release` bundle the runtime; nothing was changed',
    });
  if (existsSync(join(dist, 'runtime')))
    throw new BangerError('unauthorized', 'the release has a dist/runtime of its own; refusing it');
  renameSync(join(top, 'runtime'), join(dist, 'runtime'));
}

/** Throws unless `dist` has every EXPECTED file (regular, not a link) and its BUILD names `version`. */
function inspectDist(dist: string, version: string): void {
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
}

/**
 * Runs the staged build once, on its own runtime: `banger --version` must report `version`, and
 * `bangerd --check-migrations` must be able to use this state database (exit 0 or 1).
 */
export async function sanityRun(d: UpdateDeps, dist: string, version: string): Promise<void> {
  d.progress('checking the new build');
  // On its own runtime: a release whose Node does not run on this host is refused here.
  const node = nodeFor(dist);
  const v = await d.runner.run([node, join(dist, 'banger.js'), '--version'], { allowFailure: true });
  if (v.exitCode !== 0 || !v.stdout.includes(`v${bare(version)} `)) {
    throw new BangerError(
      'operation_failed',
      `the new build does not report v${bare(version)} (it says "${v.stdout.trim() || v.stderr.trim()}"); refusing it`,
    );
  }
  const m = await d.runner.run([node, join(dist, 'bangerd.js'), '--check-migrations', '--system'], {
    allowFailure: true,
  });
  if (m.exitCode !== 0 && m.exitCode !== 1)
    throw new BangerError(
      'operation_failed',
      `the new build cannot use this state database: ${m.stdout.trim() || m.stderr.trim()}`,
    );
}
