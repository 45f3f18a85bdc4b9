/**
 * scripts/install.sh end to end, against a release site built by the real release builder and
 * served on 127.0.0.1 (docs/howto/install.md): a user-mode install run, with banger version and
 * doctor, on a PATH that holds no Node.js at all; refusals (tampered tarball, wrong signature,
 * unknown version, missing tools, no key) that place nothing; an older release refused without
 * --allow-downgrade; and, as root, a system install
 * (root helper and daemon on the bundled runtime) that `banger update` then updates, runtime
 * included, before `system uninstall --purge` removes it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signSums } from '../../src/updater/signing.js';
import { pinnedNodeVersion } from '../../src/updater/nodeRuntime.js';
import { dnsTestPort, removeTestUser, repoRoot, run, type RunResult } from './harness.js';
import { noNodePath, publish, releaseKeys, serveSite, type Site } from './releaseSite.js';

const isRoot = process.getuid?.() === 0;
const NODE = `v${pinnedNodeVersion(repoRoot)}`;
let work = '';
let site: Site;
let path = '';

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'banger-installer-'));
  const keys = releaseKeys(work);
  mkdirSync(join(work, 'site'));
  site = await serveSite(join(work, 'site'), keys.key, keys.pub);
  await publish(site, '0.8.0');
  await publish(site, '0.8.1');
  path = noNodePath(join(work, 'path'));
});

after(() => {
  site?.server.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** install.sh (the site's published copy unless `script`), run by the no-Node PATH's sh. */
function installSh(args: string[], o: { home: string; path?: string; script?: string }): Promise<RunResult> {
  const p = o.path ?? path;
  return run([join(p, 'sh'), o.script ?? join(site.dir, 'install.sh'), ...args], { PATH: p, HOME: o.home }, 300_000);
}

test('install.sh --user from the site URL: banger version and doctor run on the bundled Node, with no Node on PATH', async () => {
  const home = join(work, 'home-user');
  mkdirSync(home);
  assert.notEqual((await run([join(path, 'sh'), '-c', 'command -v node'], { PATH: path })).code, 0, 'no node on PATH');
  // No SOURCE: the published install.sh knows its site; the manifest's latest is 0.8.1.
  const r = await installSh(['--user', '--yes'], { home });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /installed banger v0\.8\.1 into .*\/\.local .*with its own Node\.js/);
  const lib = join(home, '.local', 'lib', 'banger');
  assert.equal(realpathSync(join(lib, 'current')), join(lib, '0.8.1'));
  assert.equal(readFileSync(join(lib, '0.8.1', 'runtime', 'node', 'LICENSE'), 'utf8').length > 100, true, 'LICENSE');
  const env = { PATH: path, HOME: home };
  const banger = join(home, '.local', 'bin', 'banger');
  const v = await run([banger, 'version', '--json'], env);
  assert.equal(v.code, 0, v.stderr);
  const info = JSON.parse(v.stdout) as { version: string; node: { version: string; path: string } };
  assert.equal(info.version, '0.8.1');
  assert.deepEqual(info.node, { version: NODE, path: join(lib, '0.8.1', 'runtime', 'node', 'bin', 'node') });
  assert.match((await run([join(home, '.local', 'bin', 'bangerd'), '--version'], env)).stdout, /^bangerd v0\.8\.1 /);
  const d = await run([banger, 'doctor'], env, 120_000);
  assert.ok(d.code === 0 || d.code === 10, `doctor ran (exit ${d.code}): ${d.stderr}`);
  assert.match(d.stdout, /^PASS {2}version +CLI 0\.8\.1 /m);
  assert.match(d.stdout, /^\d+ passed, \d+ warnings?, \d+ failed$/m);
  // The user-mode daemon the CLI starts on first use runs on the bundled runtime too.
  const run_ = join(home, 'run');
  mkdirSync(run_, { mode: 0o700 });
  mkdirSync(join(home, '.config', 'banger'), { recursive: true });
  writeFileSync(join(home, '.config', 'banger', 'config.toml'), `dns_listen = "127.0.0.1:${dnsTestPort()}"\n`);
  const userEnv = { ...env, XDG_RUNTIME_DIR: run_, BANGER_MODE: 'user' };
  let daemonPid = 0;
  try {
    const list = await run([banger, 'vm', 'list'], userEnv, 60_000);
    assert.equal(list.code, 0, list.stderr);
    const st = await run([banger, 'daemon', 'status', '--json'], userEnv);
    daemonPid = (JSON.parse(st.stdout) as { pid: number }).pid;
    assert.equal(realpathSync(`/proc/${daemonPid}/exe`), info.node.path, 'bangerd on the bundled runtime');
    assert.equal((await run([banger, 'daemon', 'stop'], userEnv, 60_000)).code, 0);
  } finally {
    try {
      if (daemonPid) process.kill(daemonPid, 'SIGKILL');
    } catch {
      /* stopped, as it should be */
    }
  }
  // Again, over the same version: replaced in place, nothing left behind.
  assert.equal((await installSh(['--user', '--yes', '--version', 'v0.8.1'], { home })).code, 0);
  assert.deepEqual(readdirSync(lib).sort(), ['0.8.1', 'current']);
});

