import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duplicateLocalPort, forwardSpecSchema, parseForwardSpec } from './index.js';

test('forward specs: [LOCAL:]GUEST, LOCAL defaulting to the guest port', () => {
  assert.deepEqual(parseForwardSpec('8080:80'), { spec: { local: 8080, guest: 80 } });
  assert.deepEqual(parseForwardSpec('3000'), { spec: { local: 3000, guest: 3000 } });
  assert.deepEqual(parseForwardSpec('1:65535'), { spec: { local: 1, guest: 65535 } });
  assert.deepEqual(parseForwardSpec('08080:0080'), { spec: { local: 8080, guest: 80 } });
});

test('forward specs: each bad field is named', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /not \[LOCAL:\]GUEST_PORT/],
    ['1:2:3', /not \[LOCAL:\]GUEST_PORT/],
    ['0', /guest port 0 is out of range \(1-65535\)/],
    ['65536', /guest port 65536 is out of range/],
    ['8080:0', /guest port 0 is out of range/],
    ['0:80', /local port 0 is out of range/],
    ['70000:80', /local port 70000 is out of range/],
    ['web:80', /local port "web" is not a port number/],
    ['8080:', /guest port "" is not a port number/],
    [':80', /local port "" is not a port number/],
    ['-1', /guest port "-1" is not a port number/],
    ['8080:8o', /guest port "8o"/],
    ['123456', /guest port "123456" is not a port number/],
    ['80 ', /guest port "80 "/],
  ];
  for (const [text, re] of cases) {
    const r = parseForwardSpec(text);
    assert.ok('problem' in r, `${JSON.stringify(text)} is refused`);
    assert.match(r.problem, re, text);
  }
});

test('forward specs on the wire: whole ports 1-65535, the field named', () => {
  assert.ok(forwardSpecSchema.safeParse({ local: 8080, guest: 80 }).success);
  for (const [bad, re] of [
    [{ local: 0, guest: 80 }, /local port must be 1-65535/],
    [{ local: 80, guest: 65536 }, /guest port must be 1-65535/],
    [{ local: 80.5, guest: 80 }, /local port must be a whole port number/],
    [{ local: 1e308, guest: 80 }, /local port/],
    [{ local: '80', guest: 80 }, /local port must be a port number/],
  ] as const) {
    const r = forwardSpecSchema.safeParse(bad);
    assert.ok(!r.success, JSON.stringify(bad));
    assert.match(r.error.issues[0]!.message, re);
  }
});

test('forward specs: a local port asked for twice is found', () => {
  assert.equal(
    duplicateLocalPort([
      { local: 1, guest: 2 },
      { local: 3, guest: 2 },
    ]),
    null,
  );
  assert.equal(
    duplicateLocalPort([
      { local: 1, guest: 2 },
      { local: 1, guest: 3 },
    ]),
    1,
  );
});
