/**
 * The Firecracker transport: a unix socket that wants `CONNECT <port>\n` and answers
 * `OK <n>\n` before the agent protocol starts. Here a small stand-in of Firecracker's
 * vsock socket (test/fakes/vsockAgentBridge.ts) does the handshake and then pipes the connection to the real agent
 * (`--stdio`), so the client is tested against the real protocol peer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveAgentOverVsock } from '../../test/fakes/vsockAgentBridge.js';
import { AgentError, connectAgent } from './client.js';
import { AGENT_VSOCK_PORT } from './protocol.js';

test('vsock-uds: CONNECT handshake, then the agent protocol; an unknown port is a clear transport error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-vsock-'));
  const path = join(dir, 'v.sock');
  const server = await serveAgentOverVsock(path, AGENT_VSOCK_PORT);
  try {
    const c = await connectAgent({ kind: 'vsock-uds', path, port: AGENT_VSOCK_PORT });
    try {
      assert.equal((await c.health()).transport, 'stdio');
      assert.equal((await c.exec({ argv: ['echo', 'over vsock'] })).stdout, 'over vsock\n');
    } finally {
      c.close();
    }
    await assert.rejects(
      connectAgent({ kind: 'vsock-uds', path, port: 1 }),
      (e: AgentError) => e.code === 'transport' && /handshake/.test(e.message),
    );
    await assert.rejects(
      connectAgent({ kind: 'unix', path: join(dir, 'absent.sock') }),
      (e: AgentError) => e.code === 'transport' && /cannot reach the agent/.test(e.message),
    );
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
