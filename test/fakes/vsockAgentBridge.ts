import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { agentBinaryPath } from '../../src/buildinfo/index.js';

/**
 * Firecracker's host side of vsock, for tests: a unix socket that reads `CONNECT <port>\n`,
 * answers `OK <n>\n` and then joins the connection to a real banger-agent run on the host
 * with --stdio. A connection to any other port is closed, as Firecracker does when nothing
 * listens on it in the guest.
 */
export async function serveAgentOverVsock(path: string, agentPort: number): Promise<Server> {
  rmSync(path, { force: true });
  const server = createServer((sock) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      const nl = got.indexOf('\n');
      if (nl < 0) return;
      sock.off('data', onData);
      if (got.slice(0, nl) !== `CONNECT ${agentPort}`) {
        sock.end();
        return;
      }
      const agent = spawn(agentBinaryPath(), ['--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
      sock.write('OK 1073741824\n');
      const rest = got.slice(nl + 1);
      if (rest) agent.stdin!.write(rest);
      sock.pipe(agent.stdin!);
      agent.stdout!.pipe(sock);
      sock.on('close', () => agent.kill());
      sock.on('error', () => agent.kill());
    };
    sock.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(path, () => r()));
  return server;
}
