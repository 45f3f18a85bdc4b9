import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { JsonLogger } from './index.js';

test('json lines carry op_id from children and respect the level', () => {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c) => chunks.push(String(c)));
  const log = new JsonLogger(out, 'info', { op_id: 'op-daemon' }, () => new Date(0));
  log.debug('hidden');
  log.info('started', { pid: 1 });
  log.child({ op_id: 'op-123' }).warn('slow', { err: new Error('boom') });
  const lines = chunks
    .join('')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines, [
    { ts: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'started', op_id: 'op-daemon', pid: 1 },
    { ts: '1970-01-01T00:00:00.000Z', level: 'warn', msg: 'slow', op_id: 'op-123', err: 'boom' },
  ]);
});
