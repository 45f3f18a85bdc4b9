import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { BangerError } from '../model/index.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = Database.Database;

/**
 * Where better-sqlite3's native addon lives. The bundled build ships it next to the
 * bundle and sets this before the first open; unbundled runs (tests) use the package's
 * normal lookup.
 */
let nativeBindingPath: string | undefined;
export function setNativeBindingPath(path: string | undefined): void {
  nativeBindingPath = path;
}

function options(extra: Database.Options): Database.Options {
  return nativeBindingPath ? { ...extra, nativeBinding: nativeBindingPath } : extra;
}

/** Opens the state database read-write with WAL, foreign keys and a busy timeout. */
export function openDatabase(path: string): Db {
  const db = new Database(path, options({ timeout: 5000 }));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * Opens an existing database read-only (doctor, --check-migrations): never creates the
 * file, never writes, never runs migrations.
 */
export function openDatabaseReadOnly(path: string): Db {
  if (!existsSync(path))
    throw new BangerError('not_found', `state database ${path} does not exist`, {
      hint: 'it is created when bangerd first starts',
    });
  const db = new Database(path, options({ readonly: true, fileMustExist: true, timeout: 5000 }));
  db.pragma('busy_timeout = 5000');
  return db;
}

export interface AppliedMigration {
  id: number;
  name: string;
  applied_at: string;
}

function hasMigrationsTable(db: Db): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined
  );
}

export function appliedMigrations(db: Db): AppliedMigration[] {
  if (!hasMigrationsTable(db)) return [];
  return db.prepare('SELECT id, name, applied_at FROM schema_migrations ORDER BY id').all() as AppliedMigration[];
}

export type MigrationStatus =
  | { kind: 'compatible'; applied: number }
  | { kind: 'migrations_needed'; applied: number; pending: Migration[] }
  | { kind: 'incompatible'; unknown: AppliedMigration[] };

/** Compares a database's recorded migrations with the ones this binary knows. Pure read. */
export function migrationStatus(db: Db | null, known: readonly Migration[] = MIGRATIONS): MigrationStatus {
  const applied = db ? appliedMigrations(db) : [];
  const knownIds = new Set(known.map((m) => m.id));
  const unknown = applied.filter((a) => !knownIds.has(a.id));
  if (unknown.length > 0) return { kind: 'incompatible', unknown };
  const appliedIds = new Set(applied.map((a) => a.id));
  const pending = known.filter((m) => !appliedIds.has(m.id));
  return pending.length === 0
    ? { kind: 'compatible', applied: applied.length }
    : { kind: 'migrations_needed', applied: applied.length, pending: [...pending] };
}

/** Applies pending migrations in order, one transaction each. Refuses a newer database. */
export function migrate(
  db: Db,
  known: readonly Migration[] = MIGRATIONS,
  now: () => Date = () => new Date(),
): Migration[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const status = migrationStatus(db, known);
  if (status.kind === 'incompatible') {
    throw new BangerError(
      'conflict',
      `the state database was written by a newer banger (unknown migrations ${status.unknown.map((u) => `${u.id}_${u.name}`).join(', ')})`,
      {
        hint: 'install the newer banger again, or run `banger update`; this version will not modify that database',
      },
    );
  }
  if (status.kind === 'compatible') return [];
  const record = db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)');
  for (const m of status.pending) {
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.id, m.name, now().toISOString());
    })();
  }
  return status.pending;
}
