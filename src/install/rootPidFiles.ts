import { closeSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import {
  hostcalls,
  processCmdline,
  processState,
  removePidFile,
  waitForExit,
  writeFileAtomic,
} from '../system/index.js';

/**
 * The fallback supervisor's pid records (no systemd): written by root, when it starts the
 * helper and the daemon, into root's own runtime directory (rootHelperRuntimeDir), as
 * "<pid> <start time>" where the start time is field 22 of /proc/<pid>/stat (clock ticks
 * since boot). Root never signals a pid it read from a file the owner can write (the
 * owner's runtime directory is the owner's to fill), and never one whose process is not the
 * one it started: the start time must match (a reused pid has another) and, for the
 * daemon, the process must run as the owner. Signals go through a pidfd opened before the
 * last check, so the process checked is the process signalled.
 */
export interface PidRecord {
  pid: number;
  startTime: string;
}

/** Field 22 (starttime) of /proc/<pid>/stat, or null when the process is gone. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces and ") ": split after the last one.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = rest[22 - 3];
    return start && /^\d+$/.test(start) ? start : null;
  } catch {
    return null;
  }
}

/** The real uid of a live process (from /proc/<pid>/status), or null. */
export function processUid(pid: number): number | null {
  try {
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return uid === undefined ? null : Number(uid);
  } catch {
    return null;
  }
}

/** Records `pid` with its start time (root writes it right after starting the process). */
export function writePidRecord(path: string, pid: number): void {
  writeFileAtomic(path, `${pid} ${processStartTime(pid) ?? 'gone'}\n`, 0o644);
}

/** The record in `path`: a regular root-owned file holding "<pid> <start time>"; anything else is no record. */
export function readPidRecord(path: string): PidRecord | null {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || st.uid !== 0) return null;
    const m = /^(\d+) (\d+)\n?$/.exec(readFileSync(path, 'utf8'));
    const pid = Number(m?.[1]);
    return m && Number.isSafeInteger(pid) && pid > 1 ? { pid, startTime: m[2]! } : null;
  } catch {
    return null;
  }
}

/** Whether `rec` still names the process it was written for (same start time, alive, and run by `uid` when given). */
export function isRecordedProcess(rec: PidRecord, uid?: number): boolean {
  if (processStartTime(rec.pid) !== rec.startTime) return false;
  if (processState(rec.pid) === 'Z') return false;
  return uid === undefined || processUid(rec.pid) === uid;
}

/** The pid of the live process `path` records (checked as isRecordedProcess), or null: gone. */
export function recordedProcess(path: string, uid?: number): number | null {
  const rec = readPidRecord(path);
  return rec && isRecordedProcess(rec, uid) ? rec.pid : null;
}

/**
 * Live processes run by `uid` whose argv `match`es, from /proc, as records. The fallback for
 * processes that a build without pid records started: only the expected uid's processes can
 * be picked (so the owner's command lines can select nothing but the owner's own processes).
 */
export function findProcesses(uid: number, match: (argv: readonly string[]) => boolean): PidRecord[] {
  const out: PidRecord[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid || processUid(pid) !== uid) continue;
    const argv = processCmdline(pid);
    const startTime = processStartTime(pid);
    if (argv && startTime && match(argv) && processUid(pid) === uid) out.push({ pid, startTime });
  }
  return out;
}

/** The live process `path` records (isRecordedProcess), else one found by `match` (findProcesses), or null. */
export function supervisedProcess(
  path: string,
  o: { uid: number; match?: (argv: readonly string[]) => boolean },
): { pid: number; how: 'record' | 'command line' } | null {
  const pid = recordedProcess(path, o.uid);
  if (pid !== null) return { pid, how: 'record' };
  const found = o.match ? findProcesses(o.uid, o.match)[0] : undefined;
  return found ? { pid: found.pid, how: 'command line' } : null;
}

/** SIGTERM, then SIGKILL after `graceMs`, through a pidfd, if `rec` still is the process it names. */
async function stopProcess(rec: PidRecord, uid: number | undefined, graceMs: number): Promise<boolean> {
  if (!isRecordedProcess(rec, uid)) return false;
  let pidfd: number;
  try {
    pidfd = hostcalls().pidfdOpen(rec.pid);
  } catch {
    return false;
  }
  try {
    // Checked again now that the pidfd pins the process: a pid reused in between fails here.
    if (!isRecordedProcess(rec, uid)) return false;
    const send = (sig: number) => {
      try {
        hostcalls().pidfdSendSignal(pidfd, sig);
        return true;
      } catch {
        return false;
      }
    };
    if (!send(constants.signals.SIGTERM)) return false;
    const stillRecorded = () => isRecordedProcess(rec);
    if (!(await waitForExit(rec.pid, graceMs, { alive: stillRecorded }))) send(constants.signals.SIGKILL);
    await waitForExit(rec.pid, 2_000, { alive: stillRecorded });
    return true;
  } finally {
    closeSync(pidfd);
  }
}

/**
 * Stops the process `path` records, only if it is the recorded process (same start time,
 * run by `uid` when given); a record that does not match counts as gone. Without a valid
 * record, `match` finds the processes to stop by command line among `uid`'s (findProcesses).
 * The record is removed either way. True if a process was signalled.
 */
export async function stopRecordedProcess(
  path: string,
  o: { uid?: number; graceMs?: number; match?: (argv: readonly string[]) => boolean } = {},
): Promise<boolean> {
  const rec = readPidRecord(path);
  const grace = o.graceMs ?? 10_000;
  let signalled = false;
  if (rec && isRecordedProcess(rec, o.uid)) signalled = await stopProcess(rec, o.uid, grace);
  else if (o.match && o.uid !== undefined) {
    for (const found of findProcesses(o.uid, o.match))
      signalled = (await stopProcess(found, o.uid, grace)) || signalled;
  }
  removePidFile(path);
  return signalled;
}
