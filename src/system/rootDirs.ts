import { chmodSync, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { BangerError } from '../model/index.js';

/**
 * Root's own directories (the layout's rootStateDir and rootCacheDir, the update staging):
 * root works in them by name, which is only safe if nobody else can rename, replace or
 * plant anything on the way. So every component from `/` is lstat'ed: each must be a real
 * directory (never a symlink), owned by root, and not writable by group or others unless
 * sticky (as /tmp is: there others cannot rename root's entries).
 */
export function rootOnlyProblem(path: string, st: Stats): string | null {
  if (st.isSymbolicLink()) return `${path} is a symlink`;
  if (!st.isDirectory()) return `${path} is not a directory`;
  if (st.uid !== 0) return `${path} belongs to uid ${st.uid}, not to root`;
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0)
    return `${path} is writable by ${st.mode & 0o020 ? 'its group' : 'others'} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}) without the sticky bit`;
  return null;
}

/** `/`, `/var`, `/var/cache`, `/var/cache/banger-root` for `/var/cache/banger-root`. */
export function pathComponents(path: string): string[] {
  const out: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    out.unshift(p);
    if (p === dirname(p)) return out;
  }
}

/**
 * Makes `dir` (and any missing ancestor) as root with `mode` if absent, and refuses, with
 * the reason, when it or any ancestor is not a root-only directory (rootOnlyProblem). An
 * existing directory keeps its mode (a root-owned one that others cannot write is fine).
 */
export function ensureRootOwnedDir(dir: string, mode: number): void {
  if (!isAbsolute(dir)) throw new BangerError('bad_request', `${dir} is not an absolute path`);
  const parts = pathComponents(dir);
  for (const [i, p] of parts.entries()) {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      const last = i === parts.length - 1;
      try {
        mkdirSync(p, { mode: last ? mode : 0o755 });
      } catch (m) {
        if ((m as NodeJS.ErrnoException).code !== 'EEXIST') throw m;
      }
      st = lstatSync(p);
      if (last && st.isDirectory() && !st.isSymbolicLink() && st.uid === 0) chmodSync(p, mode); // mkdir's mode is subject to the umask
      st = lstatSync(p);
    }
    const problem = rootOnlyProblem(p, st);
    if (problem) {
      throw new BangerError(
        'unauthorized',
        `${problem}, so root cannot safely keep its own files in ${dir}; refusing to use it`,
        {
          hint: `make ${p} a real directory owned by root that only root can write (e.g. \`chown root:root ${p} && chmod go-w ${p}\`), or remove it if it is not yours`,
        },
      );
    }
  }
}
