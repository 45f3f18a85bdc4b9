/**
 * End-to-end: real VMs under QEMU (TCG here), driven through the real CLI and daemon.
 * One sandbox (HOME, state, a bridge of its own) is shared by the scenarios so the
 * default image is built once. At most two VMs run at a time (two cores). Teardown
 * removes every VM, tap, the test bridge and the daemon, and checks that nothing is left.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, waitFor } from '../integration/harness.js';
import { createE2eSandbox, type E2eSandbox } from './e2eSandbox.js';

let e: E2eSandbox;
const vmsDir = () => join(e.s.stateDir, 'vms');
/** Only idle pool taps may stay on the bridge once no VM runs. */
const onlyPoolTaps = () => e.bridgeTaps().every((t) => t.startsWith('tap-pool-')) && e.bridgeTaps().length <= 2;

before(() => {
  e = createE2eSandbox();
});
after(async () => {
  await e.teardown();
});

test('vm run --rm -- echo ok prints ok, exits 0 and leaves nothing (first run obtains kernel and image)', async () => {
  const r = await e.ok(['vm', 'run', '--rm', '--', 'echo', 'ok'], 900_000);
  assert.equal(r.stdout, 'ok\n');
  assert.match(r.stderr, /^spec: 2 vcpu \| 1024 MiB \| 2G disk$/m);
  assert.match(r.stderr, /^ready in \d+\.\d+s$/m);
  assert.equal((await e.ok(['vm', 'list', '--json'])).stdout.trim(), '[]');
  assert.deepEqual(readdirSync(vmsDir()), []);
  assert.ok(onlyPoolTaps(), `no VM tap left on the bridge, only the warm pool: ${e.bridgeTaps().join(', ')}`);
  assert.deepEqual(e.qemuPids(), []);
});

test('the pulled Debian kernel gives Firecracker its ELF vmlinux; --vmm firecracker is refused here with the reason', async () => {
  const { extractVmlinux, isElf } = await import('../../src/firecracker/index.js');
  const { ExecHostRunner } = await import('../../src/system/index.js');
  const kernelsDir = join(e.s.stateDir, 'kernels');
  const vmlinuz = readdirSync(kernelsDir)
    .map((d) => join(kernelsDir, d, 'vmlinuz'))
    .find((p) => existsSync(p));
  assert.ok(vmlinuz, 'the first run pulled a kernel');
  const elf = await extractVmlinux(new ExecHostRunner(), readFileSync(vmlinuz));
  assert.ok(isElf(elf));
  assert.equal(elf.readUInt8(4), 2, 'ELF64');
  assert.equal(elf.readUInt16LE(18), 0x3e, 'x86-64');
  assert.ok(elf.length > (4 * readFileSync(vmlinuz).length) / 2, 'larger than the compressed kernel');
  const refused = await e.s.banger(['vm', 'create', '--name', 'e2e-fc', '--vmm', 'firecracker', '--no-start']);
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.stderr,
    /Firecracker was asked for, but (no firecracker binary was found|KVM cannot run guests here)/,
  );
  const bogus = await e.s.banger(['vm', 'create', '--vmm', 'xen']);
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /--vmm xen is not a back-end/);
  assert.equal((await e.ok(['vm', 'list', '--json'])).stdout.trim(), '[]');
});

test("the README's first command ends in the VM: scripts/sandbox.sh --rm -- echo ok", async () => {
  const { run, repoRoot } = await import('../integration/harness.js');
  // HOME is the sandbox's, so hand npm the invoking user's config should setup need npm ci.
  const npmrc = join(process.env.HOME ?? '/root', '.npmrc');
  const r = await run(
    ['bash', join(repoRoot, 'scripts', 'sandbox.sh'), '--rm', '--', 'sh', '-c', 'echo "ok from $(hostname)"'],
    { ...e.s.env, ...(existsSync(npmrc) && { NPM_CONFIG_USERCONFIG: npmrc }) },
    900_000,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok from [a-z]+-[a-z]+\n$/);
});

