/**
 * The real banger-agent's `identity` and `quiesce`. Parameter checks run anywhere (a bad
 * request changes nothing). The steps that change the machine run only inside fresh UTS,
 * network and mount namespaces (unshare, as root: CI runs the tests as root) with a temporary
 * directory bound over /etc, a tmpfs on /run, and a veth pair whose guest end is `eth0`: the
 * host's hostname, network, /etc and sshd are never touched. The clock step is not exercised
 * (setting the host's clock is not acceptable); entropy only adds to the host's pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { agentBinaryPath } from '../buildinfo/index.js';
import { AgentClient, AgentError, isAgentUnknownMethod } from './client.js';

const binary = agentBinaryPath();
const unshare = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p));
const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));
const ip = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));
const nsSkip =
  process.getuid?.() !== 0
    ? 'needs root (unshare of UTS, network and mount namespaces); CI runs the tests as root'
    : !unshare
      ? 'needs unshare (util-linux)'
      : !ip
        ? 'needs ip (iproute2) to make the veth eth0 and read it back'
        : false;

function clientOver(child: ChildProcess): AgentClient {
  const duplex = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      child.stdin!.write(chunk, cb);
    },
  });
  child.stdout!.on('data', (c: Buffer) => duplex.push(c));
  child.stdout!.on('end', () => duplex.push(null));
  return new AgentClient(duplex as unknown as Socket);
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.stdin!.end();
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

/** The agent in new namespaces; `prelude` runs first in there (as sh). */
function nsAgent(dir: string, prelude = ''): { child: ChildProcess; client: AgentClient } {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  const script = [
    'set -e',
    'mount -t tmpfs banger-test /run',
    '[ -L /var/run ] || mount -t tmpfs banger-test /var/run',
    `mount --bind ${dir}/etc /etc`,
    'ip link set lo up',
    'ip link add eth0 type veth peer name p0',
    'ip link set p0 up',
    'ip addr add 10.9.9.9/8 dev eth0',
    'ip addr add 10.9.9.10/8 dev eth0',
    'ip link set eth0 up',
    'ip route add default via 10.0.0.1',
    prelude,
    // Its own UTS and network namespaces: it may act although the host is no banger guest.
    `exec ${binary} --stdio --identity-anywhere`,
  ].join('\n');
  const child = spawn(unshare!, ['--uts', '--net', '--mount', '--fork', 'sh', '-c', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return { child, client: clientOver(child) };
}

async function sh(client: AgentClient, cmd: string): Promise<string> {
  const r = await client.exec({ argv: ['sh', '-c', cmd] });
  assert.equal(r.exit_code, 0, `${cmd}: ${r.stderr}`);
  return r.stdout;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20)))
    if (cond()) return true;
  return cond();
}

