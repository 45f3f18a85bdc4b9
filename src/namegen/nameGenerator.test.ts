import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateVmName, WORD_LISTS, isValidVmName } from './nameGenerator.js';

test('every adjective-noun pair is a valid, hostname-safe VM name', () => {
  for (const a of WORD_LISTS.adjectives)
    for (const n of WORD_LISTS.nouns) assert.ok(isValidVmName(`${a}-${n}`), `${a}-${n}`);
});

test('generated names avoid taken ones', () => {
  const taken = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const n = generateVmName((x) => taken.has(x));
    assert.ok(!taken.has(n));
    assert.ok(isValidVmName(n));
    taken.add(n);
  }
});

test('when every plain name is taken a numeric suffix keeps it terminating', () => {
  let calls = 0;
  const name = generateVmName(
    (n) => {
      calls++;
      return !/-\d+$/.test(n);
    },
    () => 0,
  );
  assert.equal(name, 'amber-badger-2');
  assert.ok(calls > 64);
});