test('command mode propagates the exit status: sh -c "exit 42" gives 42', async () => {
  const r = await e.s.banger(
    ['vm', 'run', '--rm', '--', 'sh', '-c', 'echo "$0 $1"; exit 42', 'quoted arg', 'two words'],
    { timeoutMs: 300_000 },
  );
  assert.equal(r.code, 42, r.stderr);
  assert.equal(r.stdout, 'quoted arg two words\n', 'arguments keep their word boundaries');
});

test('an invalid name or --vcpu 0 is refused with the usage code and leaves no VM row', async () => {
  const bad = await e.s.banger(['vm', 'run', '--rm', '--name', 'Bad_Name', '--', 'true']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^banger: VM name "Bad_Name" contains the uppercase letter 'B'/m);
  const zero = await e.s.banger(['vm', 'run', '--rm', '--vcpu', '0', '--', 'true']);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /vcpu must be a whole number from 1 to 32/);
  assert.equal((await e.ok(['vm', 'list', '--json'])).stdout.trim(), '[]');
});

test('stop/start keeps files in /root; vm set changes vcpu and grows the disk; restart gives a new boot_id', async () => {
  await e.ok(['vm', 'create', '--name', 'e2e-a'], 300_000);
  const shown = await e.vmJson('e2e-a');
  assert.equal(shown.runtime?.status, 'running', 'QMP reports the guest running');
  assert.deepEqual(
    [shown.vmm, shown.rootOverlay],
    ['qemu', 'qcow2'],
    'the record keeps its back-end and root disk strategy',
  );
  assert.match((await e.ok(['vm', 'show', 'e2e-a'])).stdout, /root disk\s+qcow2 overlay on the image/);
  assert.match((await e.ok(['vm', 'logs', 'e2e-a'])).stdout, /banger-boot: switch_root at [\d.]+s/);
  await e.ok(['vm', 'ssh', 'e2e-a', '--', 'sh', '-c', 'echo kept > /root/keep.txt && sync']);
  const first = await e.bootId('e2e-a');
  const running = await e.s.banger(['vm', 'set', 'e2e-a', '--vcpu', '1']);
  assert.equal(running.code, 4, 'vm set refuses a running VM');
  await e.ok(['vm', 'stop', 'e2e-a'], 120_000);
  assert.equal((await e.vmJson('e2e-a')).state, 'stopped');
  await e.ok(['vm', 'set', 'e2e-a', '--vcpu', '1', '--disk-size', '3G']);
  assert.equal((await e.s.banger(['vm', 'set', 'e2e-a', '--disk-size', '1G'])).code, 2, 'the disk only grows');
  await e.ok(['vm', 'start', 'e2e-a'], 300_000);
  assert.equal((await e.ok(['vm', 'ssh', 'e2e-a', '--', 'cat', '/root/keep.txt'])).stdout, 'kept\n');
  assert.equal((await e.ok(['vm', 'ssh', 'e2e-a', '--', 'nproc'])).stdout.trim(), '1', 'vm set changed the vcpu count');
  const rootSize = Number(
    (await e.ok(['vm', 'ssh', 'e2e-a', '--', 'df', '--output=size', '-B1M', '/root'])).stdout.trim().split('\n').pop(),
  );
  assert.ok(rootSize > 2500, `work disk grown to 3G (df says ${rootSize} MiB)`);
  const second = await e.bootId('e2e-a');
  assert.notEqual(second, first);
  await e.ok(['vm', 'restart', 'e2e-a'], 300_000);
  const third = await e.bootId('e2e-a');
  assert.notEqual(third, second, 'restart is a new boot');
});

test('daemon killed with SIGKILL and restarted: the VM keeps running and is adopted (same boot_id)', async () => {
  const before = await e.bootId('e2e-a');
  const pids = e.qemuPids();
  const daemonPid = e.s.daemonPid()!;
  process.kill(daemonPid, 'SIGKILL');
  assert.ok(await waitFor(() => !alive(daemonPid)));
  assert.deepEqual(e.qemuPids(), pids, 'the VMM survived the daemon');
  assert.equal((await e.vmJson('e2e-a')).state, 'running', 'adopted on the next start');
  assert.equal(await e.bootId('e2e-a'), before);
  assert.notEqual(e.s.daemonPid(), daemonPid);
});

