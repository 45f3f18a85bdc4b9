import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildInfo } from '../buildinfo/index.js';
import { flipCurrent, libDirOf, placeBuild, readInstall, renderInstallToml, systemRestart } from '../install/index.js';
import { BangerError } from '../model/index.js';
import type { Layout } from '../paths/index.js';
import { METHODS, RpcClient } from '../rpc/index.js';
import type { HostRunner } from '../system/index.js';
import { fetchCapped } from './download.js';
import { bare, compareVersions, parseManifest, type ManifestRelease } from './manifest.js';
import { tarballName } from './release.js';
import { parseSums, releasePublicKey, verifySums } from './signing.js';

/** Size caps of SPEC 9. */
export const CAPS = { manifest: 1 << 20, sums: 16 << 10, signature: 1 << 10, tarball: 256 << 20 } as const;

/** Files a staged build must have, relative to its dist/. */
const EXPECTED = ['banger.js', 'bangerd.js', 'BUILD', 'package.json', 'native/better_sqlite3.node', 'native/hostcalls.node', 'banger-root-helper.js', 'agent/banger-agent'];

export interface UpdateOptions {
  check: boolean;
  to?: string | undefined;
  dryRun: boolean;
  force: boolean;
  manifestUrl: string;
  publicKeyPem: string;
  current: BuildInfo;
}

export interface UpdateDeps {
  runner: HostRunner;
  layout: Layout;
  progress: (msg: string) => void;
}

/**
 * `banger update` (SPEC 9): manifest, checks, download with caps and streaming hashes,
 * signature, staging and sanity runs, then an atomic flip of the install's `current`
 * symlink, a restart of the helper and the daemon, and doctor with the new build. A failure
 * before the restart leaves the install as it was; one after it flips back and restarts
 * again. VMs are never stopped: restarts leave VMM processes alone.
 */
