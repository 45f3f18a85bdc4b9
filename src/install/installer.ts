import {
  chmodSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import type { BuildInfo } from '../buildinfo/index.js';
import { loadConfig } from '../config/index.js';
import { parseTapList } from '../roothelper/index.js';
import { BangerError, DEFAULT_BRIDGE_NAME } from '../model/index.js';
import type { Layout } from '../paths/index.js';
import { METHODS, RpcClient } from '../rpc/index.js';
import { isProcessAlive, ProcessSupervisor, which, writeFileAtomic, type HostRunner } from '../system/index.js';
import { parseInstallToml, renderInstallToml, type InstallRecord } from '../installmeta/index.js';
import { ensureRootOwnedDir, removeTreeAt } from '../system/index.js';
import { stopRecordedProcess, supervisedProcess, writePidRecord } from './rootPidFiles.js';
import { DAEMON_UNIT, FIXED_PATH, HELPER_UNIT, renderDaemonUnit, renderHelperUnit } from './units.js';

/**
 * `banger system install|status|restart|uninstall` (docs/reference/security.md). The build is copied into
 * PREFIX/lib/banger/<version> with a `current` symlink flipped atomically; both systemd
 * units are always written; they are started by systemd where it is PID 1, and otherwise
 * by the fallback supervisor: the helper (root) and the daemon (as the owner) started
 * detached in their own sessions, recorded (pid and start time) in root's runtime
 * directory, with the helper's log there and the daemon's in the state directory.
 */
export interface SystemDeps {
  runner: HostRunner;
  /** The system layout (/etc/banger, /var/lib/banger, /run/banger, /run/banger-root). */
  layout: Layout;
  unitDir?: string;
  progress?: (msg: string) => void;
}

export type Supervisor = 'systemd' | 'fallback';

export interface StatusRow {
  component: 'root helper' | 'daemon';
  supervisor: Supervisor;
  state: 'running' | 'stopped';
  pid: number | null;
  socket: string;
  detail: string;
}

const UNIT_DIR = '/etc/systemd/system';
const DAEMON_READY_MS = 15_000;

export function detectSupervisor(): Supervisor {
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd' ? 'systemd' : 'fallback';
  } catch {
    return 'fallback';
  }
}

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0)
    throw new BangerError('unauthorized', `${what} needs root`, { hint: `run it with sudo: \`sudo banger ${what}\`` });
}

export function readInstall(layout: Layout): InstallRecord {
  if (!existsSync(layout.installToml))
    throw new BangerError('not_found', 'banger is not installed system-wide', {
      hint: 'install it with `sudo banger system install --owner USER`',
    });
  return parseInstallToml(readFileSync(layout.installToml, 'utf8'));
}

async function lookupOwner(runner: HostRunner, owner: string): Promise<{ uid: number; gid: number; home: string }> {
  const r = await runner.run(['getent', 'passwd', owner], { allowFailure: true });
  const f = r.stdout.trim().split(':');
  if (r.exitCode !== 0 || f.length < 7)
    throw new BangerError('bad_request', `no user named "${owner}"`, {
      hint: 'give an existing unprivileged user: `--owner "$SUDO_USER"`',
    });
  const uid = Number(f[2]);
  if (uid === 0)
    throw new BangerError('bad_request', 'the owner must be an unprivileged user, not root', {
      hint: 'the daemon never runs as root in system mode; give your own user',
    });
  return { uid, gid: Number(f[3]), home: f[5]! };
}

/**
 * The fallback supervisor's records of the processes it started (rootPidFiles): root-owned,
 * in root's runtime directory. Never the daemon's own pid file in the owner's runtime dir,
 * which the owner can rewrite to name any process.
 */
export const helperPidFile = (l: Layout) => join(l.rootHelperRuntimeDir, 'helper.pid');
export const daemonPidRecord = (l: Layout) => join(l.rootHelperRuntimeDir, 'daemon.pid');

/**
 * The install's helper and daemon by command line, for processes a build without these
 * records started (their pid files hold no start time, or are the owner's): node running
 * this prefix's helper bundle (or `bangerd.js --root-helper`), or its `bangerd.js --system`.
 */
const isHelperArgv = (prefix: string) => (argv: readonly string[]) => {
  const script = argv[1] ?? '';
  return (
    script.startsWith(`${libDirOf(prefix)}/`) &&
    (script.endsWith('/banger-root-helper.js') || (script.endsWith('/bangerd.js') && argv.includes('--root-helper')))
  );
};
const isDaemonArgv = (prefix: string) => (argv: readonly string[]) => {
  const script = argv[1] ?? '';
  return (
    script.startsWith(`${libDirOf(prefix)}/`) &&
    script.endsWith('/bangerd.js') &&
    argv.includes('--system') &&
    !argv.includes('--root-helper') &&
    !argv.includes('--check-migrations')
  );
};
/** The fallback helper's log: in its root-owned runtime directory, out of the owner's reach. */
const helperLog = (l: Layout) => join(l.rootHelperRuntimeDir, 'helper.log');