test('a host key that does not match the pinned one fails as a possible MITM', async () => {
  const kh = join(e.s.stateDir, 'known_hosts');
  const original = readFileSync(kh, 'utf8');
  const bogusKey = 'AAAAC3NzaC1lZDI1NTE5AAAAIHhPSWRlbnRpdHlUaGF0SXNOb3RUaGVWTXNPd25LZXkxMjM0';
  try {
    writeFileSync(kh, original.replace(/^e2e-a\.vm ssh-ed25519 \S+$/m, `e2e-a.vm ssh-ed25519 ${bogusKey}`));
    const r = await e.s.banger(['vm', 'ssh', 'e2e-a', '--', 'true']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /^banger: the host key of e2e-a\.vm does not match the one banger pinned: possible MITM$/m);
  } finally {
    writeFileSync(kh, original);
  }
  assert.equal((await e.ok(['vm', 'ssh', 'e2e-a', '--', 'true'])).code, 0);
});

test('kill --signal KILL leaves the VM stopped, with no process and no tap', async () => {
  const tap = (await e.vmJson('e2e-a')).runtime!.tap;
  await e.ok(['vm', 'kill', '--signal', 'KILL', 'e2e-a']);
  assert.equal((await e.vmJson('e2e-a')).state, 'stopped');
  assert.deepEqual(e.qemuPids(), []);
  assert.equal(e.bridgeTaps().includes(tap), false, `the VM's tap ${tap} is gone`);
});

test('prune deletes stopped VMs and keeps running ones (e2e-b started detached)', async () => {
  const refused = await e.s.banger(['vm', 'run', '-d', '--rm', '--name', 'e2e-x']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /cannot be combined with --rm/);
  const detached = await e.ok(['vm', 'run', '-d', '--name', 'e2e-b'], 300_000);
  assert.equal(detached.stdout, 'e2e-b\n');
  assert.equal((await e.vmJson('e2e-b')).state, 'running');

  // .vm names: on the host through dns_listen, and between guests through the bridge.
  await e.ok(['vm', 'start', 'e2e-a'], 300_000);
  const a = await e.vmJson('e2e-a');
  const b = await e.vmJson('e2e-b');
  assert.equal(e.dig('e2e-a.vm'), a.guestIp);
  assert.equal(e.dig('e2e-b.vm'), b.guestIp);
  assert.equal(e.digStatus('nobody-here.vm'), 'NXDOMAIN');
  assert.equal(
    (await e.ok(['vm', 'ssh', 'e2e-b', '--', 'getent', 'hosts', 'e2e-a.vm'])).stdout.split(/\s+/)[0],
    a.guestIp,
    'one guest resolves another by name',
  );
  await e.ok(['vm', 'stop', 'e2e-a'], 120_000);
  assert.equal(e.digStatus('e2e-a.vm'), 'NXDOMAIN', "a stopped VM's name disappears");
  const r = await e.ok(['vm', 'prune', '-f']);
  assert.match(r.stdout, /deleted e2e-a/);
  const names = (JSON.parse((await e.ok(['vm', 'list', '--json'])).stdout) as Array<{ name: string }>).map(
    (v) => v.name,
  );
  assert.deepEqual(names, ['e2e-b']);
  await e.ok(['vm', 'delete', 'e2e-b'], 120_000);
});

test('two concurrent vm run --rm both succeed', async () => {
  const [a, b] = await Promise.all([
    e.s.banger(['vm', 'run', '--rm', '--', 'hostname'], { timeoutMs: 300_000 }),
    e.s.banger(['vm', 'run', '--rm', '--', 'hostname'], { timeoutMs: 300_000 }),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.notEqual(a.stdout.trim(), b.stdout.trim(), 'two different VMs');
  assert.equal((await e.ok(['vm', 'list', '--json'])).stdout.trim(), '[]');
});
