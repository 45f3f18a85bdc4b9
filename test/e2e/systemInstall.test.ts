/**
 * End-to-end: a system install on this machine (docs/howto/system-install.md). A dedicated unprivileged user
 * owns the daemon; the root helper does the privileged work; the user runs a real VM; a
 * restart of both keeps a VM running; the helper refuses what it must; `banger update`
 * against a release server on 127.0.0.1 with a key made here: check, refusals, dry run,
 * tampered and wrongly signed releases, an oversized manifest, a real update and a rollback,
 * all with a VM that keeps running; `system uninstall --purge` leaves nothing behind. The
 * build goes to a temporary prefix instead of /usr/local so the host's own files there are
 * never touched.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  distCli,
  dnsTestPort,
  nodeForAnyUser,
  removeTestUser,
  repoRoot,
  run,
  waitFor,
  type RunResult,
} from '../integration/harness.js';
import { ExecHostRunner } from '../../src/system/index.js';
import { buildRelease, tarballName } from '../../src/updater/release.js';
import { renderSums, sha256Hex, signSums } from '../../src/updater/signing.js';
import { isProcessAlive } from '../../src/system/index.js';
import { RemotePrivilegedOps } from '../../src/roothelper/index.js';

const tag = randomBytes(2).toString('hex');
const user = `bzt${tag}`;
const home = `/tmp/${user}-home`;
const prefix = `/tmp/${user}-prefix`;
const bridge = `br-fc-zs${tag}`;
const subnet = `10.216.${randomInt(10, 250)}`;
const dnsPort = dnsTestPort();
const tunModeBefore = statSync('/dev/net/tun').mode & 0o7777;
let uid = 0;
const ctx = { opId: 'op-e2e-system' };

const asRoot = (args: string[], timeoutMs = 120_000) =>
  run([nodeForAnyUser(), distCli, ...args], { PATH: process.env.PATH, HOME: '/root', NO_COLOR: '1' }, timeoutMs);
/** The installed CLI, as the owner (system mode: found through /etc/banger/install.toml). */
function asOwner(args: string[], timeoutMs = 600_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(join(prefix, 'bin', 'banger'), args, {
      uid,
      gid: uid,
      cwd: home,
      env: { PATH: process.env.PATH, HOME: home, USER: user, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += d;
    });
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
async function ok(p: Promise<RunResult>): Promise<RunResult> {
  const r = await p;
  assert.equal(r.code, 0, r.stderr);
  return r;
}

before(() => {
  assert.equal(
    existsSync('/etc/banger/install.toml'),
    false,
    'this machine already has a system install; the test needs a host without one',
  );
  execFileSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', user]);
  mkdirSync(home, { mode: 0o755 });
  uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  execFileSync('chown', [`${uid}:${uid}`, home]);
  mkdirSync('/etc/banger', { recursive: true });
  writeFileSync(
    '/etc/banger/config.toml',
    [
      `dns_listen = "127.0.0.1:${dnsPort}"`,
      `bridge_name = "${bridge}"`,
      `bridge_ip = "${subnet}.1"`,
      'cidr = 24',
      '',
      '[vm_defaults]',
      'vcpu = 2',
      'memory_mib = 1024',
      'disk_size = "2G"',
      '',
    ].join('\n'),
  );
});

after(async () => {
  try {
    if (existsSync('/etc/banger/install.toml')) await asRoot(['system', 'uninstall', '--purge']);
  } finally {
    await removeTestUser(user);
    execFileSync('rm', ['-rf', home, prefix, '/etc/banger']);
    try {
      execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
    try {
      execFileSync('pkill', ['-KILL', '-f', prefix]);
    } catch {
      /* none */
    }
  }
});

test('system install: helper (root) and daemon (the owner) up under the fallback supervisor; status says so', async () => {
  const r = await ok(asRoot(['system', 'install', '--owner', user, '--prefix', prefix]));
  assert.match(
    r.stdout,
    new RegExp(`installed banger .* for ${user} \\(uid ${uid}\\) in ${prefix}; supervisor: (fallback|systemd)`),
  );
  const status = JSON.parse((await ok(asRoot(['system', 'status', '--json']))).stdout) as {
    install: { owner: string };
    components: Array<{ component: string; state: string; pid: number }>;
  };
  assert.equal(status.install.owner, user);
  assert.deepEqual(
    status.components.map((c) => [c.component, c.state]),
    [
      ['root helper', 'running'],
      ['daemon', 'running'],
    ],
  );
  const daemon = status.components.find((c) => c.component === 'daemon')!;
  assert.equal(
    execFileSync('ps', ['-o', 'uid=', '-p', String(daemon.pid)], { encoding: 'utf8' }).trim(),
    String(uid),
    'the daemon runs as the owner, not root',
  );
  const helper = status.components.find((c) => c.component === 'root helper')!;
  assert.equal(execFileSync('ps', ['-o', 'uid=', '-p', String(helper.pid)], { encoding: 'utf8' }).trim(), '0');
  for (const unit of ['bangerd.service', 'bangerd-root.service'])
    assert.ok(existsSync(join('/etc/systemd/system', unit)), `${unit} written`);
  assert.match(readFileSync('/etc/systemd/system/bangerd-root.service', 'utf8'), /^SendSIGKILL=no$/m);
  // The network values the helper may use, pinned from the config at install time.
  const record = readFileSync('/etc/banger/install.toml', 'utf8');
  assert.match(record, new RegExp(`^bridge_name = "${bridge}"$`, 'm'));
  assert.match(record, new RegExp(`^bridge_ip = "${subnet.replace(/\./g, '\\.')}\\.1"$`, 'm'));
  assert.match(record, /^cidr = 24$/m);
  // Root's own directories, and (fallback) root's records of the processes it started.
  for (const [dir, mode] of [
    ['/var/lib/banger-root', 0o711],
    ['/var/cache/banger-root', 0o700],
    ['/run/banger-root', 0o711],
  ] as const) {
    const st = statSync(dir);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, mode], dir);
  }
  if (readFileSync('/etc/banger/install.toml', 'utf8').includes('supervisor = "fallback"')) {
    for (const [file, c] of [
      ['/run/banger-root/daemon.pid', daemon],
      ['/run/banger-root/helper.pid', helper],
    ] as const) {
      assert.match(readFileSync(file, 'utf8'), new RegExp(`^${c.pid} \\d+\n$`), `${file}: pid and start time`);
      assert.equal(statSync(file).uid, 0);
    }
    const env = readFileSync(`/proc/${helper.pid}/environ`, 'utf8').split('\0').filter(Boolean).sort();
    assert.deepEqual(
      env,
      ['LANG=C', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      "the helper inherits nothing of the installer's environment",
    );
  }
});

test('fallback supervisor: a pid the owner writes never gets a signal from root; restart stops only what root started', async (t) => {
  if (!readFileSync('/etc/banger/install.toml', 'utf8').includes('supervisor = "fallback"')) {
    t.skip('systemd supervises this install');
    return;
  }
  const bystander = spawn('sleep', ['300'], { stdio: 'ignore', detached: true });
  try {
    // The owner's runtime dir is the owner's: it can name any process there.
    writeFileSync('/run/banger/bangerd.pid', `${bystander.pid}\n`);
    execFileSync('chown', [`${uid}:${uid}`, '/run/banger/bangerd.pid']);
    const before = JSON.parse((await ok(asRoot(['system', 'status', '--json']))).stdout) as {
      components: Array<{ component: string; pid: number }>;
    };
    await ok(asRoot(['system', 'restart']));
    assert.ok(isProcessAlive(bystander.pid!), "root left the process named in the owner's pid file alone");
    const after = JSON.parse((await ok(asRoot(['system', 'status', '--json']))).stdout) as {
      components: Array<{ component: string; state: string; pid: number }>;
    };
    assert.deepEqual(
      after.components.map((c) => c.state),
      ['running', 'running'],
    );
    for (const c of before.components) assert.equal(isProcessAlive(c.pid), false, `the old ${c.component} was stopped`);
  } finally {
    bystander.kill('SIGKILL');
  }
});

test('the owner runs a VM: kernel, image (built by the helper) and network through the root helper', async () => {
  const r = await ok(
    asOwner(['vm', 'run', '--rm', '--', 'sh', '-c', 'echo "ok from $(hostname)"; getent hosts "$(hostname).vm"']),
  );
  assert.match(
    r.stdout,
    new RegExp(`^ok from [a-z]+-[a-z]+\\n${subnet.replace(/\./g, '\\.')}\\.\\d+\\s+\\S+\\.vm\\n$`),
    'the unprivileged daemon serves the guests DNS on the bridge, port 53',
  );
});

test('system restart, and SIGKILL of the helper and the daemon, leave a running VM running; the new daemon adopts it', async () => {
  await ok(asOwner(['vm', 'run', '-d', '--name', 'keep']));
  const before = JSON.parse((await ok(asOwner(['vm', 'show', 'keep', '--json']))).stdout) as {
    runtime: { pid: number; agent: { health: { boot_id: string } } };
  };
  await ok(asRoot(['system', 'restart']));
  assert.ok(isProcessAlive(before.runtime.pid), 'the VMM survived the restart');
  const after = JSON.parse((await ok(asOwner(['vm', 'show', 'keep', '--json']))).stdout) as {
    state: string;
    runtime: { pid: number; agent: { health: { boot_id: string } } };
  };
  assert.equal(after.state, 'running');
  assert.equal(after.runtime.pid, before.runtime.pid);
  assert.equal(after.runtime.agent.health.boot_id, before.runtime.agent.health.boot_id, 'same boot');
  // Killing the helper or the daemon outright does not touch the VM either.
  const status = JSON.parse((await ok(asRoot(['system', 'status', '--json']))).stdout) as {
    components: Array<{ component: string; pid: number }>;
  };
  for (const c of status.components) process.kill(c.pid, 'SIGKILL');
  // Asked as soon as both are gone (under systemd, Restart=on-failure brings them back after 1 s).
  assert.ok(await waitFor(() => status.components.every((c) => !isProcessAlive(c.pid)), 10_000), 'both ended');
  assert.ok(isProcessAlive(before.runtime.pid), 'the VMM survived SIGKILL of the helper and the daemon');
  assert.equal((await asRoot(['system', 'status'])).code, 1, 'status says they are down');
  await ok(asRoot(['system', 'restart']));
  const again = JSON.parse((await ok(asOwner(['vm', 'show', 'keep', '--json']))).stdout) as {
    state: string;
    runtime: { pid: number };
  };
  assert.equal(again.runtime.pid, before.runtime.pid, 'adopted once more');
  await ok(asOwner(['vm', 'delete', 'keep']));
});

test('the root helper refuses a third uid, a tap name outside the prefixes, parameters it pins, and signalling a non-VMM', async () => {
  const socket = '/run/banger-root/bangerd-root.sock';
  const third = await new Promise<string>((resolve) => {
    const script = `const s=require('net').connect(${JSON.stringify(socket)});s.on('connect',()=>s.write('{"v":1,"op_id":"x","method":"priv.list_taps","params":{}}\\n'));let b='';s.on('data',d=>b+=d);s.on('end',()=>process.stdout.write(b||'closed'));s.on('error',e=>process.stdout.write('refused:'+e.code));`;
    const c = spawn(nodeForAnyUser(), ['-e', script], {
      uid: 12345,
      gid: 12345,
      cwd: '/',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    c.stdout!.on('data', (d) => {
      out += d;
    });
    c.on('close', () => resolve(out));
  });
  assert.match(third, /refused:EACCES|"code":"unauthorized"/, `a third uid gets nothing: ${third}`);
  const ops = new RemotePrivilegedOps(socket);
  // What root pins comes from install.toml (the config at install time), not from requests.
  const pinned = await ops.settings({}, ctx);
  assert.deepEqual(
    { owner: pinned.ownerUid, bridge: pinned.bridgeName, ip: pinned.bridgeIp, domain: pinned.dnsDomain },
    { owner: uid, bridge, ip: `${subnet}.1`, domain: 'vm' },
  );
  await assert.rejects(ops.createTap({ name: 'eth7' }, ctx), /name: must be tap-fc/);
  await assert.rejects(
    ops.createTap({ name: 'tap-fc-abcd1234', ownerUid: 0 } as never, ctx),
    /unknown parameter ownerUid/,
  );
  await assert.rejects(ops.signalProcess({ pid: process.pid, signal: 'TERM' }, ctx), /is not a banger VMM/);
});

/** A release server on 127.0.0.1: good, broken, tampered and wrongly signed releases, and manifests. */
async function releaseServer(): Promise<{ url: string; server: Server; pub: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'banger-releases-'));
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'key.pem')]);
  execFileSync('openssl', ['ec', '-in', join(dir, 'key.pem'), '-pubout', '-out', join(dir, 'pub.pem')], {
    stdio: 'ignore',
  });
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  // The owner reads the public key (--check runs as the owner); the private key stays root's.
  execFileSync('chmod', ['0755', dir]);
  execFileSync('chmod', ['0644', join(dir, 'pub.pem')]);
  const runner = new ExecHostRunner();
  const rel = (v: string) => join(dir, 'r', v);
  await buildRelease({ runner, repoRoot, version: '0.9.1', privateKeyPem: key, outDir: rel('0.9.1') });
  // A release whose daemon exits at start (its --version and --check-migrations still work).
  await buildRelease({
    runner,
    repoRoot,
    version: '0.9.2',
    privateKeyPem: key,
    outDir: rel('0.9.2'),
    mutate: (top) => {
      const f = join(top, 'dist', 'bangerd.js');
      writeFileSync(
        f,
        `if (process.argv.includes('--system') && !process.argv.includes('--check-migrations')) { console.error('broken on purpose'); process.exit(3); }\n${readFileSync(f, 'utf8')}`,
      );
    },
  });
  // Tampered: signed SHA256SUMS of one tarball, another tarball served.
  mkdirSync(rel('0.9.3'), { recursive: true });
  const good = readFileSync(join(rel('0.9.1'), tarballName('0.9.1')));
  writeFileSync(
    join(rel('0.9.3'), 'SHA256SUMS'),
    renderSums([{ file: tarballName('0.9.3'), sha256: sha256Hex(good) }]),
  );
  writeFileSync(join(rel('0.9.3'), 'SHA256SUMS.sig'), signSums(readFileSync(join(rel('0.9.3'), 'SHA256SUMS')), key));
  writeFileSync(join(rel('0.9.3'), tarballName('0.9.3')), Buffer.concat([good, Buffer.from('tampered')]));
  // Signed with another key.
  mkdirSync(rel('0.9.4'), { recursive: true });
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'other.pem')]);
  copyFileSync(join(rel('0.9.1'), tarballName('0.9.1')), join(rel('0.9.4'), tarballName('0.9.4')));
  writeFileSync(
    join(rel('0.9.4'), 'SHA256SUMS'),
    renderSums([{ file: tarballName('0.9.4'), sha256: sha256Hex(good) }]),
  );
  writeFileSync(
    join(rel('0.9.4'), 'SHA256SUMS.sig'),
    signSums(readFileSync(join(rel('0.9.4'), 'SHA256SUMS')), readFileSync(join(dir, 'other.pem'), 'utf8')),
  );
  const entry = (v: string) => ({
    version: `v${v}`,
    tarball: `r/${v}/${tarballName(v)}`,
    sha256sums: `r/${v}/SHA256SUMS`,
    signature: `r/${v}/SHA256SUMS.sig`,
  });
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      schema_version: 1,
      latest_stable: 'v0.9.1',
      releases: ['0.9.1', '0.9.2', '0.9.3', '0.9.4'].map(entry),
    }),
  );
  writeFileSync(
    join(dir, 'big.json'),
    JSON.stringify({ schema_version: 1, latest_stable: 'v0.9.1', releases: [], padding: 'x'.repeat(2 << 20) }),
  );
  const server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent((req.url ?? '/').split('?')[0]!));
    if (!path.startsWith(dir) || !existsSync(path) || statSync(path).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': statSync(path).size }).end(readFileSync(path));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server, pub: join(dir, 'pub.pem'), dir };
}

