import { connect } from 'node:net';
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

/**
 * True once a unix socket at `path` accepts a connection (which is closed at once). A socket
 * file exists from its server's bind(), before its listen(): until then a connect is refused,
 * so readiness is a successful connect, never the file's existence. False on any error
 * (missing, refused, permission) and after `timeoutMs` without an answer.
 */
export function acceptsConnections(path: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
