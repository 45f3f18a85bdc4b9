/**
 * The snapshot half of the Firecracker API double (firecrackerApi.ts), following the v1.14.1
 * definition and Firecracker's docs/snapshotting/snapshot-support.md:
 * - `PATCH /vm` (Paused / Resumed) only after boot;
 * - `PUT /snapshot/create` only after boot and only while Paused; it writes the state file
 *   (JSON of the VM's configuration, Firecracker's own being binary) and a memory file that
 *   names the same snapshot;
 * - `PUT /snapshot/load` only on a fresh VMM with nothing configured but the logger and
 *   metrics, with exactly one of `mem_file_path` / `mem_backend`; a missing, corrupt or
 *   mismatched file, a drive file that cannot be opened, a vsock path that is taken, or a
 *   network override naming no interface of the snapshot is a 400. After a load the VMM
 *   holds the saved configuration (the tap overridden), is Paused unless `resume_vm`, and
 *   refuses configuration and InstanceStart as after a boot.
 * Firecracker's wording is followed where known; the rest says the same in other words.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export type FcState = 'Not started' | 'Running' | 'Paused';

export interface SnapshotSubject {
  state: FcState;
  readonly config: Record<string, unknown>;
}

const STATE_MAGIC = 'fake-firecracker-vmstate/1';
const MEM_MAGIC = 'fake-firecracker-mem/1';
const BEFORE_BOOT = 'The requested operation is not supported before starting the microVM.';
const AFTER_BOOT = 'The requested operation is not supported after starting the microVM.';
/** What a load leaves out of the configuration: the logger and metrics are the new process's own. */
const NOT_SAVED = new Set(['/logger', '/metrics', '/boot-source']);

type Body = Record<string, unknown>;

/** PATCH /vm. Returns a fault message, or null on success. */
export function patchVm(fc: SnapshotSubject, body: Body): string | null {
  if (fc.state === 'Not started') return BEFORE_BOOT;
  fc.state = body.state === 'Paused' ? 'Paused' : 'Running';
  return null;
}

/** PUT /snapshot/create: files named in Firecracker's view, written through `hostPath`. */
export function createSnapshot(fc: SnapshotSubject, body: Body, hostPath: (p: string) => string): string | null {
  if (fc.state === 'Not started') return BEFORE_BOOT;
  if (fc.state !== 'Paused')
    return 'Create snapshot error: Cannot save the microVM state: the microVM must be paused first (PATCH /vm Paused).';
  if (body.snapshot_type === 'Diff')
    return 'Create snapshot error: Diff snapshots are not enabled (track_dirty_pages is off).';
  const id = randomUUID();
  const saved = Object.fromEntries(Object.entries(fc.config).filter(([k]) => !NOT_SAVED.has(k)));
  const mem = (fc.config['/machine-config'] as { mem_size_mib?: number } | undefined)?.mem_size_mib ?? 128;
  try {
    writeFileSync(hostPath(String(body.snapshot_path)), JSON.stringify({ magic: STATE_MAGIC, id, config: saved }));
    writeFileSync(hostPath(String(body.mem_file_path)), JSON.stringify({ magic: MEM_MAGIC, id, mem_size_mib: mem }));
  } catch (e) {
    return `Create snapshot error: Cannot create snapshot file: ${(e as Error).message}`;
  }
  return null;
}

function readJson(path: string, magic: string, what: string): Body | string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return `Failed to open ${what} ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory (os error 2)' : (e as Error).message}`;
  }
  try {
    const v = JSON.parse(text) as Body;
    if (v.magic === magic) return v;
  } catch {
    /* below */
  }
  return `Failed to read ${what} ${path}: invalid data (a CRC or format check failed)`;
}

/** The loaded configuration, or why the load fails (without the "Load snapshot error" prefix). */
function loadedConfig(body: Body, hostPath: (p: string) => string): Body | string {
  const state = readJson(hostPath(String(body.snapshot_path)), STATE_MAGIC, 'the snapshot file');
  if (typeof state === 'string') return state;
  const memPath = String(body.mem_file_path ?? (body.mem_backend as Body).backend_path);
  const mem = readJson(hostPath(memPath), MEM_MAGIC, 'the memory file');
  if (typeof mem === 'string') return mem;
  if (mem.id !== state.id) return `Failed to load guest memory: ${memPath} is not the memory of this snapshot`;
  const config = structuredClone(state.config) as Body;
  const ifaces = (config['/network-interfaces/{iface_id}'] ?? {}) as Record<string, Body>;
  for (const o of (body.network_overrides ?? []) as Array<{ iface_id: string; host_dev_name: string }>) {
    if (!ifaces[o.iface_id]) return `Invalid network override: the snapshot has no interface ${o.iface_id}`;
    ifaces[o.iface_id] = { ...ifaces[o.iface_id], host_dev_name: o.host_dev_name };
    config[`/network-interfaces/${o.iface_id}`] = ifaces[o.iface_id];
  }
  for (const d of Object.values((config['/drives/{drive_id}'] ?? {}) as Record<string, Body>)) {
    if (!existsSync(hostPath(String(d.path_on_host))))
      return `Unable to open the block device backing file ${String(d.path_on_host)}: No such file or directory (os error 2)`;
  }
  const uds = (config['/vsock'] as Body | undefined)?.uds_path;
  if (typeof uds === 'string' && existsSync(hostPath(uds)))
    return `Cannot create the vsock backend: ${uds}: Address in use (os error 98)`;
  return config;
}

/** PUT /snapshot/load. On success the subject holds the saved configuration; `onLoaded` runs (the guest is there). */
export function loadSnapshot(
  fc: SnapshotSubject,
  body: Body,
  hostPath: (p: string) => string,
  onLoaded: () => void,
): string | null {
  if (fc.state !== 'Not started') return AFTER_BOOT;
  if (Object.keys(fc.config).some((k) => k !== '/logger' && k !== '/metrics'))
    return 'Loading a microVM snapshot not allowed after configuring boot-specific resources.';
  const hasFile = body.mem_file_path !== undefined;
  const hasBackend = body.mem_backend !== undefined;
  if (hasFile && hasBackend) return 'too many fields: either `mem_backend` or `mem_file_path` exclusively is required.';
  if (!hasFile && !hasBackend) return 'missing field: either `mem_backend` or `mem_file_path` is required.';
  if (hasBackend && (body.mem_backend as Body).backend_type !== 'File')
    return 'Load snapshot error: the double serves File memory backends only (no UFFD handler here).';
  const config = loadedConfig(body, hostPath);
  if (typeof config === 'string') return `Load snapshot error: Failed to restore from snapshot: ${config}`;
  Object.assign(fc.config, config);
  fc.state = body.resume_vm === true ? 'Running' : 'Paused';
  onLoaded();
  return null;
}

/** GET /vm/config (FullVmConfiguration); after a load, without boot-source (as the definition says). */
export function fullVmConfig(config: Record<string, unknown>): Body {
  const list = (k: string) => Object.values((config[k] ?? {}) as Record<string, unknown>);
  return {
    ...(config['/boot-source'] !== undefined && { 'boot-source': config['/boot-source'] }),
    ...(config['/machine-config'] !== undefined && { 'machine-config': config['/machine-config'] }),
    drives: list('/drives/{drive_id}'),
    'network-interfaces': list('/network-interfaces/{iface_id}'),
    ...(config['/vsock'] !== undefined && { vsock: config['/vsock'] }),
    ...(config['/logger'] !== undefined && { logger: config['/logger'] }),
    ...(config['/metrics'] !== undefined && { metrics: config['/metrics'] }),
  };
}
