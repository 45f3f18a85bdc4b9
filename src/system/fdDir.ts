import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, normalize } from 'node:path';
import { BangerError } from '../model/index.js';
import { AT_FDCWD, hostcalls, O_PATH, RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV } from './hostcalls.js';
import { pathComponents, rootOnlyProblem } from './rootDirs.js';

/**
 * Directories root works in, held by descriptor. Root never checks a path and later uses
 * it by name: it opens a directory once and resolves every further name under that
 * descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV), so a
 * name can neither be a symlink, nor climb out with "..", nor cross a mount, whatever the
 * owner renames or plants meanwhile. External tools get `/proc/<pid>/fd/N` (fdPathForChild).
 */
const STRICT = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV;
const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** The path of descriptor `fd` as a tool this process starts can open it. */
export const fdPathForChild = (fd: number) => `/proc/${process.pid}/fd/${fd}`;

/** Raises a resolution refusal as banger's error; other errors pass through. */
function refusal(e: unknown, what: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP' || code === 'ENOTDIR')
    return new BangerError(
      'unauthorized',
      `${what} is or goes through a symbolic link (or something else that is not a directory); refusing it`,
    );
  if (code === 'EXDEV')
    return new BangerError('unauthorized', `${what} leaves its directory or crosses a mount; refusing it`);
  if (code === 'EAGAIN')
    return new BangerError('conflict', `${what} was being renamed while root resolved it; refusing it`, {
      hint: "try again; something is moving files in banger's directories",
    });
  return e;
}

/** openat2 with the strict resolution, retried a few times on EAGAIN (the kernel saw a rename race); errno errors as they are. */
function openRaw(dirfd: number, rel: string, flags: number, mode: number): number {
  for (let attempt = 0; ; attempt++) {
    try {
      return hostcalls().openat2(dirfd, rel, flags | constants.O_NOFOLLOW, mode, STRICT);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN' && attempt < 8) continue;
      throw e;
    }
  }
}

function openStrict(dirfd: number, rel: string, flags: number, mode: number, what: string): number {
  try {
    return openRaw(dirfd, rel, flags, mode);
  } catch (e) {
    throw refusal(e, what);
  }
}