test('banger update: check, refusals that touch nothing, dry run, a real update and a rollback, with a VM that keeps running', async () => {
  const rs = await releaseServer();
  const u = (args: string[]) => [
    'update',
    '--manifest-url',
    `${rs.url}/manifest.json`,
    '--pubkey-file',
    rs.pub,
    ...args,
  ];
  const version = async () => (await ok(asOwner(['--version']))).stdout;
  const installed = () => readFileSync('/etc/banger/install.toml', 'utf8');
  try {
    await ok(asOwner(['vm', 'run', '-d', '--name', 'survivor']));
    const vm0 = JSON.parse((await ok(asOwner(['vm', 'show', 'survivor', '--json']))).stdout) as {
      runtime: { pid: number; agent: { health: { boot_id: string } } };
    };
    const alive = async () => {
      const v = JSON.parse((await ok(asOwner(['vm', 'show', 'survivor', '--json']))).stdout) as {
        state: string;
        runtime: { pid: number; agent: { health: { boot_id: string } } };
      };
      assert.equal(v.state, 'running');
      assert.equal(v.runtime.pid, vm0.runtime.pid, 'same VMM process');
      assert.equal(v.runtime.agent.health.boot_id, vm0.runtime.agent.health.boot_id, 'same boot');
    };
    const before = installed();

    assert.match((await ok(asOwner(u(['--check'])))).stdout, /^update available: v0\.9\.1 \(this is v0\.1\.0\)$/m);
    const unknown = await asRoot(u(['--to', 'v9.9.9']));
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no release v9\.9\.9 in the manifest/);
    const nonRoot = await asOwner(u([]));
    assert.notEqual(nonRoot.code, 0);
    assert.match(nonRoot.stderr, /banger update needs root/);
    for (const [args, why] of [
      [['--to', 'v0.9.3'], /the tarball's SHA-256 .* is not the signed one/],
      [['--to', 'v0.9.4'], /signature does not verify/],
    ] as const) {
      const r = await asRoot(u([...args]));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, why);
    }
    const big = await asRoot(['update', '--manifest-url', `${rs.url}/big.json`, '--pubkey-file', rs.pub]);
    assert.match(big.stderr, /release manifest is \d+ bytes, more than the 1048576 bytes allowed/);
    const dry = await ok(asRoot(u(['--dry-run'])));
    assert.deepEqual(
      readdirSync('/var/cache/banger-root/updates'),
      [],
      "the staging directory in root's cache is gone",
    );
    assert.equal(existsSync('/var/cache/banger/updates'), false, "nothing is staged in the owner's cache");
    assert.match(
      dry.stdout,
      /^dry run: v0\.9\.1 downloaded, verified and staged; nothing changed \(still v0\.1\.0\)$/m,
    );
    assert.equal(installed(), before, 'install.toml untouched by every refusal and the dry run');
    assert.match(await version(), /^banger v0\.1\.0 /);
    await alive();

    const up = await ok(asRoot(u([])));
    assert.match(up.stdout, /^updated to v0\.9\.1 \(was v0\.1\.0\)$/m);
    assert.match(await version(), /^banger v0\.9\.1 /, 'the new version reports itself');
    assert.match(installed(), /^version = "0\.9\.1"$/m);
    const status = JSON.parse((await ok(asRoot(['system', 'status', '--json']))).stdout) as {
      components: Array<{ state: string }>;
    };
    assert.deepEqual(
      status.components.map((c) => c.state),
      ['running', 'running'],
    );
    await alive();

    const bad = await asRoot(u(['--to', 'v0.9.2']));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /rolled back to previous install, v0\.9\.1/);
    assert.match(await version(), /^banger v0\.9\.1 /, 'the old version runs');
    assert.match(installed(), /^version = "0\.9\.1"$/m);
    await alive();
    await ok(asOwner(['vm', 'delete', 'survivor']));
  } finally {
    rs.server.close();
    execFileSync('rm', ['-rf', rs.dir]);
  }
});

test('system uninstall --purge leaves no unit, launcher, build, socket, directory, process or bridge', async () => {
  await ok(asRoot(['system', 'uninstall', '--purge']));
  const left = [
    '/etc/systemd/system/bangerd.service',
    '/etc/systemd/system/bangerd-root.service',
    join(prefix, 'bin', 'banger'),
    join(prefix, 'lib', 'banger'),
    '/etc/banger/install.toml',
    '/var/lib/banger',
    '/var/cache/banger',
    '/run/banger',
    '/run/banger-root',
    '/var/lib/banger-root',
    '/var/cache/banger-root',
  ].filter((p) => existsSync(p));
  assert.deepEqual(left, []);
  let procs = '';
  try {
    procs = execFileSync('pgrep', ['-fa', prefix], { encoding: 'utf8' });
  } catch {
    /* none */
  }
  assert.equal(procs, '');
  assert.equal(existsSync(`/sys/class/net/${bridge}`), false);
  assert.equal(statSync('/dev/net/tun').mode & 0o7777, tunModeBefore, '/dev/net/tun as it was');
});
