/**
 * Forward-only numbered migrations (docs/reference/rpc.md). Each runs in its own transaction and is
 * recorded in schema_migrations(id, name, applied_at). Never edit a released migration:
 * add a new one. A database that records an id this list does not know was written by a
 * newer banger, and this binary must refuse to touch it.
 */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'kernels_and_images',
    sql: `
      CREATE TABLE kernels (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL UNIQUE,
        version      TEXT,
        source       TEXT NOT NULL,
        kernel_path  TEXT NOT NULL,
        initrd_path  TEXT,
        modules_dir  TEXT,
        sha256       TEXT,
        created_at   TEXT NOT NULL
      );
      CREATE TABLE images (
        id             TEXT PRIMARY KEY,
        name           TEXT NOT NULL UNIQUE,
        source         TEXT NOT NULL,
        distro         TEXT,
        arch           TEXT NOT NULL DEFAULT 'x86_64',
        rootfs_path    TEXT NOT NULL,
        work_seed_path TEXT,
        kernel_id      TEXT REFERENCES kernels(id) ON DELETE RESTRICT,
        initrd_path    TEXT,
        size_bytes     INTEGER NOT NULL DEFAULT 0,
        created_at     TEXT NOT NULL
      );
    `,
  },
  {
    id: 2,
    name: 'vms',
    sql: `
      CREATE TABLE vms (
        id                        TEXT PRIMARY KEY,
        name                      TEXT NOT NULL UNIQUE,
        state                     TEXT NOT NULL CHECK (state IN ('created', 'running', 'stopped', 'error')),
        image_id                  TEXT REFERENCES images(id) ON DELETE RESTRICT,
        vcpu                      INTEGER NOT NULL CHECK (vcpu >= 1),
        memory_mib                INTEGER NOT NULL CHECK (memory_mib >= 1),
        disk_size_bytes           INTEGER NOT NULL,
        system_overlay_size_bytes INTEGER NOT NULL,
        guest_ip                  TEXT UNIQUE,
        mac                       TEXT UNIQUE,
        vm_dir                    TEXT NOT NULL,
        dns_name                  TEXT NOT NULL,
        vmm                       TEXT NOT NULL CHECK (vmm IN ('firecracker', 'qemu')),
        nat                       INTEGER NOT NULL DEFAULT 0,
        workspace_json            TEXT,
        handles_json              TEXT,
        created_at                TEXT NOT NULL,
        touched_at                TEXT NOT NULL,
        last_error                TEXT
      );
      CREATE INDEX vms_state ON vms(state);
    `,
  },
  {
    id: 3,
    name: 'vm_root_overlay',
    // Earlier VMs were all created with the qcow2 default.
    sql: `ALTER TABLE vms ADD COLUMN root_overlay TEXT NOT NULL DEFAULT 'qcow2' CHECK (root_overlay IN ('qcow2', 'dm-snapshot', 'copy'));`,
  },
  {
    id: 4,
    name: 'vm_forwards',
    // One row per `vm forward`: a host port belongs to one forward at most; rows go with their VM.
    sql: `
      CREATE TABLE vm_forwards (
        local_port INTEGER PRIMARY KEY CHECK (local_port BETWEEN 1 AND 65535),
        vm_id      TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
        guest_port INTEGER NOT NULL CHECK (guest_port BETWEEN 1 AND 65535),
        created_at TEXT NOT NULL
      );
      CREATE INDEX vm_forwards_vm ON vm_forwards(vm_id);
    `,
  },
  {
    id: 5,
    name: 'image_oci',
    // JSON of ImageOci (model/vm.ts) for images pulled from an OCI registry, else NULL.
    sql: 'ALTER TABLE images ADD COLUMN oci_json TEXT;',
  },
  {
    id: 6,
    name: 'vm_warm',
    // suspended: a running VM that is paused, or a stopped one whose memory state was saved
    // (docs/howto/snapshots.md). template_key: the warm template a VM was made from, if any.
    sql: `
      ALTER TABLE vms ADD COLUMN suspended TEXT CHECK (suspended IN ('paused', 'saved'));
      ALTER TABLE vms ADD COLUMN template_key TEXT;
    `,
  },
];

export const LATEST_MIGRATION_ID = MIGRATIONS[MIGRATIONS.length - 1]!.id;
