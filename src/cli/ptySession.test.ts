import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClientMessage, METHODS } from '../rpc/index.js';
import { guestTerm, terminalSize } from './ptySession.js';

test('terminalSize takes the local terminal when it has one, else 24x80', () => {
  assert.deepEqual(terminalSize({ rows: 50, columns: 132 }), { rows: 50, cols: 132 });
  assert.deepEqual(terminalSize({}), { rows: 24, cols: 80 });
  assert.deepEqual(terminalSize({ rows: 0, columns: 0 }), { rows: 24, cols: 80 });
  assert.deepEqual(terminalSize({ rows: 1e9, columns: 80.5 }), { rows: 24, cols: 80 });
});

test('guestTerm passes a plain TERM on and falls back to xterm', () => {
  assert.equal(guestTerm('xterm-256color'), 'xterm-256color');
  assert.equal(guestTerm('screen.linux'), 'screen.linux');
  assert.equal(guestTerm(undefined), 'xterm');
  assert.equal(guestTerm(''), 'xterm');
  assert.equal(guestTerm('x; rm -rf /'), 'xterm');
});

test('resize lines decode with sizes the agent takes, and nothing else', () => {
  assert.deepEqual(decodeClientMessage('{"type":"resize","rows":40,"cols":120}'), {
    type: 'resize',
    rows: 40,
    cols: 120,
  });
  for (const bad of [
    '{"type":"resize","rows":0,"cols":120}',
    '{"type":"resize","rows":40}',
    '{"type":"resize","rows":"40","cols":120}',
    '{"type":"resize","rows":40.5,"cols":120}',
    '{"type":"resize","rows":40,"cols":10001}',
  ])
    assert.equal(decodeClientMessage(bad), null, bad);
});

test('vm.exec takes a tty, and an empty argv only with one (the default shell)', () => {
  const params = METHODS['vm.exec'].params;
  const tty = { rows: 24, cols: 80, term: 'xterm' };
  assert.equal(params.safeParse({ name: 'a', argv: [], tty }).success, true);
  assert.equal(params.safeParse({ name: 'a', argv: ['sh'], tty }).success, true);
  assert.equal(params.safeParse({ name: 'a', argv: [] }).success, false);
  assert.equal(params.safeParse({ name: 'a', argv: ['sh'], tty: { rows: 0, cols: 80 } }).success, false);
  assert.equal(params.safeParse({ name: 'a', argv: ['sh'], tty: { rows: 24, cols: 80, term: 'a b' } }).success, false);
});
