import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isProcessAlive } from '../../src/system/index.js';

/**
 * A throwaway user-mode layout (HOME, XDG dirs, runtime dir) under /tmp, and helpers to
 * run the real bundled `banger`/`bangerd` in it. `cleanup` stops any daemon it started,
 * even when the test failed.
 */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const distCli = join(repoRoot, 'dist', 'banger.js');
export const distDaemon = join(repoRoot, 'dist', 'bangerd.js');
export const distRootHelper = join(repoRoot, 'dist', 'banger-root-helper.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  configFile: string;
  /** A random free-looking port for this sandbox's DNS listener, so sandboxes never collide. */
  dnsPort: number;
  /**
   * This sandbox's own bridge and address, in its config: the daemon never meets a bridge the
   * host already has (after a real `vm run`, br-fc on 172.16.0.1, where the daemon would also
   * serve DNS on port 53). Nothing creates the bridge unless a test starts a VM.
   */
  bridge: string;
  bridgeIp: string;
  /** The config every sandbox starts with (dns_listen, bridge); tests that write a config start from it. */
  baseConfig: string;
  stateDir: string;
  socket: string;
  pidFile: string;
  daemonLog: string;
  banger(args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult>;
  bangerd(args: string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  daemonPid(): number | null;
  cleanup(): Promise<void>;
}

export function run(argv: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: ${argv.join(' ')}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export function createSandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-it-'));
  const runtime = join(dir, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_RUNTIME_DIR: runtime,
    BANGER_MODE: 'user',
    NO_COLOR: '1',
  };
  const stateDir = join(dir, '.local', 'state', 'banger');
  const dnsPort = dnsTestPort();
  const bridge = `br-fc-zt${randomBytes(2).toString('hex')}`;
  const bridgeIp = `10.213.${randomInt(10, 250)}.1`;
  const baseConfig = [
    `dns_listen = "127.0.0.1:${dnsPort}"`,
    `bridge_name = "${bridge}"`,
    `bridge_ip = "${bridgeIp}"`,
    'cidr = 24',
    '',
  ].join('\n');
  const configFile = join(dir, '.config', 'banger', 'config.toml');
  mkdirSync(join(dir, '.config', 'banger'), { recursive: true });
  writeFileSync(configFile, baseConfig);
  const sandbox: Sandbox = {
    dir,
    env,
    dnsPort,
    bridge,
    bridgeIp,
    baseConfig,
    configFile,
    stateDir,
    socket: join(runtime, 'banger', 'bangerd.sock'),
    pidFile: join(runtime, 'banger', 'bangerd.pid'),
    daemonLog: join(stateDir, 'logs', 'bangerd.log'),
    banger: (args, opts = {}) => run([process.execPath, distCli, ...args], { ...env, ...opts.env }, opts.timeoutMs),
    bangerd: (args, opts = {}) => run([process.execPath, distDaemon, ...args], env, opts.timeoutMs),
    daemonPid: () => {
      try {
        return Number(readFileSync(sandbox.pidFile, 'utf8').trim()) || null;
      } catch {
        return null;
      }
    },
    cleanup: async () => {
      // The pid file's daemon, and any other of this sandbox's (one still starting has no pid file yet).
      const pids = new Set([sandbox.daemonPid(), ...daemonsOf(dir)].filter((p): p is number => p !== null));
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
      for (const pid of pids) {
        for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return sandbox;
}

/** The pids of live bangerd processes whose HOME is `home` (a sandbox's). */
export function daemonsOf(home: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        return env.includes(`HOME=${home}`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('bangerd');
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Alive and not a zombie (see isProcessAlive). */
export const alive = isProcessAlive;

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

let nodeAnyUser: string | undefined;

/**
 * A path to this test's own node that every uid can execute, for the processes a test runs as
 * another user (the owner of a system install, a hostile owner, a third uid). process.execPath
 * when every directory above it lets others through; else (the checkout's runtime/node under a
 * 0700 directory such as /root or a `mktemp -d`) a hard link to it, or a copy across file
 * systems, in a 0755 directory of its own under /tmp, removed when this process exits.
 */
export function nodeForAnyUser(): string {
  if (nodeAnyUser) return nodeAnyUser;
  const exe = process.execPath;
  let open = (statSync(exe).mode & 0o005) === 0o005;
  for (let d = dirname(exe); open && d !== '/'; d = dirname(d)) open = (statSync(d).mode & 0o001) !== 0;
  if (open) return (nodeAnyUser = exe);
  const dir = mkdtempSync(join(tmpdir(), 'bgr-node-'));
  chmodSync(dir, 0o755);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const linked = join(dir, basename(exe));
  try {
    linkSync(exe, linked);
  } catch {
    copyFileSync(exe, linked);
    chmodSync(linked, 0o755);
  }
  return (nodeAnyUser = linked);
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a test listener or a forward). */
/**
 * Removes a throwaway test user: its processes killed, then `userdel`, retried while killed
 * processes are still exiting (userdel refuses a user with a process: exit 8). Throws if the
 * user is still there after 10 s, so a leak is a failure rather than silence.
 */
export async function removeTestUser(user: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      execFileSync('pkill', ['-KILL', '-u', user], { stdio: 'ignore' });
    } catch {
      /* none left (or no such user) */
    }
    try {
      execFileSync('userdel', [user], { stdio: 'ignore' });
      return;
    } catch (e) {
      try {
        execFileSync('id', ['-u', user], { stdio: 'ignore' });
      } catch {
        return; // no such user: already removed
      }
      if (Date.now() > deadline) throw new Error(`cannot remove test user ${user}: ${(e as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A loopback port for a test's DNS server (UDP), where a sandbox needs the number before
 * anything can bind: below Linux's ephemeral range (32768-60999), so no outgoing connection
 * of this host holds it.
 */
export function dnsTestPort(): number {
  return randomInt(20_000, 32_000);
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
