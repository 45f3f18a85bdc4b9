/**
 * The real CLI and daemon, over a real unix socket, with real SQLite, in a temporary
 * user-mode layout: auto-start, protocol errors and their exit codes, stop, config errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createSandbox, alive, daemonsOf, waitFor, type Sandbox } from './harness.js';
import { Store } from '../../src/store/index.js';
import { sampleVm } from '../fixtures/vms.js';

async function withSandbox(fn: (s: Sandbox) => Promise<void>): Promise<void> {
  const s = createSandbox();
  try {
    await fn(s);
  } finally {
    await s.cleanup();
  }
}

function assertErrorShape(stderr: string, message: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^banger: /);
  assert.match(lines[0] ?? '', message);
  assert.ok(
    lines.some((l) => l.startsWith('hint: ')),
    `a hint line in:\n${stderr}`,
  );
}

test('first call auto-starts the daemon; vm list --json is []; status, ping, private socket', async () => {
  await withSandbox(async (s) => {
    assert.equal(existsSync(s.socket), false);
    const list = await s.banger(['vm', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), []);
    assert.ok(existsSync(s.socket));
    assert.equal(statSync(s.socket).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(s.socket)).mode & 0o777, 0o700);
    const pid = s.daemonPid();
    assert.ok(pid && alive(pid));

    const status = await s.banger(['daemon', 'status', '--json']);
    assert.equal(status.code, 0);
    const info = JSON.parse(status.stdout);
    assert.equal(info.running, true);
    assert.equal(info.pid, pid);
    assert.equal(info.mode, 'user');
    assert.equal(info.socket, s.socket);

    const ping = await s.banger(['internal', 'rpc', 'ping']);
    assert.equal(ping.code, 0);
    assert.equal(JSON.parse(ping.stdout).protocolVersion, 1);
    const ops = await s.banger(['internal', 'rpc', 'daemon.operations.list']);
    assert.deepEqual(JSON.parse(ops.stdout), { operations: [] });
    assert.equal((await s.banger(['daemon', 'socket'])).stdout.trim(), s.socket);
    assert.equal(s.daemonPid(), pid, 'later calls reuse the running daemon');

    // Every daemon log line is JSON and carries an op_id.
    const lines = readFileSync(s.daemonLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(lines.length > 0);
    for (const l of lines) assert.match(l.op_id, /^op-[0-9a-f]{10}$/, JSON.stringify(l));
  });
});

test('protocol errors exit with their documented codes and print message, hint and op_id', async () => {
  await withSandbox(async (s) => {
    const badVersion = await s.banger(['internal', 'rpc', 'ping', '{}', '--protocol-version', '99']);
    assert.equal(badVersion.code, 9);
    assertErrorShape(badVersion.stderr, /protocol version 99 is not supported/);
    assert.match(badVersion.stderr, /^op_id: op-[0-9a-f]{10}$/m);

    const unknown = await s.banger(['internal', 'rpc', 'vm.teleport']);
    assert.equal(unknown.code, 9);
    assertErrorShape(unknown.stderr, /unknown method "vm\.teleport"/);

    const badParams = await s.banger(['internal', 'rpc', 'vm.show', '{"name": 42}']);
    assert.equal(badParams.code, 2);
    assert.match(badParams.stderr, /^banger: invalid params for vm\.show: params\.name/);

    const extra = await s.banger(['internal', 'rpc', 'vm.list', '{"all": true}']);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /unknown field\(s\) all/);

    const missing = await s.banger(['vm', 'show', 'ghost']);
    assert.equal(missing.code, 3);
    assertErrorShape(missing.stderr, /no VM named "ghost"/);

    const usage = await s.banger(['vm', 'frobnicate']);
    assert.equal(usage.code, 2);
    assertErrorShape(usage.stderr, /unknown command/);
  });
});

test('vm list and show render records from the store', async () => {
  await withSandbox(async (s) => {
    assert.equal((await s.banger(['vm', 'list'])).code, 0); // creates and migrates the database
    const store = Store.open(join(s.stateDir, 'state.db'));
    store.vms.insert(sampleVm({ createdAt: new Date().toISOString() }));
    store.close();
    const table = await s.banger(['vm', 'list']);
    assert.equal(table.code, 0);
    const [header, row] = table.stdout.trimEnd().split('\n');
    assert.deepEqual(header!.split(/\s+/), [
      'ID',
      'NAME',
      'STATE',
      'IMAGE',
      'VMM',
      'IP',
      'VCPU',
      'MEM',
      'DISK',
      'WORKSPACE',
      'CREATED',
    ]);
    assert.match(row!, /^abcd1234\s+dev\s+stopped\s+-\s+qemu\s+172\.16\.0\.2\s+2\s+2G\s+8G\s+-\s+\d+s ago$/);
    assert.doesNotMatch(table.stdout, /\u001b\[/, 'no colour when NO_COLOR is set / not a TTY');
    const ps = await s.banger(['ps']);
    assert.equal(ps.stdout, table.stdout);
    const show = await s.banger(['vm', 'show', 'abcd', '--json']);
    assert.equal(JSON.parse(show.stdout).name, 'dev');
    assert.match((await s.banger(['vm', 'show', 'dev'])).stdout, /spec\s+2 vcpu \| 2048 MiB \| 8G disk/);
  });
});

test('daemon stop: process exits, socket and pid file are removed; stop again is harmless', async () => {
  await withSandbox(async (s) => {
    await s.banger(['vm', 'list']);
    const pid = s.daemonPid()!;
    const stop = await s.banger(['daemon', 'stop']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`bangerd stopped \\(was pid ${pid}\\)`));
    assert.equal(alive(pid), false);
    assert.equal(existsSync(s.socket), false);
    assert.equal(existsSync(s.pidFile), false);
    const again = await s.banger(['daemon', 'stop']);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /not running/);
    const status = await s.banger(['daemon', 'status']);
    assert.equal(status.code, 6);
    assert.match(status.stdout, /not running/);
    assert.equal(existsSync(s.socket), false, 'status does not start the daemon');
  });
});

test('SIGTERM stops the daemon cleanly; a stale socket and pid file do not block the next start', async () => {
  await withSandbox(async (s) => {
    await s.banger(['vm', 'list']);
    const pid = s.daemonPid()!;
    process.kill(pid, 'SIGTERM');
    assert.ok(await waitFor(() => !alive(pid)));
    assert.equal(existsSync(s.socket), false);
    // Leave debris as a crashed daemon would: a pid file naming a dead pid, and a socket file.
    writeFileSync(s.pidFile, '999999\n');
    writeFileSync(s.socket, '');
    const list = await s.banger(['vm', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.notEqual(s.daemonPid(), 999999);
  });
});

test('two CLIs racing to auto-start end up with one daemon and both succeed', async () => {
  await withSandbox(async (s) => {
    const [a, b] = await Promise.all([s.banger(['vm', 'list', '--json']), s.banger(['vm', 'list', '--json'])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const log = readFileSync(s.daemonLog, 'utf8');
    assert.equal(log.split('\n').filter((l) => l.includes('"daemon started"')).length, 1);
    // The losing CLI's daemon has stepped aside by the time that CLI returns: none is left starting.
    assert.deepEqual(daemonsOf(s.dir), [s.daemonPid()]);
  });
});

test('bad config fails daemon start with a message naming the key and the file', async () => {
  const cases: Array<[string, RegExp]> = [
    ['colour = "blue"\n', /unknown key "colour"/],
    ['auto_stop_stale_after = "fortnight"\n', /key "auto_stop_stale_after": "fortnight" is not a duration/],
    ['[vm_defaults]\ndisk_size = "8Q"\n', /key "vm_defaults\.disk_size": "8Q" has an unknown unit/],
  ];
  for (const [text, re] of cases) {
    await withSandbox(async (s) => {
      mkdirSync(dirname(s.configFile), { recursive: true });
      writeFileSync(s.configFile, text);
      const viaCli = await s.banger(['vm', 'list']);
      assert.equal(viaCli.code, 7, viaCli.stderr);
      assert.match(viaCli.stderr, /^banger: bangerd failed to start: config /);
      assert.ok(viaCli.stderr.includes(s.configFile), viaCli.stderr);
      assert.match(viaCli.stderr, re);
      assert.match(viaCli.stderr, /^hint: /m);
      const direct = await s.bangerd([]);
      assert.equal(direct.code, 7);
      assert.ok(direct.stderr.includes(s.configFile));
      assert.match(direct.stderr, re);
      assert.equal(existsSync(s.socket), false, 'nothing left listening');
    });
  }
});

test('BANGER_LOG_LEVEL=debug reaches the daemon log', async () => {
  await withSandbox(async (s) => {
    await s.banger(['vm', 'list'], { env: { BANGER_LOG_LEVEL: 'debug' } });
    assert.match(readFileSync(s.daemonLog, 'utf8'), /"level":"debug","msg":"rpc start"/);
  });
});

test('a database from a newer banger: daemon refuses to start, says so, and leaves it untouched', async () => {
  await withSandbox(async (s) => {
    await s.banger(['vm', 'list']);
    await s.banger(['daemon', 'stop']);
    const dbPath = join(s.stateDir, 'state.db');
    const store = Store.open(dbPath);
    store.db.prepare("INSERT INTO schema_migrations (id, name, applied_at) VALUES (99, 'future', 'x')").run();
    store.close();
    const check = await s.bangerd(['--check-migrations']);
    assert.equal(check.code, 2);
    assert.match(check.stdout.trim(), /^incompatible: .* newer banger .*99_future\)$/);
    const list = await s.banger(['vm', 'list']);
    assert.equal(list.code, 4);
    assert.match(list.stderr, /written by a newer banger/);
    assert.equal((await s.bangerd(['--check-migrations'])).code, 2);
  });
});

test('.vm DNS through the real daemon: authoritative NXDOMAIN for unknown names; a busy port is a clear error naming its owner', async () => {
  await withSandbox(async (s) => {
    assert.equal((await s.banger(['vm', 'list'])).code, 0);
    const dig = execFileSync('dig', ['+tries=3', '+time=5', '-p', String(s.dnsPort), '@127.0.0.1', 'ghost.vm'], {
      encoding: 'utf8',
    });
    assert.match(dig, /status: NXDOMAIN/);
    assert.match(dig, /flags: qr aa/);
    // dns status over the real socket: where it listens, no records yet, the recipes.
    const status = JSON.parse((await s.banger(['dns', 'status', '--json'])).stdout) as {
      listening: string[];
      records: unknown[];
      resolved: { present: boolean };
      recipes: string;
    };
    assert.deepEqual(status.listening, [`127.0.0.1:${s.dnsPort}`]);
    assert.deepEqual(status.records, []);
    assert.match(status.recipes, new RegExp(`server=/vm/127\\.0\\.0\\.1#${s.dnsPort}`));
    const text = (await s.banger(['dns', 'status'])).stdout;
    assert.match(text, /^listening\s+127\.0\.0\.1:/m);
    assert.match(text, /no records: no VM is running/);
    // vm ports with no running VM is an empty list, not an error.
    assert.equal((await s.banger(['vm', 'ports', '--json'])).stdout.trim(), '[]');
    assert.equal((await s.banger(['vm', 'ports', 'ghost'])).code, 3, 'an unknown VM is not_found');
    await s.banger(['daemon', 'stop']);
    // Another process holds the port: the daemon refuses to start and names it.
    const blocker = createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(s.dnsPort, '127.0.0.1', () => r()));
    try {
      const r = await s.banger(['vm', 'list']);
      assert.equal(r.code, 4, r.stderr);
      // Named by its executable (this test's node), not by its main thread's name (Node 24: MainThread).
      const exe = basename(readlinkSync('/proc/self/exe')).replace(/[.+]/g, '\\$&');
      assert.match(
        r.stderr,
        new RegExp(`DNS address 127\\.0\\.0\\.1:${s.dnsPort} is already in use by ${exe} \\(pid ${process.pid}\\)`),
      );
      assert.match(r.stderr, /hint: set dns_listen/);
    } finally {
      blocker.close();
    }
  });
});

test('bangerd --check-migrations: missing database 1, after first start 0', async () => {
  await withSandbox(async (s) => {
    const before = await s.bangerd(['--check-migrations']);
    assert.equal(before.code, 1);
    assert.match(before.stdout, /^migrations needed: no database/);
    assert.equal(before.stdout.trim().split('\n').length, 1);
    await s.banger(['vm', 'list']);
    const after = await s.bangerd(['--check-migrations']);
    assert.equal(after.code, 0);
    assert.match(after.stdout, /^compatible: /);
  });
});
