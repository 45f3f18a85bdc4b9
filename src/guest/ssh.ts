import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'node:net';
import { BangerError } from '../model/index.js';
import { writeFileAtomic, type HostRunner } from '../system/index.js';

/**
 * SSH to guests. One ed25519 client key per install; each VM's host key is generated
 * on the host before its first boot and pinned in banger's own known_hosts under the
 * alias NAME.vm, so even the first connection is verified (stricter than
 * trust-on-first-use). A mismatch is reported as a possible MITM. The user's
 * ~/.ssh/known_hosts is never touched.
 */
export async function ensureClientKey(runner: HostRunner, keyPath: string): Promise<string> {
  if (!existsSync(keyPath)) {
    mkdirSync(dirname(keyPath), { recursive: true, mode: 0o700 });
    await runner.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'banger', '-f', keyPath]);
  }
  return readFileSync(`${keyPath}.pub`, 'utf8').trim();
}

/** Generates a host key pair for a VM at `path` (and `path`.pub). */
export async function generateHostKey(runner: HostRunner, path: string, comment: string): Promise<string> {
  await runner.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

export function hostAlias(vmName: string): string {
  return `${vmName}.vm`;
}

/** Replaces any entry for `alias` with `publicKey` ("ssh-ed25519 AAAA… comment"). Atomic. */
export function pinHostKey(knownHosts: string, alias: string, publicKey: string): void {
  const [type, key] = publicKey.split(/\s+/);
  const kept = readLines(knownHosts).filter((l) => l.split(/\s+/)[0] !== alias);
  writeLines(knownHosts, [...kept, `${alias} ${type} ${key}`]);
}

export function unpinHostKey(knownHosts: string, alias: string): void {
  if (!existsSync(knownHosts)) return;
  writeLines(
    knownHosts,
    readLines(knownHosts).filter((l) => l.split(/\s+/)[0] !== alias),
  );
}

function readLines(p: string): string[] {
  try {
    return readFileSync(p, 'utf8')
      .split('\n')
      .filter((l) => l.trim());
  } catch {
    return [];
  }
}

function writeLines(p: string, lines: string[]): void {
  writeFileAtomic(p, lines.length ? `${lines.join('\n')}\n` : '');
}

export interface SshTarget {
  ip: string;
  alias: string;
  keyPath: string;
  knownHosts: string;
}

/** Options shared by every ssh invocation to a guest. Pure. */
export function sshOptions(t: SshTarget): string[] {
  return [
    '-i',
    t.keyPath,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${t.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    `HostKeyAlias=${t.alias}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'LogLevel=ERROR',
    // The guest answered the readiness probe already; a starved TCG guest can still take
    // more than 5 s to re-exec sshd and send its banner (ConnectTimeout covers both).
    '-o',
    'ConnectTimeout=15',
    '-o',
    'ServerAliveInterval=15',
  ];
}

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * argv for `ssh` to the guest; `command` empty means an interactive shell (with a tty).
 * ssh joins its command words with spaces for the remote shell, so each word is quoted
 * here: `-- sh -c 'exit 42'` must arrive as three words, not four.
 */
export function sshArgv(t: SshTarget, command: readonly string[], opts: { tty?: boolean } = {}): string[] {
  const tty = opts.tty ?? command.length === 0;
  return [
    'ssh',
    ...sshOptions(t),
    ...(tty ? ['-t'] : ['-T']),
    `root@${t.ip}`,
    ...(command.length ? ['--', command.map(shellQuote).join(' ')] : []),
  ];
}

/** A command line that is already a shell string (e.g. "sync; poweroff"), sent as is. */
export function sshShellArgv(t: SshTarget, script: string): string[] {
  return ['ssh', ...sshOptions(t), '-T', `root@${t.ip}`, '--', script];
}

/** ssh's own words for a changed host key, turned into banger's. */
export function describeSshFailure(stderr: string, alias: string): BangerError | null {
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/.test(stderr)) {
    return new BangerError('conflict', `the host key of ${alias} does not match the one banger pinned: possible MITM`, {
      hint: `if you recreated the VM outside banger, delete and recreate it with banger; never ignore this for a VM you did not change`,
    });
  }
  return null;
}

/** True when something on ip:port accepts a connection and speaks first (sshd's banner) within timeoutMs. */
export function probeTcp(ip: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port, timeout: timeoutMs });
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      s.destroy();
      resolve(ok);
    };
    s.once('data', () => finish(true));
    s.once('error', () => finish(false));
    s.once('timeout', () => finish(false));
    s.once('close', () => finish(false));
  });
}

/** Resolves when something accepts TCP connections on ip:port, or rejects after timeoutMs. */
export async function waitForTcp(
  ip: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
  isDead?: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new BangerError('interrupted', 'cancelled while waiting for the guest');
    if (isDead?.())
      throw new BangerError('operation_failed', 'the VM exited while booting', { hint: 'see `banger vm logs NAME`' });
    if (Date.now() > deadline)
      throw new BangerError(
        'operation_failed',
        `the guest did not open port ${port} within ${Math.round(timeoutMs / 1000)} s`,
        { hint: 'see `banger vm logs NAME` for its console' },
      );
    if (await probeTcp(ip, port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
