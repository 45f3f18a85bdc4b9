import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkError } from './errors.js';
import { httpGet } from './http.js';
import { BLOCKED_CODE, guardedLookup, isBlockedAddress } from './netGuard.js';
import { parseImageRef } from './ref.js';

test('isBlockedAddress: loopback, unspecified and link-local by IP, in every spelling', () => {
  for (const a of [
    '127.0.0.1',
    '127.255.0.9',
    '0.0.0.0',
    '0.1.2.3',
    '169.254.169.254',
    '::',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
    '[::ffff:7f00:1]',
    '::ffff:0.0.0.0',
    '::ffff:169.254.169.254',
    'fe80::1',
    'febf::1',
  ])
    assert.equal(isBlockedAddress(a), true, a);
  for (const a of ['10.0.0.1', '192.168.1.1', '8.8.8.8', '128.0.0.1', '2001:db8::1', '::ffff:8.8.8.8', 'fec0::1'])
    assert.equal(isBlockedAddress(a), false, a);
  // Names are not addresses: they are checked when resolved (guardedLookup).
  assert.equal(isBlockedAddress('localhost'), false);
  // WHATWG URL parsing normalizes the odd IPv4 spellings to dotted quads first.
  for (const h of ['127.1', '0x7f000001', '2130706433', '0'])
    assert.equal(isBlockedAddress(new URL(`http://${h}/`).hostname), true, h);
});

test('guardedLookup: a name resolving to loopback is refused, with every address checked', async () => {
  const lookup = (all: boolean) =>
    new Promise<unknown>((resolve, reject) =>
      guardedLookup('localhost', { all }, (err, addr) => (err ? reject(err) : resolve(addr))),
    );
  for (const all of [false, true])
    await assert.rejects(
      lookup(all),
      (e: NodeJS.ErrnoException) => e.code === BLOCKED_CODE && /localhost/.test(e.message),
    );
});

test('httpGet with guard: no connection to a loopback listener by literal or by name; without guard it connects', async () => {
  let hits = 0;
  const srv = createServer((_req, res) => {
    hits++;
    res.end('ok');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  const ref = parseImageRef('registry.example/team/app:1')!;
  try {
    for (const host of ['127.0.0.1', '127.1', '[::ffff:127.0.0.1]', 'localhost'])
      await assert.rejects(httpGet(new URL(`http://${host}:${port}/x`), { headers: {}, guard: true }), (e: unknown) => {
        const be = networkError(ref, host, e);
        assert.equal(be.code, 'operation_failed');
        assert.match(be.message, /refusing to follow registry\.example/);
        return true;
      });
    assert.equal(hits, 0);
    const res = await httpGet(new URL(`http://127.0.0.1:${port}/x`), { headers: {} });
    res.resume();
    assert.equal(res.statusCode, 200);
    assert.equal(hits, 1);
  } finally {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  }
});
