import { existsSync } from 'node:fs';
import { CHECK_MIGRATIONS_EXIT } from '../model/index.js';
import { migrationStatus, openDatabaseReadOnly } from './database.js';
import { MIGRATIONS, type Migration } from './migrations.js';

/**
 * `bangerd --check-migrations`: one line and an exit code (docs/howto/vms.md):
 * 0 compatible, 1 migrations needed and safe, 2 incompatible (a newer or unreadable
 * database). The database is opened read-only and never changed.
 */
export interface CheckMigrationsReport {
  exitCode: number;
  line: string;
}

const names = (ms: readonly Migration[]) => ms.map((m) => `${m.id}_${m.name}`).join(', ');

export function checkMigrations(dbPath: string, known: readonly Migration[] = MIGRATIONS): CheckMigrationsReport {
  if (!existsSync(dbPath)) {
    return {
      exitCode: CHECK_MIGRATIONS_EXIT.migrations_needed,
      line: `migrations needed: no database at ${dbPath} yet; ${known.length} migration(s) will create it (${names(known)})`,
    };
  }
  let db;
  try {
    db = openDatabaseReadOnly(dbPath);
    const status = migrationStatus(db, known);
    switch (status.kind) {
      case 'compatible':
        return {
          exitCode: CHECK_MIGRATIONS_EXIT.compatible,
          line: `compatible: ${dbPath} has all ${status.applied} migration(s) of this build`,
        };
      case 'migrations_needed':
        return {
          exitCode: CHECK_MIGRATIONS_EXIT.migrations_needed,
          line: `migrations needed (safe): ${dbPath} lacks ${names(status.pending)}`,
        };
      case 'incompatible':
        return {
          exitCode: CHECK_MIGRATIONS_EXIT.incompatible,
          line: `incompatible: ${dbPath} was written by a newer banger (unknown migration(s) ${status.unknown.map((u) => `${u.id}_${u.name}`).join(', ')})`,
        };
      default:
        throw new Error(`unhandled migration status ${(status satisfies never as { kind: string }).kind}`);
    }
  } catch (e) {
    return {
      exitCode: CHECK_MIGRATIONS_EXIT.incompatible,
      line: `incompatible: cannot read ${dbPath}: ${(e as Error).message}`,
    };
  } finally {
    db?.close();
  }
}
