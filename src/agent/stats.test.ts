/**
 * The agent's `stats` method: the real banger-agent binary over stdio (as agent.test.ts runs
 * it), once against a fixture /proc (`--proc`) whose numbers are known exactly, once
 * against the host's own /proc with TCP connections this test opens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { networkInterfaces, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { agentBinaryPath } from '../buildinfo/index.js';
import { AgentClient } from './client.js';

/** Runs `fn` with a client of a fresh `banger-agent --stdio` (extra args appended), then ends it. */
async function withStdioAgent<T>(args: string[], fn: (c: AgentClient) => Promise<T>): Promise<T> {
  const binary = agentBinaryPath();
  assert.ok(existsSync(binary), `${binary} is missing: run the build (npm run build)`);
  const child = spawn(binary, ['--stdio', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const duplex = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      child.stdin.write(chunk, cb);
    },
  });
  child.stdout.on('data', (c: Buffer) => duplex.push(c));
  child.stdout.on('end', () => duplex.push(null));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    return await fn(new AgentClient(duplex as unknown as Socket));
  } finally {
    child.stdin.end();
    assert.equal(await exited, 0);
  }
}

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const tcpLine = (sl: number, local: string, remote: string, st: string) =>
  `   ${sl}: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 ${1000 + sl} 1 0000000000000000 100 0 0 10 0\n`;
const V6_ANY = '00000000000000000000000000000000';
const V6_PEER = '0000000000000000FFFF00000102000A';
const V6_LOOP = '00000000000000000000000001000000';
const V6_MAPPED_LOOP = '0000000000000000FFFF00000100007F';

test('stats reads memory, uptime, load and ESTABLISHED connections from outside the guest, from the given /proc', async () => {
  const proc = mkdtempSync(join(tmpdir(), 'banger-agent-proc-'));
  try {
    mkdirSync(join(proc, 'net'));
    writeFileSync(
      join(proc, 'meminfo'),
      'MemTotal:        2048000 kB\nMemFree:          100000 kB\nMemAvailable:    1536000 kB\nBuffers:   1 kB\n',
    );
    writeFileSync(join(proc, 'uptime'), '1234.56 2000.00\n');
    writeFileSync(join(proc, 'loadavg'), '0.25 0.50 1.75 2/123 4567\n');
    writeFileSync(
      join(proc, 'net', 'tcp'),
      TCP_HEADER +
        tcpLine(0, '00000000:0016', '00000000:0000', '0A') + // sshd listens on 22
        tcpLine(1, '0F02000A:0016', '0102000A:C350', '01') + // an ssh session into the guest
        tcpLine(2, '0F02000A:D431', '08080808:0050', '01') + // the guest's own connection out to port 80
        tcpLine(3, '0100007F:1F90', '00000000:0000', '0A') + // a listener on 127.0.0.1:8080
        tcpLine(5, '0100007F:1F90', '0100007F:A000', '01') + // a guest process connected to it: not from outside
        tcpLine(4, '0F02000A:0016', '0102000A:C351', '06'), // a closed ssh session in TIME_WAIT
    );
    writeFileSync(
      join(proc, 'net', 'tcp6'),
      TCP_HEADER +
        tcpLine(0, `${V6_ANY}:1F91`, `${V6_ANY}:0000`, '0A') + // listens on [::]:8081
        tcpLine(1, `${V6_PEER}:1F91`, `${V6_PEER}:9C40`, '01') + // a client connected to 8081
        tcpLine(2, `${V6_LOOP}:1F91`, `${V6_LOOP}:9C41`, '01') + // ::1 to itself: not counted
        tcpLine(3, `${V6_MAPPED_LOOP}:1F91`, `${V6_MAPPED_LOOP}:9C42`, '01'), // ::ffff:127.0.0.1: not counted
    );
    const s = await withStdioAgent(['--proc', proc], (c) => c.stats());
    assert.deepEqual(s, {
      mem_total_bytes: 2048000 * 1024,
      mem_available_bytes: 1536000 * 1024,
      mem_used_bytes: 512000 * 1024,
      uptime_s: 1234.56,
      load: [0.25, 0.5, 1.75],
      tcp_established_in: 2,
      tcp_established_in_ports: [22, 8081],
    });
  } finally {
    rmSync(proc, { recursive: true, force: true });
  }
});

test('stats on a /proc without the files answers zeros instead of failing', async () => {
  const proc = mkdtempSync(join(tmpdir(), 'banger-agent-proc-'));
  try {
    const s = await withStdioAgent(['--proc', proc], (c) => c.stats());
    assert.equal(s.mem_total_bytes, 0);
    assert.equal(s.tcp_established_in, 0);
    assert.deepEqual(s.load, [0, 0, 0]);
  } finally {
    rmSync(proc, { recursive: true, force: true });
  }
});

/** A listener on `address` with `n` clients connected to it; `close` ends them all. */
async function connected(address: string, n: number): Promise<{ port: number; close: () => void }> {
  const server = createServer((s) => s.on('error', () => {})).listen(0, address);
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  const clients: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const c = connect(port, address);
    await new Promise((r) => c.once('connect', r));
    clients.push(c);
  }
  return {
    port,
    close: () => {
      for (const c of clients) c.destroy();
      server.close();
    },
  };
}

test("stats on the host's /proc: MemTotal as Node reads it; connections from another address count, loopback ones do not", async () => {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  assert.ok(external, 'this host has a non-loopback IPv4 address');
  const outside = await connected(external, 3);
  const local = await connected('127.0.0.1', 2);
  try {
    const s = await withStdioAgent([], (c) => c.stats());
    assert.equal(s.mem_total_bytes, totalmem());
    assert.ok(s.mem_available_bytes > 0 && s.mem_available_bytes <= s.mem_total_bytes);
    assert.equal(s.mem_used_bytes, s.mem_total_bytes - s.mem_available_bytes);
    assert.ok(s.uptime_s > 0);
    // The three accepted sockets are inbound (local port = the listener's); the clients' ends are not.
    assert.ok(s.tcp_established_in >= 3, `at least 3 inbound, got ${s.tcp_established_in}`);
    assert.ok(s.tcp_established_in_ports.includes(outside.port), `${outside.port} in ${s.tcp_established_in_ports}`);
    assert.ok(
      !s.tcp_established_in_ports.includes(local.port),
      `loopback ${local.port} not in ${s.tcp_established_in_ports}`,
    );
  } finally {
    outside.close();
    local.close();
  }
});
