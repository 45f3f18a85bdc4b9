import { existsSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { BangerError } from '../model/index.js';
import { MIGRATIONS, type Migration } from './migrations.js';

/**
 * The state database is Node's built-in SQLite (`node:sqlite`, unflagged since 22.13): no
 * native addon to compile per runtime, nothing for a release to carry beside its bundled
 * Node. It replaced better-sqlite3 after `bench/sqlite.ts` measured the two on this store's
 * queries (docs/architecture.md has the figures).
 */
export type Db = DatabaseSync;

type SqliteModule = typeof import('node:sqlite');
let sqlite: SqliteModule | undefined;

/**
 * Loads `node:sqlite` on first use. Node 22 announces it with an ExperimentalWarning on
 * stderr, which would land in the middle of a CLI's output; that one warning (and only it)
 * is dropped while the module loads. Node 24 and later print nothing.
 */
function sqliteModule(): SqliteModule {
  if (sqlite) return sqlite;
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(text)) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    sqlite = process.getBuiltinModule('node:sqlite') as SqliteModule;
  } finally {
    process.emitWarning = emit;
  }
  return sqlite;
}

/** Opens the state database read-write with WAL, foreign keys and a busy timeout. */
export function openDatabase(path: string): Db {
  const db = new (sqliteModule().DatabaseSync)(path);
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA foreign_keys = ON');
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
  const db = new (sqliteModule().DatabaseSync)(path, { readOnly: true });
  db.exec('PRAGMA busy_timeout = 5000');
  return db;
}

/** Runs `fn` in one IMMEDIATE transaction: committed when it returns, rolled back when it throws. */
export function inTransaction<T>(db: Db, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (e) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw e;
  }
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
  return db
    .prepare('SELECT id, name, applied_at FROM schema_migrations ORDER BY id')
    .all() as unknown as AppliedMigration[];
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
    inTransaction(db, () => {
      db.exec(m.sql);
      record.run(m.id, m.name, now().toISOString());
    });
  }
  return status.pending;
}
