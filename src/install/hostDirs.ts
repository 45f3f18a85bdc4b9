import { chmodSync, lchownSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { BangerError } from '../model/index.js';
import type { Layout } from '../paths/index.js';
import { ensureRootOwnedDir } from '../system/index.js';

/**
 * The host state an install sets up besides the build: the directories (root's and the
 * owner's, each with its owner and mode) and the tun device's mode.
 */

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

/**
 * Directories with their owners and modes.
 * Root's own: the config, its runtime dir (the helper's socket, the pid records), its state
 * (jails, image builds) and cache (update staging), beside the owner's and never inside them.
 * The owner's: state, cache and runtime, 0700.
 */
export function prepareDirectories(l: Layout, owner: { uid: number; gid: number }): void {
  for (const [dir, mode] of [
    [l.configDir, 0o755],
    [l.rootHelperRuntimeDir, 0o711],
    [l.rootStateDir, 0o711],
    [l.rootCacheDir, 0o700],
  ] as const)
    ensureRootDir(dir, mode);
  for (const dir of [l.stateDir, l.cacheDir, l.runtimeDir]) ensureDir(dir, owner.uid, owner.gid, 0o700);
}

/**
 * The owner's VMMs open /dev/net/tun to attach to their taps. Distributions ship it 0666
 * (the kernel checks the tap's owner, not the device); some containers tighten it.
 * Returns the mode it found when it had to widen it (for uninstall to restore), else undefined.
 */
export function openTunDevice(progress?: (msg: string) => void): number | undefined {
  let modeBefore: number | undefined;
  try {
    const mode = statSync('/dev/net/tun').mode & 0o7777;
    if ((mode & 0o666) !== 0o666) {
      modeBefore = mode;
      chmodSync('/dev/net/tun', 0o666);
      progress?.("made /dev/net/tun 0666, as distributions ship it, so the owner's VMMs can attach to their taps");
    }
  } catch {
    /* doctor reports a missing tun device */
  }
  return modeBefore;
}

/** Puts back the tun device's mode openTunDevice changed (a no-op when it changed nothing). */
export function restoreTunDevice(modeBefore: number | undefined): void {
  if (modeBefore === undefined) return;
  try {
    chmodSync('/dev/net/tun', modeBefore);
  } catch {
    /* gone */
  }
}
