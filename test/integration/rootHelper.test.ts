/**
 * The root helper over its real socket with real SO_PEERCRED: who may connect (root and
 * the owner, not a third uid, even when the socket file would let them), what it refuses
 * (names outside the prefixes, smuggled parameters, signalling a non-VMM), and the
 * `banger-root-helper` executable. Test uids are 65534 (nobody, as the owner) and 12345.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log/index.js';
import { InProcessPrivilegedOps, RemotePrivilegedOps, RootHelperServer } from '../../src/roothelper/index.js';
import { acceptsConnections, ExecHostRunner } from '../../src/system/index.js';
import { distRootHelper, nodeForAnyUser, waitFor } from './harness.js';

const ctx = { opId: 'op-helper-test' };
const OWNER = 65534;

/** A one-request client run as another uid: prints the helper's answer line. */
function requestAs(
  uid: number,
  socket: string,
  method: string,
  params: object,
): Promise<{ ok: boolean; error?: { code: string; message: string } }> {
  const script = `const s=require('net').connect(${JSON.stringify(socket)});s.on('connect',()=>s.write(JSON.stringify({v:1,op_id:'op-x',method:${JSON.stringify(method)},params:${JSON.stringify(params)}})+'\\n'));let b='';s.on('data',d=>b+=d);s.on('end',()=>process.stdout.write(b));s.on('error',e=>process.stdout.write(JSON.stringify({ok:false,error:{code:'connect',message:e.code}})));`;
  return new Promise((resolve, reject) => {
    const child = spawn(nodeForAnyUser(), ['-e', script], { uid, gid: uid, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.on('error', reject); // e.g. EACCES: that uid cannot run this node; fail now, never hang
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.on('close', () => {
      try {
        resolve(JSON.parse(out.trim()));
      } catch {
        reject(new Error(`no answer: ${out}`));
      }
    });
  });
}

async function withHelper(
  fn: (h: { dir: string; socket: string; ops: RemotePrivilegedOps }) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'banger-helper-'));
  chmodSync(dir, 0o711);
  const socket = join(dir, 'run', 'bangerd-root.sock');
  const server = new RootHelperServer({
    socketPath: socket,
    ownerUid: OWNER,
    log: silentLogger,
    socketMode: 0o666, // wide open: only the peer check decides
    ops: new InProcessPrivilegedOps({
      runner: new ExecHostRunner(),
      log: silentLogger,
      scope: {
        ownerUid: OWNER,
        ownerGid: OWNER,
        ownerStateDir: join(dir, 'state'),
        rootStateDir: join(dir, 'root'),
        network: { bridgeName: 'br-fc', bridgeIp: '172.16.0.1', cidr: 24 },
      },
    }),
  });
  mkdirSync(join(dir, 'state'), { recursive: true });
  chownSync(join(dir, 'state'), OWNER, OWNER);
  await server.listen();
  try {
    await fn({ dir, socket, ops: new RemotePrivilegedOps(socket) });
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('peer credentials decide: root and the owner are served, a third uid is refused even though the socket file is open to it', async () => {
  await withHelper(async ({ socket, ops }) => {
    assert.ok(Array.isArray(await ops.listTaps({}, ctx)), 'root is served');
    const owner = await requestAs(OWNER, socket, 'priv.list_taps', {});
    assert.equal(owner.ok, true, JSON.stringify(owner));
    const third = await requestAs(12345, socket, 'priv.list_taps', {});
    assert.equal(third.ok, false);
    assert.equal(third.error?.code, 'unauthorized');
    assert.match(third.error!.message, /uid 12345 may not use the root helper \(only root and the owner, uid 65534\)/);
    // Requests are independent connections, served in parallel.
    const many = await Promise.all(Array.from({ length: 8 }, () => ops.listTaps({}, ctx)));
    assert.equal(many.length, 8);
  });
});

test('the helper validates before acting: names outside the prefixes, parameters root pins, signals to non-VMM processes, unknown operations', async () => {
  await withHelper(async ({ socket, ops }) => {
    await assert.rejects(
      ops.createTap({ name: 'eth9' }, ctx),
      (e: Error & { code?: string }) =>
        e.code === 'bad_request' && /priv\.create_tap: name: must be tap-fc/.test(e.message),
    );
    const smuggled = await requestAs(OWNER, socket, 'priv.create_tap', {
      name: 'tap-fc-abcd1234',
      ownerUid: 0,
      bridge: 'br0',
    });
    assert.equal(smuggled.error?.code, 'bad_request');
    assert.match(smuggled.error!.message, /unknown parameters ownerUid, bridge/);
    const dns = await requestAs(OWNER, socket, 'priv.route_dns_domain', {
      link: 'eth0',
      server: '127.0.0.1',
      domain: 'com',
    });
    assert.match(dns.error!.message, /unknown parameters link, server, domain/);
    const settings = await ops.settings({}, ctx);
    assert.deepEqual(
      { uid: settings.ownerUid, domain: settings.dnsDomain, bridge: settings.bridgeName },
      { uid: OWNER, domain: 'vm', bridge: 'br-fc' },
    );
    const sleeper = spawn('sleep', ['30'], { uid: OWNER, gid: OWNER });
    try {
      await assert.rejects(ops.signalProcess({ pid: sleeper.pid!, signal: 'KILL' }, ctx), /is not a banger VMM/);
      assert.equal(sleeper.exitCode, null, 'still running');
    } finally {
      sleeper.kill('SIGKILL');
    }
    const unknown = await requestAs(0, socket, 'priv.format_disk', {});
    assert.equal(unknown.error?.code, 'unknown_method');
    const gone = await requestAs(0, socket, 'priv.write_file_to_image', {});
    assert.equal(gone.error?.code, 'unknown_method', 'an operation nothing uses is not served');
  });
});

test('banger-root-helper serves its socket with a fixed PATH, logs each request with the peer, and removes the socket on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-helper-'));
  const socket = join(dir, 'bangerd-root.sock');
  mkdirSync(join(dir, 'state'));
  chownSync(join(dir, 'state'), OWNER, OWNER);
  // A directory early on the starting shell's PATH with an `ip` of its own.
  mkdirSync(join(dir, 'evil-bin'));
  writeFileSync(join(dir, 'evil-bin', 'ip'), `#!/bin/sh\ntouch ${join(dir, 'evil-ran')}\n`, { mode: 0o755 });
  const child = spawn(
    process.execPath,
    [
      distRootHelper,
      '--socket',
      socket,
      '--owner-uid',
      String(OWNER),
      '--owner-gid',
      String(OWNER),
      '--state-dir',
      join(dir, 'state'),
      '--root-state-dir',
      join(dir, 'root'),
      '--bridge',
      'br-fc',
      '--bridge-ip',
      '172.16.0.1',
      '--cidr',
      '24',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: `${dir}/evil-bin:${process.env.PATH}` } },
  );
  let log = '';
  child.stdout!.on('data', (d) => {
    log += d;
  });
  try {
    assert.ok(await waitFor(() => acceptsConnections(socket), 10_000), `socket appears; log: ${log}`);
    assert.ok(Array.isArray(await new RemotePrivilegedOps(socket).listTaps({}, ctx)));
    assert.match(
      log,
      /"msg":"helper request".*"op_id":"op-helper-test".*"method":"priv.list_taps".*"peer_uid":0/,
      'list_taps carries its op_id over the wire',
    );
    assert.equal(
      existsSync(join(dir, 'evil-ran')),
      false,
      "root never ran the `ip` planted on the starting shell's PATH",
    );
    child.kill('SIGTERM');
    assert.ok(await waitFor(() => child.exitCode !== null, 10_000));
    assert.equal(existsSync(socket), false);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
