import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateGuestIp, macForVm, tapNameForVm } from './index.js';

test('lowest free address skips network, bridge and taken ones; full networks are refused', () => {
  assert.equal(allocateGuestIp('172.16.0.1', 24, new Set()), '172.16.0.2');
  assert.equal(allocateGuestIp('172.16.0.1', 24, new Set(['172.16.0.2', '172.16.0.4'])), '172.16.0.3');
  assert.equal(allocateGuestIp('10.0.0.5', 29, new Set(['10.0.0.1'])), '10.0.0.2');
  const all = new Set(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.6']);
  assert.throws(() => allocateGuestIp('10.0.0.5', 29, all), /no free address left in 10\.0\.0\.0\/29/);
});

test('mac and tap names derive from the VM id', () => {
  assert.equal(macForVm('abcd1234'), '52:54:ab:cd:12:34');
  assert.equal(tapNameForVm('abcd1234'), 'tap-fc-abcd1234');
  assert.ok(tapNameForVm('ffffffff').length <= 15);
});
