import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { silentLogger, type Logger } from '../log/index.js';
import { TcpProxy } from './index.js';

/** A stand-in guest service on loopback: answers each connection with the sha256 and length of what it read, after the client's half-close. */
async function hashServer(): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    const h = createHash('sha256');
    let n = 0;
    s.on('data', (d: Buffer) => {
      h.update(d);
      n += d.length;
    });
    s.on('end', () => s.end(`${n} ${h.digest('hex')}`));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

const portOf = (s: Server) => (s.address() as AddressInfo).port;

async function proxyTo(port: number, log: Logger = silentLogger): Promise<{ proxy: TcpProxy; port: number }> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const local = portOf(probe);
  await new Promise((r) => probe.close(r));
  const proxy = await TcpProxy.open({
    listenHost: '127.0.0.1',
    listenPort: local,
    target: { host: '127.0.0.1', port },
    log,
  });
  return { proxy, port: local };
}

function exchange(port: number, payload: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let answer = '';
    c.on('data', (d) => {
      answer += d;
    });
    c.on('end', () => resolve(answer));
    c.on('error', reject);
    c.end(payload); // half-close: the answer comes after
  });
}

test('the proxy carries a large upload and the answer after the client half-closes', async () => {
  const guest = await hashServer();
  const { proxy, port } = await proxyTo(portOf(guest));
  try {
    const payload = randomBytes(24 << 20);
    const want = `${payload.length} ${createHash('sha256').update(payload).digest('hex')}`;
    const answers = await Promise.all([exchange(port, payload), exchange(port, payload.subarray(0, 1000))]);
    assert.equal(answers[0], want);
    assert.equal(answers[1]!.split(' ')[0], '1000');
  } finally {
    await proxy.close();
    guest.close();
  }
});

test('the proxy carries a large download with backpressure: a slow reader gets every byte', async () => {
  const size = 16 << 20;
  const source = createServer((s) => {
    s.on('error', () => {});
    s.end(Buffer.alloc(size, 7));
  });
  await new Promise<void>((r) => source.listen(0, '127.0.0.1', r));
  const { proxy, port } = await proxyTo(portOf(source));
  try {
    const got = await new Promise<number>((resolve, reject) => {
      const c = connect({ host: '127.0.0.1', port });
      let n = 0;
      c.on('data', (d: Buffer) => {
        n += d.length;
        if (n < size / 4) {
          c.pause(); // read the first quarter slowly
          setTimeout(() => c.resume(), 2);
        }
      });
      c.on('end', () => resolve(n));
      c.on('error', reject);
    });
    assert.equal(got, size);
  } finally {
    await proxy.close();
    source.close();
  }
});

test('a guest port nobody listens on: the client is closed and the failure logged; the proxy lives on', async () => {
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = portOf(dead);
  await new Promise((r) => dead.close(r));
  const warnings: string[] = [];
  const log: Logger = { ...silentLogger, warn: (m, f) => warnings.push(`${m} ${JSON.stringify(f)}`), child: () => log };
  const { proxy, port } = await proxyTo(deadPort, log);
  try {
    for (let i = 0; i < 2; i++) {
      const ended = await new Promise<string>((resolve) => {
        const c = connect({ host: '127.0.0.1', port });
        c.on('error', (e) => resolve(`error ${e.message}`));
        c.on('close', () => resolve('closed'));
        c.resume();
      });
      assert.match(ended, /closed|ECONNRESET/);
    }
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /ECONNREFUSED/);
  } finally {
    await proxy.close();
  }
});

test('close drops live connections and frees the port; a busy port is refused at open', async () => {
  const guest = await hashServer();
  const { proxy, port } = await proxyTo(portOf(guest));
  const c: Socket = connect({ host: '127.0.0.1', port });
  await new Promise((r) => c.once('connect', r));
  const closed = new Promise((r) => c.once('close', r));
  c.on('error', () => {});
  await assert.rejects(
    TcpProxy.open({
      listenHost: '127.0.0.1',
      listenPort: port,
      target: { host: '127.0.0.1', port: 1 },
      log: silentLogger,
    }),
    /EADDRINUSE/,
  );
  await proxy.close();
  await closed;
  await proxy.close(); // idempotent
  const again = await TcpProxy.open({
    listenHost: '127.0.0.1',
    listenPort: port,
    target: { host: '127.0.0.1', port: portOf(guest) },
    log: silentLogger,
  });
  assert.equal(await exchange(port, Buffer.from('hi')), `2 ${createHash('sha256').update('hi').digest('hex')}`);
  await again.close();
  guest.close();
});
