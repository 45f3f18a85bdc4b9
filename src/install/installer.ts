import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildInfo } from '../buildinfo/index.js';
import { type Config, loadConfig } from '../config/index.js';
import { renderInstallToml, type InstallRecord } from '../installmeta/index.js';
import { BangerError } from '../model/index.js';
import { writeFileAtomic, type HostRunner } from '../system/index.js';
import { detectSupervisor, libDirOf, readInstall, requireRoot, UNIT_DIR, type SystemDeps } from './common.js';
import { openTunDevice, prepareDirectories } from './hostDirs.js';
import { startAll, stopAll } from './lifecycle.js';
import { placeInstall } from './place.js';
import { DAEMON_UNIT, HELPER_UNIT, renderDaemonUnit, renderHelperUnit, type UnitInput } from './units.js';

export interface InstallOptions {
  owner: string;
  prefix: string;
  bundleDir: string;
  build: BuildInfo;
  /** The node the install runs on when the build brings no runtime of its own. */
  node: string;
}

interface Owner {
  uid: number;
  gid: number;
  home: string;
}

/**
 * `banger system install`: root only. Stops a running install of the same owner (refuses
 * another owner's), places the build and its launchers, sets up the directories, writes
 * the install record and both units, then starts the helper and the daemon and waits for
 * the daemon to answer. Returns the record written.
 */
export async function systemInstall(d: SystemDeps, o: InstallOptions): Promise<InstallRecord> {
  requireRoot('system install');
  const { layout: l } = d;
  const owner = await lookupOwner(d.runner, o.owner);
  // The host-wide network values the root helper will allow, pinned now from the config
  // (root's /etc/banger/config.toml): later config edits cannot widen what root does.
  const config = loadConfig({ layout: l, env: {} });
  await stopPrevious(d, o.owner);
  const node = await placeInstall(d.runner, { ...o, version: o.build.version }, d.progress);
  prepareDirectories(l, owner);
  const tunModeBefore = openTunDevice(d.progress);
  const record = installRecord(o, owner, config, tunModeBefore);
  writeFileAtomic(l.installToml, renderInstallToml(record), 0o644);
  writeUnits(d.unitDir ?? UNIT_DIR, { node, libDir: join(libDirOf(o.prefix), 'current'), owner: o.owner });
  d.progress?.(`starting the root helper and the daemon (${record.supervisor})`);
  await startAll(d, record);
  return record;
}

/** The owner's uid, gid and home from the passwd database; throws `bad_request` for an unknown user or root. */
async function lookupOwner(runner: HostRunner, owner: string): Promise<Owner> {
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

/** Stops an existing install before it is replaced; throws `conflict` if it belongs to another owner. */
async function stopPrevious(d: SystemDeps, owner: string): Promise<void> {
  if (!existsSync(d.layout.installToml)) return;
  const prev = readInstall(d.layout);
  if (prev.owner !== owner)
    throw new BangerError('conflict', `banger is already installed for ${prev.owner}`, {
      hint: 'uninstall it first: `sudo banger system uninstall`',
    });
  d.progress?.('stopping the running install');
  await stopAll(d, prev);
}

/** The install record: who owns it, which build, the supervisor, what to restore, and the pinned network values. */
function installRecord(o: InstallOptions, owner: Owner, config: Config, tunModeBefore?: number): InstallRecord {
  return {
    owner: o.owner,
    owner_uid: owner.uid,
    owner_gid: owner.gid,
    home: owner.home,
    prefix: o.prefix,
    version: o.build.version,
    commit: o.build.commit,
    built_at: o.build.builtAt,
    installed_at: new Date().toISOString(),
    supervisor: detectSupervisor(),
    ...(tunModeBefore !== undefined && { tun_mode_before: tunModeBefore }),
    bridge_name: config.bridge_name,
    bridge_ip: config.bridge_ip,
    cidr: config.cidr,
  };
}

/** Writes both systemd units (always, whichever supervisor starts them) into `unitDir`. */
function writeUnits(unitDir: string, units: UnitInput): void {
  mkdirSync(unitDir, { recursive: true });
  writeFileAtomic(join(unitDir, HELPER_UNIT), renderHelperUnit(units), 0o644);
  writeFileAtomic(join(unitDir, DAEMON_UNIT), renderDaemonUnit(units), 0o644);
}