export async function runUpdate(d: UpdateDeps, o: UpdateOptions): Promise<string> {
  const manifestText = (await fetchCapped(o.manifestUrl, CAPS.manifest, 'release manifest')).data!.toString('utf8');
  const manifest = parseManifest(manifestText, o.manifestUrl);
  const target = o.to ?? manifest.latestStable;
  const release = manifest.releases.find((r) => bare(r.version) === bare(target));
  if (!release) throw new BangerError('not_found', `no release ${target} in the manifest`, { hint: `releases: ${manifest.releases.map((r) => r.version).join(', ') || 'none'}` });
  const current = o.current.version;
  if (o.check) return compareVersions(release.version, current) > 0 ? `update available: v${bare(release.version)} (this is v${bare(current)})` : `up to date (v${bare(current)})`;

  if (process.getuid?.() !== 0) throw new BangerError('unauthorized', 'banger update needs root (it replaces the system install)', { hint: 'run `sudo banger update`' });
  const install = readInstall(d.layout);
  if (!o.force && bare(install.version) === bare(release.version)) return `already at v${bare(release.version)}`;
  if (!o.force) {
    const ops = await new RpcClient(d.layout.daemonSocket, METHODS).call('daemon.operations.list', {}).catch(() => null);
    const busy = ops?.operations.filter((op) => op.doneAt === null) ?? [];
    if (busy.length) throw new BangerError('conflict', `the daemon is busy (${busy.map((b) => `${b.kind}${b.vm ? ` ${b.vm}` : ''}`).join(', ')})`, { hint: 'retry when it is done, or pass --force' });
  }
  if (!releasePublicKey(o.publicKeyPem)) throw new BangerError('unauthorized', 'this build carries no release key (a placeholder), so it cannot verify an update', { hint: 'install a release build of banger by hand' });

  const dir = join(d.layout.updatesDir, bare(release.version));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    const staged = await downloadAndStage(d, release, dir, o.publicKeyPem);
    await sanityRun(d, staged, release.version);
    if (o.dryRun) return `dry run: v${bare(release.version)} downloaded, verified and staged; nothing changed (still v${bare(install.version)})`;
    return await swapAndRestart(d, staged, release.version, install.version);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function downloadAndStage(d: UpdateDeps, r: ManifestRelease, dir: string, publicKeyPem: string): Promise<string> {
  d.progress(`downloading v${bare(r.version)}`);
  const sums = (await fetchCapped(r.sha256sums, CAPS.sums, 'SHA256SUMS')).data!;
  const sig = (await fetchCapped(r.signature, CAPS.signature, 'SHA256SUMS.sig')).data!.toString('utf8');
  if (!verifySums(sums, sig, publicKeyPem)) throw new BangerError('unauthorized', "the release's signature does not verify against banger's release key; refusing it");
  const name = tarballName(bare(r.version));
  const expected = parseSums(sums.toString('utf8')).get(name);
  if (!expected) throw new BangerError('operation_failed', `SHA256SUMS has no line for ${name}`);
  const tarball = join(dir, name);
  const got = await fetchCapped(r.tarball, CAPS.tarball, 'release tarball', tarball);
  if (got.sha256 !== expected) {
    rmSync(tarball, { force: true });
    throw new BangerError('unauthorized', `the tarball's SHA-256 (${got.sha256.slice(0, 16)}…) is not the signed one (${expected.slice(0, 16)}…); refusing it`);
  }
  // Only regular files and directories under banger-<version>/, nothing else.
  const top = `banger-${bare(r.version)}`;
  const listing = await d.runner.run(['tar', '-tzvf', tarball], { maxOutputBytes: 64 << 20 });
  for (const line of listing.stdout.split('\n').filter(Boolean)) {
    const type = line[0];
    const path = line.split(/\s+/).slice(5).join(' ');
    if ((type !== '-' && type !== 'd') || !(path === `${top}/` || path.startsWith(`${top}/`)) || path.split('/').includes('..')) {
      throw new BangerError('unauthorized', `the tarball holds an unexpected entry "${line.trim()}"; refusing it`);
    }
  }
  const stage = join(dir, 'stage');
  mkdirSync(stage);
  await d.runner.run(['tar', '-xzf', tarball, '-C', stage, '--no-same-owner', '--no-same-permissions']);
  const dist = join(stage, top, 'dist');
  const missing = EXPECTED.filter((f) => !existsSync(join(dist, f)));
  if (missing.length) throw new BangerError('operation_failed', `the release lacks ${missing.join(', ')}; refusing it`);
  return dist;
}

async function sanityRun(d: UpdateDeps, dist: string, version: string): Promise<void> {
  d.progress('checking the new build');
  const v = await d.runner.run([process.execPath, join(dist, 'banger.js'), '--version'], { allowFailure: true });
  if (v.exitCode !== 0 || !v.stdout.includes(`v${bare(version)} `)) {
    throw new BangerError('operation_failed', `the new build does not report v${bare(version)} (it says "${v.stdout.trim() || v.stderr.trim()}"); refusing it`);
  }
  const m = await d.runner.run([process.execPath, join(dist, 'bangerd.js'), '--check-migrations', '--system'], { allowFailure: true });
  if (m.exitCode !== 0 && m.exitCode !== 1) throw new BangerError('operation_failed', `the new build cannot use this state database: ${m.stdout.trim() || m.stderr.trim()}`);
}

async function swapAndRestart(d: UpdateDeps, stagedDist: string, version: string, oldVersion: string): Promise<string> {
  const install = readInstall(d.layout);
  const lib = libDirOf(install.prefix);
  const previous = readlinkSync(join(lib, 'current'));
  const next = bare(version);
  // Reinstalling the running version (--force) must not replace the directory in use.
  const newDir = next === previous ? `${next}.updated` : next;
  d.progress(`installing v${next} beside v${bare(oldVersion)}`);
  await placeBuild(d.runner, lib, stagedDist, newDir);
  rmSync(join(lib, 'previous'), { force: true });
  symlinkSync(previous, join(lib, 'previous'));
  flipCurrent(lib, newDir);
  try {
    d.progress('restarting the root helper, then the daemon (VMs keep running)');
    await systemRestart({ runner: d.runner, layout: d.layout });
    d.progress('doctor with the new build');
    const doc = await d.runner.run([process.execPath, join(lib, 'current', 'banger.js'), 'doctor'], { allowFailure: true, timeoutMs: 120_000 });
    if (!/passed, \d+ warnings?, \d+ failed/.test(doc.stdout)) throw new BangerError('operation_failed', `doctor did not run with the new build: ${doc.stderr.trim().split('\n').pop()}`);
  } catch (e) {
    d.progress(`the new build failed (${(e as Error).message}); rolling back to v${bare(oldVersion)}`);
    flipCurrent(lib, previous);
    rmSync(join(lib, 'previous'), { force: true });
    rmSync(join(lib, newDir), { recursive: true, force: true });
    await systemRestart({ runner: d.runner, layout: d.layout });
    throw new BangerError('operation_failed', `update to v${next} failed: ${(e as Error).message} (rolled back to previous install, v${bare(oldVersion)})`, { hint: 'the VMs kept running; see the daemon log' });
  }
  // Success: record the build, drop the backup.
  const build = JSON.parse(readFileSync(join(lib, 'current', 'BUILD'), 'utf8')) as { version: string; commit: string; builtAt: string };
  writeFileSync(d.layout.installToml, renderInstallToml({ ...install, version: build.version, commit: build.commit, built_at: build.builtAt }));
  rmSync(join(lib, 'previous'), { force: true });
  if (previous !== newDir) rmSync(join(lib, previous), { recursive: true, force: true });
  return `updated to v${next} (was v${bare(oldVersion)})`;
}
