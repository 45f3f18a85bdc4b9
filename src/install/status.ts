import type { InstallRecord } from '../installmeta/index.js';
import { isProcessAlive, type HostRunner } from '../system/index.js';
import { readInstall, type StatusRow, type SystemDeps } from './common.js';
import { daemonPidRecord, helperPidFile, isDaemonArgv, isHelperArgv } from './processIdentity.js';
import { supervisedProcess } from './rootPidFiles.js';
import { DAEMON_UNIT, HELPER_UNIT } from './units.js';

/** What status found of one component: its pid (when running), whether it runs, and how it was found. */
interface Probe {
  pid: number | null;
  running: boolean;
  detail: string;
}

/** `banger system status`: the install record and one row each for the root helper and the daemon. */
export async function systemStatus(d: SystemDeps): Promise<{ install: InstallRecord; rows: StatusRow[] }> {
  const r = readInstall(d.layout);
  const { layout: l } = d;
  const rows: StatusRow[] = [];
  for (const [component, unit, pidFile, uid, match, socket] of [
    ['root helper', HELPER_UNIT, helperPidFile(l), 0, isHelperArgv(r.prefix), l.rootHelperSocket],
    ['daemon', DAEMON_UNIT, daemonPidRecord(l), r.owner_uid, isDaemonArgv(r.prefix), l.daemonSocket],
  ] as const) {
    const { pid, running, detail } =
      r.supervisor === 'systemd' ? await probeUnit(d.runner, unit) : probeRecord(pidFile, uid, match);
    rows.push({
      component,
      supervisor: r.supervisor,
      state: running ? 'running' : 'stopped',
      pid: running ? pid : null,
      socket,
      detail,
    });
  }
  return { install: r, rows };
}

/** A systemd unit's main pid and active state; running only if that pid is alive. */
async function probeUnit(runner: HostRunner, unit: string): Promise<Probe> {
  const show = await runner.run(['systemctl', 'show', '-p', 'MainPID', '-p', 'ActiveState', unit], {
    allowFailure: true,
  });
  const pid = Number(/MainPID=(\d+)/.exec(show.stdout)?.[1] ?? 0) || null;
  const detail = `${unit} ${/ActiveState=(\S+)/.exec(show.stdout)?.[1] ?? 'unknown'}`;
  return { pid, running: !!pid && isProcessAlive(pid), detail };
}

/** The same root-owned records and checks as stop: a process that is not the one recorded counts as stopped. */
function probeRecord(pidFile: string, uid: number, match: (argv: readonly string[]) => boolean): Probe {
  const found = supervisedProcess(pidFile, { uid, match });
  const pid = found?.pid ?? null;
  const detail =
    found?.how === 'command line' ? `found by command line (no valid record in ${pidFile})` : `pid file ${pidFile}`;
  return { pid, running: pid !== null, detail };
}