/**
 * Creates a directory (or takes an existing real one) with an owner and mode, never
 * following a symlink: directories under the owner's state dir are the owner's to replace,
 * and root must not chown what such a link points at.
 */
function ensureDir(dir: string, uid: number, gid: number, mode: number): void {
  let st = null;
  try {
    st = lstatSync(dir);
  } catch {
    /* absent */
  }
  if (st && !st.isDirectory())
    throw new BangerError('conflict', `${dir} exists and is not a directory (a symlink?); refusing to use it`, {
      hint: `remove it, then install again`,
    });
  if (!st) mkdirSync(dir, { recursive: true });
  lchownSync(dir, uid, gid);
  chmodSync(dir, mode);
}
/** A directory of root's own (config, root's runtime, state and cache dirs): root-only from / down (ensureRootOwnedDir), then root:root `mode`. */
function ensureRootDir(dir: string, mode: number): void {
  ensureRootOwnedDir(dir, mode);
  lchownSync(dir, 0, 0);
  chmodSync(dir, mode);
}

export const libDirOf = (prefix: string) => join(prefix, 'lib', 'banger');

/** Copies a build to LIB/<name>, through <name>.new so a half copy never has the final name. */
export async function placeBuild(runner: HostRunner, lib: string, fromDist: string, name: string): Promise<void> {
  const staging = join(lib, `${name}.new`);
  rmSync(staging, { recursive: true, force: true });
  await runner.run(['cp', '-R', fromDist, staging]);
  await runner.run(['chmod', '-R', 'go+rX', staging]); // the owner's daemon runs it
  rmSync(join(lib, name), { recursive: true, force: true });
  renameSync(staging, join(lib, name));
}

/** Points LIB/current at `to` atomically (a new symlink renamed over the old one). */
export function flipCurrent(lib: string, to: string): void {
  rmSync(join(lib, 'current.new'), { force: true });
  symlinkSync(to, join(lib, 'current.new'));
  renameSync(join(lib, 'current.new'), join(lib, 'current'));
}

export async function systemInstall(
  d: SystemDeps,
  o: { owner: string; prefix: string; bundleDir: string; build: BuildInfo; node: string },
): Promise<InstallRecord> {
  requireRoot('system install');
  const { layout: l } = d;
  const owner = await lookupOwner(d.runner, o.owner);
  // The host-wide network values the root helper will allow, pinned now from the config
  // (root's /etc/banger/config.toml): later config edits cannot widen what root does.
  const config = loadConfig({ layout: l, env: {} });
  if (existsSync(l.installToml)) {
    const prev = readInstall(l);
    if (prev.owner !== o.owner)
      throw new BangerError('conflict', `banger is already installed for ${prev.owner}`, {
        hint: 'uninstall it first: `sudo banger system uninstall`',
      });
    d.progress?.('stopping the running install');
    await stopAll(d, prev);
  }
  // The build, versioned, with an atomic flip of `current`.
  const lib = libDirOf(o.prefix);
  mkdirSync(lib, { recursive: true, mode: 0o755 });
  mkdirSync(join(o.prefix, 'bin'), { recursive: true, mode: 0o755 });
  d.progress?.(`copying the build to ${join(lib, o.build.version)}`);
  await placeBuild(d.runner, lib, o.bundleDir, o.build.version);
  flipCurrent(lib, o.build.version);
  for (const name of ['banger', 'bangerd']) {
    writeFileAtomic(
      join(o.prefix, 'bin', name),
      `#!/bin/sh\n# banger launcher (system install)\nexec "${o.node}" "${join(lib, 'current', `${name}.js`)}" "$@"\n`,
      0o755,
    );
  }
  // Directories with their owners and modes.
  // Root's own: the config, its runtime dir (the helper's socket, the pid records), its state
  // (jails, image builds) and cache (update staging), beside the owner's and never inside them.
  for (const [dir, mode] of [
    [l.configDir, 0o755],
    [l.rootHelperRuntimeDir, 0o711],
    [l.rootStateDir, 0o711],
    [l.rootCacheDir, 0o700],
  ] as const)
    ensureRootDir(dir, mode);
  for (const dir of [l.stateDir, l.cacheDir, l.runtimeDir]) ensureDir(dir, owner.uid, owner.gid, 0o700);
  // The owner's VMMs open /dev/net/tun to attach to their taps. Distributions ship it 0666
  // (the kernel checks the tap's owner, not the device); some containers tighten it.
  let tunModeBefore: number | undefined;
  try {
    const mode = statSync('/dev/net/tun').mode & 0o7777;
    if ((mode & 0o666) !== 0o666) {
      tunModeBefore = mode;
      chmodSync('/dev/net/tun', 0o666);
      d.progress?.("made /dev/net/tun 0666, as distributions ship it, so the owner's VMMs can attach to their taps");
    }
  } catch {
    /* doctor reports a missing tun device */
  }
  const supervisor = detectSupervisor();
  const record: InstallRecord = {
    owner: o.owner,
    owner_uid: owner.uid,
    owner_gid: owner.gid,
    home: owner.home,
    prefix: o.prefix,
    version: o.build.version,
    commit: o.build.commit,
    built_at: o.build.builtAt,
    installed_at: new Date().toISOString(),
    supervisor,
    ...(tunModeBefore !== undefined && { tun_mode_before: tunModeBefore }),
    bridge_name: config.bridge_name,
    bridge_ip: config.bridge_ip,
    cidr: config.cidr,
  };
  writeFileAtomic(l.installToml, renderInstallToml(record), 0o644);
  const unitDir = d.unitDir ?? UNIT_DIR;
  mkdirSync(unitDir, { recursive: true });
  const units = { node: o.node, libDir: join(lib, 'current'), owner: o.owner };
  writeFileAtomic(join(unitDir, HELPER_UNIT), renderHelperUnit(units), 0o644);
  writeFileAtomic(join(unitDir, DAEMON_UNIT), renderDaemonUnit(units), 0o644);
  d.progress?.(`starting the root helper and the daemon (${supervisor})`);
  await startAll(d, record);
  return record;
}

