/**
 * The shared agent connection (hub.ts) against the real banger-agent behind a unix socket
 * that, like QEMU's serial chardev, serves one client at a time: requests from several
 * callers share it (a streamed command does not lock the others out), and a connection that
 * closes is replaced on the next use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentBinaryPath } from '../buildinfo/index.js';
import { AgentHub, withAgent } from './hub.js';

/** One client at a time: a second connection waits, unanswered, until the first closes (as QEMU's chardev). */
async function serialLikeAgent(
  path: string,
): Promise<{ server: Server; agents: ChildProcess[]; accepted: () => number }> {
  const agents: ChildProcess[] = [];
  let busy = false;
  let accepted = 0;
  const waiting: Socket[] = [];
  const serve = (sock: Socket) => {
    busy = true;
    accepted++;
    const agent = spawn(agentBinaryPath(), ['--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
    agents.push(agent);
    sock.pipe(agent.stdin!);
    agent.stdout!.pipe(sock);
    sock.on('error', () => {});
    sock.on('close', () => {
      agent.kill('SIGKILL');
      busy = false;
      const next = waiting.shift();
      if (next) serve(next);
    });
  };
  const server = createServer((sock) => (busy ? waiting.push(sock) : serve(sock)));
  await new Promise<void>((r) => server.listen(path, r));
  return { server, agents, accepted: () => accepted };
}

test('one shared connection serves a streaming command and other requests at once, and is replaced once closed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-hub-'));
  const path = join(dir, 'agent.sock');
  const guest = await serialLikeAgent(path);
  const hub = new AgentHub();
  const endpoint = { kind: 'unix' as const, path };
  try {
    const c = await hub.client(endpoint);
    const run = c.execStream({ argv: ['sleep', '1'] }, () => {});
    // While it runs, other callers get answers on the same connection.
    const [h, ports] = await Promise.all([
      hub.use(endpoint, (x) => x.health(3_000)),
      hub.use(endpoint, (x) => x.ports(3_000)),
    ]);
    assert.ok(h.pid > 0);
    assert.ok(Array.isArray(ports));
    assert.equal((await run.done).exit_code, 0);
    assert.equal(guest.accepted(), 1, 'one connection for all of it');
    assert.equal(await hub.client(endpoint), c);
    // The guest side goes away: the next use connects again.
    for (const a of guest.agents) a.kill('SIGKILL');
    for (let i = 0; i < 500 && !c.closed; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(c.closed, true);
    assert.ok((await hub.use(endpoint, (x) => x.health(3_000))).pid > 0);
    assert.equal(guest.accepted(), 2);
    hub.drop(endpoint);
  } finally {
    for (const a of guest.agents) a.kill('SIGKILL');
    guest.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('withAgent on a serial port uses the shared connection (a second client would wait for ever)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-hub-'));
  const path = join(dir, 'agent.sock');
  const guest = await serialLikeAgent(path);
  const endpoint = { kind: 'unix' as const, path };
  try {
    const first = await withAgent(endpoint, (c) => c.health(3_000));
    const second = await withAgent(endpoint, (c) => c.health(3_000));
    assert.equal(first.pid, second.pid, 'the same agent answered both');
    assert.equal(guest.accepted(), 1);
  } finally {
    for (const a of guest.agents) a.kill('SIGKILL');
    guest.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
