/**
 * `banger __complete vms|images|kernels`: the live names for shell completion, fast and
 * silent. The daemon is asked only when its socket is already there (never started for a
 * TAB); otherwise, or when it does not answer within a moment, the state database is read
 * read-only. Any failure yields no names.
 */
import { existsSync } from 'node:fs';
import { openDatabaseReadOnly } from '../../../store/index.js';
import type { CliContext } from '../../context.js';
import type { NameKind } from './spec.js';

/** How long a TAB waits for a running daemon before reading the database itself. */
const DAEMON_WAIT_MS = 1000;

const TABLES: Record<NameKind, string> = { vms: 'vms', images: 'images', kernels: 'kernels' };

async function fromDaemon(ctx: CliContext, kind: NameKind): Promise<string[]> {
  const client = ctx.daemon.client; // the bare client: no auto-start
  const signal = AbortSignal.timeout(DAEMON_WAIT_MS);
  if (kind === 'vms') return (await client.call('vm.list', {}, { signal })).vms.map((v) => v.name);
  if (kind === 'images') return (await client.call('image.list', {}, { signal })).images.map((i) => i.name);
  return (await client.call('kernel.list', {}, { signal })).kernels.map((k) => k.name);
}

function fromDatabase(dbFile: string, kind: NameKind): string[] {
  const db = openDatabaseReadOnly(dbFile);
  try {
    db.exec('PRAGMA busy_timeout = 200');
    const rows = db.prepare(`SELECT name FROM ${TABLES[kind]} ORDER BY name`).all() as Array<{ name: unknown }>;
    return rows.map((r) => String(r.name));
  } finally {
    db.close();
  }
}

/** The names of `kind`, sorted; [] on any error. */
export async function liveNames(ctx: CliContext, kind: NameKind): Promise<string[]> {
  try {
    const { daemonSocket, dbFile } = ctx.layout;
    if (existsSync(daemonSocket)) {
      try {
        return (await fromDaemon(ctx, kind)).sort();
      } catch {
        /* not answering: the database still knows the names */
      }
    }
    return existsSync(dbFile) ? fromDatabase(dbFile, kind) : [];
  } catch {
    return [];
  }
}
