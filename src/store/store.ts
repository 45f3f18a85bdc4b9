import { openDatabase, migrate, type Db } from './database.js';
import { ForwardRepository } from './forwards.js';
import { ImageRepository, KernelRepository } from './repositories.js';
import { VmRepository } from './vmRepository.js';

/** The daemon's handle on durable state: one database, migrated on open, and its repositories. */
export class Store {
  readonly vms: VmRepository;
  readonly images: ImageRepository;
  readonly kernels: KernelRepository;
  readonly forwards: ForwardRepository;

  private constructor(readonly db: Db) {
    this.vms = new VmRepository(db);
    this.images = new ImageRepository(db);
    this.kernels = new KernelRepository(db);
    this.forwards = new ForwardRepository(db);
  }

  /** Opens (creating if needed) and migrates. Throws on a database from a newer banger. */
  static open(path: string): Store {
    const db = openDatabase(path);
    try {
      migrate(db);
    } catch (e) {
      db.close();
      throw e;
    }
    return new Store(db);
  }

  close(): void {
    this.db.close();
  }
}
