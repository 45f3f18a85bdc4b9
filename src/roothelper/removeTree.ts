import { lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BangerError } from '../model/index.js';

/**
 * Removes a directory tree that its owner (not root) could have filled with anything:
 * symlinks are unlinked, never followed, and the walk refuses to cross into another
 * filesystem (a mount inside the tree), so root never deletes outside it. Absent is fine.
 */
export function removeTreeNoFollow(top: string): void {
  let st;
  try { st = lstatSync(top); } catch { return; }
  if (!st.isDirectory()) { unlinkSync(top); return; }
  const dev = st.dev;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const s = lstatSync(path);
      if (s.isDirectory()) {
        if (s.dev !== dev) throw new BangerError('operation_failed', `${path} is a mount point; refusing to remove across it`, { hint: `unmount it, then remove ${top}` });
        walk(path);
        rmdirSync(path);
      } else {
        unlinkSync(path); // files, device nodes, sockets and symlinks alike: the entry only
      }
    }
  };
  walk(top);
  rmdirSync(top);
}
