import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  describePortOwner,
  describeProgram,
  findTcpPortOwner,
  forwardListenError,
  inodesHoldingPort,
  parseProcNetTcp,
  socketInodeOfLink,
  TCP_LISTEN,
} from './index.js';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 424242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:A0E2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 515151 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F91 0100007F:9C40 06 00000000:00000000 03:00001234 00000000     0        0 0 3 0000000000000000
garbage line
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   107        0 777 1 0000000000000000 100 0 0 10 0
`;

test('/proc/net/tcp rows: address, port, state, uid and inode; header and junk skipped', () => {
  const rows = parseProcNetTcp(TCP);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0], { localHex: '0100007F', localPort: 8080, state: TCP_LISTEN, uid: 1000, inode: 424242 });
  assert.equal(rows[1]!.localPort, 0xa0e2);
  assert.equal(rows[2]!.inode, 0, 'TIME_WAIT holds no inode');
  const six = parseProcNetTcp(TCP6);
  assert.deepEqual(six[0], { localHex: '0'.repeat(32), localPort: 3000, state: TCP_LISTEN, uid: 107, inode: 777 });
  assert.deepEqual(parseProcNetTcp(''), []);
});

test('the inodes holding a port: listeners first, sockets no process holds left out', () => {
  const rows = [
    { localHex: 'X', localPort: 80, state: 1, uid: 0, inode: 5 },
    { localHex: 'X', localPort: 80, state: TCP_LISTEN, uid: 0, inode: 9 },
    { localHex: 'X', localPort: 80, state: 6, uid: 0, inode: 0 },
    { localHex: 'X', localPort: 81, state: TCP_LISTEN, uid: 0, inode: 7 },
  ];
  assert.deepEqual(inodesHoldingPort(rows, 80), [9, 5]);
  assert.deepEqual(inodesHoldingPort(rows, 82), []);
});

test('descriptor links: only socket:[N] names a socket', () => {
  assert.equal(socketInodeOfLink('socket:[424242]'), 424242);
  assert.equal(socketInodeOfLink('pipe:[12]'), null);
  assert.equal(socketInodeOfLink('/dev/null'), null);
  assert.equal(socketInodeOfLink('anon_inode:[eventfd]'), null);
});

test('a program is named by its command line (argv[0] cut to its base name), else its executable', () => {
  assert.equal(
    describeProgram(['/usr/bin/python3', '-m', 'http.server'], '/usr/bin/python3.11'),
    'python3 -m http.server',
  );
  assert.equal(describeProgram([], '/usr/sbin/nginx (deleted)'), 'nginx');
  assert.equal(describeProgram(null, null), null);
  assert.equal(describeProgram(['evil\u001b[31m', 'x\ny'], null), 'evil [31m x y');
  const long = describeProgram(['node', 'a'.repeat(200)], null)!;
  assert.equal(long.length, 80);
  assert.ok(long.endsWith('…'));
});

test('the owner from a /proc tree: the pid whose descriptor links to the socket, its command line', () => {
  const root = mkdtempSync(join(tmpdir(), 'bgr-proc-'));
  try {
    mkdirSync(join(root, 'net'));
    writeFileSync(join(root, 'net', 'tcp'), TCP);
    writeFileSync(join(root, 'net', 'tcp6'), TCP6);
    for (const [pid, link] of [
      ['12', 'pipe:[1]'],
      ['1234', 'socket:[424242]'],
    ] as const) {
      mkdirSync(join(root, pid, 'fd'), { recursive: true });
      symlinkSync(link, join(root, pid, 'fd', '3'));
      writeFileSync(join(root, pid, 'cmdline'), 'python3\0-m\0http.server\0');
      symlinkSync('/usr/bin/python3.11', join(root, pid, 'exe'));
    }
    mkdirSync(join(root, 'self')); // not a pid
    assert.deepEqual(findTcpPortOwner(8080, root), { kind: 'process', pid: 1234, program: 'python3 -m http.server' });
    assert.deepEqual(findTcpPortOwner(3000, root), { kind: 'hidden', uids: [107] }, 'no visible process holds it');
    assert.deepEqual(findTcpPortOwner(9, root), { kind: 'none' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('owners in words, and the listen errors that carry them', () => {
  assert.equal(
    describePortOwner({ kind: 'process', pid: 1234, program: 'python3 -m http.server' }, 1),
    'pid 1234 (python3 -m http.server)',
  );
  assert.equal(describePortOwner({ kind: 'process', pid: 7, program: null }, 7), "banger's own daemon (pid 7)");
  assert.equal(describePortOwner({ kind: 'hidden', uids: [0] }), 'a process this user cannot see (uid 0)');
  const retry = (p: number) => `banger vm forward web ${p}:80`;
  const busy = forwardListenError(
    Object.assign(new Error('busy'), { code: 'EADDRINUSE' }),
    '127.0.0.1',
    8080,
    retry,
    () => ({ kind: 'process', pid: 1234, program: 'python3 -m http.server' }),
  );
  assert.equal(busy.code, 'conflict');
  assert.equal(busy.message, 'local port 8080 is in use by pid 1234 (python3 -m http.server)');
  assert.equal(busy.hint, 'choose another: banger vm forward web 8081:80');
  const denied = forwardListenError(Object.assign(new Error('x'), { code: 'EACCES' }), '127.0.0.1', 80, retry);
  assert.equal(denied.code, 'unauthorized');
  assert.match(denied.hint!, /banger vm forward web 8080:80/);
});
