/**
 * End-to-end: command mode through the guest agent (docs/howto/vms.md) on real QEMU/TCG
 * guests. Four `vm run --rm -- CMD` at once, five times over, on a two-core host: every run
 * prints its output and exits with the command's own status (the load that made ssh time out
 * in its banner exchange). Then `vm exec` (--guest-path, stdin, signals, Ctrl-C), `vm health`
 * and `vm ping` on one VM. Teardown removes every VM, tap, the bridge and the daemon.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { distCli } from '../integration/harness.js';
import { createE2eSandbox, type E2eSandbox } from './e2eSandbox.js';

let e: E2eSandbox;
const VM = 'e2e-cmd';

before(() => {
  e = createE2eSandbox();
});
after(async () => {
  await e.teardown();
});

/** The CLI with `input` on its stdin (a pipe), and optionally a signal once stdout has `signalAfter`. */
function bangerWithInput(
  args: string[],
  input: string | null,
  signal?: { after: string; signal: NodeJS.Signals },
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [distCli, ...args], { env: e.s.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (signal && !signalled && stdout.includes(signal.after)) {
        signalled = true;
        child.kill(signal.signal);
      }
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: banger ${args.join(' ')}\n${stderr}`));
    }, 300_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
    if (input !== null) child.stdin.end(input);
  });
}

test('four `vm run --rm -- CMD` at once, five times: all 20 print their output and exit with the command status', async () => {
  // The first run obtains the kernel and builds the image; it is not one of the 20.
  const warm = await e.s.banger(['vm', 'run', '--rm', '--', 'sh', '-c', 'echo warm'], { timeoutMs: 1_800_000 });
  assert.equal(warm.code, 0, warm.stderr);
  assert.equal(warm.stdout, 'warm\n');
  const rounds: number[] = [];
  for (let round = 1; round <= 5; round++) {
    const t0 = Date.now();
    const runs = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        e.s.banger(
          ['vm', 'run', '--rm', '--vcpu', '1', '--memory', '512', '--', 'sh', '-c', `echo ok-${round}-${i}; exit 7`],
          { timeoutMs: 600_000 },
        ),
      ),
    );
    rounds.push(Date.now() - t0);
    runs.forEach((r, k) => {
      assert.equal(r.stdout, `ok-${round}-${k + 1}\n`, `round ${round} run ${k + 1}: output\n${r.stderr}`);
      assert.equal(r.code, 7, `round ${round} run ${k + 1}: the command's status\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /banner exchange|transport/);
    });
  }
  console.log(`four concurrent runs per round, seconds: ${rounds.map((ms) => (ms / 1000).toFixed(1)).join(', ')}`);
  assert.equal((await e.ok(['vm', 'list', '--json'])).stdout.trim(), '[]');
});

test('vm exec: --guest-path, stdin, a status of 255, signals, Ctrl-C; vm health and vm ping', async () => {
  await e.ok(['vm', 'create', '--name', VM, '--vcpu', '1', '--memory', '512']);
  assert.equal((await e.ok(['vm', 'exec', VM, '--guest-path', '/etc', '--', 'pwd'])).stdout, '/etc\n');
  const missing = await e.s.banger(['vm', 'exec', VM, '--guest-path', '/no/such/dir', '--', 'true']);
  assert.equal(missing.code, 3, missing.stderr);
  assert.match(missing.stderr, /cannot change to \/no\/such\/dir/);
  const relative = await e.s.banger(['vm', 'exec', VM, '--guest-path', 'etc', '--', 'true']);
  assert.equal(relative.code, 2);
  assert.match(relative.stderr, /--guest-path must be an absolute path/);
  // No workspace: /root.
  assert.equal((await e.ok(['vm', 'exec', VM, '--', 'pwd'])).stdout, '/root\n');
  assert.equal((await e.s.banger(['vm', 'exec', VM, '--', 'sh', '-c', 'exit 255'])).code, 255);
  assert.equal((await e.s.banger(['vm', 'exec', VM, '--', 'sh', '-c', 'kill -TERM $$'])).code, 143);
  const notFound = await e.s.banger(['vm', 'exec', VM, '--', 'no-such-tool']);
  assert.equal(notFound.code, 127);
  assert.match(notFound.stderr, /cannot run no-such-tool/);
  // stdin from a pipe reaches the command.
  const piped = await bangerWithInput(['vm', 'exec', VM, '--', 'sh', '-c', 'tr a-z A-Z; echo done >&2'], 'hello\n');
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, 'HELLO\n');
  assert.match(piped.stderr, /^done$/m);
  // Ctrl-C: SIGINT to the guest command's process group, banger exits 130, nothing is left running.
  const interrupted = await bangerWithInput(
    ['vm', 'exec', VM, '--', 'sh', '-c', 'echo ready; sleep 600; echo never'],
    null,
    { after: 'ready', signal: 'SIGINT' },
  );
  assert.equal(interrupted.code, 130, interrupted.stderr);
  assert.ok(!interrupted.stdout.includes('never'));
  const left = await e.ok(['vm', 'exec', VM, '--', 'sh', '-c', 'pgrep -x sleep || echo none']);
  assert.equal(left.stdout, 'none\n');

  const health = JSON.parse((await e.ok(['vm', 'health', VM, '--json'])).stdout) as Array<{
    name: string;
    ok: boolean;
    ssh: boolean;
    health: { hostname: string; uptime_s: number; boot_id: string; agent_version: string };
  }>;
  assert.equal(health[0]!.ok, true);
  assert.equal(health[0]!.ssh, true);
  assert.equal(health[0]!.health.hostname, VM);
  assert.ok(health[0]!.health.uptime_s > 0);
  assert.match(health[0]!.health.boot_id, /^[0-9a-f-]{36}$/);
  assert.match((await e.ok(['vm', 'health', VM])).stdout, new RegExp(`^${VM}\\s+ok\\s+ok\\s`, 'm'));
  assert.match((await e.ok(['vm', 'ping', VM])).stdout, new RegExp(`^${VM}: agent answered in \\d+\\.\\d+ ms$`, 'm'));
  const ping = JSON.parse((await e.ok(['vm', 'ping', VM, '--json'])).stdout) as Array<{
    ok: boolean;
    latencyMs: number;
  }>;
  assert.equal(ping[0]!.ok, true);
  await e.ok(['vm', 'stop', VM]);
  const down = await e.s.banger(['vm', 'ping', VM]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /not running/);
  await e.ok(['vm', 'delete', VM]);
});
