import { isProcessAlive } from './processSupervisor.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface WaitForExitOptions {
  /** How "still running" is judged (default isProcessAlive; e.g. a start-time check against pid reuse). */
  alive?: (pid: number) => boolean;
  /** Poll interval (default 50 ms). */
  intervalMs?: number;
}

/** Waits up to `ms` for `pid` to exit; true if it did (or was never there). */
export async function waitForExit(pid: number, ms: number, o: WaitForExitOptions = {}): Promise<boolean> {
  const alive = o.alive ?? isProcessAlive;
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await sleep(o.intervalMs ?? 50);
  return !alive(pid);
}
