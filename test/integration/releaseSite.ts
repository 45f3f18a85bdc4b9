/**
 * Helpers of the release and installer tests: a release site built by the real release builder
 * (the Node runtime comes from the cache of src/updater/nodeRuntime.ts, so a test run fetches it
 * at most once), served by a loopback HTTP server, and a PATH that holds the tools an install
 * needs but no Node.js at all.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { ExecHostRunner } from '../../src/system/index.js';
import { buildRelease, type ReleaseInput } from '../../src/updater/release.js';
import { addToManifest, publishedInstaller, releaseDirName } from '../../src/updater/site.js';
import { repoRoot } from './harness.js';

/** Tools install.sh, the launchers and doctor use; never node, npm or npx. */
const TOOLS = [
  'sh',
  'dash',
  'bash',
  'env',
  'cat',
  'cp',
  'mv',
  'rm',
  'ln',
  'mkdir',
  'chmod',
  'readlink',
  'sed',
  'grep',
  'awk',
  'tr',
  'cut',
  'head',
  'tail',
  'wc',
  'id',
  'mktemp',
  'sort',
  'dirname',
  'basename',
  'ls',
  'uname',
  'tar',
  'gzip',
  'openssl',
  'curl',
  'ip',
  'nft',
  'getent',
  'setpriv',
  'ps',
  'stat',
  'df',
  'modinfo',
  'qemu-system-x86_64',
  'qemu-img',
  'ssh',
  'ssh-keygen',
  'mkfs.ext4',
  'debugfs',
  'mmdebstrap',
  'sleep',
  'kill',
];

/** A directory of symlinks to the host's TOOLS (those it has), minus `without`: use it as the whole PATH. */
export function noNodePath(dir: string, without: readonly string[] = []): string {
  mkdirSync(dir, { recursive: true });
  for (const t of TOOLS) {
    if (without.includes(t)) continue;
    for (const d of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
      if (existsSync(join(d, t))) {
        if (!existsSync(join(dir, t))) symlinkSync(join(d, t), join(dir, t));
        break;
      }
    }
  }
  for (const n of ['node', 'npm', 'npx']) if (existsSync(join(dir, n))) throw new Error(`${dir} has ${n}; it must not`);
  return dir;
}

export interface Site {
  dir: string;
  url: string;
  server: Server;
  /** Paths of requests served, in order. */
  hits: string[];
  pub: string;
  key: string;
  /** path under /, relative to the site, → bytes that replace the file's (tampering). */
  override: Map<string, Buffer>;
}

/** A loopback HTTP server for `dir` (GET of files under it only), with overrides. */
export async function serveSite(dir: string, key: string, pub: string): Promise<Site> {
  const hits: string[] = [];
  const override = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)).replace(/^\/+/, '');
    hits.push(path);
    const file = join(dir, path);
    const body = override.get(path) ?? (path && !path.startsWith('..') && existsSync(file) ? readFileSync(file) : null);
    if (body) res.writeHead(200, { 'content-length': body.length }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { dir, url, server, hits, pub, key, override };
}

/** Makes an ECDSA P-256 release key pair in `dir` (key.pem, pub.pem). */
export function releaseKeys(dir: string): { key: string; pub: string } {
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'key.pem')]);
  execFileSync('openssl', ['ec', '-in', join(dir, 'key.pem'), '-pubout', '-out', join(dir, 'pub.pem')], {
    stdio: 'ignore',
  });
  return { key: join(dir, 'key.pem'), pub: join(dir, 'pub.pem') };
}

/**
 * Publishes release `version` into site `s` as `npm run release` does: the real build (its
 * `banger update` trusting the site's manifest and key), the manifest entry, and install.sh
 * with the key and the site in it.
 */
export async function publish(s: Site, version: string, extra: Partial<ReleaseInput> = {}): Promise<void> {
  await buildRelease({
    runner: new ExecHostRunner(),
    repoRoot,
    version,
    privateKeyPem: readFileSync(s.key, 'utf8'),
    outDir: join(s.dir, releaseDirName(version)),
    env: { BANGER_MANIFEST_URL: `${s.url}/manifest.json`, BANGER_UPDATE_PUBKEY_FILE: s.pub },
    ...extra,
  });
  addToManifest(s.dir, version);
  const script = readFileSync(join(repoRoot, 'scripts', 'install.sh'), 'utf8');
  writeFileSync(join(s.dir, 'install.sh'), publishedInstaller(script, readFileSync(s.pub, 'utf8'), s.url), {
    mode: 0o755,
  });
}
