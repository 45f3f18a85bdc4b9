import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GIB } from '../../../model/index.js';
import { specParams } from './spec.js';

test('specParams: flags within the limits become params', () => {
  assert.deepEqual(specParams({ vcpu: '4', memory: '4G', diskSize: '16G' }), {
    vcpu: 4,
    memoryMib: 4096,
    diskSizeBytes: 16 * GIB,
  });
});

test('specParams: out-of-range flags are usage errors naming the flag and the limit', () => {
  for (const [o, re] of [
    [{ vcpu: '0' }, /^--vcpu: vcpu must be a whole number from 1 to 32 \(got 0\)$/],
    [{ vcpu: '1.5' }, /^--vcpu: vcpu must be a whole number from 1 to 32 \(got 1\.5\)$/],
    [{ vcpu: '1e3' }, /^--vcpu: .*got 1e3/],
    [{ vcpu: '64' }, /from 1 to 32/],
    [{ memory: '64M' }, /^--memory: memory must be a whole number from 128 to 1048576 MiB \(got 64M\)$/],
    [{ memory: '2T' }, /^--memory: .*got 2T/],
    [{ diskSize: '100M' }, /^--disk-size: disk size must be a whole number from 256M to 16T \(got 100M\)$/],
    [{ diskSize: '17T' }, /^--disk-size: /],
    [{ memory: '1e308' }, /is not a size/],
  ] as const) {
    assert.throws(
      () => specParams(o),
      (e: Error & { code?: string }) => {
        assert.match(e.message, re, JSON.stringify(o));
        assert.equal(e.code, 'usage');
        return true;
      },
    );
  }
});
