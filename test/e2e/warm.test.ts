/**
 * End-to-end: warm starts (docs/howto/snapshots.md) on real QEMU/TCG guests of the default
 * image. A template is built; a warm `vm run` prints what a cold one prints; two clones of
 * the template are different machines (hostname, address, MAC, machine-id, host key, random
 * bytes), keep the host's time, reach each other by name.vm and share no writes; pause,
 * resume (across a daemon restart), `vm stop --save` and `vm start`, and fork; a daemon
 * killed with SIGKILL during a restore leaves a consistent store and nothing running.
 * At most two guests run at once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { distCli } from '../integration/harness.js';
import { createE2eSandbox, type E2eSandbox } from './e2eSandbox.js';

let e: E2eSandbox;

before(() => {
  e = createE2eSandbox(['warm_start = true']);
});
after(async () => {
  await e.teardown();
});

interface GuestFacts {
  hostname: string;
  machineId: string;
  mac: string;
  ip: string;
  hostKey: string;
  random: string;
  clockMs: number;
  /** Host time before and after the command. */
  window: [number, number];
}

/** One `vm exec` that reads everything a clone must not share with another. */
async function facts(name: string): Promise<GuestFacts> {
  const t0 = Date.now();
  const r = await e.ok([
    'vm',
    'exec',
    name,
    '--',
    'sh',
    '-c',
    'date +%s%3N; head -c 16 /dev/urandom | od -An -tx1 | tr -d " \\n"; echo; hostname; cat /etc/machine-id; ' +
      'cat /sys/class/net/eth0/address; ip -4 -o addr show eth0 | awk \'{print $4}\'; cut -d" " -f2 /etc/ssh/ssh_host_ed25519_key.pub',
  ]);
  const t1 = Date.now();
  const [clock, random, hostname, machineId, mac, ip, hostKey] = r.stdout.trim().split('\n');
  return {
    clockMs: Number(clock),
    random: random!,
    hostname: hostname!,
    machineId: machineId!,
    mac: mac!,
    ip: ip!,
    hostKey: hostKey!,
    window: [t0, t1],
  };
}

function assertClockClose(f: GuestFacts, what: string): void {
  assert.ok(
    f.clockMs >= f.window[0] - 2_000 && f.clockMs <= f.window[1] + 2_000,
    `${what}: guest clock ${new Date(f.clockMs).toISOString()} is not within 2 s of the host's (${new Date(f.window[0]).toISOString()})`,
  );
}

test('a template is built, and a warm `vm run` prints the same output and status as a cold one', async () => {
  const script = ['sh', '-c', 'echo out; echo err >&2; cat /etc/os-release | head -1; exit 3'];
  const cold = await e.s.banger(['vm', 'run', '--rm', '--cold', '--name', 'w-cold', '--', ...script], {
    timeoutMs: 1_800_000,
  });
  assert.equal(cold.code, 3, cold.stderr);
  const built = await e.ok(['image', 'warm', 'debian-bookworm'], 600_000);
  assert.match(built.stdout, /template [0-9a-f]{16}: qemu, 2 vcpu, 1024 MiB/);
  const show = JSON.parse((await e.ok(['image', 'show', 'debian-bookworm'])).stdout) as {
    templates: Array<{ key: string; sizeBytes: number }>;
  };
  assert.equal(show.templates.length, 1);
  assert.ok(show.templates[0]!.sizeBytes > 0);
  const warm = await e.s.banger(['vm', 'run', '--rm', '--name', 'w-warm', '--', ...script], { timeoutMs: 300_000 });
  assert.equal(warm.code, 3, warm.stderr);
  assert.equal(warm.stdout, cold.stdout);
  assert.match(warm.stderr, /restoring from template/);
  assert.match(warm.stderr, /err/);
});

