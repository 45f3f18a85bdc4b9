/**
 * One-off measurement behind the store's engine (docs/architecture.md, "The state store"):
 * Node's built-in `node:sqlite` against better-sqlite3 13 on this store's real code, the
 * repositories and migrations of src/store run unchanged on each engine:
 *   - migrate a fresh database (open, WAL, every migration);
 *   - `vm list` of 50 VMs (VmRepository.list, the join with images);
 *   - find a VM by name (VmRepository.find);
 *   - insert a VM and update its state (two autocommitted writes, as vm.create/start do).
 * Each figure is median/p90 over several runs, with the ratio better-sqlite3 / node:sqlite.
 *
 * better-sqlite3 is not a banger dependency; install it apart and pass its directory:
 *   npm install --prefix /tmp/bsq better-sqlite3@13.2.0
 *   node build/bench/sqliteCompare.js /tmp/bsq/node_modules/better-sqlite3
 * (or BETTER_SQLITE3=DIR). Without it, only node:sqlite is measured and the script says so.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GIB, type Vm } from '../src/model/index.js';
import { type Db, migrate, openDatabase, VmRepository } from '../src/store/index.js';
import { formatSummary, type Summary, summarize } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const VMS = 50;

/** The part of better-sqlite3's Database the store touches. */
interface BetterDatabase {
  prepare(sql: string): unknown;
  exec(sql: string): unknown;
  readonly inTransaction: boolean;
  close(): void;
}

interface Engine {
  name: string;
  version: string;
  open(path: string): Db;
}

const nodeSqlite: Engine = { name: 'node:sqlite', version: `SQLite ${process.versions.sqlite}`, open: openDatabase };

/** better-sqlite3 behind the store's Db shape: the same pragmas as openDatabase; its statements are alike. */
function betterSqlite(dir: string): Engine | null {
  if (!existsSync(join(dir, 'package.json'))) return null;
  const Database = createRequire(join(resolve(dir), 'package.json'))(resolve(dir)) as new (
    path: string,
  ) => BetterDatabase;
  const version = (createRequire(import.meta.url)(join(resolve(dir), 'package.json')) as { version: string }).version;
  return {
    name: 'better-sqlite3',
    version,
    open(path) {
      const db = new Database(path);
      db.exec('PRAGMA busy_timeout = 5000');
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      db.exec('PRAGMA foreign_keys = ON');
      const shim = {
        prepare: (sql: string) => db.prepare(sql),
        exec: (sql: string) => db.exec(sql),
        close: () => db.close(),
        get isTransaction() {
          return db.inTransaction;
        },
      };
      return shim as unknown as Db;
    },
  };
}

function vm(i: number): Vm {
  const id = (0x10000000 + i).toString(16);
  return {
    id,
    name: `vm-${i}`,
    state: 'stopped',
    imageId: null,
    imageName: null,
    spec: { vcpu: 2, memoryMib: 2048, diskSizeBytes: 8 * GIB, systemOverlaySizeBytes: 8 * GIB },
    guestIp: `172.16.${Math.floor(i / 250)}.${(i % 250) + 2}`,
    mac: `52:54:${id.slice(0, 2)}:${id.slice(2, 4)}:${id.slice(4, 6)}:${id.slice(6, 8)}`,
    vmDir: `/var/lib/banger/vms/${id}`,
    dnsName: `vm-${i}.vm`,
    vmm: 'qemu',
    rootOverlay: 'qcow2',
    nat: false,
    workspace: null,
    createdAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    touchedAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    lastError: null,
    suspended: null,
    templateKey: null,
  };
}

/** Per-operation time in µs: each sample is the mean of `per` calls (indices never repeat); a warm-up first. */
function perOp(per: number, fn: (i: number) => void): Summary {
  for (let i = 0; i < per; i++) fn(i);
  const samples: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) fn((r + 1) * per + i);
    samples.push(((performance.now() - t0) * 1000) / per);
  }
  return summarize(samples);
}

function measure(engine: Engine, dir: string): Record<string, Summary> {
  let n = 0;
  const fresh = () => join(dir, `${engine.name.replace(/\W/g, '')}-${n++}.db`);
  const migrateFresh = perOp(1, () => {
    const db = engine.open(fresh());
    migrate(db);
    db.close();
  });
  const db = engine.open(fresh());
  migrate(db);
  const repo = new VmRepository(db);
  for (let i = 0; i < VMS; i++) repo.insert(vm(i));
  const list = perOp(50, () => {
    if (repo.list().length !== VMS) throw new Error('vm list lost rows');
  });
  const find = perOp(500, (i) => {
    if (!repo.find(`vm-${i % VMS}`)) throw new Error('find missed');
  });
  const write = perOp(20, (i) => {
    const v = vm(1000 + i);
    repo.insert(v);
    repo.setState(v.id, 'running');
  });
  db.close();
  return {
    'migrate a fresh database': migrateFresh,
    [`vm list (${VMS} VMs)`]: list,
    'find a VM by name': find,
    'insert a VM + state update': write,
  };
}

const bsqDir = process.argv[2] ?? process.env.BETTER_SQLITE3;
const dir = mkdtempSync(join(tmpdir(), 'bgr-sqlite-'));
try {
  const engines = [nodeSqlite];
  const better = bsqDir ? betterSqlite(bsqDir) : null;
  if (better) engines.push(better);
  else
    console.log(
      `better-sqlite3 not measured: ${bsqDir ? `no package at ${bsqDir}` : 'no path given'} (npm install --prefix /tmp/bsq better-sqlite3@13.2.0, then pass /tmp/bsq/node_modules/better-sqlite3)`,
    );
  console.log(`SQLite engines on the store's queries (node ${process.version}, ${RUNS} runs; µs per operation)`);
  for (const e of engines) console.log(`  ${e.name}: ${e.version}`);
  const results = engines.map((e) => ({ e, r: measure(e, dir) }));
  for (const label of Object.keys(results[0]!.r)) {
    for (const { e, r } of results) console.log(formatSummary(`${label} [${e.name}]`, r[label]!, 'µs'));
    if (results.length === 2)
      console.log(
        `  ratio ${results[1]!.e.name} / node:sqlite (median)   ${(results[1]!.r[label]!.median / results[0]!.r[label]!.median).toFixed(2)}`,
      );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
