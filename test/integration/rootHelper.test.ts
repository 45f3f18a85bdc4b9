/**
 * The root helper over its real socket with real SO_PEERCRED: who may connect (root and
 * the owner, not a third uid, even when the socket file would let them), what it refuses
 * (names outside the prefixes, a path through a symlink, signalling a non-VMM), and the
 * `bangerd --root-helper` entry. Test uids are 65534 (nobody, as the owner) and 12345.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log/index.js';
import { InProcessPrivilegedOps, RemotePrivilegedOps, RootHelperServer } from '../../src/roothelper/index.js';
import { ExecHostRunner } from '../../src/system/index.js';
import { distDaemon, waitFor } from './harness.js';

const ctx = { opId: 'op-helper-test' };
const OWNER = 65534;

/** A one-request client run as another uid: prints the helper's answer line. */
function requestAs(uid: number, socket: string, method: string, params: object): Promise<{ ok: boolean; error?: { code: string; message: string } }> {
  const script = `const s=require('net').connect(${JSON.stringify(socket)});s.on('connect',()=>s.write(JSON.stringify({v:1,op_id:'op-x',method:${JSON.stringify(method)},params:${JSON.stringify(params)}})+'\\n'));let b='';s.on('data',d=>b+=d);s.on('end',()=>process.stdout.write(b));s.on('error',e=>process.stdout.write(JSON.stringify({ok:false,error:{code:'connect',message:e.code}})));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { uid, gid: uid, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.on('close', () => { try { resolve(JSON.parse(out.trim())); } catch { reject(new Error(`no answer: ${out}`)); } });
  });
}

async function withHelper(fn: (h: { dir: string; socket: string; ops: RemotePrivilegedOps }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'banger-helper-'));
  chmodSync(dir, 0o711);
  const socket = join(dir, 'run', 'bangerd-root.sock');
  const server = new RootHelperServer({
    socketPath: socket, ownerUid: OWNER, log: silentLogger, socketMode: 0o666, // wide open: only the peer check decides
    ops: new InProcessPrivilegedOps({ runner: new ExecHostRunner(), log: silentLogger, roots: [join(dir, 'state')] }),
  });
  mkdirSync(join(dir, 'state'), { recursive: true });
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
    assert.ok(Array.isArray(await ops.listTaps(ctx)), 'root is served');
    const owner = await requestAs(OWNER, socket, 'priv.list_taps', {});
    assert.equal(owner.ok, true, JSON.stringify(owner));
    const third = await requestAs(12345, socket, 'priv.list_taps', {});
    assert.equal(third.ok, false);
    assert.equal(third.error?.code, 'unauthorized');
    assert.match(third.error!.message, /uid 12345 may not use the root helper \(only root and the owner, uid 65534\)/);
    // Requests are independent connections, served in parallel.
    const many = await Promise.all(Array.from({ length: 8 }, () => ops.listTaps(ctx)));
    assert.equal(many.length, 8);
  });
});

test('the helper validates: tap names outside the prefixes, paths through a symlink, signals to non-VMM processes, unknown operations', async () => {
  await withHelper(async ({ dir, socket, ops }) => {
    await assert.rejects(ops.createTap({ name: 'eth9', bridge: 'br-fc', ownerUid: OWNER, ownerGid: OWNER }, ctx), (e: Error & { code?: string }) => e.code === 'bad_request' && /tap name "eth9" is not allowed/.test(e.message));
    const real = join(dir, 'state', 'real');
    mkdirSync(real);
    writeFileSync(join(real, 'disk.ext4'), '');
    symlinkSync(real, join(dir, 'state', 'link'));
    await assert.rejects(ops.writeFileToImage({ image: join(dir, 'state', 'link', 'disk.ext4'), path: '/x', content: 'x', mode: 0o600, uid: 0, gid: 0 }, ctx), /goes through a symlink at .*\/state\/link; refusing/);
    const sleeper = spawn('sleep', ['30']);
    try {
      await assert.rejects(ops.signalProcess({ pid: sleeper.pid!, signal: 'KILL' }, ctx), /is not a banger VMM/);
      assert.equal(sleeper.exitCode, null, 'still running');
    } finally {
      sleeper.kill('SIGKILL');
    }
    const unknown = await requestAs(0, socket, 'priv.format_disk', {});
    assert.equal(unknown.error?.code, 'unknown_method');
  });
});

test('bangerd --root-helper serves its socket, logs each request with the peer, and removes the socket on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-helper-'));
  const socket = join(dir, 'bangerd-root.sock');
  const child = spawn(process.execPath, [distDaemon, '--root-helper', '--socket', socket, '--owner-uid', String(OWNER), '--roots', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => { log += d; });
  try {
    assert.ok(await waitFor(() => existsSync(socket), 10_000), `socket appears; log: ${log}`);
    assert.ok(Array.isArray(await new RemotePrivilegedOps(socket).listTaps(ctx)));
    assert.match(log, /"msg":"helper request".*"method":"priv.list_taps".*"peer_uid":0/);
    child.kill('SIGTERM');
    assert.ok(await waitFor(() => child.exitCode !== null, 10_000));
    assert.equal(existsSync(socket), false);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
