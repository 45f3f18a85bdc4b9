/** Row <-> record mapping for port forwards (`vm forward`): one row per host port, removed with its VM. */
import type { Db } from './database.js';
import { inTransaction } from './database.js';

/** A stored forward: host port `local` to the VM's guest port `guest`. */
export interface ForwardRecord {
  vmId: string;
  local: number;
  guest: number;
  createdAt: string;
}

interface ForwardRow {
  vm_id: string;
  local_port: number;
  guest_port: number;
  created_at: string;
}

const fromRow = (r: ForwardRow): ForwardRecord => ({
  vmId: r.vm_id,
  local: r.local_port,
  guest: r.guest_port,
  createdAt: r.created_at,
});

export class ForwardRepository {
  constructor(private readonly db: Db) {}

  /** The forwards of one VM, by host port. */
  ofVm(vmId: string): ForwardRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM vm_forwards WHERE vm_id = ? ORDER BY local_port')
        .all(vmId) as unknown as ForwardRow[]
    ).map(fromRow);
  }

  /** The forward that holds host port `local`, if any. */
  byLocalPort(local: number): ForwardRecord | undefined {
    const r = this.db.prepare('SELECT * FROM vm_forwards WHERE local_port = ?').get(local) as unknown as
      | ForwardRow
      | undefined;
    return r ? fromRow(r) : undefined;
  }

  /** Inserts all or none. */
  insertAll(rows: readonly ForwardRecord[]): void {
    const insert = this.db.prepare(
      'INSERT INTO vm_forwards (local_port, vm_id, guest_port, created_at) VALUES (?, ?, ?, ?)',
    );
    inTransaction(this.db, () => {
      for (const r of rows) insert.run(r.local, r.vmId, r.guest, r.createdAt);
    });
  }

  /** Removes the VM's forwards on these host ports (all or none). */
  removeAll(vmId: string, locals: readonly number[]): void {
    const del = this.db.prepare('DELETE FROM vm_forwards WHERE vm_id = ? AND local_port = ?');
    inTransaction(this.db, () => {
      for (const l of locals) del.run(vmId, l);
    });
  }
}
