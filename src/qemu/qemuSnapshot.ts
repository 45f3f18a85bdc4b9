import { BangerError } from '../model/index.js';
import type { VmFiles } from '../paths/index.js';
import { readLogTail, sleep } from '../system/index.js';
import { outgoingUri, qemuStateFile } from './argv.js';
import { QmpClient } from './qmpClient.js';

/**
 * QEMU's half of warm starts (docs/howto/snapshots.md): pause and resume with QMP `stop`
 * and `cont`, a guest's state saved by migrating it into a file, and the wait for an
 * incoming migration to finish loading.
 */

/** A saved state of a 2-4 GiB guest is written in a few seconds; a stalled one is given up on. */
const SAVE_TIMEOUT_MS = 120_000;
const LOAD_TIMEOUT_MS = 120_000;

async function withQmp<T>(files: VmFiles, fn: (qmp: QmpClient) => Promise<T>): Promise<T> {
  const qmp = await QmpClient.connect(files.qmpSocket, 3_000);
  try {
    return await fn(qmp);
  } finally {
    qmp.close();
  }
}

export async function qmpStatus(files: VmFiles): Promise<string> {
  return withQmp(files, async (qmp) => ((await qmp.execute('query-status')) as { status: string }).status);
}

/** QMP `stop`: the vCPUs halt, memory and devices stay. */
export function qmpPause(files: VmFiles): Promise<void> {
  return withQmp(files, async (qmp) => {
    await qmp.execute('stop');
  });
}

/**
 * QMP `cont`. A guest whose state was just saved is in `postmigrate` with its disks handed
 * over; `cont` takes them back (QEMU re-activates the block devices), so the source of a
 * fork runs on.
 */
export function qmpResume(files: VmFiles): Promise<void> {
  return withQmp(files, async (qmp) => {
    await qmp.execute('cont');
  });
}

interface MigrateInfo {
  status?: string;
  'error-desc'?: string;
  ram?: { transferred?: number };
}

/**
 * Writes the paused guest's memory and device state into `stateDir` as a migration stream
 * and waits for it to complete. Bandwidth is unthrottled (QEMU 7.2 defaults to 32 MiB/s).
 * The guest stays paused.
 */
export function qmpSaveState(files: VmFiles, stateDir: string): Promise<{ bytes: number }> {
  return withQmp(files, async (qmp) => {
    let status = ((await qmp.execute('query-status')) as { status: string }).status;
    if (status === 'postmigrate') {
      // Saved once already while paused (a fork of a paused VM): QEMU refuses to migrate from
      // postmigrate ("paused due to previous migration"), and its disks are handed over. `cont`
      // takes them back and `stop` pauses again; the vCPUs run only between the two commands.
      await qmp.execute('cont');
      await qmp.execute('stop');
      status = ((await qmp.execute('query-status')) as { status: string }).status;
    }
    if (status !== 'paused')
      throw new BangerError('conflict', `the guest must be paused to save its state (it is ${status})`);
    await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 64 * 1024 ** 3 });
    await qmp.execute('migrate', { uri: outgoingUri(qemuStateFile(stateDir)) });
    const deadline = Date.now() + SAVE_TIMEOUT_MS;
    for (;;) {
      const info = (await qmp.execute('query-migrate')) as MigrateInfo;
      if (info.status === 'completed') return { bytes: info.ram?.transferred ?? 0 };
      if (info.status === 'failed' || info.status === 'cancelled')
        throw new BangerError(
          'operation_failed',
          `saving the guest's state failed: ${info['error-desc'] ?? info.status}`,
        );
      if (Date.now() > deadline) {
        await qmp.execute('migrate_cancel').catch(() => undefined);
        throw new BangerError('operation_failed', `saving the guest's state took over ${SAVE_TIMEOUT_MS / 1000} s`);
      }
      await sleep(20);
    }
  });
}

/**
 * Waits until a QEMU started with `-incoming` has loaded the saved state: its status leaves
 * `inmigrate` for `paused` (the state was saved from a paused guest, and QEMU keeps that).
 * A load that fails ends QEMU; the error carries its log's last lines.
 */
export async function waitForIncoming(files: VmFiles, isAlive: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + LOAD_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isAlive()) break;
    const status = await qmpStatus(files).catch(() => 'unknown');
    if (status === 'paused' || status === 'running') return;
    await sleep(20);
  }
  const tail = readLogTail(files.vmmLog, 5);
  throw new BangerError('operation_failed', `${what}: QEMU did not load the saved state`, {
    hint: tail ? `qemu said:\n${tail}` : `see ${files.vmmLog}`,
  });
}

/** QMP `set_link` on the VM's one NIC (netdev n0, argv.ts). */
export function qmpSetLink(files: VmFiles, up: boolean): Promise<void> {
  return withQmp(files, async (qmp) => {
    await qmp.execute('set_link', { name: 'n0', up });
  });
}
