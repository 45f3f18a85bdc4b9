/**
 * One daemon per layout: an exclusively created pid file. A pid file left by a dead
 * daemon (or by a process that is no longer bangerd) is stale and taken over.
 */
import { openSync, writeSync, closeSync, unlinkSync, readFileSync } from 'node:fs';
import { isProcessAlive, processCmdline } from '../system/index.js';

export type LockResult = { acquired: true; release: () => void } | { acquired: false; holderPid: number };

function looksLikeBangerd(pid: number): boolean {
  const argv = processCmdline(pid);
  return !!argv && argv.some((a) => /bangerd/.test(a));
}

export function acquireDaemonLock(pidFile: string): LockResult {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(pidFile, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        acquired: true,
        release: () => {
          try {
            if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) unlinkSync(pidFile);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(pidFile, 'utf8').trim());
      if (
        Number.isInteger(holder) &&
        holder > 0 &&
        holder !== process.pid &&
        isProcessAlive(holder) &&
        looksLikeBangerd(holder)
      ) {
        return { acquired: false, holderPid: holder };
      }
      try {
        unlinkSync(pidFile);
      } catch {
        /* raced with another starter */
      }
    }
  }
  const holder = Number(readFileSync(pidFile, 'utf8').trim());
  return { acquired: false, holderPid: holder };
}
