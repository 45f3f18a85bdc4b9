/**
 * End-to-end: the network around a sandbox and the guest agent, on real guests.
 * An "outside" host is a network namespace on its own veth pair and subnet (made and
 * removed here), serving HTTP; NAT VMs masquerade out of the veth (nat_uplink). Teardown
 * leaves no VM, tap, bridge, namespace, veth or nft rule, and ip_forward as it was.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../integration/harness.js';
import { createE2eSandbox, type E2eSandbox } from './e2eSandbox.js';

const tag = randomBytes(2).toString('hex');
const ns = `bzt${tag}`;
const vethHost = `vzt${tag}h`;
const vethNs = `vzt${tag}n`;
const outsideNet = `10.215.${randomInt(10, 250)}`;
const outsideIp = `${outsideNet}.2`;
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
let e: E2eSandbox;
let server: ChildProcess | null = null;

const sh = (...argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { stdio: 'pipe' });
const nftListing = () => {
  try {
    return execFileSync('nft', ['list', 'table', 'ip', 'banger'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return '';
  }
};
/** curl from inside a guest to the outside host; its exit code (0 reached, non-zero not). */
async function curlOutside(vm: string): Promise<{ code: number; body: string }> {
  const r = await e.s.banger(['vm', 'ssh', vm, '--', 'curl', '-s', '-m', '4', `http://${outsideIp}:8080/`], {
    timeoutMs: 60_000,
  });
  return { code: r.code, body: r.stdout };
}

