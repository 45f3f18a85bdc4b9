/**
 * One daemon per layout: a pid file created whole (written beside it, then hard-linked into
 * place, so no starter ever reads it empty). A pid file left by a dead daemon (or by a
 * process that is no longer bangerd) is stale and taken over. Behind that lock, the socket
 * decides (claimLayout): a daemon never replaces a socket that still answers.
 */
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { acceptsConnections, isProcessAlive, processCmdline } from '../system/index.js';

export type LockResult = { acquired: true; release: () => void } | { acquired: false; holderPid: number };

function looksLikeBangerd(pid: number): boolean {
  const argv = processCmdline(pid);
  return !!argv && argv.some((a) => /bangerd/.test(a));
}

/** The pid in the file; 0 when it holds no pid; null when the file is gone. */
function readHolder(pidFile: string): number | null {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** Creates `pidFile` holding this process's pid, atomically; false when it already exists. */
function createPidFile(pidFile: string): boolean {
  const staged = `${pidFile}.${process.pid}.new`;
  removeQuietly(staged); // a leftover of an earlier process with this pid
  try {
    writeFileSync(staged, `${process.pid}\n`, { mode: 0o644, flag: 'wx' });
    linkSync(staged, pidFile);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links: an exclusive create, written at once.
    if (code === 'EPERM' || code === 'ENOTSUP') return createPidFileInPlace(pidFile);
    throw e;
  } finally {
    removeQuietly(staged);
  }
}

function createPidFileInPlace(pidFile: string): boolean {
  let fd: number;
  try {
    fd = openSync(pidFile, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  writeSync(fd, `${process.pid}\n`);
  closeSync(fd);
  return true;
}

export function acquireDaemonLock(pidFile: string): LockResult {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createPidFile(pidFile)) {
      return {
        acquired: true,
        release: () => {
          if (readHolder(pidFile) === process.pid) removeQuietly(pidFile);
        },
      };
    }
    const holder = readHolder(pidFile);
    if (holder === null) continue; // released meanwhile: try again
    if (holder !== 0 && holder !== process.pid && isProcessAlive(holder) && looksLikeBangerd(holder)) {
      return { acquired: false, holderPid: holder };
    }
    // Stale: removed only if it still names the same holder (another starter may have taken it over since).
    if (readHolder(pidFile) === holder) removeQuietly(pidFile);
  }
  return { acquired: false, holderPid: readHolder(pidFile) ?? 0 };
}

/**
 * The daemon lock, then the daemon socket: a socket that still answers is another daemon's
 * (two starters can both take over one stale lock), so the lock is released and that daemon
 * left alone (holderPid 0 when only its socket is known).
 */
export async function claimLayout(pidFile: string, socket: string): Promise<LockResult> {
  const lock = acquireDaemonLock(pidFile);
  if (!lock.acquired || !(await acceptsConnections(socket))) return lock;
  lock.release();
  return { acquired: false, holderPid: 0 };
}
