import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket, { type Packet } from 'dns-packet';
import { answerVmQuery, upstreamsFrom, portOwnerFromSs, isVmName } from './index.js';

const q = (name: string, type = 'A'): Packet =>
  ({ id: 7, type: 'query', flags: 1 << 8, questions: [{ name, type, class: 'IN' }] }) as Packet;
const lookup = (n: string) => (n === 'dev' ? '172.16.0.2' : null);
/** What a client sees: the answer encoded and decoded again. */
const onWire = (p: Packet | null) =>
  dnsPacket.decode(dnsPacket.encode(p!)) as unknown as Packet & { rcode: string; flag_aa: boolean };

test('.vm names of running VMs get A records; unknown ones NXDOMAIN; others are not ours', () => {
  const a = answerVmQuery(q('dev.vm'), lookup)!;
  assert.equal(a.id, 7);
  assert.deepEqual(
    a.answers?.map((x) => (x as { data: string }).data),
    ['172.16.0.2'],
  );
  assert.equal(answerVmQuery(q('DEV.VM.'), lookup)!.answers?.length, 1, 'case-insensitive, trailing dot');
  assert.equal(onWire(answerVmQuery(q('ghost.vm'), lookup)).rcode, 'NXDOMAIN');
  assert.equal(onWire(answerVmQuery(q('a.dev.vm'), lookup)).rcode, 'NXDOMAIN');
  const ok = onWire(answerVmQuery(q('dev.vm'), lookup));
  assert.equal(ok.rcode, 'NOERROR');
  assert.equal(ok.flag_aa, true, 'authoritative');
  const aaaa = onWire(answerVmQuery(q('dev.vm', 'AAAA'), lookup));
  assert.deepEqual(aaaa.answers, [], 'NODATA for other types of an existing name');
  assert.equal(aaaa.rcode, 'NOERROR');
  assert.equal(answerVmQuery(q('debian.org'), lookup), null);
  assert.equal(isVmName('x.vmware.com'), false);
});

test('upstreams skip our own addresses; port owners are read from ss', () => {
  assert.deepEqual(
    upstreamsFrom('# c\nnameserver 172.16.0.1\nnameserver 10.0.0.2\nnameserver ::1\nsearch x\n', ['172.16.0.1']),
    ['10.0.0.2'],
  );
  assert.equal(
    portOwnerFromSs('UNCONN 0 0 127.0.0.1:42069 0.0.0.0:* users:(("dnsmasq",pid=812,fd=4))'),
    'dnsmasq (pid 812)',
  );
  assert.equal(portOwnerFromSs(''), null);
  // ss reports the main thread's name, which Node 24 renames; the executable's name wins when known.
  const node24 = 'UNCONN 0 0 127.0.0.1:42069 0.0.0.0:* users:(("MainThread",pid=9001,fd=21))';
  assert.equal(
    portOwnerFromSs(node24, (pid) => (pid === 9001 ? 'node' : null)),
    'node (pid 9001)',
  );
  assert.equal(
    portOwnerFromSs(node24, () => null),
    'MainThread (pid 9001)',
    "ss's name when nothing better is known",
  );
});