test('install.sh refuses a tampered tarball, a wrong signature, an unknown version, missing tools and a missing key, placing nothing', async () => {
  const home = join(work, 'home-refused');
  mkdirSync(home);
  const tarball = 'v0.8.1/banger-0.8.1-linux-x64.tar.gz';
  const refused = async (args: string[], why: RegExp, o: { path?: string; script?: string } = {}) => {
    const r = await installSh(args, { home, ...o });
    assert.notEqual(r.code, 0, `refused: ${why}`);
    assert.match(r.stderr, why);
    assert.deepEqual(readdirSync(home), [], `nothing placed (${why})`);
    return r;
  };
  try {
    site.override.set(tarball, Buffer.concat([readFileSync(join(site.dir, tarball)), Buffer.from('x')]));
    await refused(
      ['--user', '--yes'],
      /the tarball's SHA-256 \(\w+\) is not the signed one \(\w+\); refusing it \(nothing was installed\)/,
    );
    site.override.clear();
    const other = releaseKeys(mkdtempSync(join(work, 'other-')));
    const sums = readFileSync(join(site.dir, 'v0.8.1', 'SHA256SUMS'));
    site.override.set('v0.8.1/SHA256SUMS.sig', Buffer.from(`${signSums(sums, readFileSync(other.key, 'utf8'))}\n`));
    await refused(['--user', '--yes'], /the signature of SHA256SUMS .* does not verify against the release key/);
    site.override.clear();
    await refused(['--user', '--yes', '--pubkey', other.pub], /does not verify against the release key/);
    // The signed sums of 0.8.0 served as 0.8.1's: the signature covers another release.
    site.override.set('v0.8.1/SHA256SUMS', readFileSync(join(site.dir, 'v0.8.0', 'SHA256SUMS')));
    site.override.set('v0.8.1/SHA256SUMS.sig', readFileSync(join(site.dir, 'v0.8.0', 'SHA256SUMS.sig')));
    await refused(
      ['--user', '--yes'],
      /the signature covers another release .*banger-0\.8\.0-linux-x64\.tar\.gz.*, not v0\.8\.1/,
    );
    site.override.clear();
    const unknown = await refused(['--user', '--yes', '--version', '9.9.9'], /no release 9\.9\.9 in the manifest/);
    assert.match(unknown.stderr, /hint: releases: v0\.8\.1 v0\.8\.0/);
    await refused(['--user', '--yes', '--version', '../x'], /--version "\.\.\/x" is not a release version/);
    await refused(['--user', '--yes'], /openssl is not installed; it verifies the release signature/, {
      path: noNodePath(join(work, 'path-no-openssl'), ['openssl']),
    });
    await refused(['--user', '--yes'], /curl is not installed; the release is at a URL/, {
      path: noNodePath(join(work, 'path-no-curl'), ['curl']),
    });
    // The repository's own install.sh has no key: it verifies nothing without --pubkey.
    await refused(['--user', '--yes', site.url], /this install.sh carries no release public key/, {
      script: join(repoRoot, 'scripts', 'install.sh'),
    });
  } finally {
    site.override.clear();
  }
});

test('install.sh refuses an older signed release served as latest_stable unless --allow-downgrade, and keeps newer builds', async () => {
  const home = join(work, 'home-downgrade');
  mkdirSync(home);
  const lib = join(home, '.local', 'lib', 'banger');
  const manifest = readFileSync(join(site.dir, 'manifest.json'), 'utf8');
  try {
    assert.equal((await installSh(['--user', '--yes'], { home })).code, 0);
    assert.equal(realpathSync(join(lib, 'current')), join(lib, '0.8.1'));
    // A hostile mirror: the old, genuinely signed 0.8.0 as the latest.
    const hostile = { ...(JSON.parse(manifest) as { latest_stable: string }), latest_stable: 'v0.8.0' };
    site.override.set('manifest.json', Buffer.from(JSON.stringify(hostile)));
    const r = await installSh(['--user', '--yes'], { home });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /v0\.8\.0 is older than the installed v0\.8\.1; refusing to downgrade \(nothing was installed\)/,
    );
    assert.match(r.stderr, /hint: .*--allow-downgrade/);
    assert.equal(realpathSync(join(lib, 'current')), join(lib, '0.8.1'), 'still 0.8.1');
    assert.deepEqual(readdirSync(lib).sort(), ['0.8.1', 'current']);
    // Asked for: placed, and the newer build stays.
    const d = await installSh(['--user', '--yes', '--allow-downgrade'], { home });
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /downgrading from v0\.8\.1 to v0\.8\.0 \(--allow-downgrade\)/);
    assert.equal(realpathSync(join(lib, 'current')), join(lib, '0.8.0'));
    assert.deepEqual(readdirSync(lib).sort(), ['0.8.0', '0.8.1', 'current'], 'the newer build is kept');
    site.override.clear();
    // Forward again: the older build goes.
    assert.equal((await installSh(['--user', '--yes'], { home })).code, 0);
    assert.deepEqual(readdirSync(lib).sort(), ['0.8.1', 'current']);
  } finally {
    site.override.clear();
  }
});

