/**
 * End-to-end: real VMs under QEMU (TCG here), driven through the real CLI and daemon.
 * One sandbox (HOME, state, a bridge of its own) is shared by the scenarios so the
 * default image is built once. At most two VMs run at a time (two cores). Teardown
 * removes every VM, tap, the test bridge and the daemon, and checks that nothing is left.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createSandbox, alive, waitFor, type Sandbox } from '../integration/harness.js';

const suffix = randomBytes(2).toString('hex');
const bridge = `br-fc-zt${suffix}`;
const subnet = `10.213.${randomInt(10, 250)}`;
let s: Sandbox;

const vmsDir = () => join(s.stateDir, 'vms');
const links = () => execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
const qemuPids = () => {
  try {
    return execFileSync('pgrep', ['-f', `qemu-system-x86_64.*${s.dir}`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch { return []; }
};

async function ok(args: string[], timeoutMs = 600_000) {
  const r = await s.banger(args, { timeoutMs });
  assert.equal(r.code, 0, `banger ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r;
}

async function vmJson(name: string) {
  return JSON.parse((await ok(['vm', 'show', name, '--json'])).stdout) as { id: string; state: string; guestIp: string; runtime: { pid: number; status: string } | null };
}

async function bootId(name: string): Promise<string> {
  return (await ok(['vm', 'ssh', name, '--', 'cat', '/proc/sys/kernel/random/boot_id'])).stdout.trim();
}

before(() => {
  s = createSandbox();
  mkdirSync(dirname(s.configFile), { recursive: true });
  writeFileSync(s.configFile, s.baseConfig + [
    `bridge_name = "${bridge}"`, `bridge_ip = "${subnet}.1"`, 'cidr = 24', '',
    '[vm_defaults]', 'vcpu = 2', 'memory_mib = 1024', 'disk_size = "2G"', '',
  ].join('\n'));
});

after(async () => {
  try {
    await s.banger(['vm', 'prune', '-f']);
    const { stdout } = await s.banger(['vm', 'list', '--json']);
    for (const v of JSON.parse(stdout || '[]') as Array<{ name: string }>) await s.banger(['vm', 'delete', v.name]);
    await s.banger(['daemon', 'stop']);
  } finally {
    for (const pid of qemuPids()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    for (const l of links().split('\n')) {
      const name = /^\d+:\s+(tap-fc-[0-9a-f]{8})[@:]/.exec(l)?.[1];
      if (name && l.includes(`master ${bridge}`)) execFileSync('ip', ['link', 'del', name]);
    }
    execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
    const leftovers = { qemu: qemuPids(), taps: links().includes(`master ${bridge}`), vmDirs: existsSync(vmsDir()) ? readdirSync(vmsDir()) : [] };
    await s.cleanup();
    assert.deepEqual(leftovers, { qemu: [], taps: false, vmDirs: [] }, 'the suite leaves no VM process, tap or VM directory');
    assert.equal(links().includes(bridge), false);
  }
});

test('vm run --rm -- echo ok prints ok, exits 0 and leaves nothing (first run obtains kernel and image)', async () => {
  const r = await ok(['vm', 'run', '--rm', '--', 'echo', 'ok'], 900_000);
  assert.equal(r.stdout, 'ok\n');
  assert.match(r.stderr, /^spec: 2 vcpu \| 1024 MiB \| 2G disk$/m);
  assert.match(r.stderr, /^ready in \d+\.\d+s$/m);
  assert.equal((await ok(['vm', 'list', '--json'])).stdout.trim(), '[]');
  assert.deepEqual(readdirSync(vmsDir()), []);
  assert.equal(links().includes(`master ${bridge}`), false, 'no tap left on the bridge');
  assert.deepEqual(qemuPids(), []);
});

test("the README's first command ends in the VM: scripts/sandbox.sh --rm -- echo ok", async () => {
  const { run, repoRoot } = await import('../integration/harness.js');
  // HOME is the sandbox's, so hand npm the invoking user's config should setup need npm ci.
  const npmrc = join(process.env.HOME ?? '/root', '.npmrc');
  const r = await run(['bash', join(repoRoot, 'scripts', 'sandbox.sh'), '--rm', '--', 'sh', '-c', 'echo "ok from $(hostname)"'],
    { ...s.env, ...(existsSync(npmrc) && { NPM_CONFIG_USERCONFIG: npmrc }) }, 900_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok from [a-z]+-[a-z]+\n$/);
});

test('command mode propagates the exit status: sh -c "exit 42" gives 42', async () => {
  const r = await s.banger(['vm', 'run', '--rm', '--', 'sh', '-c', 'echo "$0 $1"; exit 42', 'quoted arg', 'two words'], { timeoutMs: 300_000 });
  assert.equal(r.code, 42, r.stderr);
  assert.equal(r.stdout, 'quoted arg two words\n', 'arguments keep their word boundaries');
});

test('an invalid name or --vcpu 0 is refused with the usage code and leaves no VM row', async () => {
  const bad = await s.banger(['vm', 'run', '--rm', '--name', 'Bad_Name', '--', 'true']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^banger: VM name "Bad_Name" contains the uppercase letter 'B'/m);
  const zero = await s.banger(['vm', 'run', '--rm', '--vcpu', '0', '--', 'true']);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /vcpu must be a whole number from 1 to 32/);
  assert.equal((await ok(['vm', 'list', '--json'])).stdout.trim(), '[]');
});

test('stop/start keeps files in /root; vm set changes vcpu and grows the disk; restart gives a new boot_id', async () => {
  await ok(['vm', 'create', '--name', 'e2e-a'], 300_000);
  const shown = await vmJson('e2e-a');
  assert.equal(shown.runtime?.status, 'running', 'QMP reports the guest running');
  assert.match((await ok(['vm', 'logs', 'e2e-a'])).stdout, /banger-boot: switch_root at [\d.]+s/);
  await ok(['vm', 'ssh', 'e2e-a', '--', 'sh', '-c', 'echo kept > /root/keep.txt && sync']);
  const first = await bootId('e2e-a');
  const running = await s.banger(['vm', 'set', 'e2e-a', '--vcpu', '1']);
  assert.equal(running.code, 4, 'vm set refuses a running VM');
  await ok(['vm', 'stop', 'e2e-a'], 120_000);
  assert.equal((await vmJson('e2e-a')).state, 'stopped');
  await ok(['vm', 'set', 'e2e-a', '--vcpu', '1', '--disk-size', '3G']);
  assert.equal((await s.banger(['vm', 'set', 'e2e-a', '--disk-size', '1G'])).code, 2, 'the disk only grows');
  await ok(['vm', 'start', 'e2e-a'], 300_000);
  assert.equal((await ok(['vm', 'ssh', 'e2e-a', '--', 'cat', '/root/keep.txt'])).stdout, 'kept\n');
  assert.equal((await ok(['vm', 'ssh', 'e2e-a', '--', 'nproc'])).stdout.trim(), '1', 'vm set changed the vcpu count');
  const rootSize = Number((await ok(['vm', 'ssh', 'e2e-a', '--', 'df', '--output=size', '-B1M', '/root'])).stdout.trim().split('\n').pop());
  assert.ok(rootSize > 2500, `work disk grown to 3G (df says ${rootSize} MiB)`);
  const second = await bootId('e2e-a');
  assert.notEqual(second, first);
  await ok(['vm', 'restart', 'e2e-a'], 300_000);
  const third = await bootId('e2e-a');
  assert.notEqual(third, second, 'restart is a new boot');
});

test('daemon killed with SIGKILL and restarted: the VM keeps running and is adopted (same boot_id)', async () => {
  const before = await bootId('e2e-a');
  const pids = qemuPids();
  const daemonPid = s.daemonPid()!;
  process.kill(daemonPid, 'SIGKILL');
  assert.ok(await waitFor(() => !alive(daemonPid)));
  assert.deepEqual(qemuPids(), pids, 'the VMM survived the daemon');
  assert.equal((await vmJson('e2e-a')).state, 'running', 'adopted on the next start');
  assert.equal(await bootId('e2e-a'), before);
  assert.notEqual(s.daemonPid(), daemonPid);
});

test('a host key that does not match the pinned one fails as a possible MITM', async () => {
  const kh = join(s.stateDir, 'known_hosts');
  const original = readFileSync(kh, 'utf8');
  const bogusKey = 'AAAAC3NzaC1lZDI1NTE5AAAAIHhPSWRlbnRpdHlUaGF0SXNOb3RUaGVWTXNPd25LZXkxMjM0';
  try {
    writeFileSync(kh, original.replace(/^e2e-a\.vm ssh-ed25519 \S+$/m, `e2e-a.vm ssh-ed25519 ${bogusKey}`));
    const r = await s.banger(['vm', 'ssh', 'e2e-a', '--', 'true']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /^banger: the host key of e2e-a\.vm does not match the one banger pinned: possible MITM$/m);
  } finally {
    writeFileSync(kh, original);
  }
  assert.equal((await ok(['vm', 'ssh', 'e2e-a', '--', 'true'])).code, 0);
});

test('kill --signal KILL leaves the VM stopped, with no process and no tap', async () => {
  const { id } = await vmJson('e2e-a');
  await ok(['vm', 'kill', '--signal', 'KILL', 'e2e-a']);
  assert.equal((await vmJson('e2e-a')).state, 'stopped');
  assert.deepEqual(qemuPids(), []);
  assert.equal(links().includes(`tap-fc-${id}`), false);
});

test('prune deletes stopped VMs and keeps running ones (e2e-b started detached)', async () => {
  const refused = await s.banger(['vm', 'run', '-d', '--rm', '--name', 'e2e-x']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /cannot be combined with --rm/);
  const detached = await ok(['vm', 'run', '-d', '--name', 'e2e-b'], 300_000);
  assert.equal(detached.stdout, 'e2e-b\n');
  assert.equal((await vmJson('e2e-b')).state, 'running');

  // .vm names: on the host through dns_listen, and between guests through the bridge.
  await ok(['vm', 'start', 'e2e-a'], 300_000);
  const a = await vmJson('e2e-a');
  const b = await vmJson('e2e-b');
  const dig = (name: string) => execFileSync('dig', ['+short', '+tries=1', '+time=2', '-p', String(s.dnsPort), '@127.0.0.1', name], { encoding: 'utf8' }).trim();
  const digStatus = (name: string) => /status: (\w+)/.exec(execFileSync('dig', ['+tries=1', '+time=2', '-p', String(s.dnsPort), '@127.0.0.1', name], { encoding: 'utf8' }))?.[1];
  assert.equal(dig('e2e-a.vm'), a.guestIp);
  assert.equal(dig('e2e-b.vm'), b.guestIp);
  assert.equal(digStatus('nobody-here.vm'), 'NXDOMAIN');
  assert.equal((await ok(['vm', 'ssh', 'e2e-b', '--', 'getent', 'hosts', 'e2e-a.vm'])).stdout.split(/\s+/)[0], a.guestIp, 'one guest resolves another by name');
  await ok(['vm', 'stop', 'e2e-a'], 120_000);
  assert.equal(digStatus('e2e-a.vm'), 'NXDOMAIN', "a stopped VM's name disappears");
  const r = await ok(['vm', 'prune', '-f']);
  assert.match(r.stdout, /deleted e2e-a/);
  const names = (JSON.parse((await ok(['vm', 'list', '--json'])).stdout) as Array<{ name: string }>).map((v) => v.name);
  assert.deepEqual(names, ['e2e-b']);
  await ok(['vm', 'delete', 'e2e-b'], 120_000);
});

test('two concurrent vm run --rm both succeed', async () => {
  const [a, b] = await Promise.all([
    s.banger(['vm', 'run', '--rm', '--', 'hostname'], { timeoutMs: 300_000 }),
    s.banger(['vm', 'run', '--rm', '--', 'hostname'], { timeoutMs: 300_000 }),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.notEqual(a.stdout.trim(), b.stdout.trim(), 'two different VMs');
  assert.equal((await ok(['vm', 'list', '--json'])).stdout.trim(), '[]');
});
