export { Store } from './store.js';
export {
  openDatabase,
  openDatabaseReadOnly,
  migrate,
  migrationStatus,
  appliedMigrations,
  inTransaction,
  type Db,
  type MigrationStatus,
  type AppliedMigration,
} from './database.js';
export { MIGRATIONS, LATEST_MIGRATION_ID, type Migration } from './migrations.js';
export { ImageRepository, KernelRepository } from './repositories.js';
export { VmRepository } from './vmRepository.js';
export { ForwardRepository, type ForwardRecord } from './forwards.js';
export { checkMigrations, type CheckMigrationsReport } from './checkMigrations.js';