before(async () => {
  sh('ip', 'netns', 'add', ns);
  sh('ip', 'link', 'add', vethHost, 'type', 'veth', 'peer', 'name', vethNs);
  sh('ip', 'link', 'set', vethNs, 'netns', ns);
  sh('ip', 'addr', 'add', `${outsideNet}.1/24`, 'dev', vethHost);
  sh('ip', 'link', 'set', vethHost, 'up');
  sh('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${outsideIp}/24`, 'dev', vethNs);
  sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', vethNs, 'up');
  sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  // No route back to the guests' subnet: only masqueraded traffic can get an answer.
  server = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      '-e',
      `require('http').createServer((q, s) => s.end('outside\\n')).listen(8080, '${outsideIp}')`,
    ],
    { stdio: 'ignore' },
  );
  e = createE2eSandbox([`nat_uplink = "${vethHost}"`]);
  for (let i = 0; i < 50; i++) {
    try {
      sh('ip', 'netns', 'exec', ns, 'sh', '-c', `exec 3<>/dev/tcp/${outsideIp}/8080`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

after(async () => {
  try {
    await e.teardown();
  } finally {
    server?.kill('SIGKILL');
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    try {
      execFileSync('ip', ['link', 'del', vethHost], { stdio: 'ignore' });
    } catch {
      /* went with the namespace */
    }
    const listing = nftListing();
    assert.equal(listing.includes(`banger-bridge:${e.bridge}`), false, 'no nft rule for the test bridge is left');
    assert.equal(
      readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
      ipForwardBefore,
      'ip_forward is as it was',
    );
    assert.equal(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(ns), false);
  }
});

test('the agent answers: readiness, its view in vm show, and vm ports with sshd and a listener started in the guest', async () => {
  const created = await e.ok(['vm', 'create', '--name', 'e2e-nat', '--nat'], 900_000);
  assert.match(created.stderr, /waiting for agent/);
  const shown = await e.vmJson('e2e-nat');
  assert.equal(shown.nat, true);
  assert.ok(
    shown.runtime && 'health' in shown.runtime.agent,
    `agent view in vm show: ${JSON.stringify(shown.runtime?.agent)}`,
  );
  assert.equal(shown.runtime.agent.health.boot_id, await e.bootId('e2e-nat'), "the agent's boot_id is the guest's");
  await e.ok([
    'vm',
    'ssh',
    'e2e-nat',
    '--',
    'sh',
    '-c',
    'setsid systemd-socket-activate -l 8080 cat </dev/null >/dev/null 2>&1 &',
  ]);
  let ports: Array<{ vm: string; port: number; process: string | null; endpoint: string | null; url: string | null }> =
    [];
  for (let i = 0; i < 20 && !ports.some((p) => p.port === 8080); i++) {
    ports = JSON.parse((await e.ok(['vm', 'ports', 'e2e-nat', '--json'])).stdout) as typeof ports;
    if (!ports.some((p) => p.port === 8080)) await new Promise((r) => setTimeout(r, 250));
  }
  const ssh = ports.find((p) => p.port === 22);
  assert.equal(ssh?.process, 'sshd');
  assert.equal(ssh?.endpoint, 'e2e-nat.vm:22');
  const listener = ports.find((p) => p.port === 8080);
  assert.ok(listener, `port 8080 listed: ${JSON.stringify(ports)}`);
  assert.equal(listener.url, 'http://e2e-nat.vm:8080/');
  const table = (await e.ok(['vm', 'ports'])).stdout;
  assert.match(table, /^VM\s+PROTO\s+ADDRESS\s+PORT\s+PROCESS\s+ENDPOINT$/m);
});

test('NAT: the outside is reachable from a --nat guest and not from a plain one; vm set switches it live', async () => {
  await e.ok(['vm', 'create', '--name', 'e2e-plain'], 600_000);
  const nat = await e.vmJson('e2e-nat');
  const plain = await e.vmJson('e2e-plain');
  assert.deepEqual(await curlOutside('e2e-nat'), { code: 0, body: 'outside\n' });
  assert.notEqual((await curlOutside('e2e-plain')).code, 0, 'a guest without NAT stays inside');
  assert.match(nftListing(), new RegExp(`masquerade comment "banger-vm:${nat.id}"`));
  assert.equal(nftListing().includes(`banger-vm:${plain.id}`), false);

  // DNS both ways while both run.
  assert.equal(e.dig('e2e-nat.vm'), nat.guestIp);
  assert.equal(e.digStatus('nobody-here.vm'), 'NXDOMAIN');
  assert.equal(
    (await e.ok(['vm', 'ssh', 'e2e-plain', '--', 'getent', 'hosts', 'e2e-nat.vm'])).stdout.split(/\s+/)[0],
    nat.guestIp,
  );

  await e.ok(['vm', 'set', 'e2e-plain', '--nat']);
  assert.equal((await curlOutside('e2e-plain')).code, 0, 'NAT switched on while running');
  await e.ok(['vm', 'set', 'e2e-plain', '--no-nat']);
  assert.notEqual((await curlOutside('e2e-plain')).code, 0, 'and off again');
  assert.equal(nftListing().includes(`banger-vm:${plain.id}`), false);
});

test('ssh-config: plain ssh reaches NAME.vm through the Include; install/uninstall leaves ~/.ssh/config byte-identical', async () => {
  const sshDir = join(e.s.dir, '.ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  const userConfig = join(sshDir, 'config');
  const original = 'Host example\n  User alice\n\n# trailing comment without newline';
  writeFileSync(userConfig, original, { mode: 0o600 });
  await e.ok(['ssh-config', '--install']);
  // ssh reads ~/.ssh/config from the passwd home, not $HOME: point it at the sandbox's.
  const r = await run(['ssh', '-F', userConfig, '-o', 'BatchMode=yes', 'e2e-plain.vm', 'hostname'], e.s.env, 60_000);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'e2e-plain');
  await e.ok(['ssh-config', '--uninstall']);
  assert.equal(readFileSync(userConfig, 'utf8'), original);
});

test('vm stop goes through the agent (no ssh fallback, no hard stop); rules follow stop/start; delete removes them', async () => {
  const { id } = await e.vmJson('e2e-nat');
  const stopped = await e.ok(['vm', 'stop', 'e2e-nat'], 120_000);
  assert.match(stopped.stderr, /asking the agent to power off/);
  assert.doesNotMatch(stopped.stderr, /over ssh|hard stop/);
  assert.equal(e.digStatus('e2e-nat.vm'), 'NXDOMAIN', "a stopped VM's name disappears");
  assert.equal(nftListing().includes(`banger-vm:${id}`), false, 'a stopped VM has no NAT rules');
  await e.ok(['vm', 'start', 'e2e-nat'], 600_000);
  assert.equal(
    nftListing()
      .split('\n')
      .filter((l) => l.includes(`banger-vm:${id}`)).length,
    3,
    'one set of rules again after start',
  );
  assert.deepEqual(await curlOutside('e2e-nat'), { code: 0, body: 'outside\n' });
  await e.ok(['vm', 'delete', 'e2e-nat'], 120_000);
  assert.equal(
    nftListing().includes(`banger-vm:${id}`),
    false,
    "after delete, banger's table holds no rule for the VM",
  );
  await e.ok(['vm', 'delete', 'e2e-plain'], 120_000);
  assert.equal(existsSync(join(e.s.stateDir, 'vms', id)), false);
});
