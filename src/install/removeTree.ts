import { closeSync, constants, fstatSync, openSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { BangerError } from '../model/index.js';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Removes a tree its owner (not root) may be changing while root removes it (uninstall
 * --purge of /var/lib/banger, /var/cache/banger, /run/banger). Every directory is opened
 * without following a symlink and walked through its descriptor (/proc/self/fd/N/<name>), so
 * an entry swapped for a symlink, or a directory renamed away mid-walk, can only ever make
 * root unlink names inside directories of this tree, never follow a path out of it: a
 * symlink, a hard link or a device node loses its name only. Refuses to cross into another
 * filesystem. `top`'s own parent must be root's (it is opened by name). Absent is fine.
 */
export function removeTreeByFd(top: string): void {
  let fd: number;
  try {
    fd = openSync(top, DIR_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR' || code === 'ELOOP') { unlinkSync(top); return; }
    throw e;
  }
  try {
    const dev = fstatSync(fd).dev;
    walk(fd, dev, top);
  } finally {
    closeSync(fd);
  }
  rmdirSync(top);
}

function walk(dirfd: number, dev: number, shown: string): void {
  const base = `/proc/self/fd/${dirfd}`;
  // A few passes: a directory the owner moves in mid-walk leaves it non-empty.
  for (let pass = 0; pass < 5; pass++) {
    const names = readdirSync(base);
    if (names.length === 0) return;
    for (const name of names) {
      const at = `${base}/${name}`;
      let sub: number;
      try {
        sub = openSync(at, DIR_FLAGS);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOTDIR' || code === 'ELOOP') { try { unlinkSync(at); } catch (u) { if ((u as NodeJS.ErrnoException).code !== 'ENOENT') throw u; } continue; }
        if (code === 'ENOENT') continue;
        throw e;
      }
      try {
        if (fstatSync(sub).dev !== dev) throw new BangerError('operation_failed', `${shown}/${name} is a mount point; refusing to remove across it`, { hint: `unmount it, then remove ${shown}` });
        walk(sub, dev, `${shown}/${name}`);
      } finally {
        closeSync(sub);
      }
      try { rmdirSync(at); } catch (r) {
        const code = (r as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'ENOTDIR') throw r;
      }
    }
  }
}
