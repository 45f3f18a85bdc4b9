import { spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  unlinkSync,
} from 'node:fs';
import { writeFileAtomic } from './atomicWrite.js';
import { basename, dirname } from 'node:path';
import { BangerError } from '../model/index.js';

/**
 * Owns long-running children (docs/architecture.md): VMMs and the auto-started daemon.
 * A child starts in its own session (setsid), so a restart of its parent, or a Ctrl-C in
 * the parent's terminal, never reaches it; its stdout and stderr go to a log file; its
 * pid goes to a pid file; and a readiness wait ends early, with the log tail, when the
 * child exits.
 */
export interface StartSpec {
  argv: readonly string[];
  /** Where stdout and stderr go; with `logFd`, only the name used in messages. */
  logFile: string;
  /** An already open log (root opens the owner's log by descriptor); the caller keeps and closes it. */
  logFd?: number;
  pidFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (the parent must be root): a system install's daemon runs as its owner. */
  uid?: number;
  gid?: number;
}

export interface StartedProcess {
  pid: number;
  /** Resolves with the exit code (or signal) once the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
}

export interface WaitReadyOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Used in messages: "bangerd", "qemu for vm dev". */
  what: string;
}

export class ProcessSupervisor {
  start(spec: StartSpec): StartedProcess {
    if (spec.logFd === undefined) mkdirSync(dirname(spec.logFile), { recursive: true });
    // O_NOFOLLOW: a root parent must never append to (or chown) what a symlink points at.
    const logFd =
      spec.logFd ??
      openSync(spec.logFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    let child;
    try {
      child = spawn(spec.argv[0]!, spec.argv.slice(1), {
        detached: true, // setsid(): own session and process group
        stdio: ['ignore', logFd, logFd],
        env: spec.env ?? process.env,
        cwd: spec.cwd,
        ...(spec.uid !== undefined && { uid: spec.uid }),
        ...(spec.gid !== undefined && { gid: spec.gid }),
      });
    } finally {
      if (spec.logFd === undefined) closeSync(logFd);
    }
    let exited = false;
    const exitedPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => {
        exited = true;
        resolve({ code, signal });
      });
      child.on('error', () => {
        exited = true;
        resolve({ code: null, signal: null });
      });
    });
    if (child.pid === undefined) {
      throw new BangerError('operation_failed', `could not start ${spec.argv[0]}`, {
        hint: `is ${spec.argv[0]} installed? see ${spec.logFile}`,
      });
    }
    child.unref();
    if (spec.pidFile) writePidFile(spec.pidFile, child.pid);
    return { pid: child.pid, exited: exitedPromise, hasExited: () => exited };
  }

  /**
   * Polls `probe` until it returns true. Fails early when the child exits (with the tail
   * of its log), when `signal` aborts, or after the timeout.
   */
  async waitReady(
    proc: StartedProcess,
    logFile: string,
    probe: () => Promise<boolean>,
    opts: WaitReadyOptions,
  ): Promise<void> {
    const deadline = performance.now() + opts.timeoutMs;
    const interval = opts.intervalMs ?? 50;
    for (;;) {
      if (opts.signal?.aborted) throw new BangerError('interrupted', `cancelled while waiting for ${opts.what}`);
      if (await probe()) return;
      if (proc.hasExited()) {
        const { code, signal } = await proc.exited;
        throw new ChildExitedError(opts.what, code, signal, readLogTail(logFile));
      }
      if (performance.now() > deadline) {
        throw new BangerError(
          'operation_failed',
          `${opts.what} was not ready after ${Math.round(opts.timeoutMs / 1000)} s`,
          { hint: `see ${logFile}` },
        );
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  }
}

export class ChildExitedError extends BangerError {
  constructor(
    readonly what: string,
    readonly exitCode: number | null,
    readonly exitSignal: NodeJS.Signals | null,
    readonly logTail: string,
  ) {
    super(
      'operation_failed',
      `${what} exited before it was ready (${exitSignal ? `signal ${exitSignal}` : `exit code ${exitCode}`})`,
      {
        hint: logTail ? `last log lines:\n${logTail}` : 'it printed nothing',
      },
    );
  }
}

export function readLogTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Atomic pid file write (temp + rename) so a reader never sees a partial pid. */
export function writePidFile(path: string, pid: number): void {
  writeFileAtomic(path, `${pid}\n`, 0o644);
}

export function readPidFile(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function removePidFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/**
 * True if a process with this pid exists and has not exited (even if owned by another
 * user). A zombie counts as exited: once a detached child dies it waits for its new
 * parent (PID 1, or a subreaper) to reap it, and on some hosts that takes seconds. But a
 * zombie main thread whose other threads still run is alive: a killed multi-threaded
 * process (QEMU, Node) shows its main thread as Z before the others have finished exiting,
 * and until the last one has, its descriptors (sockets, taps, disk locks) are still open.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return processState(pid) !== 'Z' || otherThreadsLive(pid);
}

/** Whether a thread of `pid` other than its main one is still there and not a zombie. */
function otherThreadsLive(pid: number): boolean {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return tids.some((tid) => {
    if (tid === String(pid)) return false;
    const state = statState(`/proc/${pid}/task/${tid}/stat`);
    return state !== null && state !== 'Z' && state !== 'X';
  });
}

/** The one-letter state of /proc/<pid>/stat (R, S, D, Z, T, ...), or null when unknown. */
export function processState(pid: number): string | null {
  return statState(`/proc/${pid}/stat`);
}

function statState(statFile: string): string | null {
  try {
    const stat = readFileSync(statFile, 'utf8');
    // The command name is in parentheses and may itself contain ") ", so split at the last one.
    return stat.slice(stat.lastIndexOf(') ') + 2, stat.lastIndexOf(') ') + 3) || null;
  } catch {
    return null;
  }
}

/** argv of a live process from /proc, or null. */
export function processCmdline(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((s, i, a) => !(s === '' && i === a.length - 1));
  } catch {
    return null;
  }
}

/**
 * What a live process runs, for messages ("dnsmasq (pid 812)"): the name of its executable
 * (/proc/PID/exe), else of its argv[0] when the exe link cannot be read (another user's
 * process, as a non-root reader). Never /proc/PID/comm: runtimes rename their main thread
 * (Node 24 calls it "MainThread"). Null when the process is gone.
 */
export function processName(pid: number): string | null {
  try {
    return basename(readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, ''));
  } catch {
    const argv0 = processCmdline(pid)?.[0];
    return argv0 ? basename(argv0) : null;
  }
}

export interface ProcessIdentity {
  /** The kernel's name of the main thread; runtimes may rename it (Node 24: "MainThread"), so it identifies nothing. */
  comm: string;
  cmdline: string[];
  /** Real uid. */
  uid: number | null;
  /** Real, effective, saved and filesystem uids (/proc/PID/status "Uid:"). */
  uids: number[];
  /** The executable (/proc/PID/exe), or null when it cannot be read. */
  exe: string | null;
}

/** Who a live process is, from /proc; null when it is gone. */
export function processIdentity(pid: number): ProcessIdentity | null {
  const cmdline = processCmdline(pid);
  if (!cmdline) return null;
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const uids = (/^Uid:\s+([\d\s]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    let exe: string | null = null;
    try {
      exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
    } catch {
      /* another user's process, as a non-root reader */
    }
    return { comm, cmdline, uid: uids[0] ?? null, uids, exe };
  } catch {
    return null;
  }
}
