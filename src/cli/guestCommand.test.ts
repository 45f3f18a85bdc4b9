import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BangerError, commandExitStatus, EXIT_CODES, exitCodeOf, exitReasonOf } from '../model/index.js';
import { decodeClientMessage, DaemonUnreachableError } from '../rpc/index.js';
import { exitCodeFor } from './commands/verb.js';
import { checkGuestPath } from './commands/vm/exec.js';
import { formatUptime } from './commands/vm/health.js';
import { asTransportLoss } from './guestCommand.js';

test("a guest command's end maps to the process status as a shell reports it", () => {
  assert.equal(commandExitStatus({ exitCode: 0, signal: 0 }), 0);
  assert.equal(commandExitStatus({ exitCode: 7, signal: 0 }), 7);
  assert.equal(commandExitStatus({ exitCode: 255, signal: 0 }), 255);
  assert.equal(commandExitStatus({ exitCode: -1, signal: 2 }), 130);
  assert.equal(commandExitStatus({ exitCode: -1, signal: 9 }), 137);
  assert.equal(commandExitStatus({ exitCode: -1, signal: 15 }), 143);
  assert.equal(exitCodeFor({ guestStatus: commandExitStatus({ exitCode: 42, signal: 0 }) }), 42);
});

test("transport_failed has its own exit code: not 255, not 128+N, not another reason's", () => {
  const code = exitCodeOf(exitReasonOf('transport_failed'));
  assert.equal(code, 125);
  assert.notEqual(code, 255);
  assert.ok(code < 128);
  const codes = Object.values(EXIT_CODES).map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length, 'every exit code is used once');
});

test('a closed daemon connection under a running command is transport_failed; an unreachable daemon stays itself', () => {
  const closed = new BangerError('daemon_unavailable', 'bangerd closed the connection before answering vm.exec');
  const lost = asTransportLoss(closed, 'dev', true) as BangerError;
  assert.equal(lost.code, 'transport_failed');
  assert.match(lost.message, /VM dev: lost the connection to bangerd.*did not complete/);
  assert.equal(asTransportLoss(closed, 'dev', false), closed, 'not connected yet: nothing ran');
  const unreachable = new DaemonUnreachableError('/run/x.sock', 'no socket');
  assert.equal(asTransportLoss(unreachable, 'dev', true), unreachable);
  const other = new BangerError('not_found', 'no VM named "dev"');
  assert.equal(asTransportLoss(other, 'dev', true), other);
});

test('client input lines: stdin and the forwarded signals, nothing else', () => {
  assert.deepEqual(decodeClientMessage('{"type":"stdin","data":"aGkK"}'), { type: 'stdin', data: 'aGkK' });
  assert.deepEqual(decodeClientMessage('{"type":"stdin","eof":true}'), { type: 'stdin', eof: true });
  assert.deepEqual(decodeClientMessage('{"type":"signal","signal":"INT"}'), { type: 'signal', signal: 'INT' });
  assert.equal(decodeClientMessage('{"type":"signal","signal":"STOP"}'), null);
  assert.equal(decodeClientMessage('{"type":"signal","signal":"toString"}'), null);
  assert.equal(decodeClientMessage('{"type":"stdin","data":5}'), null);
  assert.equal(decodeClientMessage('{"type":"stdin","eof":"yes"}'), null);
  assert.equal(decodeClientMessage('{"type":"resize"}'), null);
  assert.equal(decodeClientMessage('not json'), null);
  assert.equal(decodeClientMessage('null'), null);
});

test('--guest-path must be absolute; the error names the flag and what was given', () => {
  assert.equal(checkGuestPath('/var/log'), '/var/log');
  assert.throws(
    () => checkGuestPath('var/log'),
    (e: BangerError) => e.code === 'usage' && /--guest-path must be an absolute path.*"var\/log"/.test(e.message),
  );
  assert.throws(() => checkGuestPath('/a\0b'), /--guest-path/);
  assert.throws(() => checkGuestPath(''), /--guest-path/);
});

test('uptime reads as seconds, minutes, hours or days', () => {
  assert.equal(formatUptime(42.7), '42s');
  assert.equal(formatUptime(312), '5m12s');
  assert.equal(formatUptime(3 * 3600 + 4 * 60), '3h04m');
  assert.equal(formatUptime(2 * 86_400 + 3 * 3600), '2d03h');
});
