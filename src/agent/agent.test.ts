/**
 * The real banger-agent binary (dist/agent/banger-agent, built by scripts/build.mjs) run on
 * the host over a socketpair (Node's 'pipe' stdio is a unix socketpair), driven by the
 * host-side client. It must answer everything, crash on nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { agentBinaryPath } from '../buildinfo/index.js';
import { AgentClient, AgentError } from './client.js';
import { AGENT_PROTOCOL_VERSION } from './protocol.js';

const binary = agentBinaryPath();

function startAgent(): {
  child: ChildProcess;
  client: AgentClient;
  raw: (s: string | Buffer) => void;
  lines: () => string[];
} {
  assert.ok(existsSync(binary), `${binary} is missing: run the build (npm run build)`);
  const child = spawn(binary, ['--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const seen: string[] = [];
  let acc = '';
  child.stdout!.on('data', (c: Buffer) => {
    acc += c.toString('utf8');
    let i: number;
    while ((i = acc.indexOf('\n')) >= 0) {
      seen.push(acc.slice(0, i));
      acc = acc.slice(i + 1);
    }
  });
  // A Duplex over the child's stdin/stdout, as the client would see a socket.
  const duplex = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      child.stdin!.write(chunk, cb);
    },
  });
  child.stdout!.on('data', (c: Buffer) => duplex.push(c));
  child.stdout!.on('end', () => duplex.push(null));
  const client = new AgentClient(duplex as unknown as Socket);
  return { child, client, raw: (s) => child.stdin!.write(s), lines: () => seen };
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.stdin!.end();
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

test('health reports boot_id, uptime, hostname, version and protocol', async () => {
  const a = startAgent();
  try {
    const h = await a.client.health();
    assert.match(h.boot_id, /^[0-9a-f-]{36}$/);
    assert.ok(h.uptime_s > 0);
    assert.equal(typeof h.hostname, 'string');
    assert.equal(h.protocol, AGENT_PROTOCOL_VERSION);
    assert.equal(h.transport, 'stdio');
    assert.ok(h.agent_version.length > 0);
  } finally {
    assert.equal(await stop(a.child), 0);
  }
});

test('exec returns exit status, stdout and stderr, honours cwd and env, and bounds the output', async () => {
  const a = startAgent();
  try {
    const r = await a.client.exec({
      argv: ['sh', '-c', 'pwd; echo "$GREETING"; echo oops >&2; exit 3'],
      cwd: '/tmp',
      env: { GREETING: 'hello there' },
    });
    assert.equal(r.exit_code, 3);
    assert.equal(r.stdout, '/tmp\nhello there\n');
    assert.equal(r.stderr, 'oops\n');
    const big = await a.client.exec({ argv: ['sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" a'], max_output: 1000 });
    assert.equal(big.stdout.length, 1000);
    assert.equal(big.stdout_truncated, true);
    const stdin = await a.client.exec({ argv: ['cat'], stdin: 'piped in\n' });
    assert.equal(stdin.stdout, 'piped in\n');
    const slow = await a.client.exec({ argv: ['sleep', '10'], timeout_ms: 200 });
    assert.equal(slow.timed_out, true);
    assert.equal(slow.signal, 9);
    // A command that leaves a background child holding its stdout still completes.
    const bg = await a.client.exec({ argv: ['sh', '-c', 'sleep 30 >/dev/null 2>&1 & echo started'] }, 5_000);
    assert.equal(bg.stdout, 'started\n');
    // Binary output stays valid JSON (invalid UTF-8 becomes U+FFFD).
    const bin = await a.client.exec({ argv: ['printf', '\\377\\000ok'] });
    assert.equal(bin.stdout, '\ufffd\u0000ok');
    await assert.rejects(
      a.client.exec({ argv: ['/no/such/program'] }),
      (e: AgentError) => e.code === 'exec_failed' && /No such file/.test(e.message),
    );
    await assert.rejects(
      a.client.exec({ argv: ['true'], cwd: '/no/such/dir' }),
      (e: AgentError) => e.code === 'exec_failed' && /cannot change to \/no\/such\/dir/.test(e.message),
    );
    await assert.rejects(a.client.exec({ argv: [] }), (e: AgentError) => e.code === 'bad_request');
  } finally {
    assert.equal(await stop(a.child), 0);
  }
});

test('ports lists a TCP listener of this process with its pid and name', async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  const a = startAgent();
  try {
    const listeners = await a.client.ports();
    const mine = listeners.find((l) => l.port === port);
    assert.ok(mine, `port ${port} listed among ${JSON.stringify(listeners)}`);
    assert.equal(mine.proto, 'tcp');
    assert.equal(mine.address, '127.0.0.1');
    assert.equal(mine.pid, process.pid);
    assert.equal(mine.process, 'node');
  } finally {
    server.close();
    await stop(a.child);
  }
});

test('shutdown refuses outside a banger guest (the host is never powered off)', async () => {
  const a = startAgent();
  try {
    await assert.rejects(a.client.shutdown(), (e: AgentError) => e.code === 'unsupported');
  } finally {
    await stop(a.child);
  }
});

test('malformed, unknown, oversized and wrong-version requests get error replies', async () => {
  const a = startAgent();
  try {
    a.raw('this is not json\n');
    a.raw('[1,2,3]\n');
    a.raw('{"v":1,"method":"health"}\n');
    a.raw('{"v":99,"id":5,"method":"health"}\n');
    a.raw('{"v":1,"id":6,"method":"reboot-the-world"}\n');
    a.raw(`${'{"v":1,"id":7,"pad":"'}${'x'.repeat(1024 * 1024 + 10)}"}\n`);
    a.raw('{"v":1,"id":8,"method":"health"}\n');
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (a.lines().some((l) => l.includes('"id":8'))) {
          clearInterval(t);
          resolve();
        }
      }, 20);
      setTimeout(() => {
        clearInterval(t);
        reject(new Error(`no answer to id 8; got ${a.lines().join('\n')}`));
      }, 5000);
    });
    const replies = a.lines().map((l) => JSON.parse(l) as { id: unknown; ok: boolean; error?: { code: string } });
    assert.deepEqual(
      replies.map((r) => (r.ok ? 'ok' : r.error!.code)),
      ['parse_error', 'bad_request', 'bad_request', 'bad_version', 'unknown_method', 'too_large', 'ok'],
    );
    assert.equal(replies[3]!.id, 5);
    assert.equal(replies[4]!.id, 6);
  } finally {
    assert.equal(await stop(a.child), 0);
  }
});

test('fuzz: random bytes and truncated requests never crash it, and it still answers afterwards', async () => {
  const a = startAgent();
  const valid = [
    '{"v":1,"id":1,"method":"health"}',
    '{"v":1,"id":"s","method":"exec","params":{"argv":["true"],"env":{"A":"b"},"cwd":"/"}}',
    '{"v":1,"id":2,"method":"ports","params":{}}',
    '{"v":1,"id":3,"method":"exec","params":{"argv":["echo","\\u00e9\\ud83d\\ude00"],"timeout_ms":1000}}',
  ];
  try {
    let sent = 0;
    for (let round = 0; round < 400; round++) {
      const pick = valid[round % valid.length]!;
      const kind = round % 4;
      let line: Buffer;
      if (kind === 0)
        line = randomBytes(1 + ((round * 37) % 300)); // noise (may hold newlines)
      else if (kind === 1)
        line = Buffer.from(pick.slice(0, (round * 13) % pick.length)); // truncated
      else if (kind === 2) {
        // one byte flipped
        const b = Buffer.from(pick);
        b[(round * 7) % b.length] = randomBytes(1)[0]!;
        line = b;
      } else line = Buffer.from(`${'['.repeat(50 + round)}${']'.repeat(10)}`); // deep nesting
      a.raw(Buffer.concat([line, Buffer.from('\n')]));
      sent++;
    }
    assert.ok(sent > 0);
    const h = await a.client.health(10_000);
    assert.equal(h.protocol, AGENT_PROTOCOL_VERSION);
    assert.equal(a.child.exitCode, null, 'still running');
    for (const l of a.lines())
      assert.doesNotThrow(() => JSON.parse(l), `every reply is valid JSON: ${l.slice(0, 200)}`);
  } finally {
    assert.equal(await stop(a.child), 0);
  }
});

test('the C agent, the host client and docs/reference/agent.md agree on protocol version, vsock port and port name', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { AGENT_SERIAL_PORT_NAME, AGENT_VSOCK_PORT } = await import('./protocol.js');
  const root = join(binary, '..', '..', '..');
  const c = ['main.c', 'agent.h'].map((f) => readFileSync(join(root, 'agent', f), 'utf8')).join('\n');
  assert.match(c, new RegExp(`#define PROTOCOL_VERSION ${AGENT_PROTOCOL_VERSION}\\b`));
  assert.match(c, new RegExp(`#define AGENT_VSOCK_PORT ${AGENT_VSOCK_PORT}\\b`));
  assert.match(c, new RegExp(`#define SERIAL_PORT_NAME "${AGENT_SERIAL_PORT_NAME}"`));
  const doc = readFileSync(join(root, 'docs', 'reference', 'agent.md'), 'utf8');
  assert.match(doc, new RegExp(`# Guest agent protocol \\(version ${AGENT_PROTOCOL_VERSION}\\)`));
  assert.match(doc, new RegExp(`port \\*\\*${AGENT_VSOCK_PORT}\\*\\*`));
  assert.match(doc, new RegExp(`\`${AGENT_SERIAL_PORT_NAME.replace('.', '\\.')}\``));
});
