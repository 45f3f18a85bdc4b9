import { join } from 'node:path';
import type { InstallRecord } from '../installmeta/index.js';
import { BangerError } from '../model/index.js';
import type { Layout } from '../paths/index.js';
import { METHODS, RpcClient } from '../rpc/index.js';
import { DAEMON_READY_MS, libDirOf, readInstall, requireRoot, type SystemDeps } from './common.js';
import { startFallback, stopFallback } from './fallbackSupervisor.js';
import { helperLog } from './processIdentity.js';
import { DAEMON_UNIT, HELPER_UNIT } from './units.js';

/**
 * Starting and stopping an install's helper and daemon under whichever supervisor its
 * record names: systemd's units, or the fallback supervisor.
 */

/** Starts the helper and the daemon; resolves once the daemon answers, throws if it does not in time. */
export async function startAll(d: SystemDeps, r: InstallRecord): Promise<void> {
  const { layout: l } = d;
  if (r.supervisor === 'systemd') {
    await d.runner.run(['systemctl', 'daemon-reload']);
    await d.runner.run(['systemctl', 'enable', '--now', HELPER_UNIT, DAEMON_UNIT]);
    await waitForDaemon(l, DAEMON_READY_MS);
  } else {
    await startFallback(l, r, join(libDirOf(r.prefix), 'current'));
  }
}

/** Stops the daemon, then the helper; never fails on a process already gone. */
export async function stopAll(d: SystemDeps, r: InstallRecord): Promise<void> {
  if (r.supervisor === 'systemd') {
    await d.runner.run(['systemctl', 'stop', DAEMON_UNIT, HELPER_UNIT], { allowFailure: true });
    return;
  }
  await stopFallback(d.layout, r);
}

/** Pings the daemon every 100 ms until it answers; throws `operation_failed` (naming both logs) after `timeoutMs`. */
async function waitForDaemon(l: Layout, timeoutMs: number): Promise<void> {
  const client = new RpcClient(l.daemonSocket, METHODS);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      await client.call('ping', {});
      return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new BangerError('operation_failed', `the daemon did not answer within ${timeoutMs / 1000} s (${last})`, {
    hint: `see ${l.daemonLog} and ${helperLog(l)}`,
  });
}

/** `banger system restart`: root only; restarts both and waits for the daemon to answer. */
export async function systemRestart(d: SystemDeps): Promise<InstallRecord> {
  requireRoot('system restart');
  const r = readInstall(d.layout);
  if (r.supervisor === 'systemd') {
    await d.runner.run(['systemctl', 'restart', HELPER_UNIT, DAEMON_UNIT]);
    await waitForDaemon(d.layout, DAEMON_READY_MS);
  } else {
    await stopAll(d, r);
    await startAll(d, r);
  }
  return r;
}
