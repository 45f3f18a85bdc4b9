import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BangerError } from '../model/index.js';
import type { Layout } from '../paths/index.js';
import { parseInstallToml, type InstallRecord } from '../installmeta/index.js';
import type { HostRunner } from '../system/index.js';

/**
 * `banger system install|status|restart|uninstall` (docs/reference/security.md). The build is copied into
 * PREFIX/lib/banger/<version> with a `current` symlink flipped atomically; both systemd
 * units are always written; they are started by systemd where it is PID 1, and otherwise
 * by the fallback supervisor: the helper (root) and the daemon (as the owner) started
 * detached in their own sessions, recorded (pid and start time) in root's runtime
 * directory, with the helper's log there and the daemon's in the state directory.
 *
 * This file holds what every step shares: the dependencies, the install record's reader,
 * and the few host facts (supervisor, install paths) the steps agree on.
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

/** Where the units are written unless SystemDeps.unitDir says otherwise. */
export const UNIT_DIR = '/etc/systemd/system';
/** How long a start waits for the daemon to answer a ping. */
export const DAEMON_READY_MS = 15_000;

export function detectSupervisor(): Supervisor {
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd' ? 'systemd' : 'fallback';
  } catch {
    return 'fallback';
  }
}

/** Throws `unauthorized` unless this process runs as root; `what` names the command in the hint. */
export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0)
    throw new BangerError('unauthorized', `${what} needs root`, { hint: `run it with sudo: \`sudo banger ${what}\`` });
}

/** The install record (install.toml); throws `not_found` when banger is not installed system-wide. */
export function readInstall(layout: Layout): InstallRecord {
  if (!existsSync(layout.installToml))
    throw new BangerError('not_found', 'banger is not installed system-wide', {
      hint: 'install it with `sudo banger system install --owner USER`',
    });
  return parseInstallToml(readFileSync(layout.installToml, 'utf8'));
}

/** PREFIX/lib/banger: the versioned builds and the `current` symlink. */
export const libDirOf = (prefix: string) => join(prefix, 'lib', 'banger');