/** A relative path of plain components (no "", ".", ".."), as openat2 under a directory wants it. */
export function plainRelative(rel: string, what: string): string {
  const parts = rel.split('/');
  if (rel.length === 0 || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\0')))
    throw new BangerError('bad_request', `${what} "${rel}" is not a plain relative path`);
  return rel;
}

export interface TrustedDirOptions {
  /** Create it (and only it) with this mode when absent; its parent must already be trusted. */
  createMode?: number;
  /** Who must own the directory itself: root (default) or the install's owner. */
  ownerUid?: number;
}

/**
 * Every ancestor of `path` must be a root-only directory (rootDirs.ts): then the name
 * `path` means the same directory for as long as root uses it.
 */
function checkTrustedAncestors(path: string): void {
  for (const p of pathComponents(path).slice(0, -1)) {
    const problem = rootOnlyProblem(p, lstatSync(p));
    if (problem) {
      throw new BangerError(
        'unauthorized',
        `${problem} (on the way to ${path}), so it is not a root-owned directory that only root can change; root will not work under it`,
        {
          hint: `make every directory above ${path} root-owned and not group- or world-writable`,
        },
      );
    }
  }
}

export class FdDir {
  private constructor(
    readonly fd: number,
    readonly path: string,
  ) {}

  /**
   * Opens an anchor directory by absolute path: its ancestors must be root's (see
   * checkTrustedAncestors) and it must be owned by `ownerUid` (root by default) and not a
   * symlink. Root-owned anchors must not be group- or world-writable either.
   */
  static openAnchor(path: string, o: TrustedDirOptions = {}): FdDir {
    if (!isAbsolute(path) || normalize(path) !== path || path === '/')
      throw new BangerError('bad_request', `${path} must be an absolute, normalised directory path`);
    checkTrustedAncestors(path);
    let fd: number;
    try {
      // Mounts on the way are root's (every ancestor was just checked to be root's): /run is tmpfs.
      fd = hostcalls().openat2(AT_FDCWD, path, O_DIR, 0, RESOLVE_NO_SYMLINKS);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || o.createMode === undefined) throw refusal(e, path);
      try {
        hostcalls().mkdirAt(AT_FDCWD, path, o.createMode);
      } catch (m) {
        if ((m as NodeJS.ErrnoException).code !== 'EEXIST') throw m;
      }
      return FdDir.openAnchor(path, { ...o, createMode: undefined });
    }
    const dir = new FdDir(fd, path);
    const st = dir.stat();
    const uid = o.ownerUid ?? 0;
    if (st.uid !== uid || (uid === 0 && (st.mode & 0o022) !== 0)) {
      dir.close();
      throw new BangerError(
        'unauthorized',
        `${path} belongs to uid ${st.uid} with mode ${(st.mode & 0o7777).toString(8)}; root expects uid ${uid}${uid === 0 ? ', writable only by root' : ''}`,
        {
          hint: uid === 0 ? `remove ${path}; root recreates it` : `is ${path} the install owner's state directory?`,
        },
      );
    }
    return dir;
  }

  stat(): Stats {
    return fstatSync(this.fd);
  }

  static closeFd(fd: number): void {
    closeSync(fd);
  }

  static isRegular(fd: number): boolean {
    return fstatSync(fd).isFile();
  }

  static requireOwnedRegular(fd: number, uid: number, what: string): Stats {
    return requireOwnersFile(fd, uid, what);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Runs `fn` with the directory, closing it afterwards. */
  use<T>(fn: (d: FdDir) => T): T {
    try {
      return fn(this);
    } finally {
      this.close();
    }
  }

  describe(rel: string): string {
    return `${this.path}/${rel}`;
  }

  /** A descriptor of `rel` under this directory (strict resolution; O_CLOEXEC). */
  openFile(rel: string, flags: number, mode = 0o600): number {
    return openStrict(this.fd, plainRelative(rel, 'path'), flags, mode, this.describe(rel));
  }

  /**
   * A regular file `rel` under this directory, opened with `flags` (no O_CREAT) only once it
   * is known to be one: first an O_PATH descriptor (which opens nothing), fstat'ed, then
   * reopened through /proc/self/fd, so root never opens a device node or a fifo the owner
   * planted. Anything else is refused.
   */
  openRegular(rel: string, flags: number): number {
    const pathFd = this.openFile(rel, O_PATH);
    try {
      if (!fstatSync(pathFd).isFile())
        throw new BangerError('unauthorized', `${this.describe(rel)} is not a regular file; refusing it`);
      return openSync(`/proc/self/fd/${pathFd}`, flags | constants.O_NOCTTY);
    } finally {
      closeSync(pathFd);
    }
  }

  openDir(rel: string): FdDir {
    return new FdDir(openStrict(this.fd, plainRelative(rel, 'path'), O_DIR, 0, this.describe(rel)), this.describe(rel));
  }

  /** The directory `name` here, made with `mode` when absent (an existing one must be a real directory). */
  ensureDir(name: string, mode: number): FdDir {
    try {
      hostcalls().mkdirAt(this.fd, plainName(name), mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    return this.openDir(name);
  }

  /** A new directory `name` here (it must not exist). */
  makeDir(name: string, mode: number): FdDir {
    hostcalls().mkdirAt(this.fd, plainName(name), mode);
    return this.openDir(name);
  }

  /** Names in this directory. */
  entries(): string[] {
    return readdirSync(`/proc/self/fd/${this.fd}`);
  }

  /** lstat of one entry (never follows it). */
  lstatEntry(name: string): Stats | null {
    try {
      return lstatSync(`/proc/self/fd/${this.fd}/${plainName(name)}`);
    } catch {
      return null;
    }
  }

  unlink(name: string): void {
    try {
      hostcalls().unlinkAt(this.fd, plainName(name), false);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  /**
   * Removes the entry `name` and, if it is a directory, everything in it, by descriptor:
   * each directory is opened under its parent's descriptor (never through a link, never
   * across a mount) and emptied with unlinkat, so whatever someone renames meanwhile, root
   * only ever removes names inside the directories it holds open. Absent is fine.
   *
   * Inside a directory root does not own, root removes only what that directory's owner
   * could remove itself: a subdirectory of another owner (root's own, say, that the owner
   * moved in) is refused, unless it is one of `rootDirs` (paths relative to `name` that root
   * made there itself, e.g. a jail's skeleton inside a chroot the jailer handed over).
   */
  removeTree(name: string, rootDirs: ReadonlySet<string> = new Set()): void {
    this.removeAt(plainName(name), '', rootDirs);
  }

  private removeAt(name: string, rel: string, rootDirs: ReadonlySet<string>): void {
    // An owner writing in a subtree (a jail's run/) can swap a directory for a file, or refill
    // it, between root's look and its unlinkat: each such race only costs another attempt.
    for (let attempt = 0; ; attempt++) {
      try {
        this.removeOnce(name, rel, rootDirs);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (attempt >= 50 || (code !== 'EISDIR' && code !== 'ENOTDIR' && code !== 'ENOTEMPTY')) throw e;
      }
    }
  }

  private removeOnce(name: string, rel: string, rootDirs: ReadonlySet<string>): void {
    let sub: FdDir;
    try {
      sub = new FdDir(openRaw(this.fd, name, O_DIR, 0), this.describe(name));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // Not a directory, or a symlink: the entry itself goes, never what it points at.
      if (code === 'ENOTDIR' || code === 'ELOOP') {
        this.unlink(name);
        return;
      }
      if (code === 'EXDEV')
        throw new BangerError(
          'operation_failed',
          `${this.describe(name)} is a mount point; refusing to remove across it`,
          { hint: `unmount it, then remove ${this.path}` },
        );
      throw refusal(e, this.describe(name));
    }
    try {
      const parentUid = this.stat().uid;
      const uid = sub.stat().uid;
      if (parentUid !== 0 && uid !== parentUid && !rootDirs.has(rel)) {
        throw new BangerError(
          'unauthorized',
          `${sub.path} belongs to uid ${uid} but sits in a directory of uid ${parentUid}, which could not have removed it; root will not either`,
          {
            hint: `move ${sub.path} back where it came from, then try again`,
          },
        );
      }
      for (const entry of sub.entries()) sub.removeAt(entry, rel ? `${rel}/${entry}` : entry, rootDirs);
    } finally {
      sub.close();
    }
    try {
      hostcalls().unlinkAt(this.fd, name, true);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

/** One path component. */
export function plainName(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0'))
    throw new BangerError('bad_request', `"${name}" is not a plain file name`);
  return name;
}

/**
 * Checks that an owner's input open as `fd` is a regular file the owner owns (a hard link
 * to someone else's file, or a device, is refused), returning its stat.
 */
export function requireOwnersFile(fd: number, ownerUid: number, what: string): Stats {
  const st = fstatSync(fd);
  if (!st.isFile()) throw new BangerError('unauthorized', `${what} is not a regular file; refusing it`);
  if (st.uid !== ownerUid)
    throw new BangerError(
      'unauthorized',
      `${what} belongs to uid ${st.uid}, not to the install's owner (uid ${ownerUid}); refusing it`,
    );
  return st;
}

/**
 * Removes the tree at `path` by descriptor (FdDir.removeTree), for trees someone else may be
 * changing meanwhile (uninstall --purge of the owner's directories). `path`'s parent must be
 * a root-only directory; absent is fine.
 */
export function removeTreeAt(path: string): void {
  FdDir.openAnchor(dirname(path)).use((parent) => parent.removeTree(basename(path)));
}
