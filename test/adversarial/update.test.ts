/**
 * Adversarial: `banger update` against a hostile release server on 127.0.0.1, run through
 * runUpdate against a throwaway install (a temporary prefix with lib/banger/<version> and
 * `current`, a temporary install.toml, a layout whose every directory is under one temp
 * dir). Each refusal must leave the install record, `current`, the whole temp tree and a
 * canary directory elsewhere in /tmp exactly as they were, and no staging directory behind.
 * Runs as root (update refuses otherwise); the fake builds are tiny scripts, so it is fast.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderInstallToml, type InstallRecord } from '../../src/install/index.js';
import { systemLayout, type Layout } from '../../src/paths/index.js';
import { ExecHostRunner } from '../../src/system/index.js';
import { runUpdate, type UpdateOptions } from '../../src/updater/update.js';
import { renderSums, sha256Hex, signSums, tarballName } from '../../src/updater/signing.js';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (banger update refuses to run otherwise)';

const keys = (() => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
})();

let root = '';
let canary = '';
let layout: Layout;
let lib = '';
let server: Server;
let other: Server;
let base = '';
let otherBase = '';
let otherHits = 0;
/** path → handler; tests add their own routes. */
const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
const INSTALLED = '0.5.0';

type Check = { name: string; status: 'PASS' | 'WARN' | 'FAIL'; message: string };
const pass = (name: string): Check => ({ name, status: 'PASS', message: 'ok' });

/** A fake dist/: scripts that answer --version, doctor --json and --check-migrations like a build would. */
function fakeDist(dir: string, o: { version: string; buildVersion?: string; checks?: Check[] }): void {
  mkdirSync(join(dir, 'native'), { recursive: true });
  mkdirSync(join(dir, 'agent'), { recursive: true });
  const checks = o.checks ?? [pass('kvm'), pass('nft')];
  writeFileSync(
    join(dir, 'banger.js'),
    [
      'const a = process.argv.slice(2);',
      `if (a[0] === '--version') { console.log('banger v${o.version} (commit fake, built now)'); process.exit(0); }`,
      `if (a[0] === 'doctor') { const c = ${JSON.stringify(checks)}; console.log(JSON.stringify(c, null, 2)); process.exit(c.some((x) => x.status === 'FAIL') ? 10 : 0); }`,
      'process.exit(2);',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'bangerd.js'),
    "if (process.argv.includes('--check-migrations')) { console.log('compatible'); process.exit(0); }\n",
  );
  writeFileSync(
    join(dir, 'BUILD'),
    JSON.stringify({ version: o.buildVersion ?? o.version, commit: `c${o.version}`, builtAt: 'now' }),
  );
  writeFileSync(join(dir, 'package.json'), '{}');
  for (const f of ['native/hostcalls.node', 'banger-root-helper.js', 'agent/banger-agent'])
    writeFileSync(join(dir, f), '');
}

interface Release {
  tarball: Buffer;
  sums: Buffer;
  sig: string;
}

