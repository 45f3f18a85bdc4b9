import { lstatSync, mkdirSync, chmodSync } from 'node:fs';
import { BangerError } from '../model/index.js';

/**
 * Makes sure a private runtime directory exists as a real directory (not a symlink),
 * owned by `uid`, mode 0700. A directory someone else owns (for example a pre-created
 * /tmp/banger-runtime-<uid> planted by another user) is refused, never adopted.
 */
export function ensurePrivateDir(path: string, uid: number): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new BangerError('operation_failed', `cannot create runtime directory ${path}: ${(e as Error).message}`, {
      hint: 'check the permissions of its parent directory, or set XDG_RUNTIME_DIR',
    });
  }
  const st = lstatSync(path);
  if (st.isSymbolicLink()) {
    throw new BangerError('unauthorized', `runtime directory ${path} is a symlink; refusing to use it`, {
      hint: `remove ${path} (a symlink there may be an attack) and try again`,
    });
  }
  if (!st.isDirectory()) {
    throw new BangerError('conflict', `runtime directory ${path} exists but is not a directory`, {
      hint: `remove ${path} and try again`,
    });
  }
  if (st.uid !== uid) {
    throw new BangerError(
      'unauthorized',
      `runtime directory ${path} is owned by uid ${st.uid}, not by you (uid ${uid})`,
      {
        hint: `remove ${path} or set XDG_RUNTIME_DIR to a directory you own`,
      },
    );
  }
  if ((st.mode & 0o777) !== 0o700) chmodSync(path, 0o700);
}
