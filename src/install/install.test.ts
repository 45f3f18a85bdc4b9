import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRootOwnedDir, pathComponents, removeTreeAt } from '../system/index.js';
import {
  DENIED_SYSCALL_GROUPS,
  findProcesses,
  supervisedProcess,
  FIXED_PATH,
  HELPER_CAPABILITIES,
  commonParent,
  helperWritablePaths,
  parseInstallToml,
  processStartTime,
  readPidRecord,
  recordedProcess,
  renderDaemonUnit,
  renderHelperUnit,
  renderInstallToml,
  stopRecordedProcess,
  writePidRecord,
} from './index.js';

const input = { node: '/usr/bin/node', libDir: '/usr/local/lib/banger/current', owner: 'ada' };
const directives = (unit: string) =>
  new Map(
    unit
      .split('\n')
      .filter((l) => /^[A-Za-z]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
const isRoot = process.getuid?.() === 0;

test('daemon unit: runs as the owner in system mode, keeps VMs and runtime files across restarts, sandboxed', () => {
  const d = directives(renderDaemonUnit(input));
  assert.equal(d.get('User'), 'ada');
  assert.equal(d.get('ExecStart'), '/usr/bin/node /usr/local/lib/banger/current/bangerd.js --system');
  assert.equal(d.get('Environment'), 'BANGER_MODE=system');
  assert.equal(d.get('KillMode'), 'process');
  assert.equal(d.get('RuntimeDirectoryPreserve'), 'yes');
  assert.equal(d.get('RuntimeDirectory'), 'banger');
  assert.equal(d.get('NoNewPrivileges'), 'yes');
  assert.equal(d.get('CapabilityBoundingSet'), 'CAP_NET_BIND_SERVICE');
  assert.equal(d.get('ProtectSystem'), 'strict');
  assert.equal(d.get('ProtectHome'), 'read-only', "workspaces are read from the owner's home");
  assert.equal(d.get('RestrictNamespaces'), 'yes');
  assert.equal(d.get('RestrictSUIDSGID'), 'yes');
  assert.equal(d.get('UMask'), '0077');
  assert.equal(d.has('MemoryDenyWriteExecute'), false, "Node's JIT and QEMU's TCG need W+X memory");
  assert.equal(d.has('PrivateDevices'), false, 'its VMMs need /dev/kvm and /dev/net/tun');
  assert.equal(d.get('WantedBy'), 'multi-user.target');
});

test('helper unit: root, never SIGKILLed, preserved runtime dir, only the capabilities it uses, a fixed PATH, least privilege', () => {
  const h = directives(renderHelperUnit(input));
  assert.equal(h.has('User'), false, 'root');
  assert.equal(h.get('ExecStart'), '/usr/bin/node /usr/local/lib/banger/current/banger-root-helper.js');
  assert.equal(h.get('Environment'), `PATH=${FIXED_PATH} LANG=C`);
  assert.equal(FIXED_PATH, '/usr/sbin:/usr/bin:/sbin:/bin');
  assert.equal(h.get('KillMode'), 'process');
  assert.equal(h.get('SendSIGKILL'), 'no');
  assert.equal(h.get('RuntimeDirectory'), 'banger-root');
  assert.equal(h.get('RuntimeDirectoryMode'), '0711');
  assert.equal(h.get('RuntimeDirectoryPreserve'), 'yes');
  assert.deepEqual(h.get('CapabilityBoundingSet')!.split(' ').sort(), [...HELPER_CAPABILITIES].sort());
  for (const cap of [
    'CAP_NET_ADMIN',
    'CAP_SYS_ADMIN',
    'CAP_DAC_READ_SEARCH',
    'CAP_MKNOD',
    'CAP_KILL',
    'CAP_SETUID',
    'CAP_SETGID',
    'CAP_SYS_CHROOT',
  ])
    assert.ok(HELPER_CAPABILITIES.includes(cap as never), cap);
  for (const cap of [
    'CAP_SYS_MODULE',
    'CAP_SYS_RAWIO',
    'CAP_SYS_BOOT',
    'CAP_SYS_TIME',
    'CAP_SETFCAP',
    'CAP_SETPCAP',
    'CAP_NET_BIND_SERVICE',
    'CAP_BPF',
  ])
    assert.ok(!HELPER_CAPABILITIES.includes(cap as never), cap);
  assert.equal(h.get('NoNewPrivileges'), 'yes', 'the jailer drops privileges, it never gains them');
  assert.equal(h.get('ProtectSystem'), 'strict');
  // One entry for root's and the owner's state: jails hard-link the owner's files, and linkat fails across mounts.
  assert.equal(h.get('ReadWritePaths'), '-/var/lib -/var/cache/banger-root');
  assert.deepEqual(helperWritablePaths(), ['/var/lib', '/var/cache/banger-root']);
  assert.equal(commonParent('/var/lib/banger-root', '/var/lib/banger'), '/var/lib');
  assert.equal(commonParent('/a/b', '/c'), '/');
  assert.equal(h.get('PrivateTmp'), 'yes');
  assert.equal(h.get('ProtectHome'), 'yes');
  assert.equal(h.get('RestrictNamespaces'), 'mnt pid', "the jailer's --new-pid-ns and its mount namespace");
  assert.equal(h.get('SystemCallArchitectures'), 'native');
  assert.equal(h.get('SystemCallFilter'), `~${DENIED_SYSCALL_GROUPS.join(' ')}`);
  assert.equal(h.get('SystemCallErrorNumber'), 'EPERM');
  for (const k of [
    'ProtectKernelModules',
    'ProtectKernelLogs',
    'ProtectControlGroups',
    'LockPersonality',
    'PrivateMounts',
  ])
    assert.equal(h.get(k), 'yes', k);
  assert.equal(h.has('MemoryDenyWriteExecute'), false, "Node's JIT");
  assert.equal(h.has('RestrictSUIDSGID'), false, "image builds install the distribution's setuid binaries");
  assert.equal(h.has('ProtectKernelTunables'), false, 'it writes /proc/sys/net/ipv4/ip_forward');
  assert.equal(h.get('RestrictAddressFamilies'), 'AF_UNIX AF_INET AF_INET6 AF_NETLINK');
});

test('install.toml round trip, with the pinned network', () => {
  const r = {
    owner: 'ada',
    owner_uid: 1000,
    owner_gid: 1000,
    home: '/home/ada',
    prefix: '/usr/local',
    version: '0.1.0',
    commit: 'abc',
    built_at: 'x',
    installed_at: 'y',
    supervisor: 'fallback' as const,
    tun_mode_before: 0o600,
    bridge_name: 'br-fc',
    bridge_ip: '10.9.0.1',
    cidr: 24,
  };
  assert.deepEqual({ ...parseInstallToml(renderInstallToml(r)) }, r);
  assert.throws(() => parseInstallToml('owner = "x"\n'), /lacks owner, owner_uid or prefix/);
});

test('root-owned directories: made 0700 when absent; refused through a symlink, an unprivileged owner, or a group/other-writable ancestor', {
  skip: isRoot ? false : 'needs root',
}, () => {
  assert.deepEqual(pathComponents('/var/cache/banger-root'), ['/', '/var', '/var/cache', '/var/cache/banger-root']);
  const base = mkdtempSync(join(tmpdir(), 'banger-rootdir-'));
  try {
    const made = join(base, 'a', 'root-cache');
    ensureRootOwnedDir(made, 0o700);
    assert.equal(statSync(made).mode & 0o7777, 0o700);
    assert.equal(statSync(join(base, 'a')).mode & 0o7777, 0o755, 'a missing ancestor: 0755');
    ensureRootOwnedDir(made, 0o700); // idempotent
    mkdirSync(join(base, 'real'));
    symlinkSync(join(base, 'real'), join(base, 'link'));
    assert.throws(
      () => ensureRootOwnedDir(join(base, 'link', 'x'), 0o700),
      /link is a symlink, so root cannot safely keep its own files/,
    );
    assert.throws(() => ensureRootOwnedDir(join(base, 'link'), 0o700), /link is a symlink/);
    mkdirSync(join(base, 'owners'));
    chownSync(join(base, 'owners'), 4242, 4242);
    assert.throws(
      () => ensureRootOwnedDir(join(base, 'owners', 'x'), 0o700),
      /owners belongs to uid 4242, not to root/,
    );
    for (const [mode, who] of [
      [0o775, 'its group'],
      [0o757, 'others'],
    ] as const) {
      mkdirSync(join(base, `w${mode}`));
      chmodSync(join(base, `w${mode}`), mode);
      assert.throws(
        () => ensureRootOwnedDir(join(base, `w${mode}`, 'x'), 0o700),
        new RegExp(`is writable by ${who} \\(mode 0${mode.toString(8)}\\) without the sticky bit`),
      );
    }
    mkdirSync(join(base, 'sticky'));
    chmodSync(join(base, 'sticky'), 0o1777);
    ensureRootOwnedDir(join(base, 'sticky', 'x'), 0o700); // as under /tmp
    writeFileSync(join(base, 'file'), '');
    assert.throws(() => ensureRootOwnedDir(join(base, 'file'), 0o700), /file is not a directory/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('pid records: "<pid> <start time>" by root; a reused pid, a wrong uid, a non-root or linked file count as gone; stop goes through a pidfd', {
  skip: isRoot ? false : 'needs root',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-pids-'));
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const rec = join(dir, 'daemon.pid');
    writePidRecord(rec, child.pid!);
    const start = processStartTime(child.pid!);
    assert.match(start ?? '', /^\d+$/);
    assert.equal(readFileSync(rec, 'utf8'), `${child.pid} ${start}\n`);
    assert.deepEqual(readPidRecord(rec), { pid: child.pid, startTime: start });
    assert.equal(recordedProcess(rec, 0), child.pid);
    assert.equal(recordedProcess(rec, 4242), null, 'not running as the expected uid');
    assert.equal(processStartTime(process.pid) !== null, true);
    // Another process's start time: the pid was reused.
    writeFileSync(join(dir, 'reused.pid'), `${child.pid} ${Number(start) + 1}\n`);
    assert.equal(recordedProcess(join(dir, 'reused.pid')), null);
    assert.equal(await stopRecordedProcess(join(dir, 'reused.pid')), false, 'never signalled');
    writeFileSync(join(dir, 'bare.pid'), `${child.pid}\n`); // the old format, or the owner's own pid file
    assert.equal(readPidRecord(join(dir, 'bare.pid')), null);
    writeFileSync(join(dir, 'owners.pid'), `${child.pid} ${start}\n`);
    chownSync(join(dir, 'owners.pid'), 4242, 4242);
    assert.equal(readPidRecord(join(dir, 'owners.pid')), null, 'a record root did not write');
    symlinkSync(rec, join(dir, 'link.pid'));
    assert.equal(readPidRecord(join(dir, 'link.pid')), null);
    assert.equal(child.exitCode, null, 'still running');
    const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
    assert.equal(await stopRecordedProcess(rec, { uid: 0 }), true);
    assert.equal(await exited, 'SIGTERM');
    assert.equal(readPidRecord(rec), null, 'the record is removed');
    assert.equal(recordedProcess(join(dir, 'missing.pid')), null);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test("without a valid record, processes are found by command line among the expected uid's only", {
  skip: isRoot ? false : 'needs root',
}, async () => {
  const marker = `banger-test-marker-${process.pid}-${Date.now()}`;
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', marker], { stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), 'banger-pids-'));
  try {
    const match = (argv: readonly string[]) => argv.includes(marker);
    for (let i = 0; i < 50 && findProcesses(0, match).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      findProcesses(0, match).map((p) => p.pid),
      [child.pid],
    );
    assert.deepEqual(findProcesses(4242, match), [], "another uid's processes only");
    assert.deepEqual(supervisedProcess(join(dir, 'none.pid'), { uid: 0, match }), {
      pid: child.pid,
      how: 'command line',
    });
    writePidRecord(join(dir, 'rec.pid'), child.pid!);
    assert.deepEqual(supervisedProcess(join(dir, 'rec.pid'), { uid: 0, match }), { pid: child.pid, how: 'record' });
    assert.equal(supervisedProcess(join(dir, 'none.pid'), { uid: 4242, match }), null);
    const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
    assert.equal(
      await stopRecordedProcess(join(dir, 'none.pid'), { uid: 4242, match }),
      false,
      'not the expected uid: left alone',
    );
    assert.equal(await stopRecordedProcess(join(dir, 'none.pid'), { uid: 0, match }), true);
    assert.equal(await exited, 'SIGTERM');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test("purge removes an owner's tree through descriptors: links inside are unlinked, never followed", {
  skip: isRoot ? false : 'needs root',
}, () => {
  const base = mkdtempSync(join(tmpdir(), 'banger-rmtree-'));
  try {
    const outside = join(base, 'outside');
    mkdirSync(join(outside, 'keep'), { recursive: true });
    writeFileSync(join(outside, 'keep', 'file'), 'precious');
    const top = join(base, 'state');
    mkdirSync(join(top, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(join(top, 'a', 'b', 'c', 'f'), 'x');
    symlinkSync(outside, join(top, 'a', 'to-outside'));
    symlinkSync(join(outside, 'keep', 'file'), join(top, 'file-link'));
    execFileSync('mkfifo', [join(top, 'a', 'fifo')]);
    execFileSync('ln', [join(outside, 'keep', 'file'), join(top, 'hardlink')]);
    removeTreeAt(top);
    assert.equal(existsSync(top), false);
    assert.equal(
      readFileSync(join(outside, 'keep', 'file'), 'utf8'),
      'precious',
      'nothing outside the tree was touched',
    );
    removeTreeAt(top); // absent: fine
    symlinkSync(outside, join(base, 'top-link'));
    removeTreeAt(join(base, 'top-link'));
    assert.equal(existsSync(join(base, 'top-link')), false, 'a symlink at the top is unlinked');
    assert.ok(existsSync(join(outside, 'keep', 'file')));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
