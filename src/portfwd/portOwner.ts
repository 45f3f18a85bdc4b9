/**
 * Who holds a local TCP port: the socket's inode from /proc/net/tcp{,6}, the process whose
 * descriptor links to that socket (/proc/PID/fd), and that process's command line and
 * executable. A process of another user cannot be looked into by an unprivileged daemon;
 * the answer then says the port is held by a process it cannot see (and that user's uid).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describeProgram, inodesHoldingPort, parseProcNetTcp, socketInodeOfLink, uidsHoldingPort } from './procNet.js';

export type PortOwner =
  | { kind: 'process'; pid: number; program: string | null }
  /** The socket is there, but no process this user can look into holds it. */
  | { kind: 'hidden'; uids: number[] }
  /** No socket on that port now (it was released in between). */
  | { kind: 'none' };

function readOr<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** The pid of the first process with a descriptor on one of `inodes`, or null. */
function pidHolding(procRoot: string, inodes: ReadonlySet<number>): number | null {
  const pids = readOr(() => readdirSync(procRoot), [] as string[]).filter((n) => /^\d+$/.test(n));
  for (const pid of pids) {
    const fdDir = join(procRoot, pid, 'fd');
    for (const fd of readOr(() => readdirSync(fdDir), [] as string[])) {
      const inode = socketInodeOfLink(readOr(() => readlinkSync(join(fdDir, fd)), ''));
      if (inode !== null && inodes.has(inode)) return Number(pid);
    }
  }
  return null;
}

/** Finds the holder of local TCP `port` (IPv4 and IPv6 tables). `procRoot` is /proc but for tests. */
export function findTcpPortOwner(port: number, procRoot = '/proc'): PortOwner {
  const sockets = ['tcp', 'tcp6'].flatMap((t) =>
    parseProcNetTcp(readOr(() => readFileSync(join(procRoot, 'net', t), 'utf8'), '')),
  );
  const inodes = inodesHoldingPort(sockets, port);
  if (!inodes.length) {
    const uids = uidsHoldingPort(sockets, port);
    return uids.length ? { kind: 'hidden', uids } : { kind: 'none' };
  }
  const pid = pidHolding(procRoot, new Set(inodes));
  if (pid === null) return { kind: 'hidden', uids: uidsHoldingPort(sockets, port) };
  const cmdline = readOr(
    () =>
      readFileSync(join(procRoot, String(pid), 'cmdline'), 'utf8')
        .split('\0')
        .filter((w, i, a) => !(w === '' && i === a.length - 1)),
    null,
  );
  const exe = readOr(() => readlinkSync(join(procRoot, String(pid), 'exe')), null);
  return { kind: 'process', pid, program: describeProgram(cmdline, exe) };
}

/** The owner as words for an error: `pid 1234 (python3 -m http.server)`. */
export function describePortOwner(owner: PortOwner, selfPid = process.pid): string {
  switch (owner.kind) {
    case 'process':
      if (owner.pid === selfPid) return `banger's own daemon (pid ${owner.pid})`;
      return `pid ${owner.pid}${owner.program ? ` (${owner.program})` : ''}`;
    case 'hidden':
      return `a process this user cannot see${owner.uids.length ? ` (uid ${owner.uids.join(', ')})` : ''}`;
    case 'none':
      return 'another socket (released since)';
  }
}
