import { join } from 'node:path';
import type { ApiCall } from './config.js';

/**
 * Firecracker snapshots (docs/howto/firecracker.md, "Snapshots") as pure data: the API calls
 * that pause, save and load a microVM, the files a state directory holds, and the check that
 * a saved state fits the VM about to load it.
 *
 * Firecracker reopens the drive paths and the vsock uds path recorded in the snapshot (a load
 * can override only the tap), so every VM is configured with paths that are the same for
 * every VM and lead to its own files: jailed, the fixed paths inside its chroot (IN_JAIL);
 * plain, names relative to Firecracker's working directory, the VM's runtime directory,
 * where they are symlinks to the VM's own disks (PLAIN).
 */
export const PLAIN = {
  rootDrive: 'rootfs',
  workDisk: 'work.ext4',
  vsockUds: 'vsock.sock',
} as const;

/** The files `saveState` leaves in a state directory. */
export const STATE_FILES = {
  vmstate: 'snapshot.vmstate',
  mem: 'snapshot.mem',
  /** banger's record of what was saved, checked before a load (SavedFirecracker). */
  meta: 'firecracker.json',
} as const;

export const SNAPSHOT_META_FORMAT = 'banger-firecracker-snapshot/1';

/** What banger records beside a snapshot: enough to refuse a load that could not work. */
export interface SavedFirecracker {
  format: typeof SNAPSHOT_META_FORMAT;
  jailed: boolean;
  vcpuCount: number;
  memSizeMib: number;
  /** drive id → the path Firecracker recorded (and reopens on load). */
  drives: Record<string, string>;
  vsockUds: string;
}

export function pauseCall(state: 'Paused' | 'Resumed'): ApiCall {
  return { method: 'PATCH', path: '/vm', body: { state } };
}

/** A full snapshot: guest memory to `memPath`, device and vCPU state to `snapshotPath` (Firecracker's view). */
export function snapshotCreateCall(p: { snapshotPath: string; memPath: string }): ApiCall {
  return {
    method: 'PUT',
    path: '/snapshot/create',
    body: { snapshot_type: 'Full', snapshot_path: p.snapshotPath, mem_file_path: p.memPath },
  };
}

/**
 * Loads a snapshot paused (the caller resumes it), its memory mapped from the file (pages
 * fault in on demand), its NIC moved onto `tap`.
 */
export function snapshotLoadCall(p: { snapshotPath: string; memPath: string; tap: string }): ApiCall {
  return {
    method: 'PUT',
    path: '/snapshot/load',
    body: {
      snapshot_path: p.snapshotPath,
      mem_backend: { backend_type: 'File', backend_path: p.memPath },
      resume_vm: false,
      network_overrides: [{ iface_id: 'eth0', host_dev_name: p.tap }],
    },
  };
}

/** The state files of `stateDir` by host path. */
export function stateFiles(stateDir: string): { vmstate: string; mem: string; meta: string } {
  return {
    vmstate: join(stateDir, STATE_FILES.vmstate),
    mem: join(stateDir, STATE_FILES.mem),
    meta: join(stateDir, STATE_FILES.meta),
  };
}

/** banger's record from Firecracker's own view of the VM (GET /vm/config). */
export function describeSaved(jailed: boolean, vmConfig: unknown): SavedFirecracker {
  const c = (vmConfig ?? {}) as {
    'machine-config'?: { vcpu_count?: number; mem_size_mib?: number };
    drives?: Array<{ drive_id: string; path_on_host?: string }>;
    vsock?: { uds_path?: string };
  };
  return {
    format: SNAPSHOT_META_FORMAT,
    jailed,
    vcpuCount: c['machine-config']?.vcpu_count ?? 0,
    memSizeMib: c['machine-config']?.mem_size_mib ?? 0,
    drives: Object.fromEntries((c.drives ?? []).map((d) => [d.drive_id, d.path_on_host ?? ''])),
    vsockUds: c.vsock?.uds_path ?? '',
  };
}

/** Parses a state directory's record; a problem (unreadable, not banger's, wrong shape) as a string. */
export function parseSaved(text: string): SavedFirecracker | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'its record is not JSON';
  }
  const s = v as Partial<SavedFirecracker> | null;
  if (!s || s.format !== SNAPSHOT_META_FORMAT) return `its record is not of format ${SNAPSHOT_META_FORMAT}`;
  const ok =
    typeof s.jailed === 'boolean' &&
    Number.isInteger(s.vcpuCount) &&
    Number.isInteger(s.memSizeMib) &&
    typeof s.vsockUds === 'string' &&
    typeof s.drives === 'object' &&
    s.drives !== null;
  return ok ? (s as SavedFirecracker) : 'its record lacks fields';
}

/**
 * Why a VM configured as `wanted` (its configuration calls, jailed or not) cannot load
 * `saved`; null when it can. The recorded paths must be the ones this VM's own
 * configuration would use, since Firecracker reopens exactly those.
 */
export function restoreProblem(saved: SavedFirecracker, jailed: boolean, wanted: readonly ApiCall[]): string | null {
  if (saved.jailed !== jailed)
    return `it was saved by a ${saved.jailed ? 'jailed' : 'plain'} Firecracker and this one runs ${jailed ? 'jailed' : 'plain'}`;
  const body = (path: string) => wanted.find((c) => c.path === path)?.body ?? {};
  const machine = body('/machine-config');
  if (machine.vcpu_count !== saved.vcpuCount || machine.mem_size_mib !== saved.memSizeMib)
    return `it has ${saved.vcpuCount} vCPUs and ${saved.memSizeMib} MiB, this VM ${String(machine.vcpu_count)} and ${String(machine.mem_size_mib)} MiB`;
  for (const c of wanted.filter((x) => x.path.startsWith('/drives/'))) {
    const id = String(c.body.drive_id);
    if (saved.drives[id] !== c.body.path_on_host)
      return `its drive ${id} is ${saved.drives[id] ?? '(none)'}, this VM's ${String(c.body.path_on_host)}`;
  }
  if (Object.keys(saved.drives).length !== wanted.filter((x) => x.path.startsWith('/drives/')).length)
    return `it has drives ${Object.keys(saved.drives).join(', ')}`;
  if (saved.vsockUds !== body('/vsock').uds_path)
    return `its vsock socket is ${saved.vsockUds}, this VM's ${String(body('/vsock').uds_path)}`;
  return null;
}
