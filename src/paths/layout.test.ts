import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, mkdirSync, statSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  userLayout,
  systemLayout,
  allSocketPaths,
  overlongSocketPaths,
  MAX_SOCKET_PATH_BYTES,
  vmFiles,
  ensurePrivateDir,
  resolveMode,
  resolveLayout,
} from './index.js';

test('user layout follows XDG and falls back to HOME', () => {
  const l = userLayout({ home: '/home/ann', uid: 1000, env: {} });
  assert.equal(l.configFile, '/home/ann/.config/banger/config.toml');
  assert.equal(l.dbFile, '/home/ann/.local/state/banger/state.db');
  assert.equal(l.ociBlobsDir, '/home/ann/.cache/banger/oci/blobs/sha256');
  assert.equal(l.runtimeDir, '/tmp/banger-runtime-1000');
  const x = userLayout({
    home: '/home/ann',
    uid: 1000,
    env: { XDG_RUNTIME_DIR: '/run/user/1000', XDG_STATE_HOME: '/s', XDG_CONFIG_HOME: 'relative' },
  });
  assert.equal(x.daemonSocket, '/run/user/1000/banger/bangerd.sock');
  assert.equal(x.stateDir, '/s/banger');
  assert.equal(x.configDir, '/home/ann/.config/banger', 'relative XDG values are ignored');
});

test('system layout uses the docs/reference/config.md locations', () => {
  const l = systemLayout();
  assert.equal(l.daemonSocket, '/run/banger/bangerd.sock');
  assert.equal(l.rootHelperSocket, '/run/banger-root/bangerd-root.sock');
  assert.equal(l.dbFile, '/var/lib/banger/state.db');
  assert.equal(l.configFile, '/etc/banger/config.toml');
});

test('every socket path fits in sun_path (108 bytes) for the usual layouts', () => {
  const layouts = [
    systemLayout(),
    userLayout({ home: '/home/a-rather-long-user-name', uid: 4_294_967_294, env: {} }),
    userLayout({ home: '/h', uid: 1000, env: { XDG_RUNTIME_DIR: '/run/user/4294967294' } }),
  ];
  for (const l of layouts) {
    for (const p of allSocketPaths(l)) assert.ok(Buffer.byteLength(p) <= MAX_SOCKET_PATH_BYTES, `${p} too long`);
    assert.deepEqual(overlongSocketPaths(l), []);
  }
});

test('an overlong runtime dir is detected and refused with a hint', () => {
  const env = { XDG_RUNTIME_DIR: '/' + 'x'.repeat(100), HOME: '/h', BANGER_MODE: 'user' };
  assert.equal(overlongSocketPaths(userLayout({ home: '/h', uid: 1, env })).length > 0, true);
  assert.throws(() => resolveLayout(env), /longer than the 107 bytes.*/);
});

test('per-VM files keep sockets in the runtime dir and disks in the state dir', () => {
  const l = systemLayout();
  const f = vmFiles(l, 'abcd1234');
  assert.equal(f.handles, '/var/lib/banger/vms/abcd1234/handles.json');
  assert.equal(f.qmpSocket, '/run/banger/vms/abcd1234/qmp.sock');
});

test('mode: BANGER_MODE wins, else install.toml decides', () => {
  assert.equal(resolveMode({ BANGER_MODE: 'system' }, false), 'system');
  assert.equal(resolveMode({ BANGER_MODE: 'user' }, true), 'user');
  assert.equal(resolveMode({}, true), 'system');
  assert.equal(resolveMode({}, false), 'user');
  assert.throws(() => resolveMode({ BANGER_MODE: 'root' }, false), /not a mode/);
});

test('private runtime dir: created 0700, mode repaired, symlink and foreign owner refused', () => {
  const base = mkdtempSync(join(tmpdir(), 'banger-unit-'));
  try {
    const uid = process.getuid!();
    const d = join(base, 'rt');
    ensurePrivateDir(d, uid);
    assert.equal(statSync(d).mode & 0o777, 0o700);
    chmodSync(d, 0o755);
    ensurePrivateDir(d, uid);
    assert.equal(statSync(d).mode & 0o777, 0o700);
    const target = join(base, 'target');
    mkdirSync(target);
    const link = join(base, 'link');
    symlinkSync(target, link);
    assert.throws(() => ensurePrivateDir(link, uid), /is a symlink/);
    assert.throws(() => ensurePrivateDir(d, uid + 1), /owned by uid/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