async function startAll(d: SystemDeps, r: InstallRecord): Promise<void> {
  const { layout: l } = d;
  const lib = join(libDirOf(r.prefix), 'current');
  if (r.supervisor === 'systemd') {
    await d.runner.run(['systemctl', 'daemon-reload']);
    await d.runner.run(['systemctl', 'enable', '--now', HELPER_UNIT, DAEMON_UNIT]);
  } else {
    const sup = new ProcessSupervisor();
    const node = process.execPath;
    // A fixed, minimal environment: nothing of the installing shell's (PATH, LD_*, NODE_OPTIONS...) reaches root's helper.
    const helper = sup.start({
      argv: [node, join(lib, 'banger-root-helper.js')],
      logFile: helperLog(l),
      env: { PATH: FIXED_PATH, LANG: 'C' },
      cwd: '/',
    });
    writePidRecord(helperPidFile(l), helper.pid);
    await sup.waitReady(helper, helperLog(l), async () => existsSync(l.rootHelperSocket), {
      timeoutMs: 10_000,
      what: 'the root helper',
    });
    // The daemon's log is in the owner's state directory, so the owner opens it: a shell
    // running as the owner appends its output there (root never opens a path the owner controls).
    const log = join(l.logsDir, 'bangerd.log');
    // setpriv (util-linux) drops to the owner keeping only CAP_NET_BIND_SERVICE, as the unit's
    // AmbientCapabilities does, so guests get DNS on the bridge address, port 53.
    const shell = [
      '/bin/sh',
      '-c',
      'mkdir -p "$(dirname "$BANGER_DAEMON_LOG")" && exec "$0" "$@" >>"$BANGER_DAEMON_LOG" 2>&1',
      node,
      join(lib, 'bangerd.js'),
      '--system',
    ];
    const setpriv = which('setpriv');
    const asOwner = setpriv
      ? {
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
        }
      : { argv: shell, uid: r.owner_uid, gid: r.owner_gid };
    const daemon = sup.start({
      ...asOwner,
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
    return;
  }
  await waitForDaemon(l, DAEMON_READY_MS);
}

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

async function stopAll(d: SystemDeps, r: InstallRecord): Promise<void> {
  const { layout: l } = d;
  if (r.supervisor === 'systemd') {
    await d.runner.run(['systemctl', 'stop', DAEMON_UNIT, HELPER_UNIT], { allowFailure: true });
    return;
  }
  // Daemon first (it may be using the helper), then the helper; each only if it is the
  // process root recorded (same start time; the daemon running as the owner). VMMs are not touched.
  await stopRecordedProcess(daemonPidRecord(l), { uid: r.owner_uid, match: isDaemonArgv(r.prefix) });
  await stopRecordedProcess(helperPidFile(l), { uid: 0, match: isHelperArgv(r.prefix) });
}

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

export async function systemStatus(d: SystemDeps): Promise<{ install: InstallRecord; rows: StatusRow[] }> {
  const r = readInstall(d.layout);
  const { layout: l } = d;
  const rows: StatusRow[] = [];
  for (const [component, unit, pidFile, uid, match, socket] of [
    ['root helper', HELPER_UNIT, helperPidFile(l), 0, isHelperArgv(r.prefix), l.rootHelperSocket],
    ['daemon', DAEMON_UNIT, daemonPidRecord(l), r.owner_uid, isDaemonArgv(r.prefix), l.daemonSocket],
  ] as const) {
    let pid: number | null;
    let detail: string;
    let running: boolean;
    if (r.supervisor === 'systemd') {
      const show = await d.runner.run(['systemctl', 'show', '-p', 'MainPID', '-p', 'ActiveState', unit], {
        allowFailure: true,
      });
      pid = Number(/MainPID=(\d+)/.exec(show.stdout)?.[1] ?? 0) || null;
      detail = `${unit} ${/ActiveState=(\S+)/.exec(show.stdout)?.[1] ?? 'unknown'}`;
      running = !!pid && isProcessAlive(pid);
    } else {
      // The same root-owned records and checks as stop: a process that is not the one recorded counts as stopped.
      const found = supervisedProcess(pidFile, { uid, match });
      pid = found?.pid ?? null;
      detail =
        found?.how === 'command line' ? `found by command line (no valid record in ${pidFile})` : `pid file ${pidFile}`;
      running = pid !== null;
    }
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

export async function systemUninstall(d: SystemDeps, o: { purge: boolean }): Promise<InstallRecord> {
  requireRoot('system uninstall');
  const r = readInstall(d.layout);
  const { layout: l } = d;
  if (o.purge) {
    // Purging deletes the VMs' disks: delete the VMs properly first, while the daemon runs.
    try {
      const client = new RpcClient(l.daemonSocket, METHODS);
      for (const vm of (await client.call('vm.list', {})).vms) await client.call('vm.delete', { name: vm.name });
    } catch (e) {
      d.progress?.(
        `could not delete VMs through the daemon (${(e as Error).message}); their files go with the state directory`,
      );
    }
  }
  if (r.supervisor === 'systemd')
    await d.runner.run(['systemctl', 'disable', '--now', DAEMON_UNIT, HELPER_UNIT], { allowFailure: true });
  else await stopAll(d, r);
  const unitDir = d.unitDir ?? UNIT_DIR;
  for (const u of [DAEMON_UNIT, HELPER_UNIT]) rmSync(join(unitDir, u), { force: true });
  if (r.supervisor === 'systemd') await d.runner.run(['systemctl', 'daemon-reload'], { allowFailure: true });
  for (const name of ['banger', 'bangerd']) {
    const p = join(r.prefix, 'bin', name);
    // Only our own launchers.
    if (existsSync(p) && readFileSync(p, 'utf8').includes('# banger launcher (system install)')) rmSync(p);
  }
  const lib = libDirOf(r.prefix);
  rmSync(lib, { recursive: true, force: true });
  // What install changed on the host goes back as it was.
  if (r.tun_mode_before !== undefined)
    try {
      chmodSync('/dev/net/tun', r.tun_mode_before);
    } catch {
      /* gone */
    }
  rmSync(l.installToml, { force: true });
  rmSync(l.rootHelperSocket, { force: true });
  rmSync(l.daemonSocket, { force: true });
  for (const dir of [join(r.prefix, 'bin'), join(r.prefix, 'lib')]) {
    try {
      rmdirSync(dir);
    } catch {
      /* not empty (other software lives there) or gone */
    }
  }
  if (o.purge) {
    // The bridge and the warm taps on it are banger's too; purge takes them (docs/howto/networking.md keeps them otherwise).
    let bridge: string = DEFAULT_BRIDGE_NAME;
    try {
      bridge = loadConfig({ layout: l, env: {} }).bridge_name;
    } catch {
      /* a broken config: the default bridge */
    }
    const links = await d.runner.run(['ip', '-o', 'link', 'show'], { allowFailure: true });
    for (const t of parseTapList(links.stdout).filter((t) => t.master === bridge))
      await d.runner.run(['ip', 'link', 'del', 'dev', t.name], { allowFailure: true });
    if (existsSync(`/sys/class/net/${bridge}`))
      await d.runner.run(['ip', 'link', 'del', 'dev', bridge], { allowFailure: true });
    // The owner's trees may change under root's feet: removed through descriptors, never by path.
    for (const dir of [l.stateDir, l.cacheDir, l.runtimeDir]) removeTreeAt(dir);
    for (const dir of [l.rootHelperRuntimeDir, l.rootStateDir, l.rootCacheDir, l.configDir])
      rmSync(dir, { recursive: true, force: true });
  }
  return r;
}