test('two clones of one template are different machines with the host clock, reach each other, and share no writes', async () => {
  await e.ok(['vm', 'create', '--name', 'c1']);
  await e.ok(['vm', 'create', '--name', 'c2']);
  const [a, b] = [await facts('c1'), await facts('c2')];
  const [va, vb] = [await e.vmJson('c1'), await e.vmJson('c2')];
  assert.deepEqual([a.hostname, b.hostname], ['c1', 'c2']);
  assert.deepEqual([a.ip.split('/')[0], b.ip.split('/')[0]], [va.guestIp, vb.guestIp]);
  assert.notEqual(a.mac, b.mac);
  assert.notEqual(a.machineId, b.machineId);
  assert.match(a.machineId, /^[0-9a-f]{32}$/);
  assert.notEqual(a.hostKey, b.hostKey);
  assert.notEqual(a.random, b.random);
  assertClockClose(a, 'c1');
  assertClockClose(b, 'c2');
  // The host key each guest serves is the one pinned for it: ssh with strict checking works.
  for (const n of ['c1', 'c2']) assert.equal((await e.ok(['vm', 'ssh', n, '--', 'hostname'])).stdout.trim(), n);
  const knownHosts = readFileSync(join(e.s.stateDir, 'known_hosts'), 'utf8');
  assert.ok(knownHosts.includes(a.hostKey) && knownHosts.includes(b.hostKey));
  // By name.vm, through banger's DNS.
  await e.ok(['vm', 'exec', 'c1', '--', 'bash', '-c', 'timeout 10 bash -c "</dev/tcp/c2.vm/22"']);
  await e.ok(['vm', 'exec', 'c2', '--', 'bash', '-c', 'timeout 10 bash -c "</dev/tcp/c1.vm/22"']);
  // Writes stay in the clone that made them, on the work disk and the root disk.
  await e.ok(['vm', 'exec', 'c1', '--', 'sh', '-c', 'echo c1 > /root/mine && echo c1 > /etc/mine && sync']);
  await e.ok(['vm', 'exec', 'c2', '--', 'sh', '-c', '! test -e /root/mine && ! test -e /etc/mine']);
  await e.ok(['vm', 'delete', 'c2']);
  await e.ok(['vm', 'create', '--name', 'c3']);
  await e.ok(['vm', 'exec', 'c3', '--', 'sh', '-c', '! test -e /root/mine && ! test -e /etc/mine']);
  await e.ok(['vm', 'delete', 'c3']);
});

test('pause and resume (across a daemon restart), stop --save and start, and fork', async () => {
  const boot = await e.bootId('c1');
  await e.ok(['vm', 'pause', 'c1']);
  assert.match((await e.ok(['vm', 'list'])).stdout, /c1\s+paused/);
  const refused = await e.s.banger(['vm', 'exec', 'c1', '--', 'true']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /paused/);
  await e.ok(['daemon', 'stop']);
  assert.match((await e.ok(['vm', 'list'])).stdout, /c1\s+paused/);
  await e.ok(['vm', 'resume', 'c1']);
  assertClockClose(await facts('c1'), 'c1 after resume');
  assert.equal(await e.bootId('c1'), boot);

  await e.ok(['vm', 'stop', '--save', 'c1']);
  assert.match((await e.ok(['vm', 'list'])).stdout, /c1\s+saved/);
  assert.deepEqual(e.qemuPids(), []);
  await e.ok(['vm', 'start', 'c1']);
  assert.equal(await e.bootId('c1'), boot, 'a saved VM resumes: the same boot');
  assert.equal((await e.ok(['vm', 'exec', 'c1', '--', 'cat', '/root/mine'])).stdout, 'c1\n');
  assertClockClose(await facts('c1'), 'c1 after a saved start');

  const before = await facts('c1');
  const forked = await e.ok(['vm', 'fork', 'c1', '--name', 'f1']);
  assert.match(forked.stdout, /forked c1 as f1/);
  const f = await facts('f1');
  assert.equal(f.hostname, 'f1');
  assert.notEqual(f.mac, before.mac);
  assert.notEqual(f.ip, before.ip);
  assert.notEqual(f.machineId, before.machineId);
  assert.notEqual(f.hostKey, before.hostKey);
  assertClockClose(f, 'f1');
  // The fork has the source's memory and files; the source runs on, unchanged.
  assert.equal((await e.ok(['vm', 'exec', 'f1', '--', 'cat', '/root/mine'])).stdout, 'c1\n');
  const after = await facts('c1');
  assert.deepEqual(
    [after.hostname, after.mac, after.ip, after.machineId, after.hostKey],
    [before.hostname, before.mac, before.ip, before.machineId, before.hostKey],
  );
  assert.equal(await e.bootId('c1'), boot);
  await e.ok(['vm', 'exec', 'f1', '--', 'sh', '-c', 'echo f1 > /root/fork-only && sync']);
  await e.ok(['vm', 'exec', 'c1', '--', 'sh', '-c', '! test -e /root/fork-only']);
  assert.equal((await e.ok(['vm', 'ssh', 'f1', '--', 'hostname'])).stdout.trim(), 'f1');
  await e.ok(['vm', 'delete', 'f1', 'c1']);
});

