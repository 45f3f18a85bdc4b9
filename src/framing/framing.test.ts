import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { LineEndedError, LineSplitter, LineTooLongError, readLine } from './lineFraming.js';

function collect(max: number): { s: LineSplitter; lines: string[]; overflows: LineTooLongError[] } {
  const lines: string[] = [];
  const overflows: LineTooLongError[] = [];
  return {
    s: new LineSplitter(
      max,
      (l) => lines.push(l),
      (e) => overflows.push(e),
    ),
    lines,
    overflows,
  };
}

test('lines split across chunks, several lines in one chunk, empty lines', () => {
  const c = collect(100);
  c.s.push(Buffer.from('{"a":'));
  c.s.push(Buffer.from('1}\n{"b":2}\n\n{"c"'));
  assert.deepEqual(c.lines, ['{"a":1}', '{"b":2}', '']);
  assert.equal(c.s.pendingBytes, 4);
  c.s.push(Buffer.from(':3}\n'));
  assert.deepEqual(c.lines, ['{"a":1}', '{"b":2}', '', '{"c":3}']);
  assert.equal(c.s.pendingBytes, 0);
  assert.equal(c.overflows.length, 0);
});

test('a multi-byte character split across chunks is decoded whole', () => {
  const c = collect(100);
  const bytes = Buffer.from('héllo → 🦡\n', 'utf8');
  // Every split point, including inside the 2-, 3- and 4-byte sequences.
  for (let cut = 1; cut < bytes.length; cut++) {
    c.s.push(bytes.subarray(0, cut));
    c.s.push(bytes.subarray(cut));
  }
  assert.equal(c.lines.length, bytes.length - 1);
  for (const l of c.lines) assert.equal(l, 'héllo → 🦡');
  // One byte at a time.
  const one = collect(100);
  for (const b of bytes) one.s.push(Buffer.from([b]));
  assert.deepEqual(one.lines, ['héllo → 🦡']);
});

test('the cap counts bytes: a line of exactly the cap passes, one byte more overflows once and stops the splitter', () => {
  const c = collect(4);
  c.s.push(Buffer.from('abcd\n'));
  c.s.push(Buffer.from('éé\n')); // 4 bytes, 2 characters
  assert.deepEqual(c.lines, ['abcd', 'éé']);
  c.s.push(Buffer.from('abc'));
  c.s.push(Buffer.from('de'));
  assert.equal(c.overflows.length, 1);
  assert.match(c.overflows[0]!.message, /longer than 4 bytes/);
  c.s.push(Buffer.from('\nok\n'));
  assert.deepEqual(c.lines, ['abcd', 'éé'], 'nothing after an overflow');
  assert.equal(c.overflows.length, 1);
});

test('a complete line over the cap in one chunk overflows; the lines before it are delivered', () => {
  const c = collect(4);
  c.s.push(Buffer.from('ok\ntoolong\nafter\n'));
  assert.deepEqual(c.lines, ['ok']);
  assert.equal(c.overflows.length, 1);
});

test('bytes after the last newline are not a line', () => {
  const c = collect(100);
  c.s.push(Buffer.from('one\ntwo'));
  assert.deepEqual(c.lines, ['one']);
  assert.equal(c.s.pendingBytes, 3);
});

class FakeSocket extends EventEmitter {}

test('readLine: the first line across chunks, with the bytes after it, and no listeners left', async () => {
  const s = new FakeSocket();
  const p = readLine(s as never, 64);
  s.emit('data', Buffer.from('OK 10'));
  s.emit('data', Buffer.from([0x37, 0x0a, 0xc3])); // '7\n' then the first byte of 'é'
  const { line, rest } = await p;
  assert.equal(line, 'OK 107');
  assert.deepEqual([...rest], [0xc3]);
  assert.equal(s.listenerCount('data') + s.listenerCount('end') + s.listenerCount('close'), 0);
});

test('readLine: a multi-byte character split across chunks', async () => {
  const s = new FakeSocket();
  const p = readLine(s as never, 64);
  const bytes = Buffer.from('🦡\n', 'utf8');
  s.emit('data', bytes.subarray(0, 2));
  s.emit('data', bytes.subarray(2));
  assert.equal((await p).line, '🦡');
});

test('readLine: over the cap, with or without a newline', async () => {
  const s = new FakeSocket();
  const p = readLine(s as never, 4);
  s.emit('data', Buffer.from('abc'));
  s.emit('data', Buffer.from('de'));
  await assert.rejects(p, (e) => e instanceof LineTooLongError && e.reason === 'too-long');
  const t = new FakeSocket();
  const q = readLine(t as never, 4);
  t.emit('data', Buffer.from('abcde\n'));
  await assert.rejects(q, LineTooLongError);
  const u = new FakeSocket();
  const r = readLine(u as never, 4);
  u.emit('data', Buffer.from('abcd\n'));
  assert.equal((await r).line, 'abcd');
});

test('readLine: the stream ends or closes without a newline', async () => {
  for (const event of ['end', 'close']) {
    const s = new FakeSocket();
    const p = readLine(s as never, 64);
    s.emit('data', Buffer.from('partial'));
    s.emit(event);
    await assert.rejects(p, (e) => e instanceof LineEndedError && e.reason === 'ended');
    assert.equal(s.listenerCount('data'), 0);
  }
});
