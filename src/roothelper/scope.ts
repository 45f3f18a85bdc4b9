import { constants, fchownSync } from 'node:fs';
import { join, sep } from 'node:path';
import { BangerError } from '../model/index.js';
import type { PinnedSettings } from '../privops/index.js';
import { FdDir, requireOwnersFile } from '../system/index.js';

/**
 * What root may touch for one install, and the host-wide values it pins. Chosen by root
 * (install.toml and the system layout, or the helper's command line), never by a request.
 */
export interface HelperScope {
  ownerUid: number;
  ownerGid: number;
  /** The owner's state directory: owner inputs (disks, kernels, logs) are opened under it, by descriptor. */
  ownerStateDir: string;
  /** Root's own directory (jails, image builds): root-owned, with root-owned ancestors. */
  rootStateDir: string;
  network: { bridgeName: string; bridgeIp: string; cidr: number };
}

/** The only DNS domain banger routes. */
export const DNS_DOMAIN = 'vm';
/** Per-VM jails live in `<root state>/jail/<exec name>/<vm id>/root`. */
export const jailBaseOf = (scope: HelperScope) => join(scope.rootStateDir, 'jail');

export function pinnedSettings(scope: HelperScope): PinnedSettings {
  return {
    ownerUid: scope.ownerUid,
    ownerGid: scope.ownerGid,
    bridgeName: scope.network.bridgeName,
    bridgeIp: scope.network.bridgeIp,
    cidr: scope.network.cidr,
    dnsDomain: DNS_DOMAIN,
    jailBase: jailBaseOf(scope),
  };
}

/** Root's own directory, made 0711 when absent. */
export function openRootState(scope: HelperScope): FdDir {
  return FdDir.openAnchor(scope.rootStateDir, { createMode: 0o711 });
}

/** The owner's state directory, which must belong to the owner and sit under root-owned directories. */
export function openOwnerState(scope: HelperScope): FdDir {
  return FdDir.openAnchor(scope.ownerStateDir, { ownerUid: scope.ownerUid });
}

/** `path` relative to the owner's state directory; refused when it lies elsewhere. */
export function ownerRelative(scope: HelperScope, path: string, what: string): string {
  const base = scope.ownerStateDir.endsWith(sep) ? scope.ownerStateDir : scope.ownerStateDir + sep;
  if (!path.startsWith(base))
    throw new BangerError(
      'unauthorized',
      `${what} ${path} is outside the owner's state directory (${scope.ownerStateDir}); refusing it`,
    );
  return path.slice(base.length);
}

/** An owner's input file opened once (read-only, or read-write) and checked to be the owner's regular file. */
export function openOwnerInput(
  owner: FdDir,
  scope: HelperScope,
  path: string,
  what: string,
  mode: 'read' | 'write' = 'read',
): { fd: number; size: number; dev: number; ino: number } {
  const fd = owner.openRegular(
    ownerRelative(scope, path, what),
    mode === 'read' ? constants.O_RDONLY : constants.O_RDWR,
  );
  try {
    const st = requireOwnersFile(fd, scope.ownerUid, `${what} ${path}`);
    return { fd, size: st.size, dev: st.dev, ino: st.ino };
  } catch (e) {
    closeQuietly(fd);
    throw e;
  }
}

/**
 * The directory `name` under an owner directory, for the owner: made and handed to the owner
 * when absent; an existing one must already be the owner's.
 */
export function ensureOwnerDir(parent: FdDir, scope: HelperScope, name: string): FdDir {
  const dir = parent.ensureDir(name, 0o700);
  const st = dir.stat();
  if (st.uid === scope.ownerUid) return dir;
  // Only root makes root-owned directories here, and it hands each over at once.
  if (st.uid === 0) {
    fchownSync(dir.fd, scope.ownerUid, scope.ownerGid);
    return dir;
  }
  dir.close();
  throw new BangerError(
    'unauthorized',
    `${dir.path} belongs to uid ${st.uid}, not to the install's owner; refusing to write there`,
  );
}

export function closeQuietly(fd: number): void {
  try {
    FdDir.closeFd(fd);
  } catch {
    /* already closed */
  }
}
