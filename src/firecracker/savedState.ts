import { existsSync, lstatSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BangerError } from '../model/index.js';
import type { VmFiles } from '../paths/index.js';
import { writeFileAtomic } from '../system/index.js';
import type { BootSpec } from '../vmm/index.js';
import { FirecrackerApi } from './apiClient.js';
import type { ApiCall } from './config.js';
import { IN_JAIL } from './jailer.js';
import { chrootOf } from './launch.js';
import { describeSaved, parseSaved, restoreProblem, STATE_FILES, stateFiles } from './snapshot.js';

/** A full snapshot writes all guest memory: give it far longer than a configuration call. */
export const SNAPSHOT_TIMEOUT_MS = 120_000;

/** A VM started jailed is reached through a symlink into its chroot (the start made it). */
export function isJailedVm(files: VmFiles): boolean {
  try {
    return lstatSync(files.firecrackerApiSocket).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Moves a file the jailed Firecracker wrote (as the VMM's uid, in the chroot's run/, which
 * that uid controls) into the state directory: only a regular file, never a link, by rename,
 * which needs one filesystem (jails need it for their hard links too).
 */
function moveOut(from: string, to: string): void {
  const st = lstatSync(from);
  if (!st.isFile() || st.nlink !== 1)
    throw new BangerError(
      'operation_failed',
      `${from} is not a plain file Firecracker wrote; the snapshot is not kept`,
    );
  try {
    renameSync(from, to);
  } catch (e) {
    throw new BangerError('operation_failed', `cannot move ${from} to ${to}: ${(e as Error).message}`, {
      hint: "keep the state directory on the filesystem of root's jails (/var/lib/banger-root)",
    });
  }
}

/**
 * Writes the paused guest's snapshot into `stateDir` (STATE_FILES): Firecracker writes the
 * device state and memory (jailed: inside its chroot, then moved out), and banger's record
 * of the VM's configuration goes last, so a cut-short save is never taken for a whole one.
 */
export async function saveSnapshot(files: VmFiles, stateDir: string): Promise<void> {
  const api = new FirecrackerApi(files.firecrackerApiSocket, SNAPSHOT_TIMEOUT_MS);
  const jailed = isJailedVm(files);
  const out = stateFiles(stateDir);
  const vmConfig = await api.vmConfig();
  if (jailed) {
    const chroot = chrootOf(files.firecrackerApiSocket);
    const written = { vmstate: join(chroot, IN_JAIL.savedState), mem: join(chroot, IN_JAIL.savedMem) };
    for (const p of Object.values(written)) rmSync(p, { force: true }); // an earlier save's
    await api.createSnapshot({ snapshotPath: IN_JAIL.savedState, memPath: IN_JAIL.savedMem });
    moveOut(written.vmstate, out.vmstate);
    moveOut(written.mem, out.mem);
  } else {
    await api.createSnapshot({ snapshotPath: out.vmstate, memPath: out.mem });
  }
  writeFileAtomic(out.meta, `${JSON.stringify(describeSaved(jailed, vmConfig), null, 2)}\n`);
}

/**
 * Refuses (operation_failed, before any VMM starts) a state directory that `spec`'s VM
 * cannot load: no or a corrupt record, missing snapshot files, or a saved VM whose recorded
 * paths, size or jailing differ from what `wanted` (this VM's configuration) would use.
 */
export function requireRestorable(spec: BootSpec, stateDir: string, jailed: boolean, wanted: readonly ApiCall[]): void {
  const files = stateFiles(stateDir);
  let problem: string | null;
  if (!existsSync(files.meta)) problem = `it has no ${STATE_FILES.meta}`;
  else {
    const saved = parseSaved(readFileSync(files.meta, 'utf8'));
    problem = typeof saved === 'string' ? saved : restoreProblem(saved, jailed, wanted);
  }
  for (const f of [files.vmstate, files.mem]) if (!problem && !existsSync(f)) problem = `${f} is missing`;
  if (problem)
    throw new BangerError(
      'operation_failed',
      `the saved state in ${stateDir} cannot be restored as VM ${spec.hostname}: ${problem}`,
      { hint: 'discard it and boot the VM cold' },
    );
}
