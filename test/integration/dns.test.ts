/** The .vm DNS server on real UDP sockets: local answers, forwarding to an upstream, SERVFAIL. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import dnsPacket, { type Packet } from 'dns-packet';
import { VmDnsServer } from '../../src/vmdns/index.js';
import { silentLogger } from '../../src/log/index.js';
import { ExecHostRunner } from '../../src/system/index.js';
import { dnsTestPort } from './harness.js';

function query(p: number, name: string, type: 'A' | 'AAAA' = 'A'): Promise<Packet> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`no answer for ${name}`));
    }, 5000);
    s.once('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(dnsPacket.decode(m));
    });
    s.send(
      dnsPacket.encode({
        type: 'query',
        id: 42,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type, name, class: 'IN' }],
      } as Packet),
      p,
      '127.0.0.1',
    );
  });
}

test('answers .vm locally, forwards other names upstream, SERVFAIL when no upstream answers', async () => {
  // A stand-in upstream resolver on loopback that answers every A query with 192.0.2.7.
  const upstream = createSocket('udp4');
  const upstreamPort = dnsTestPort();
  let forwarded = 0;
  upstream.on('message', (m, r) => {
    forwarded++;
    const q = dnsPacket.decode(m);
    upstream.send(
      dnsPacket.encode({
        id: q.id!,
        type: 'response',
        flags: 1 << 7,
        questions: q.questions!,
        answers: [{ type: 'A', name: q.questions![0]!.name, ttl: 60, class: 'IN', data: '192.0.2.7' }],
      } as Packet),
      r.port,
      r.address,
    );
  });
  await new Promise<void>((r) => upstream.bind(upstreamPort, '127.0.0.1', () => r()));
  let upstreams = [`127.0.0.1:${upstreamPort}`];
  const server = new VmDnsServer({
    lookup: (n) => (n === 'dev' ? '172.16.0.9' : null),
    upstreams: () => upstreams,
    log: silentLogger,
    runner: new ExecHostRunner(),
    forwardTimeoutMs: 2_000, // the SERVFAIL case waits it out once
  });
  const p = dnsTestPort();
  await server.listen('127.0.0.1', p);
  try {
    const local = await query(p, 'dev.vm');
    assert.equal(local.id, 42);
    assert.deepEqual(
      local.answers?.map((a) => (a as { data: string }).data),
      ['172.16.0.9'],
    );
    assert.equal(forwarded, 0, '.vm never leaves the daemon');
    assert.equal(((await query(p, 'ghost.vm')) as { rcode?: string }).rcode, 'NXDOMAIN');
    const other = await query(p, 'deb.debian.org');
    assert.deepEqual(
      other.answers?.map((a) => (a as { data: string }).data),
      ['192.0.2.7'],
    );
    assert.equal(forwarded, 1);
    upstreams = ['127.0.0.1:9'];
    assert.equal(((await query(p, 'deb.debian.org')) as { rcode?: string }).rcode, 'SERVFAIL');
    await server.listen('127.0.0.1', p); // idempotent
    assert.deepEqual(server.listening(), [`127.0.0.1:${p}`]);
  } finally {
    await server.close();
    upstream.close();
  }
});
