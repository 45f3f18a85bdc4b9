/**
 * Pure readers of the host's /proc and /sys text for `vm stats`: the VMM's CPU time and
 * start time (/proc/PID/stat), its resident memory (/proc/PID/status), and the CPU share
 * between two samples.
 */

/** Clock ticks per second of /proc/PID/stat (USER_HZ; 100 on every Linux architecture banger runs on). */
export const USER_HZ = 100;

export interface ProcCpu {
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  /** Start time after boot, in clock ticks: with the pid, it names one process (pids are reused). */
  startTicks: number;
}

/**
 * Fields of /proc/PID/stat. The command name (field 2) may hold spaces and parentheses, so
 * the fields are counted from its last `)`: state is field 3, utime 14, stime 15, starttime 22.
 */
export function parseProcStat(text: string): ProcCpu | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // f[0] is field 3 (state), so field n is f[n - 3].
  const utime = Number(f[14 - 3]);
  const stime = Number(f[15 - 3]);
  const start = Number(f[22 - 3]);
  if (![utime, stime, start].every((n) => Number.isSafeInteger(n) && n >= 0)) return null;
  return { cpuTicks: utime + stime, startTicks: start };
}

/** VmRSS of /proc/PID/status in bytes, or null when absent (a kernel thread, a zombie). */
export function parseVmRssBytes(statusText: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB\s*$/m.exec(statusText);
  return m ? Number(m[1]) * 1024 : null;
}

export interface CpuSample extends ProcCpu {
  pid: number;
  /** Monotonic milliseconds when it was read. */
  atMs: number;
}

/**
 * CPU used between two samples of the same process, in percent of one core (so a VMM with two
 * busy vCPUs shows ~200). Null without a previous sample of that very process (same pid and
 * start time), or when no time has passed.
 */
export function cpuPercent(prev: CpuSample | undefined, cur: CpuSample, hz = USER_HZ): number | null {
  if (!prev || prev.pid !== cur.pid || prev.startTicks !== cur.startTicks) return null;
  const wallMs = cur.atMs - prev.atMs;
  const ticks = cur.cpuTicks - prev.cpuTicks;
  if (wallMs <= 0 || ticks < 0) return null;
  return Math.round(((ticks / hz) * 1000 * 1000) / wallMs) / 10;
}

/** A counter file of /sys/class/net/<dev>/statistics: one decimal number. */
export function parseCounter(text: string): number | null {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}
