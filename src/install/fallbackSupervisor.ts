import { join } from 'node:path';
import type { InstallRecord } from '../installmeta/index.js';
import type { Layout } from '../paths/index.js';
import { METHODS, RpcClient } from '../rpc/index.js';
import { acceptsConnections, ProcessSupervisor, which } from '../system/index.js';
import { DAEMON_READY_MS } from './common.js';
import { daemonPidRecord, helperLog, helperPidFile, isDaemonArgv, isHelperArgv } from './processIdentity.js';
import { stopRecordedProcess, writePidRecord } from './rootPidFiles.js';
import { nodeFor } from './runtime.js';
import { FIXED_PATH } from './units.js';

/**
 * The fallback supervisor, where systemd is not PID 1: the root helper (root) and the
 * daemon (as the owner) started detached in their own sessions and recorded, pid and start
 * time, in root's runtime directory; stopped only if the recorded process is still the one
 * started.
 */

/**
 * Starts the helper, then the daemon, each recorded before waiting; resolves once the helper's
 * socket exists and the daemon answers a ping, and throws (with the log's tail) if either
 * exits or times out first.
 */
export async function startFallback(l: Layout, r: InstallRecord, lib: string): Promise<void> {
  const sup = new ProcessSupervisor();
  await startHelper(sup, l, lib);
  await startDaemon(sup, l, r, lib);
}

/**
 * Daemon first (it may be using the helper), then the helper; each only if it is the
 * process root recorded (same start time; the daemon running as the owner). VMMs are not touched.
 */
export async function stopFallback(l: Layout, r: InstallRecord): Promise<void> {
  await stopRecordedProcess(daemonPidRecord(l), { uid: r.owner_uid, match: isDaemonArgv(r.prefix) });
  await stopRecordedProcess(helperPidFile(l), { uid: 0, match: isHelperArgv(r.prefix) });
}

async function startHelper(sup: ProcessSupervisor, l: Layout, lib: string): Promise<void> {
  // A fixed, minimal environment: nothing of the installing shell's (PATH, LD_*, NODE_OPTIONS...) reaches root's helper.
  const helper = sup.start({
    argv: [nodeFor(lib), join(lib, 'banger-root-helper.js')],
    logFile: helperLog(l),
    env: { PATH: FIXED_PATH, LANG: 'C' },
    cwd: '/',
  });
  writePidRecord(helperPidFile(l), helper.pid);
  await sup.waitReady(helper, helperLog(l), () => acceptsConnections(l.rootHelperSocket), {
    timeoutMs: 10_000,
    what: 'the root helper',
  });
}

async function startDaemon(sup: ProcessSupervisor, l: Layout, r: InstallRecord, lib: string): Promise<void> {
  // The daemon's log is in the owner's state directory, so the owner opens it: a shell
  // running as the owner appends its output there (root never opens a path the owner controls).
  const log = join(l.logsDir, 'bangerd.log');
  const daemon = sup.start({
    ...asOwner(r, lib),
    logFile: '/dev/null',
    cwd: '/',
    env: {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: r.home,
      USER: r.owner,
      LOGNAME: r.owner,
      BANGER_MODE: 'system',
      BANGER_DAEMON_LOG: log,
    },
  });
  // setpriv and sh exec into bangerd: one process, whose start time is fixed at its fork.
  writePidRecord(daemonPidRecord(l), daemon.pid);
  // Ends early, with the log's tail, if the daemon exits instead of answering.
  const client = new RpcClient(l.daemonSocket, METHODS);
  await sup.waitReady(
    daemon,
    log,
    () =>
      client.call('ping', {}).then(
        () => true,
        () => false,
      ),
    { timeoutMs: DAEMON_READY_MS, intervalMs: 100, what: 'the daemon' },
  );
}

/**
 * The daemon's argv (and, without setpriv, the uid and gid to start it as): a shell that
 * appends to $BANGER_DAEMON_LOG and execs `bangerd.js --system`, running as the owner.
 * setpriv (util-linux) drops to the owner keeping only CAP_NET_BIND_SERVICE, as the unit's
 * AmbientCapabilities does, so guests get DNS on the bridge address, port 53.
 */
function asOwner(r: InstallRecord, lib: string): { argv: string[]; uid?: number; gid?: number } {
  const shell = [
    '/bin/sh',
    '-c',
    'mkdir -p "$(dirname "$BANGER_DAEMON_LOG")" && exec "$0" "$@" >>"$BANGER_DAEMON_LOG" 2>&1',
    nodeFor(lib),
    join(lib, 'bangerd.js'),
    '--system',
  ];
  const setpriv = which('setpriv');
  if (!setpriv) return { argv: shell, uid: r.owner_uid, gid: r.owner_gid };
  return {
    argv: [
      setpriv,
      `--reuid=${r.owner_uid}`,
      `--regid=${r.owner_gid}`,
      '--clear-groups',
      '--inh-caps=+net_bind_service',
      '--ambient-caps=+net_bind_service',
      '--',
      ...shell,
    ],
  };
}