test('identity refuses bad params with bad_request and writes nothing; unknown methods keep their stable code', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-identity-'));
  const child = spawn(binary, ['--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const client = clientOver(child);
  try {
    const first = join(dir, 'a', 'first');
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ hostname: '-x' }, /hostname/],
      [{ hostname: 'a'.repeat(64) }, /hostname/],
      [{ hostname: 'a.b' }, /hostname/],
      [{ machine_id: 'ABCDEF0123456789ABCDEF0123456789' }, /machine_id/],
      [{ machine_id: '0'.repeat(32) }, /machine_id/],
      [{ entropy_b64: b64(randomBytes(16)) }, /entropy_b64/],
      [{ entropy_b64: '!!!' }, /entropy_b64/],
      [{ clock_unix_ms: -5 }, /clock_unix_ms/],
      [{ network: { mac: '01:00:5e:00:00:01', ip_cidr: '172.16.0.9/24' } }, /mac/],
      [{ network: { mac: '52:54:00:aa:bb', ip_cidr: '172.16.0.9/24' } }, /mac/],
      [{ network: { mac: '52:54:00:aa:bb:cc', ip_cidr: '172.16.0.9' } }, /ip_cidr/],
      [{ network: { mac: '52:54:00:aa:bb:cc', ip_cidr: '172.16.0.9/33' } }, /ip_cidr/],
      [{ network: { mac: '52:54:00:aa:bb:cc', ip_cidr: '172.16.0.9/24', gateway: 'x' } }, /gateway/],
      [{ sshd_reload: 'yes' }, /sshd_reload/],
      [
        {
          files: [
            { path: first, content_b64: b64('x') },
            { path: `${dir}/../etc/passwd`, content_b64: '' },
          ],
        },
        /files\[1\]\.path must not contain ".."/,
      ],
      [
        {
          files: [
            { path: first, content_b64: b64('x') },
            { path: 'relative', content_b64: '' },
          ],
        },
        /files\[1\]\.path must be absolute/,
      ],
      [{ files: [{ path: `${dir}/d/`, content_b64: '' }] }, /files\[0\]\.path must name a file/],
      [{ files: [{ path: first, content_b64: '@@' }] }, /files\[0\]\.content_b64/],
      [{ files: [{ path: first, mode: 0o10000, content_b64: '' }] }, /files\[0\]\.mode/],
    ];
    for (const [params, message] of bad) {
      await assert.rejects(
        client.identity(params as never),
        (e: AgentError) => e.code === 'bad_request' && message.test(e.message),
        JSON.stringify(params),
      );
    }
    assert.equal(existsSync(join(dir, 'a')), false, 'a refused request wrote nothing');
    // Valid params on a host (no banger guest) are refused, even with nothing to do.
    await assert.rejects(client.identity({}), (e: AgentError) => e.code === 'unsupported');
    // The request line limit (1 MiB) bounds files long before the 8 MiB total.
    // (too_large answers with id null: watch the raw stream.)
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const big = { path: first, content_b64: b64(randomBytes(900_000)) };
    child.stdin!.write(`${JSON.stringify({ v: 1, id: 1, method: 'identity', params: { files: [big] } })}\n`);
    assert.ok(await waitFor(() => out.includes('"code":"too_large"'), 5_000), 'too_large answered');
    assert.equal(existsSync(join(dir, 'a')), false);
    await assert.rejects(client.request('no_such' as 'health', {}), (e) => isAgentUnknownMethod(e));
  } finally {
    assert.equal(await stop(child), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('quiesce syncs and writes 3 to drop_caches (a stand-in /proc here); a missing file is quiesce_failed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-quiesce-'));
  mkdirSync(join(dir, 'sys', 'vm'), { recursive: true });
  writeFileSync(join(dir, 'sys', 'vm', 'drop_caches'), '0\n');
  // The stand-in /proc says this is a banger guest (its kernel command line).
  writeFileSync(join(dir, 'cmdline'), 'console=ttyS0 banger.root=/dev/vda\n');
  const child = spawn(binary, ['--stdio', '--proc', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const client = clientOver(child);
  try {
    await client.quiesce();
    assert.equal(readFileSync(join(dir, 'sys', 'vm', 'drop_caches'), 'utf8'), '3\n');
    rmSync(join(dir, 'sys'), { recursive: true });
    await assert.rejects(
      client.quiesce(),
      (e: AgentError) => e.code === 'quiesce_failed' && /drop_caches/.test(e.message),
    );
  } finally {
    assert.equal(await stop(child), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Captures the first ARP announcement (sender IP = target IP) arriving on IFACE into OUT (hex frame). */
const CAPTURE_PY = `import socket, sys, os
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((sys.argv[1], 0))
s.settimeout(10)
open(sys.argv[2] + '.pid', 'w').write(str(os.getpid()))
open(sys.argv[2] + '.ready', 'w').write('1')
while True:
    f = s.recv(2048)
    if len(f) >= 42 and f[20:22] == b'\\x00\\x01' and f[28:32] == f[38:42]:
        open(sys.argv[2] + '.tmp', 'w').write(f.hex())
        os.rename(sys.argv[2] + '.tmp', sys.argv[2])
        break
`;

/** Stands in for sshd (run through a symlink named sshd): listens on 127.0.0.1:22; SIGHUP closes it for 200 ms. */
const FAKE_SSHD_PY = `import socket, sys, os, signal, time
def listen():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', 22))
    s.listen(16)
    s.settimeout(0.01)
    return s
srv = listen()
hup = []
signal.signal(signal.SIGHUP, lambda *a: hup.append(1))
open(sys.argv[1] + '/sshd.pid', 'w').write(str(os.getpid()))
open('/run/sshd.pid', 'w').write(str(os.getpid()) + '\\n')
while True:
    try:
        c, _ = srv.accept()
        c.close()
    except (socket.timeout, InterruptedError):
        pass
    if hup:
        hup.clear()
        srv.close()
        time.sleep(0.2)
        srv = listen()
        open(sys.argv[1] + '/reloads', 'a').write('reloaded\\n')
`;

function killPidFile(path: string): void {
  try {
    process.kill(Number(readFileSync(path, 'utf8')), 'SIGKILL');
  } catch {
    // already gone
  }
}

async function waitForFile(path: string, ms: number): Promise<string | null> {
  return (await waitFor(() => existsSync(path), ms)) ? readFileSync(path, 'utf8') : null;
}

test('identity in namespaces: hostname, /etc, machine-id, eth0 MAC/address/route, ARP announcement, files', {
  skip: nsSkip,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-identity-ns-'));
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'victim'), 'unchanged\n');
  writeFileSync(join(dir, 'etc', 'hostname'), 'template\n');
  symlinkSync(join(dir, 'victim'), join(dir, 'etc', 'hosts')); // planted: must be replaced, not followed
  symlinkSync(join(dir, 'victim'), join(dir, 'planted'));
  writeFileSync(join(dir, 'cap.py'), CAPTURE_PY);
  const cap = join(dir, 'arp');
  const prelude = python ? `${python} ${dir}/cap.py p0 ${cap} & while [ ! -e ${cap}.ready ]; do sleep 0.02; done` : '';
  const { child, client } = nsAgent(dir, prelude);
  const machineId = randomBytes(16).toString('hex');
  const key = join(dir, 'home', '.ssh', 'authorized_keys');
  try {
    await client.health(); // the namespace is set up: time identity alone
    const t0 = performance.now();
    const r = await client.identity({
      entropy_b64: b64(randomBytes(64)),
      hostname: 'clone-7',
      machine_id: machineId,
      network: { mac: '52:54:00:12:34:56', ip_cidr: '172.16.0.9/24', gateway: '172.16.0.1' },
      files: [
        { path: key, mode: 0o600, content_b64: b64('ssh-ed25519 AAAA test\n') },
        { path: join(dir, 'planted'), mode: 0o644, content_b64: b64('new\n') },
      ],
      sshd_reload: true,
    });
    const took = performance.now() - t0;
    assert.deepEqual(r.done, ['entropy', 'hostname', 'machine_id', 'network', 'files', 'sshd_reload']);
    // On the critical path of a warm start: reported, not asserted (timing belongs to `npm run bench`).
    t.diagnostic(`identity took ${took.toFixed(1)} ms`);
    assert.ok(
      r.notes.some((n) => /^sshd_reload: no \/run\/sshd\.pid/.test(n)),
      JSON.stringify(r.notes),
    );
    assert.equal(await sh(client, 'hostname'), 'clone-7\n');
    const [link] = JSON.parse(await sh(client, 'ip -j addr show eth0')) as Array<{
      address: string;
      addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
    }>;
    assert.equal(link!.address, '52:54:00:12:34:56');
    const v4 = link!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
    assert.deepEqual(v4, ['172.16.0.9/24'], 'every earlier IPv4 address is gone');
    for (const a of link!.addr_info.filter((x) => x.family === 'inet6' && x.scope === 'link'))
      assert.equal(a.local, 'fe80::5054:ff:fe12:3456', 'the link-local address comes from the new MAC');
    const routes = JSON.parse(await sh(client, 'ip -j route')) as Array<{ dst: string; gateway?: string; dev: string }>;
    assert.ok(
      routes.some((x) => x.dst === 'default' && x.gateway === '172.16.0.1' && x.dev === 'eth0'),
      JSON.stringify(routes),
    );
    assert.equal(readFileSync(join(dir, 'etc', 'hostname'), 'utf8'), 'clone-7\n');
    assert.equal(
      readFileSync(join(dir, 'etc', 'hosts'), 'utf8'),
      '127.0.0.1 localhost\n127.0.1.1 clone-7\n::1 localhost ip6-localhost ip6-loopback\n',
    );
    assert.ok(lstatSync(join(dir, 'etc', 'hosts')).isFile());
    assert.equal(readFileSync(join(dir, 'etc', 'machine-id'), 'utf8'), `${machineId}\n`);
    assert.equal(readFileSync(key, 'utf8'), 'ssh-ed25519 AAAA test\n');
    assert.equal(lstatSync(key).mode & 0o7777, 0o600);
    assert.equal(lstatSync(join(dir, 'home')).mode & 0o7777, 0o700);
    assert.equal(lstatSync(join(dir, 'home', '.ssh')).mode & 0o7777, 0o700);
    assert.ok(lstatSync(join(dir, 'planted')).isFile());
    assert.equal(lstatSync(join(dir, 'planted')).mode & 0o7777, 0o644);
    assert.equal(readFileSync(join(dir, 'planted'), 'utf8'), 'new\n');
    assert.equal(readFileSync(join(dir, 'victim'), 'utf8'), 'unchanged\n', 'no symlink was followed');
    if (python) {
      const hex = await waitForFile(cap, 5_000);
      assert.ok(hex, 'an ARP announcement arrived on the veth peer');
      const f = Buffer.from(hex, 'hex');
      assert.equal(f.subarray(0, 6).toString('hex'), 'ffffffffffff');
      assert.equal(f.subarray(6, 12).toString('hex'), '525400123456');
      assert.equal(f.subarray(22, 28).toString('hex'), '525400123456', 'ARP sender MAC');
      assert.deepEqual([...f.subarray(28, 32)], [172, 16, 0, 9], 'ARP sender IP');
    }
  } finally {
    assert.equal(await stop(child), 0);
    killPidFile(`${cap}.pid`);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('identity: a failing step answers identity_failed naming it; earlier steps ran, later ones did not', {
  skip: nsSkip,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-identity-fail-'));
  const { child, client } = nsAgent(dir, 'ip link del eth0');
  try {
    await assert.rejects(
      client.identity({
        hostname: 'before-net',
        network: { mac: '52:54:00:12:34:57', ip_cidr: '172.16.0.10/24', gateway: '172.16.0.1' },
        files: [{ path: join(dir, 'after'), content_b64: b64('x') }],
      }),
      (e: AgentError) => e.code === 'identity_failed' && /^network: no interface eth0/.test(e.message),
    );
    assert.equal(await sh(client, 'hostname'), 'before-net\n');
    assert.equal(existsSync(join(dir, 'after')), false);
  } finally {
    assert.equal(await stop(child), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('identity sshd_reload: SIGHUP to the pidfile sshd, answered once 127.0.0.1:22 accepts again', {
  skip: nsSkip || (!python && 'needs python3 for the stand-in sshd'),
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-identity-sshd-'));
  writeFileSync(join(dir, 'fake.py'), FAKE_SSHD_PY);
  symlinkSync(python!, join(dir, 'sshd')); // the agent signals only a process named sshd
  const { child, client } = nsAgent(
    dir,
    `${dir}/sshd ${dir}/fake.py ${dir} & while [ ! -s /run/sshd.pid ]; do sleep 0.02; done`,
  );
  try {
    const r = await client.identity({ sshd_reload: true });
    assert.deepEqual(r.done, ['sshd_reload']);
    const waited = r.notes.map((n) => /accepting again after (\d+) ms/.exec(n)).find(Boolean);
    assert.ok(waited, JSON.stringify(r.notes));
    assert.ok(Number(waited[1]) >= 150, `waited through the 200 ms gap (${waited[1]} ms)`);
    assert.equal(readFileSync(join(dir, 'reloads'), 'utf8'), 'reloaded\n');
  } finally {
    assert.equal(await stop(child), 0);
    killPidFile(join(dir, 'sshd.pid'));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('identity leaves an /etc that is a symlink alone (and a missing /etc), with notes', { skip: nsSkip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-identity-etc-'));
  try {
    for (const [root, etc] of [
      ['linked', 'symlink'],
      ['bare', 'missing'],
    ] as const) {
      // A root of its own (the agent is static): /etc there is a symlink to /realetc, or absent.
      const r = join(dir, root);
      mkdirSync(join(r, 'realetc'), { recursive: true });
      writeFileSync(join(r, 'agent'), readFileSync(binary), { mode: 0o755 });
      if (etc === 'symlink') symlinkSync('realetc', join(r, 'etc'));
      const child = spawn(
        unshare!,
        ['--uts', '--net', '--mount', '--fork', `--root=${r}`, '/agent', '--stdio', '--identity-anywhere'],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      const client = clientOver(child);
      try {
        const res = await client.identity({ hostname: 'lonely', machine_id: randomBytes(16).toString('hex') });
        assert.deepEqual(res.done, ['hostname', 'machine_id']);
        const want = etc === 'symlink' ? /warning: \/etc is a symlink/ : /no \/etc/;
        assert.ok(res.notes.length === 2 && res.notes.every((n) => want.test(n)), JSON.stringify(res.notes));
        assert.equal((await client.health()).hostname, 'lonely');
      } finally {
        assert.equal(await stop(child), 0);
      }
      assert.deepEqual(readdirSync(join(r, 'realetc')), [], 'nothing written through the symlink');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an agent run on a host (no banger.root= on its kernel command line) refuses identity and quiesce: a test can never change its host', async () => {
  const child = spawn(binary, ['--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const client = clientOver(child);
  try {
    for (const call of [() => client.identity({ hostname: 'not-this-host' }), () => client.quiesce()])
      await assert.rejects(call(), (e: AgentError) => e.code === 'unsupported' && /not a banger guest/.test(e.message));
  } finally {
    assert.equal(await stop(child), 0);
  }
});
