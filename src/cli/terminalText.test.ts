import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeForTerminal, escapeForTerminalLine, jsonForTerminal, needsTerminalEscape } from './index.js';

/** Every character a terminal could act on (what must never survive escaping), \n and \t aside. */
const TERMINAL_UNSAFE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/u;

test('ESC sequences (CSI, cursor moves, screen clear) become visible', () => {
  assert.equal(escapeForTerminal('\u001b[31mred\u001b[0m'), '\\x1b[31mred\\x1b[0m');
  assert.equal(escapeForTerminal('a\u001b[2J\u001b[Hb\u001b[1A'), 'a\\x1b[2J\\x1b[Hb\\x1b[1A');
  assert.equal(escapeForTerminal('\u001bc'), '\\x1bc');
});

test('OSC 52 (clipboard write) and OSC 0 (window title), with BEL or ST terminators', () => {
  assert.equal(
    escapeForTerminal('\u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u0007'),
    '\\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\x07',
  );
  assert.equal(escapeForTerminal('\u001b]0;pwned\u001b\\'), '\\x1b]0;pwned\\x1b\\');
});

test('a lone \\r (overwrites the line) is escaped; \\r\\n, \\n and \\t are kept on multi-line text', () => {
  assert.equal(escapeForTerminal('rm -rf /\rls'), 'rm -rf /\\rls');
  assert.equal(escapeForTerminal('trailing\r'), 'trailing\\r');
  assert.equal(escapeForTerminal('a\r\r\nb'), 'a\\r\r\nb');
  assert.equal(escapeForTerminal('line 1\r\nline 2\n\tindented\n'), 'line 1\r\nline 2\n\tindented\n');
});

test('the single-line variant escapes \\n, \\t and \\r too', () => {
  assert.equal(escapeForTerminalLine('nginx\n0.0.0.0\ttcp\r\n'), 'nginx\\n0.0.0.0\\ttcp\\r\\n');
  assert.equal(escapeForTerminalLine('\u001b[2K'), '\\x1b[2K');
});

test('other C0 controls, DEL and C1 controls (U+009B is an 8-bit CSI)', () => {
  assert.equal(escapeForTerminal('\u0000\u0001\u0008\u000b\u000c\u001f'), '\\x00\\x01\\x08\\x0b\\x0c\\x1f');
  assert.equal(escapeForTerminal('x\u007fy'), 'x\\x7fy');
  assert.equal(
    escapeForTerminal('\u009b31m\u009d0;title\u009c\u0080\u0085\u009f'),
    '\\x9b31m\\x9d0;title\\x9c\\x80\\x85\\x9f',
  );
});

test('bidi overrides, embeddings, marks and isolates', () => {
  assert.equal(escapeForTerminal('invoice_\u202eexe.pdf'), 'invoice_\\u202eexe.pdf');
  assert.equal(
    escapeForTerminal('\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069'),
    '\\u061c\\u200e\\u200f\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069',
  );
});

test('lone surrogates and undecodable bytes', () => {
  assert.equal(escapeForTerminal('a\ud800b'), 'a\\ud800b');
  assert.equal(escapeForTerminal('\udfff'), '\\udfff');
  assert.equal(escapeForTerminal('\ude00\ud83d'), '\\ude00\\ud83d', 'a pair in the wrong order is two lone surrogates');
  // Invalid UTF-8 decodes to U+FFFD, which is printable; a raw 0x9b byte is not a C1 control then.
  const decoded = Buffer.from([0x61, 0x9b, 0xff, 0xc3, 0x62]).toString('utf8');
  assert.equal(escapeForTerminal(decoded), decoded);
  assert.doesNotMatch(escapeForTerminal(decoded), TERMINAL_UNSAFE);
});

test('plain text and UTF-8 pass unchanged', () => {
  for (const s of [
    '',
    'plain ASCII: 0-9 a-z ~!@#$%^&*()_+{}|:"<>?`-=[]\\;\',./',
    'naïve café, Ærøskøbing, Ελληνικά, русский',
    '日本語のテキスト 中文 한국어',
    'emoji 😀 👩‍💻 🇩🇪 🏳️‍🌈',
    'عربي עברית (letters, not controls)',
    'a\u00a0b\u00ad',
    'C:\\path\\x1b is literal text',
  ]) {
    assert.equal(escapeForTerminal(s), s);
    assert.equal(escapeForTerminalLine(s), s);
    assert.equal(needsTerminalEscape(s), false);
  }
  assert.equal(needsTerminalEscape('\u001b'), true);
});

test('escaped output never carries a character a terminal acts on', () => {
  let all = '';
  for (let cp = 0; cp < 0x2100; cp++) all += String.fromCharCode(cp);
  all += '\ud800\udbff\udc00\udfff';
  assert.doesNotMatch(escapeForTerminalLine(all), TERMINAL_UNSAFE);
  assert.doesNotMatch(escapeForTerminal(all).replace(/[\n\t]/g, ''), TERMINAL_UNSAFE);
});

test('jsonForTerminal: the same value, with DEL, C1 and bidi characters as \\u escapes', () => {
  const value = { name: 'x\u001b]52;c;AA==\u0007\u009b1m\u202e\u007f\ud800', plain: 'café 日本 😀', n: 1 };
  const text = jsonForTerminal(value, 2);
  assert.doesNotMatch(text, TERMINAL_UNSAFE);
  assert.match(text, /\\u009b1m\\u202e\\u007f\\ud800/);
  assert.deepEqual(JSON.parse(text), value);
  assert.equal(jsonForTerminal({ a: [1, 'b'] }), JSON.stringify({ a: [1, 'b'] }));
  assert.equal(jsonForTerminal({ a: 'b' }, 2), JSON.stringify({ a: 'b' }, null, 2));
});
