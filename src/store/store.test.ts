import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Store,
  openDatabase,
  openDatabaseReadOnly,
  migrate,
  checkMigrations,
  MIGRATIONS,
  appliedMigrations,
} from './index.js';
import { sampleVm } from '../../test/fixtures/vms.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'banger-store-'));
}

test('open creates, migrates, enables WAL and foreign keys', () => {
  const d = tempDir();
  try {
    const s = Store.open(join(d, 'state.db'));
    assert.equal(s.db.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
    assert.equal(s.db.prepare('PRAGMA foreign_keys').get()?.foreign_keys, 1);
    assert.equal(
      s.db.prepare('PRAGMA synchronous').get()?.synchronous,
      1,
      'NORMAL: no fsync per autocommitted write under WAL',
    );
    assert.deepEqual(
      appliedMigrations(s.db).map((m) => m.id),
      MIGRATIONS.map((m) => m.id),
    );
    s.close();
    const again = Store.open(join(d, 'state.db'));
    assert.equal(appliedMigrations(again.db).length, MIGRATIONS.length, 'reopening applies nothing twice');
    again.close();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('vm repository round trip, lookup by name, id and id prefix, constraints hold', () => {
  const d = tempDir();
  try {
    const s = Store.open(join(d, 'state.db'));
    const vm = sampleVm({
      workspace: { guestPath: '/root/repo', hostPath: '/src/repo', baseCommit: 'abc', head: 'abc' },
    });
    s.vms.insert(vm);
    assert.deepEqual(s.vms.list(), [vm]);
    assert.deepEqual(s.vms.find('dev'), vm);
    assert.deepEqual(s.vms.find('abcd1234'), vm);
    assert.deepEqual(s.vms.find('abcd'), vm);
    assert.equal(s.vms.find('abc'), undefined, 'prefixes shorter than 4 are not matched');
    assert.equal(s.vms.find('nope'), undefined);
    assert.throws(
      () => s.vms.insert(sampleVm({ id: 'ffff0000', mac: 'x', guestIp: 'y' })),
      /UNIQUE constraint failed: vms.name/,
    );
    assert.throws(
      () => s.vms.insert(sampleVm({ id: 'ffff0000', name: 'other', state: 'weird' as never, mac: 'x', guestIp: 'y' })),
      /CHECK constraint/,
    );
    assert.throws(
      () => s.vms.insert(sampleVm({ id: 'ffff0000', name: 'other', imageId: 'missing', mac: 'x', guestIp: 'y' })),
      /FOREIGN KEY/,
    );
    s.vms.setState(vm.id, 'error', 'boom');
    assert.equal(s.vms.find('dev')?.lastError, 'boom');
    s.vms.remove(vm.id);
    assert.deepEqual(s.vms.list(), []);
    s.close();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('read-only open never creates or writes', () => {
  const d = tempDir();
  try {
    assert.throws(() => openDatabaseReadOnly(join(d, 'absent.db')), /does not exist/);
    const s = Store.open(join(d, 'state.db'));
    s.close();
    const before = statSync(join(d, 'state.db')).mtimeMs;
    const ro = openDatabaseReadOnly(join(d, 'state.db'));
    assert.throws(() => ro.exec("INSERT INTO schema_migrations VALUES (99, 'x', 'y')"), /readonly/);
    ro.close();
    assert.equal(statSync(join(d, 'state.db')).mtimeMs, before);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

/** Fixture databases for --check-migrations: current, older, newer than this binary, and garbage. */
test('check-migrations on fixture databases: current 0, older 1, missing 1, newer 2, corrupt 2', () => {
  const d = tempDir();
  try {
    const current = join(d, 'current.db');
    Store.open(current).close();

    const older = join(d, 'older.db');
    const o = openDatabase(older);
    migrate(o, MIGRATIONS.slice(0, 1));
    o.close();

    const newer = join(d, 'newer.db');
    const n = openDatabase(newer);
    migrate(n);
    n.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(999, 'from_the_future', 'x');
    n.close();

    const corrupt = join(d, 'corrupt.db');
    writeFileSync(corrupt, 'this is not sqlite'.repeat(100));

    const r = (p: string) => checkMigrations(p);
    assert.equal(r(current).exitCode, 0);
    assert.match(r(current).line, /^compatible/);
    assert.equal(r(older).exitCode, 1);
    assert.match(r(older).line, /^migrations needed \(safe\): .* lacks 2_vms/);
    assert.equal(r(join(d, 'missing.db')).exitCode, 1);
    assert.equal(r(newer).exitCode, 2);
    assert.match(r(newer).line, /newer banger .*999_from_the_future/);
    assert.equal(r(corrupt).exitCode, 2);
    for (const p of [current, older, newer, corrupt]) assert.equal(r(p).line.includes('\n'), false, 'one line');

    // The daemon refuses to open a newer database and leaves it untouched.
    assert.throws(() => Store.open(newer), /written by a newer banger/);
    assert.equal(checkMigrations(newer).exitCode, 2);
    // An older database is migrated forward on open.
    Store.open(older).close();
    assert.equal(checkMigrations(older).exitCode, 0);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a failing migration rolls back entirely', () => {
  const d = tempDir();
  try {
    const db = openDatabase(join(d, 'x.db'));
    const brokenId = MIGRATIONS.length + 1;
    const bad = [...MIGRATIONS, { id: brokenId, name: 'broken', sql: 'CREATE TABLE t (a INT); THIS IS NOT SQL;' }];
    assert.throws(() => migrate(db, bad));
    assert.equal(
      appliedMigrations(db)
        .map((m) => m.id)
        .includes(brokenId),
      false,
    );
    assert.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 't'").get(), undefined);
    db.close();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('runningIpByName follows every state change (the DNS index is dropped on each write)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-store-'));
  const store = Store.open(join(dir, 'state.db'));
  try {
    assert.equal(store.vms.runningIpByName('dev'), null);
    store.vms.insert(sampleVm({ name: 'dev', state: 'running', guestIp: '172.16.0.7' }));
    assert.equal(store.vms.runningIpByName('dev'), '172.16.0.7');
    store.vms.setRuntime(store.vms.find('dev')!.id, 'stopped', null);
    assert.equal(store.vms.runningIpByName('dev'), null);
    store.vms.setRuntime(store.vms.find('dev')!.id, 'running', { pid: 1 });
    assert.equal(store.vms.runningIpByName('dev'), '172.16.0.7');
    store.vms.setState(store.vms.find('dev')!.id, 'error', 'boom');
    assert.equal(store.vms.runningIpByName('dev'), null);
    store.vms.setRuntime(store.vms.find('dev')!.id, 'running', { pid: 1 });
    store.vms.remove(store.vms.find('dev')!.id);
    assert.equal(store.vms.runningIpByName('dev'), null);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('VMs made before root disks were recorded read as qcow2 overlays (what every one of them was)', () => {
  const d = tempDir();
  try {
    const path = join(d, 'v2.db');
    const db = openDatabase(path);
    migrate(db, MIGRATIONS.slice(0, 2));
    db.prepare(`INSERT INTO vms (id, name, state, image_id, vcpu, memory_mib, disk_size_bytes, system_overlay_size_bytes, vm_dir, dns_name, vmm, created_at, touched_at)
      VALUES ('abcd1234', 'old', 'stopped', NULL, 2, 1024, 1, 1, '/s/vms/abcd1234', 'old.vm', 'qemu', 'x', 'x')`).run();
    db.close();
    const store = Store.open(path);
    try {
      assert.equal(store.vms.find('old')?.rootOverlay, 'qcow2');
    } finally {
      store.close();
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