test('a corrupt template is discarded with a warning and the run boots cold: never a failed run', async () => {
  const show = JSON.parse((await e.ok(['image', 'show', 'debian-bookworm'])).stdout) as {
    templates: Array<{ key: string }>;
  };
  const key = show.templates[0]!.key;
  const state = join(e.s.stateDir, 'templates', key, 'state', 'vmstate');
  writeFileSync(state, 'not a migration stream');
  const r = await e.s.banger(['vm', 'run', '--rm', '--name', 'w-corrupt', '--', 'sh', '-c', 'echo ok'], {
    timeoutMs: 600_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'ok\n');
  assert.match(r.stderr, new RegExp(`warm template ${key} discarded`));
  assert.match(r.stderr, /boots cold/);
  const after = JSON.parse((await e.ok(['image', 'show', 'debian-bookworm'])).stdout) as {
    templates: Array<{ key: string }>;
  };
  assert.ok(!after.templates.some((t) => t.key === key), 'the corrupt template is gone');
  // Rebuilt (by the background build this cold run started, or now) for what follows.
  await e.ok(['image', 'warm', 'debian-bookworm'], 600_000);
});

test('a daemon killed with SIGKILL during a restore leaves a consistent store and no orphan', async () => {
  const child = spawn(process.execPath, [distCli, 'vm', 'create', '--name', 'k1'], {
    env: e.s.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const restoring = new Promise<void>((resolve) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/from a saved state/.test(stderr)) resolve();
    });
  });
  await Promise.race([restoring, new Promise((r) => setTimeout(r, 120_000))]);
  assert.match(stderr, /from a saved state/, 'the create reached its restore');
  const pid = e.s.daemonPid();
  assert.ok(pid);
  process.kill(pid, 'SIGKILL');
  await new Promise((r) => child.on('close', r));
  // The next command starts a daemon, which reconciles: no VMM of k1 survives its record.
  const list = JSON.parse((await e.ok(['vm', 'list', '--json'])).stdout) as Array<{ name: string; state: string }>;
  const k1 = list.find((v) => v.name === 'k1');
  assert.ok(k1, 'the record of the interrupted create is kept');
  assert.notEqual(k1.state, 'running');
  assert.deepEqual(e.qemuPids(), [], 'no VMM outlives the killed daemon');
  // The VM is usable: it starts (cold or warm) and answers.
  await e.ok(['vm', 'start', 'k1']);
  assert.equal((await e.ok(['vm', 'exec', 'k1', '--', 'hostname'])).stdout.trim(), 'k1');
  await e.ok(['vm', 'delete', 'k1']);
  await e.ok(['image', 'cache', 'prune']);
  const show = JSON.parse((await e.ok(['image', 'show', 'debian-bookworm'])).stdout) as { templates: unknown[] };
  assert.deepEqual(show.templates, [], 'prune removes the templates');
  const templatesDir = join(e.s.stateDir, 'templates');
  assert.deepEqual(
    existsSync(templatesDir) ? readdirSync(templatesDir) : [],
    [],
    'no template or build scratch is left',
  );
});
