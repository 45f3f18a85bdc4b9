/**
 * The host side of the image tree: every operation resolves its directory by descriptor
 * under the tree root with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV)
 * and then acts on one plain name in it (O_CREAT|O_EXCL, O_NOFOLLOW, unlinkat, or a path
 * `/proc/self/fd/N/NAME` whose last component the call does not follow). So even if the
 * model (treeMeta.ts) were wrong, nothing outside the tree can be written: a symlink on the
 * way fails with ELOOP, `..` with EXDEV. Without the hostcalls addon there is no openat2,
 * and nothing is extracted (fail closed).
 *
 * Host modes: the owner must be able to read everything for mkfs.ext4 -d and write every
 * directory while extracting, and a root extraction must never leave a setuid file on the
 * host, so files get (mode & 0o777) | 0o600 and directories (mode & 0o777) | 0o700; the
 * image's real modes are set by the debugfs fix-ups (ext4Build.ts).
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  futimesSync,
  linkSync,
  lutimesSync,
  readdirSync,
  symlinkSync,
  writeSync,
  writeFileSync,
} from 'node:fs';
import { BangerError } from '../model/index.js';
import { hostcalls, O_PATH, RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV } from '../system/index.js';

const STRICT = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV;
const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

const hostFileMode = (mode: number) => (mode & 0o777) | 0o600;
const hostDirMode = (mode: number) => (mode & 0o777) | 0o700;

function addon() {
  try {
    return hostcalls();
  } catch (e) {
    throw new BangerError(
      'operation_failed',
      `the hostcalls addon (openat2) is unavailable, so layers cannot be extracted safely: ${(e as Error).message}`,
      { hint: 'build banger (npm run build) so dist/native/hostcalls.node exists' },
    );
  }
}

export class HostTree {
  private constructor(readonly rootFd: number) {}

  /** Opens the tree root: an empty directory of this user's, not open to others. */
  static open(treeDir: string, requireEmpty: boolean): HostTree {
    const fd = addon().openat2(-100, treeDir, O_DIR, 0, RESOLVE_NO_SYMLINKS);
    const st = fstatSync(fd);
    const problem =
      st.uid !== process.geteuid?.()
        ? `belongs to uid ${st.uid}, not to this process`
        : (st.mode & 0o077) !== 0
          ? `has mode ${(st.mode & 0o777).toString(8)}; it must be 0700 (the extracted tree must not be open to other users)`
          : requireEmpty && readdirSync(`/proc/self/fd/${fd}`).length > 0
            ? 'is not empty'
            : null;
    if (problem) {
      closeSync(fd);
      throw new BangerError('bad_request', `the image tree directory ${treeDir} ${problem}`);
    }
    return new HostTree(fd);
  }

  close(): void {
    closeSync(this.rootFd);
  }

  /** A descriptor of the directory `comps` (the root's own for []); the caller closes it unless it is rootFd. */
  dir(comps: readonly string[]): number {
    if (comps.length === 0) return this.rootFd;
    return addon().openat2(this.rootFd, comps.join('/'), O_DIR, 0, STRICT);
  }

  /** Runs fn with the parent directory of `comps` and the last name. */
  inParent<T>(comps: readonly string[], fn: (dirFd: number, name: string) => T): T {
    const fd = this.dir(comps.slice(0, -1));
    try {
      return fn(fd, comps[comps.length - 1]!);
    } finally {
      if (fd !== this.rootFd) closeSync(fd);
    }
  }

  /** A new file at `comps`, 0600, open for writing: never through an existing name or a link. */
  private createExclusive(comps: readonly string[]): number {
    return this.inParent(comps, (d, name) =>
      addon().openat2(
        d,
        name,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
        STRICT,
      ),
    );
  }

  /** A new file (never through an existing name) filled from `data`. */
  async writeFile(comps: readonly string[], data: AsyncIterable<Buffer>, mode: number, mtime: number): Promise<number> {
    const fd = this.createExclusive(comps);
    let bytes = 0;
    try {
      // Synchronous writes: flattening runs in the import worker (src/ociimage/worker.ts), a
      // process of its own, and a thread-pool round trip per chunk cost more than the write.
      for await (const chunk of data) {
        for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
        bytes += chunk.length;
      }
      fchmodSync(fd, hostFileMode(mode));
      futimesSync(fd, mtime, mtime);
    } finally {
      closeSync(fd);
    }
    return bytes;
  }

  writeFileSync(comps: readonly string[], content: Buffer, mode: number, mtime: number): void {
    const fd = this.createExclusive(comps);
    try {
      writeFileSync(fd, content);
      fchmodSync(fd, hostFileMode(mode));
      futimesSync(fd, mtime, mtime);
    } finally {
      closeSync(fd);
    }
  }

  mkdir(comps: readonly string[], mode: number): void {
    this.inParent(comps, (d, name) => addon().mkdirAt(d, name, 0o700));
    this.chmodDir(comps, mode);
  }

  chmodDir(comps: readonly string[], mode: number): void {
    const fd = this.dir(comps);
    try {
      fchmodSync(fd, hostDirMode(mode));
    } finally {
      if (fd !== this.rootFd) closeSync(fd);
    }
  }

  setDirTime(comps: readonly string[], mtime: number): void {
    const fd = this.dir(comps);
    try {
      futimesSync(fd, mtime, mtime);
    } finally {
      if (fd !== this.rootFd) closeSync(fd);
    }
  }

  symlink(comps: readonly string[], target: string, mtime: number): void {
    this.inParent(comps, (d, name) => {
      symlinkSync(target, `/proc/self/fd/${d}/${name}`);
      lutimesSync(`/proc/self/fd/${d}/${name}`, mtime, mtime);
    });
  }

  /** A hard link at `comps` to the existing entry `target` (link(2) does not follow a final symlink). */
  link(comps: readonly string[], target: readonly string[]): void {
    this.inParent(target, (td, tname) => {
      // O_PATH|O_NOFOLLOW only checks it is there (and not reached through a link); the link is made by name under td.
      closeSync(addon().openat2(td, tname, O_PATH | constants.O_NOFOLLOW, 0, STRICT));
      this.inParent(comps, (d, name) => linkSync(`/proc/self/fd/${td}/${tname}`, `/proc/self/fd/${d}/${name}`));
    });
  }

  /** Removes the entry at `comps` and, for a directory, everything in it, by descriptor. Absent is fine. */
  remove(comps: readonly string[]): void {
    this.inParent(comps, (d, name) => removeAt(d, name));
  }
}

function removeAt(dirFd: number, name: string): void {
  const h = addon();
  try {
    h.unlinkAt(dirFd, name, false);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'EISDIR' && code !== 'EPERM') throw e;
  }
  const sub = h.openat2(dirFd, name, O_DIR, 0, STRICT);
  try {
    for (const entry of readdirSync(`/proc/self/fd/${sub}`)) removeAt(sub, entry);
  } finally {
    closeSync(sub);
  }
  h.unlinkAt(dirFd, name, true);
}
