/**
 * The free-space check before blobs are downloaded: a pull that cannot fit fails at once with
 * how much it needs, not hours later half-way through a layer. (A disk that fills during the
 * download anyway, because something else wrote to it, is still caught: ENOSPC -> noSpace.)
 */
import { statfs } from 'node:fs/promises';
import { BangerError, formatBytesIec } from '../model/index.js';
import type { ImageRef } from './ref.js';

/** Room kept free beyond the blobs themselves (the filesystem, the daemon, the flatten that follows). */
const SPACE_MARGIN_BYTES = 256 * 1024 * 1024;

/**
 * Throws operation_failed "no space left in <dir>: need X, have Y" when `bytes` + margin do not
 * fit in `dir`; `digest` names the blob when one download is checked.
 */
export async function checkFreeSpace(ref: ImageRef, dir: string, bytes: number, digest?: string): Promise<void> {
  if (bytes <= 0) return;
  const st = await statfs(dir);
  const have = st.bavail * st.bsize;
  const need = bytes + SPACE_MARGIN_BYTES;
  if (need <= have) return;
  throw new BangerError(
    'operation_failed',
    `no space left in ${dir}: need ${formatBytesIec(need)}, have ${formatBytesIec(have)} (${digest ? `downloading ${digest} of` : 'pulling'} ${ref.text})`,
    { hint: 'free disk space, or run `banger image cache prune` to drop blobs no image uses' },
  );
}