/** `banger system status --json`'s processes. */
async function components(banger: string, env: NodeJS.ProcessEnv): Promise<Array<{ component: string; pid: number }>> {
  const s = await run([banger, 'system', 'status', '--json'], env);
  assert.equal(s.code, 0, s.stdout + s.stderr);
  return (JSON.parse(s.stdout) as { components: Array<{ component: string; pid: number; state: string }> }).components;
}

test('as root from a release directory: system install on the bundled runtime, then banger update to the next release, runtime and all', {
  skip: isRoot ? false : 'needs root (system install)',
}, async () => {
  assert.equal(existsSync('/etc/banger/install.toml'), false, 'this machine already has a system install');
  const tag = randomBytes(2).toString('hex');
  const user = `bzi${tag}`;
  const home = `/tmp/${user}-home`;
  // Beside the owner's home, not in the test's private (0700) directory: the owner's daemon runs from it.
  const prefix = `/tmp/${user}-prefix`;
  const pids: number[] = [];
  execFileSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', user]);
  mkdirSync('/etc/banger', { recursive: true });
  writeFileSync(
    '/etc/banger/config.toml',
    `dns_listen = "127.0.0.1:${dnsTestPort()}"\nbridge_name = "br-fc-zi${tag}"\nbridge_ip = "10.218.${randomInt(10, 250)}.1"\ncidr = 24\n`,
  );
  const env = { PATH: path, HOME: '/root' };
  const banger = join(prefix, 'bin', 'banger');
  const exeOf = (pid: number) => realpathSync(`/proc/${pid}/exe`);
  try {
    // The repository's install.sh, a local release directory, the key given: v0.8.0, not the latest.
    const r = await installSh(
      ['--yes', '--version', '0.8.0', '--owner', user, '--prefix', prefix, '--pubkey', site.pub, site.dir],
      {
        home: '/root',
        script: join(repoRoot, 'scripts', 'install.sh'),
      },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`installed banger 0\\.8\\.0 for ${user} .* in ${prefix}`));
    assert.match(readFileSync('/etc/banger/install.toml', 'utf8'), /^version = "0\.8\.0"$/m);
    const lib = join(prefix, 'lib', 'banger');
    let procs = await components(banger, env);
    pids.push(...procs.map((c) => c.pid));
    for (const c of procs)
      assert.equal(
        exeOf(c.pid),
        join(lib, '0.8.0', 'runtime', 'node', 'bin', 'node'),
        `${c.component} on the bundled runtime`,
      );
    assert.match(
      readFileSync('/etc/systemd/system/bangerd.service', 'utf8'),
      new RegExp(`^ExecStart=${lib}/current/runtime/node/bin/node ${lib}/current/bangerd\\.js --system$`, 'm'),
    );

    // The installed banger updates itself from the manifest URL and key built into the release.
    const u = await run([banger, 'update'], env, 600_000);
    assert.equal(u.code, 0, u.stdout + u.stderr);
    assert.match(u.stdout, /^updated to v0\.8\.1 \(was v0\.8\.0\)$/m);
    assert.deepEqual(readdirSync(lib).sort(), ['0.8.1', 'current'], 'the old build and its runtime are gone');
    procs = await components(banger, env);
    pids.push(...procs.map((c) => c.pid));
    for (const c of procs)
      assert.equal(
        exeOf(c.pid),
        join(lib, '0.8.1', 'runtime', 'node', 'bin', 'node'),
        `${c.component} on the new runtime`,
      );
    assert.match((await run([banger, '--version'], env)).stdout, /^banger v0\.8\.1 /);
  } finally {
    const un = await run([banger, 'system', 'uninstall', '--purge'], env, 300_000).catch((e: Error) => ({
      code: -1,
      stdout: '',
      stderr: e.message,
    }));
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone, as it should be */
      }
    }
    await removeTestUser(user);
    try {
      execFileSync('ip', ['link', 'del', `br-fc-zi${tag}`], { stdio: 'ignore' });
    } catch {
      /* purge removed it, or it was never made */
    }
    rmSync('/etc/banger', { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
    rmSync(prefix, { recursive: true, force: true });
    assert.equal(un.code, 0, `system uninstall --purge: ${un.stdout}${un.stderr}`);
  }
});
