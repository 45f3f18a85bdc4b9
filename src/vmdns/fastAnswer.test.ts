import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket, { type Packet } from 'dns-packet';
import { answerVmQuery } from './answer.js';
import { fastVmAnswer } from './fastAnswer.js';

const lookup = (n: string) => (n === 'dev' ? '172.16.0.9' : null);
const query = (name: string, type: string, extra: Partial<Packet> = {}) =>
  dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    ...extra,
  } as Packet);

test('the fast path answers exactly as the general one for the .vm zone', () => {
  for (const [name, type] of [
    ['dev.vm', 'A'],
    ['DEV.Vm', 'A'],
    ['dev.vm', 'ANY'],
    ['dev.vm', 'AAAA'],
    ['ghost.vm', 'A'],
    ['a.dev.vm', 'A'],
    ['vm', 'A'],
  ] as const) {
    const msg = query(name, type);
    const fast = fastVmAnswer(msg, lookup);
    assert.ok(fast, `${name} ${type} takes the fast path`);
    const got = dnsPacket.decode(fast);
    const want = answerVmQuery(dnsPacket.decode(msg), lookup)!;
    assert.equal(got.id, 4242);
    assert.equal(got.flags, want.flags, `${name} ${type}: flags`);
    assert.deepEqual(got.questions, want.questions);
    assert.deepEqual(
      (got.answers ?? []).map((a) => [a.type, a.name, (a as { data: unknown }).data, (a as { ttl?: number }).ttl]),
      (want.answers ?? []).map((a) => [a.type, a.name, (a as { data: unknown }).data, (a as { ttl?: number }).ttl]),
      `${name} ${type}: answers`,
    );
  }
});

test('everything else is left to the general path', () => {
  assert.equal(fastVmAnswer(query('example.com', 'A'), lookup), null, 'other zones are forwarded');
  assert.equal(
    fastVmAnswer(
      dnsPacket.encode({ type: 'response', id: 1, questions: [{ type: 'A', name: 'dev.vm' }] } as Packet),
      lookup,
    ),
    null,
  );
  assert.equal(fastVmAnswer(Buffer.from('garbage that is not dns'), lookup), null);
  assert.equal(fastVmAnswer(query('dev.vm', 'A').subarray(0, 20), lookup), null, 'truncated');
  const withOpt = query('dev.vm', 'A', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as never] });
  assert.equal(
    dnsPacket.decode(fastVmAnswer(withOpt, lookup)!).answers?.[0]?.type,
    'A',
    'an EDNS query (as dig sends) is answered',
  );
});
