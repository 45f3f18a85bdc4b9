/**
 * End-to-end: guests without systemd and without sshd (issue 15 §3), real VMs under QEMU.
 * Two busybox root filesystems (test/fixtures/guestTrees.ts), one with busybox init and one
 * with no init at all (banger-init stays PID 1), each registered with the pulled default
 * kernel. For each: `vm run --rm -- CMD` prints and exits with the command's status,
 * `vm exec` passes a nonzero status and a missing program is 127, `vm ports` answers, an
 * interactive `vm ssh` (no sshd: a terminal session through the agent, driven by script(1))
 * runs a shell with a window size and exits with its status, and `vm stop` powers the guest
 * off through its init, well before the hard-stop timeout. One VM at a time.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentBinaryPath, initBinaryPath } from '../../src/buildinfo/index.js';
import { buildBusyboxRootfs, type GuestInit } from '../fixtures/guestTrees.js';
import { createE2eSandbox, type E2eSandbox } from './e2eSandbox.js';
import { inTerminal } from './terminal.js';

const KERNEL = 'debian-bookworm-cloud';
/** The daemon's graceful-stop budget (src/daemon/vm/power.ts) before the hard stop. */
const GRACEFUL_STOP_MS = 20_000;

let e: E2eSandbox;
let scratch: string;

before(async () => {
  e = createE2eSandbox();
  scratch = mkdtempSync(join(tmpdir(), 'bgr-anyguest-'));
  await e.ok(['kernel', 'pull', KERNEL], 900_000);
});
after(async () => {
  try {
    await e.teardown();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

for (const kind of ['busybox-init', 'no-init'] as GuestInit[]) {
  test(`${kind}: run, exec, ports, an agent shell and a clean stop, without sshd`, async () => {
    const image = `bgr-${kind}`;
    const name = `bgr-${kind}-vm`;
    const rootfs = buildBusyboxRootfs({
      dir: scratch,
      init: kind,
      agentBinary: agentBinaryPath(),
      initBinary: initBinaryPath(),
    });
    await e.ok(['image', 'register', image, '--rootfs', rootfs, '--kernel', KERNEL]);
    try {
      const once = await e.s.banger(['vm', 'run', '--rm', '--image', image, '--', '/bin/busybox', 'echo', 'hi'], {
        timeoutMs: 600_000,
      });
      assert.equal(once.code, 0, once.stderr);
      assert.equal(once.stdout, 'hi\n');

      await e.ok(['vm', 'run', '--name', name, '--image', image, '--', '/bin/busybox', 'true'], 600_000);
      const seven = await e.s.banger(['vm', 'exec', name, '--', '/bin/busybox', 'sh', '-c', 'echo out; exit 7']);
      assert.equal(seven.code, 7, seven.stderr);
      assert.equal(seven.stdout, 'out\n');
      const missing = await e.s.banger(['vm', 'exec', name, '--', 'no-such-program']);
      assert.equal(missing.code, 127);
      assert.match(missing.stderr, /cannot run no-such-program: No such file or directory/);
      // /etc/hosts was a dangling symlink in the image: the initramfs replaced it with a file.
      const hosts = await e.ok([
        'vm',
        'exec',
        name,
        '--',
        '/bin/busybox',
        'sh',
        '-c',
        '[ -L /etc/hosts ] || cat /etc/hosts; readlink /proc/1/exe; if [ -e /bin/sh ]; then echo has-sh; fi',
      ]);
      assert.match(hosts.stdout, new RegExp(`127\\.0\\.1\\.1 ${name}`));
      // PID 1: banger-init itself, or the image's init it handed over to. no-init has no /bin/sh.
      assert.equal(/^has-sh$/m.test(hosts.stdout), kind === 'busybox-init');
      assert.match(hosts.stdout, kind === 'no-init' ? /^\/\.banger\/init$/m : /^\/bin\/busybox$/m);
      const ports = await e.ok(['vm', 'ports', name, '--json']);
      assert.ok(Array.isArray(JSON.parse(ports.stdout)), ports.stdout);

      // No sshd and stdin not a terminal: `vm ssh -- CMD` runs CMD through the agent like `vm exec`.
      const viaSsh = await e.s.banger(['vm', 'ssh', name, '--', '/bin/busybox', 'sh', '-c', 'echo via-agent; exit 4']);
      assert.equal(viaSsh.code, 4, viaSsh.stderr);
      assert.equal(viaSsh.stdout, 'via-agent\n');
      const shell = await inTerminal(e.s.env, ['vm', 'ssh', name], 'echo $((6*7)); stty size; exit 3\n');
      assert.equal(shell.code, 3, shell.out);
      assert.match(shell.out, /^42\r?$/m);
      assert.match(shell.out, /^\d+ \d+\r?$/m);

      // The agent is kept alive: killed (by its own command), it is back within the backoff.
      await e.s.banger(['vm', 'exec', name, '--', '/bin/busybox', 'sh', '-c', 'kill -9 $PPID']);
      const back = await e.ok(['vm', 'exec', name, '--', '/bin/busybox', 'echo', 'agent-back']);
      assert.equal(back.stdout, 'agent-back\n');

      const t0 = Date.now();
      const stop = await e.ok(['vm', 'stop', name], 120_000);
      const took = Date.now() - t0;
      assert.doesNotMatch(stop.stderr, /hard stop/);
      assert.ok(took < GRACEFUL_STOP_MS, `vm stop took ${took} ms: the guest did not power off by itself`);
      assert.equal((await e.vmJson(name)).state, 'stopped');
      await e.ok(['vm', 'delete', name]);
    } finally {
      await e.s.banger(['vm', 'delete', name]);
      await e.s.banger(['image', 'delete', image]);
      rmSync(rootfs, { force: true });
    }
  });
}
