/**
 * One daemon per layout: a pid file created whole (written beside it, then hard-linked into
 * place, so no starter ever reads it empty). A pid file left by a dead daemon (or by a
 * process that is no longer bangerd) is stale and taken over.
 */
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { isProcessAlive, processCmdline } from '../system/index.js';

export type LockResult = { acquired: true; release: () => void } | { acquired: false; holderPid: number };

function looksLikeBangerd(pid: number): boolean {
  const argv = processCmdline(pid);
  return !!argv && argv.some((a) => /bangerd/.test(a));
}

/** The pid in the file, or 0 when it is gone or holds no pid. */
function readHolder(pidFile: string): number {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}

/** Creates `pidFile` holding this process's pid, atomically; false when it already exists. */
function createPidFile(pidFile: string): boolean {
  const staged = `${pidFile}.${process.pid}.new`;
  writeFileSync(staged, `${process.pid}\n`, { mode: 0o644 });
  try {
    linkSync(staged, pidFile);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  } finally {
    unlinkSync(staged);
  }
}

export function acquireDaemonLock(pidFile: string): LockResult {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createPidFile(pidFile)) {
      return {
        acquired: true,
        release: () => {
          if (readHolder(pidFile) === process.pid) {
            try {
              unlinkSync(pidFile);
            } catch {
              /* already gone */
            }
          }
        },
      };
    }
    const holder = readHolder(pidFile);
    if (holder !== 0 && holder !== process.pid && isProcessAlive(holder) && looksLikeBangerd(holder)) {
      return { acquired: false, holderPid: holder };
    }
    // Stale: removed only if it still names the same holder (another starter may have taken it over since).
    if (readHolder(pidFile) === holder) {
      try {
        unlinkSync(pidFile);
      } catch {
        /* raced with another starter */
      }
    }
  }
  return { acquired: false, holderPid: readHolder(pidFile) };
}
