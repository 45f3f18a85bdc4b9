/**
 * The Firecracker transport: a unix socket that wants `CONNECT <port>\n` and answers
 * `OK <n>\n` before the agent protocol starts. Here a small stand-in of Firecracker's
 * vsock socket does the handshake and then pipes the connection to the real agent
 * (`--stdio`), so the client is tested against the real protocol peer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentBinaryPath } from '../buildinfo/index.js';
import { AgentError, connectAgent } from './client.js';
import { AGENT_VSOCK_PORT } from './protocol.js';

async function vsockUds(path: string, listening: number): Promise<Server> {
  const server = createServer((sock) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      const nl = got.indexOf('\n');
      if (nl < 0) return;
      sock.off('data', onData);
      if (got.slice(0, nl) !== `CONNECT ${listening}`) { sock.end(); return; } // Firecracker closes on an unknown port
      const agent = spawn(agentBinaryPath(), ['--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
      sock.write('OK 1073741824\n');
      sock.pipe(agent.stdin!);
      agent.stdout!.pipe(sock);
      sock.on('close', () => agent.kill());
    };
    sock.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(path, () => r()));
  return server;
}

test('vsock-uds: CONNECT handshake, then the agent protocol; an unknown port is a clear transport error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-vsock-'));
  const path = join(dir, 'v.sock');
  const server = await vsockUds(path, AGENT_VSOCK_PORT);
  try {
    const c = await connectAgent({ kind: 'vsock-uds', path, port: AGENT_VSOCK_PORT });
    try {
      assert.equal((await c.health()).transport, 'stdio');
      assert.equal((await c.exec({ argv: ['echo', 'over vsock'] })).stdout, 'over vsock\n');
    } finally {
      c.close();
    }
    await assert.rejects(connectAgent({ kind: 'vsock-uds', path, port: 1 }), (e: AgentError) => e.code === 'transport' && /handshake/.test(e.message));
    await assert.rejects(connectAgent({ kind: 'unix', path: join(dir, 'absent.sock') }), (e: AgentError) => e.code === 'transport' && /cannot reach the agent/.test(e.message));
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