/** A signed release of `version` (its SHA256SUMS names its own tarball), optionally with a twisted tree. */
function makeRelease(
  version: string,
  o: { buildVersion?: string; checks?: Check[]; mutate?: (top: string) => void } = {},
): Release {
  const work = mkdtempSync(join(tmpdir(), 'banger-adv-rel-'));
  try {
    const top = join(work, `banger-${version}`);
    fakeDist(join(top, 'dist'), { version, ...o });
    o.mutate?.(top);
    const out = join(work, tarballName(version));
    execFileSync('tar', ['-C', work, '--owner=0', '--group=0', '--numeric-owner', '-czf', out, `banger-${version}`]);
    const tarball = readFileSync(out);
    const sums = Buffer.from(renderSums([{ file: tarballName(version), sha256: sha256Hex(tarball) }]));
    return { tarball, sums, sig: `${signSums(sums, keys.priv)}\n` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Serves `r` under /r/<dir>/ and returns its manifest entry for `version`. */
function serve(
  dir: string,
  version: string,
  r: Release,
): { version: string; tarball: string; sha256sums: string; signature: string } {
  const name = tarballName(version.replace(/^v/, ''));
  routes.set(`/r/${dir}/${name}`, (_q, res) =>
    res.writeHead(200, { 'content-length': r.tarball.length }).end(r.tarball),
  );
  routes.set(`/r/${dir}/SHA256SUMS`, (_q, res) => res.writeHead(200).end(r.sums));
  routes.set(`/r/${dir}/SHA256SUMS.sig`, (_q, res) => res.writeHead(200).end(r.sig));
  return {
    version,
    tarball: `r/${dir}/${name}`,
    sha256sums: `r/${dir}/SHA256SUMS`,
    signature: `r/${dir}/SHA256SUMS.sig`,
  };
}

let manifestCount = 0;
/** Publishes a manifest at a fresh path and returns its URL. */
function manifest(m: unknown): string {
  const path = `/m${++manifestCount}.json`;
  const text = typeof m === 'string' ? m : JSON.stringify(m);
  routes.set(path, (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(text));
  return `${base}${path}`;
}

function options(manifestUrl: string, o: Partial<UpdateOptions> = {}): UpdateOptions {
  return {
    check: false,
    dryRun: false,
    force: false,
    manifestUrl,
    publicKeyPem: keys.pub,
    current: { version: INSTALLED, commit: 'x', builtAt: 'y', bundled: true },
    ...o,
  };
}

let restarts = 0;
const progress: string[] = [];
const deps = () => ({
  runner: new ExecHostRunner(),
  layout,
  progress: (m: string) => {
    progress.push(m);
  },
  restart: async () => {
    restarts++;
  },
});

/** Every file, directory and link under `dirs`, with its type, mode, owner and content hash (or target). */
function snapshot(...dirs: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string) => {
    const st = lstatSync(p);
    const meta = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs}`;
    if (st.isSymbolicLink()) out.set(p, `link ${readlinkSync(p)} ${meta}`);
    else if (st.isDirectory()) {
      out.set(p, `dir ${meta}`);
      for (const e of readdirSync(p)) walk(join(p, e));
    } else out.set(p, `file ${createHash('sha256').update(readFileSync(p)).digest('hex')} ${meta}`);
  };
  for (const d of dirs) walk(d);
  return out;
}

/** The parts of the temp tree outside root's staging area (cache-root), plus the canary. */
const watched = () =>
  snapshot(
    ...readdirSync(root)
      .filter((e) => e !== 'cache-root')
      .map((e) => join(root, e)),
    canary,
  );

/** Runs an update that must be refused with `why`, and checks that nothing changed anywhere. */
async function refused(o: UpdateOptions, why: RegExp): Promise<Error> {
  const before = watched();
  const record = readFileSync(layout.installToml, 'utf8');
  const current = readlinkSync(join(lib, 'current'));
  const r0 = restarts;
  const err = await runUpdate(deps(), o).then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(err, `refused (${why})`);
  assert.match(err.message, why);
  assert.equal(readFileSync(layout.installToml, 'utf8'), record, 'install record unchanged');
  assert.equal(readlinkSync(join(lib, 'current')), current, '`current` unchanged');
  assert.deepEqual(watched(), before, 'nothing changed outside the staging directory (install, owner dirs, canary)');
  assert.equal(restarts, r0, 'nothing restarted');
  assertNoStaging();
  return err;
}

function assertNoStaging(): void {
  let left: string[] = [];
  try {
    left = readdirSync(join(layout.rootCacheDir, 'updates'));
  } catch {
    /* never made */
  }
  assert.deepEqual(left, [], 'the staging directory is gone');
}

function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string }> {
  const s = createServer(handler);
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () =>
      resolve({ server: s, url: `http://127.0.0.1:${(s.address() as { port: number }).port}` }),
    ),
  );
}

before(async () => {
  if (!isRoot) return;
  root = mkdtempSync(join(tmpdir(), 'banger-adv-'));
  canary = mkdtempSync(join(tmpdir(), 'banger-canary-'));
  writeFileSync(join(canary, 'keep'), 'the canary\n');
  const prefix = join(root, 'prefix');
  lib = join(prefix, 'lib', 'banger');
  fakeDist(join(lib, INSTALLED), {
    version: INSTALLED,
    checks: [pass('kvm'), { name: 'nft', status: 'FAIL', message: 'was already failing' }],
  });
  symlinkSync(INSTALLED, join(lib, 'current'));
  for (const d of ['etc', 'state', 'cache/updates', 'run', 'run-root', 'state-root'])
    mkdirSync(join(root, d), { recursive: true });
  // The owner's areas, as a system install makes them (owned by an unprivileged uid).
  for (const d of ['state', 'cache', 'cache/updates', 'run']) chownSync(join(root, d), 4242, 4242);
  layout = {
    ...systemLayout(),
    configDir: join(root, 'etc'),
    configFile: join(root, 'etc', 'config.toml'),
    installToml: join(root, 'etc', 'install.toml'),
    stateDir: join(root, 'state'),
    cacheDir: join(root, 'cache'),
    runtimeDir: join(root, 'run'),
    rootHelperRuntimeDir: join(root, 'run-root'),
    rootStateDir: join(root, 'state-root'),
    rootCacheDir: join(root, 'cache-root'),
    daemonSocket: join(root, 'run', 'bangerd.sock'),
    rootHelperSocket: join(root, 'run-root', 'bangerd-root.sock'),
  };
  const record: InstallRecord = {
    owner: 'nobody',
    owner_uid: 4242,
    owner_gid: 4242,
    home: '/nonexistent',
    prefix,
    version: INSTALLED,
    commit: 'c',
    built_at: 'b',
    installed_at: 'i',
    supervisor: 'fallback',
  };
  writeFileSync(layout.installToml, renderInstallToml(record));
  const a = await startServer((req, res) => {
    const h = routes.get((req.url ?? '/').split('?')[0]!);
    if (h) h(req, res);
    else res.writeHead(404).end();
  });
  server = a.server;
  base = a.url;
  const b = await startServer((_req, res) => {
    otherHits++;
    res.writeHead(200).end('{"schema_version":1,"latest_stable":"v9.9.9","releases":[]}');
  });
  other = b.server;
  otherBase = b.url;
});

after(() => {
  server?.close();
  other?.close();
  if (root) rmSync(root, { recursive: true, force: true });
  if (canary) rmSync(canary, { recursive: true, force: true });
});

test('a traversal version (latest_stable, a release, --to) is refused before it is used; the canary survives', {
  skip,
}, async () => {
  const evil = `../../../../tmp/${canary.split('/').pop()}`;
  const good = serve('060', 'v0.6.0', makeRelease('0.6.0'));
  // The version an old banger would have joined to the updates dir and deleted: it points at the canary.
  assert.equal(
    join(layout.cacheDir, 'updates', evil),
    canary,
    'the test aims where the old code (<cache>/updates/<version>) would have deleted',
  );
  let e = await refused(
    options(manifest({ schema_version: 1, latest_stable: evil, releases: [{ ...good, version: evil }] })),
    /the manifest's latest_stable "\.\.\/\.\.\/\.\.\/\.\.\/tmp\/banger-canary-\w+" is not a release version/,
  );
  assert.equal((e as Error & { code?: string }).code, 'unauthorized');
  await refused(
    options(manifest({ schema_version: 1, latest_stable: 'v0.6.0', releases: [good, { ...good, version: evil }] })),
    /the manifest's release "\.\.\/.*" is not a release version/,
  );
  e = await refused(
    options(manifest({ schema_version: 1, latest_stable: 'v0.6.0', releases: [good] }), { to: evil }),
    /--to "\.\.\/.*" is not a release version/,
  );
  for (const bad of ['v1.2', 'v1.2.3-rc1', 'v1.2.3/../x', ' v1.2.3', 'v1.2.3\n', '1.2.3.4']) {
    await refused(
      options(manifest({ schema_version: 1, latest_stable: bad, releases: [] })),
      /is not a release version/,
    );
  }
  assert.equal(readFileSync(join(canary, 'keep'), 'utf8'), 'the canary\n');
});

test('a downgrade is refused without --allow-downgrade; with it, it goes through (dry run)', { skip }, async () => {
  const old = serve('040', 'v0.4.0', makeRelease('0.4.0'));
  const url = manifest({ schema_version: 1, latest_stable: 'v0.4.0', releases: [old] });
  const e = await refused(options(url), /v0\.4\.0 is older than the installed v0\.5\.0; refusing to downgrade/);
  assert.match((e as Error & { hint?: string }).hint ?? '', /--allow-downgrade/);
  await refused(options(url, { force: true }), /refusing to downgrade/);
  const before = watched();
  const r = await runUpdate(deps(), options(url, { allowDowngrade: true, dryRun: true }));
  assert.equal(r, 'dry run: v0.4.0 downloaded, verified and staged; nothing changed (still v0.5.0)');
  assert.deepEqual(watched(), before);
  assertNoStaging();
});

test('a redirect to another origin is refused (manifest, SHA256SUMS, tarball), naming both; same-origin redirects are followed, at most 5', {
  skip,
}, async () => {
  const good = serve('061', 'v0.6.1', makeRelease('0.6.1'));
  const port = new URL(base).port;
  const otherPort = new URL(otherBase).port;
  routes.set('/away.json', (_q, res) => res.writeHead(302, { location: `${otherBase}/manifest.json` }).end());
  await refused(
    options(`${base}/away.json`),
    new RegExp(
      `the release manifest at ${base}/away\\.json redirects to another host \\(http://127\\.0\\.0\\.1:${otherPort}, not http://127\\.0\\.0\\.1:${port}\\)`,
    ),
  );
  routes.set('/away-sums', (_q, res) =>
    res.writeHead(301, { location: `http://localhost:${otherPort}/SHA256SUMS` }).end(),
  );
  await refused(
    options(manifest({ schema_version: 1, latest_stable: 'v0.6.1', releases: [{ ...good, sha256sums: 'away-sums' }] })),
    /the SHA256SUMS at .* redirects to another host \(http:\/\/localhost:\d+, not http:\/\/127\.0\.0\.1:\d+\)/,
  );
  // The tarball redirected within the origin, then away: the second hop is refused.
  routes.set('/hop1.tar.gz', (_q, res) => res.writeHead(307, { location: '/hop2.tar.gz' }).end());
  routes.set('/hop2.tar.gz', (_q, res) => res.writeHead(308, { location: `https://127.0.0.1:${port}/x.tar.gz` }).end());
  await refused(
    options(manifest({ schema_version: 1, latest_stable: 'v0.6.1', releases: [{ ...good, tarball: 'hop1.tar.gz' }] })),
    /the release tarball at .*hop1\.tar\.gz redirects to another host \(https:\/\/127\.0\.0\.1:\d+, not http:\/\/127\.0\.0\.1:\d+\)/,
  );
  for (let i = 0; i < 7; i++)
    routes.set(`/loop${i}`, (_q, res) => res.writeHead(302, { location: `/loop${i + 1}` }).end());
  await refused(options(`${base}/loop0`), /more than 5 redirects/);
  assert.equal(otherHits, 0, 'the other origin was never contacted');
  // Same origin, a few hops: followed.
  routes.set('/moved.json', (_q, res) => res.writeHead(301, { location: '/moved2.json' }).end());
  const real = manifest({
    schema_version: 1,
    latest_stable: 'v0.6.1',
    releases: [
      {
        ...good,
        tarball: `${base}/${good.tarball}`,
        sha256sums: `${base}/${good.sha256sums}`,
        signature: `${base}/${good.signature}`,
      },
    ],
  });
  routes.set('/moved2.json', (_q, res) => res.writeHead(302, { location: real }).end());
  const r = await runUpdate(deps(), options(`${base}/moved.json`, { dryRun: true }));
  assert.match(r, /^dry run: v0\.6\.1 downloaded, verified and staged/);
  assertNoStaging();
});

test("a manifest entry for vX pointing at vY's genuine signed files is refused: the signature covers another release", {
  skip,
}, async () => {
  const y = serve('062', 'v0.6.2', makeRelease('0.6.2'));
  const e = await refused(
    options(manifest({ schema_version: 1, latest_stable: 'v0.7.0', releases: [{ ...y, version: 'v0.7.0' }] })),
    /the signature covers another release \(its SHA256SUMS lists banger-0\.6\.2-linux-x64\.tar\.gz\), not v0\.7\.0/,
  );
  assert.equal((e as Error & { code?: string }).code, 'unauthorized');
  // Signed sums that name the right tarball but whose build says another version: refused after unpacking.
  const z = serve('071', 'v0.7.1', makeRelease('0.7.1', { buildVersion: '0.6.2' }));
  await refused(
    options(manifest({ schema_version: 1, latest_stable: 'v0.7.1', releases: [z] })),
    /dist\/BUILD says version "0\.6\.2", not v0\.7\.1/,
  );
});

test('an oversized signature and a truncated one are refused', { skip }, async () => {
  const rel = makeRelease('0.6.3');
  const entry = serve('063', 'v0.6.3', rel);
  routes.set('/big.sig', (_q, res) => res.writeHead(200, { 'content-length': 2048 }).end('A'.repeat(2048)));
  await refused(
    options(manifest({ schema_version: 1, latest_stable: 'v0.6.3', releases: [{ ...entry, signature: 'big.sig' }] })),
    /SHA256SUMS\.sig is 2048 bytes, more than the 1024 bytes allowed/,
  );
  // No content-length: the cap holds while streaming.
  routes.set('/big-chunked.sig', (_q, res) => {
    res.writeHead(200);
    res.write('A'.repeat(1000));
    res.end('A'.repeat(1000));
  });
  await refused(
    options(
      manifest({ schema_version: 1, latest_stable: 'v0.6.3', releases: [{ ...entry, signature: 'big-chunked.sig' }] }),
    ),
    /SHA256SUMS\.sig is (2000 bytes, more|larger) than the 1024 bytes allowed/,
  );
  routes.set('/short.sig', (_q, res) => res.writeHead(200).end(rel.sig.slice(0, Math.floor(rel.sig.length / 2))));
  await refused(
    options(manifest({ schema_version: 1, latest_stable: 'v0.6.3', releases: [{ ...entry, signature: 'short.sig' }] })),
    /signature does not verify/,
  );
  routes.set('/empty.sig', (_q, res) => res.writeHead(200).end(''));
  await refused(
    options(manifest({ schema_version: 1, latest_stable: 'v0.6.3', releases: [{ ...entry, signature: 'empty.sig' }] })),
    /signature does not verify/,
  );
});

test('a tampered tarball, and one holding a symlink, are refused', { skip }, async () => {
  const rel = makeRelease('0.6.4');
  const entry = serve('064', 'v0.6.4', rel);
  routes.set('/tampered.tar.gz', (_q, res) => res.writeHead(200).end(Buffer.concat([rel.tarball, Buffer.from('x')])));
  await refused(
    options(
      manifest({ schema_version: 1, latest_stable: 'v0.6.4', releases: [{ ...entry, tarball: 'tampered.tar.gz' }] }),
    ),
    /is not the signed one/,
  );
  const linked = serve(
    '065',
    'v0.6.5',
    makeRelease('0.6.5', { mutate: (top) => symlinkSync(canary, join(top, 'dist', 'escape')) }),
  );
  await refused(
    options(manifest({ schema_version: 1, latest_stable: 'v0.6.5', releases: [linked] })),
    /the tarball holds an unexpected entry "l.*escape -> /,
  );
});

test("staging refuses a root cache directory that someone else could change (a symlink, the owner's, group-writable)", {
  skip,
}, async () => {
  const url = manifest({
    schema_version: 1,
    latest_stable: 'v0.6.6',
    releases: [serve('066', 'v0.6.6', makeRelease('0.6.6'))],
  });
  const saved = layout.rootCacheDir;
  const elsewhere = mkdtempSync(join(tmpdir(), 'banger-adv-elsewhere-'));
  try {
    symlinkSync(elsewhere, join(root, 'cache-link'));
    layout = { ...layout, rootCacheDir: join(root, 'cache-link') };
    await refused(options(url), /cache-link is a symlink, so root cannot safely keep its own files/);
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing went where the link points');
    rmSync(join(root, 'cache-link'));
    layout = { ...layout, rootCacheDir: join(root, 'cache', 'root') }; // inside the owner's cache
    await refused(options(url), /cache belongs to uid 4242, not to root/);
    mkdirSync(join(root, 'gw'), { mode: 0o775 });
    chmodSync(join(root, 'gw'), 0o775);
    layout = { ...layout, rootCacheDir: join(root, 'gw', 'root-cache') };
    await refused(options(url), /gw is writable by its group \(mode 0775\) without the sticky bit/);
    rmSync(join(root, 'gw'), { recursive: true });
  } finally {
    layout = { ...layout, rootCacheDir: saved };
    rmSync(elsewhere, { recursive: true, force: true });
  }
});

test("an update: staged in root's cache, placed and flipped; a doctor FAIL that was not there before rolls it back exactly like a failed restart", {
  skip,
}, async () => {
  // v0.8.0's doctor keeps the old FAIL (nft) and passes the rest: accepted.
  const ok = serve(
    '080',
    'v0.8.0',
    makeRelease('0.8.0', { checks: [pass('kvm'), { name: 'nft', status: 'FAIL', message: 'still failing' }] }),
  );
  // v0.9.0's doctor FAILs kvm, which passed before: rolled back.
  const bad = serve(
    '090',
    'v0.9.0',
    makeRelease('0.9.0', { checks: [{ name: 'kvm', status: 'FAIL', message: 'no /dev/kvm' }, pass('nft')] }),
  );
  const url = manifest({ schema_version: 1, latest_stable: 'v0.8.0', releases: [ok, bad] });
  const r0 = restarts;
  progress.length = 0;
  assert.equal(await runUpdate(deps(), options(url)), 'updated to v0.8.0 (was v0.5.0)');
  assert.equal(restarts, r0 + 1);
  assert.ok(
    progress.some((p) => p.startsWith('doctor with v0.5.0')),
    'a baseline doctor ran with the old build',
  );
  assert.equal(readlinkSync(join(lib, 'current')), '0.8.0');
  assert.match(readFileSync(layout.installToml, 'utf8'), /^version = "0\.8\.0"$/m);
  assert.deepEqual(readdirSync(lib).sort(), ['0.8.0', 'current'], 'the old build and the backup link are gone');
  assertNoStaging();

  const record = readFileSync(layout.installToml, 'utf8');
  const e = await runUpdate(deps(), options(url, { to: 'v0.9.0' })).then(
    () => null,
    (x: Error) => x,
  );
  assert.ok(e);
  assert.match(
    e.message,
    /update to v0\.9\.0 failed: doctor FAILs with the new build: kvm \(no \/dev\/kvm\) \(rolled back to previous install, v0\.8\.0\)/,
  );
  assert.equal(restarts, r0 + 3, 'restarted onto the new build, then back onto the old one');
  assert.equal(readlinkSync(join(lib, 'current')), '0.8.0');
  assert.equal(readFileSync(layout.installToml, 'utf8'), record);
  assert.deepEqual(readdirSync(lib).sort(), ['0.8.0', 'current']);
  assertNoStaging();

  // Back to v0.5.0's record for the other tests (they expect it installed).
  const e2 = await runUpdate(
    deps(),
    options(
      manifest({
        schema_version: 1,
        latest_stable: 'v0.5.0',
        releases: [
          serve(
            '050',
            'v0.5.0',
            makeRelease('0.5.0', { checks: [pass('kvm'), { name: 'nft', status: 'FAIL', message: 'x' }] }),
          ),
        ],
      }),
      { allowDowngrade: true },
    ),
  );
  assert.equal(e2, 'updated to v0.5.0 (was v0.8.0)');
});
