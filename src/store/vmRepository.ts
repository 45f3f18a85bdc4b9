import type { Vm, VmState, Workspace } from '../model/index.js';
import type { Db } from './database.js';

/** Row <-> record mapping for VMs (images and kernels: repositories.ts). */

interface VmRow {
  id: string;
  name: string;
  state: VmState;
  image_id: string | null;
  image_name: string | null;
  vcpu: number;
  memory_mib: number;
  disk_size_bytes: number;
  system_overlay_size_bytes: number;
  guest_ip: string | null;
  mac: string | null;
  vm_dir: string;
  dns_name: string;
  vmm: Vm['vmm'];
  root_overlay: Vm['rootOverlay'];
  nat: number;
  workspace_json: string | null;
  created_at: string;
  touched_at: string;
  last_error: string | null;
  suspended: Vm['suspended'];
  template_key: string | null;
}

function vmFromRow(r: VmRow): Vm {
  return {
    id: r.id,
    name: r.name,
    state: r.state,
    imageId: r.image_id,
    imageName: r.image_name,
    spec: {
      vcpu: r.vcpu,
      memoryMib: r.memory_mib,
      diskSizeBytes: r.disk_size_bytes,
      systemOverlaySizeBytes: r.system_overlay_size_bytes,
    },
    guestIp: r.guest_ip,
    mac: r.mac,
    vmDir: r.vm_dir,
    dnsName: r.dns_name,
    vmm: r.vmm,
    rootOverlay: r.root_overlay,
    nat: r.nat !== 0,
    workspace: r.workspace_json ? (JSON.parse(r.workspace_json) as Workspace) : null,
    createdAt: r.created_at,
    touchedAt: r.touched_at,
    lastError: r.last_error,
    suspended: r.suspended ?? null,
    templateKey: r.template_key ?? null,
  };
}

const VM_SELECT = 'SELECT v.*, i.name AS image_name FROM vms v LEFT JOIN images i ON i.id = v.image_id';

export class VmRepository {
  private runningIndex: Map<string, string> | null = null;

  constructor(private readonly db: Db) {}

  list(): Vm[] {
    return (this.db.prepare(`${VM_SELECT} ORDER BY v.created_at, v.name`).all() as unknown as VmRow[]).map(vmFromRow);
  }

  /** Finds by exact name, else by id, else by a unique id prefix (>= 4 characters). */
  find(ref: string): Vm | undefined {
    const exact = this.db.prepare(`${VM_SELECT} WHERE v.name = ? OR v.id = ?`).get(ref, ref) as unknown as
      | VmRow
      | undefined;
    if (exact) return vmFromRow(exact);
    if (ref.length < 4 || !/^[0-9a-f]+$/.test(ref)) return undefined;
    const rows = this.db.prepare(`${VM_SELECT} WHERE v.id LIKE ? || '%'`).all(ref) as unknown as VmRow[];
    return rows.length === 1 ? vmFromRow(rows[0]!) : undefined;
  }

  /**
   * Address of the running VM called exactly `name`: the DNS hot path, answered from an
   * in-memory index of running VMs. The index is dropped by every write that can change a
   * VM's name, state or address (insert, setRuntime, setState, remove) and rebuilt by the
   * next lookup; the daemon is the only writer.
   */
  runningIpByName(name: string): string | null {
    if (!this.runningIndex) {
      const rows = this.db
        .prepare("SELECT name, guest_ip FROM vms WHERE state = 'running' AND guest_ip IS NOT NULL")
        .all() as unknown as Array<{ name: string; guest_ip: string }>;
      this.runningIndex = new Map(rows.map((r) => [r.name, r.guest_ip]));
    }
    return this.runningIndex.get(name) ?? null;
  }

  nameExists(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM vms WHERE name = ?').get(name) !== undefined;
  }

  insert(vm: Vm): void {
    this.runningIndex = null;
    this.db
      .prepare(`INSERT INTO vms (id, name, state, image_id, vcpu, memory_mib, disk_size_bytes, system_overlay_size_bytes,
      guest_ip, mac, vm_dir, dns_name, vmm, root_overlay, nat, workspace_json, created_at, touched_at, last_error,
      suspended, template_key)
      VALUES (@id, @name, @state, @imageId, @vcpu, @memoryMib, @diskSizeBytes, @systemOverlaySizeBytes,
      @guestIp, @mac, @vmDir, @dnsName, @vmm, @rootOverlay, @nat, @workspace, @createdAt, @touchedAt, @lastError,
      @suspended, @templateKey)`)
      .run({
        id: vm.id,
        name: vm.name,
        state: vm.state,
        imageId: vm.imageId,
        ...vm.spec,
        guestIp: vm.guestIp,
        mac: vm.mac,
        vmDir: vm.vmDir,
        dnsName: vm.dnsName,
        vmm: vm.vmm,
        rootOverlay: vm.rootOverlay,
        nat: vm.nat ? 1 : 0,
        workspace: vm.workspace ? JSON.stringify(vm.workspace) : null,
        createdAt: vm.createdAt,
        touchedAt: vm.touchedAt,
        lastError: vm.lastError,
        suspended: vm.suspended,
        templateKey: vm.templateKey,
      });
  }

  /** Addresses held by any VM (kept across stop/start, released on delete). */
  usedIps(): Set<string> {
    return new Set(
      (
        this.db.prepare('SELECT guest_ip FROM vms WHERE guest_ip IS NOT NULL').all() as unknown as Array<{
          guest_ip: string;
        }>
      ).map((r) => r.guest_ip),
    );
  }

  /**
   * State plus the mirror of handles.json (VMM pid, tap), so cleanup works if the file is lost.
   * `suspended` goes with it: a running VM is paused, or a stopped one has a saved memory state.
   */
  setRuntime(
    id: string,
    state: VmState,
    handles: unknown,
    lastError: string | null = null,
    suspended: Vm['suspended'] = null,
  ): void {
    this.runningIndex = null;
    this.db
      .prepare('UPDATE vms SET state = ?, handles_json = ?, last_error = ?, suspended = ?, touched_at = ? WHERE id = ?')
      .run(
        state,
        handles === null ? null : JSON.stringify(handles),
        lastError,
        suspended,
        new Date().toISOString(),
        id,
      );
  }

  /** Pause or resume a running VM's record (its VMM and handles unchanged). */
  setSuspended(id: string, suspended: Vm['suspended']): void {
    this.db
      .prepare('UPDATE vms SET suspended = ?, touched_at = ? WHERE id = ?')
      .run(suspended, new Date().toISOString(), id);
  }

  /** The warm template a VM was made from (null once its disks were made again cold). */
  setTemplateKey(id: string, key: string | null): void {
    this.db.prepare('UPDATE vms SET template_key = ? WHERE id = ?').run(key, id);
  }

  /** How many VMs were made from each template (`image show`). */
  templateUsers(): Map<string, number> {
    const rows = this.db
      .prepare('SELECT template_key, COUNT(*) AS n FROM vms WHERE template_key IS NOT NULL GROUP BY template_key')
      .all() as unknown as Array<{ template_key: string; n: number }>;
    return new Map(rows.map((r) => [r.template_key, r.n]));
  }

  handles(id: string): unknown {
    const r = this.db.prepare('SELECT handles_json FROM vms WHERE id = ?').get(id) as
      | { handles_json: string | null }
      | undefined;
    return r?.handles_json ? JSON.parse(r.handles_json) : null;
  }

  setSpec(id: string, spec: Vm['spec']): void {
    this.db
      .prepare('UPDATE vms SET vcpu = ?, memory_mib = ?, disk_size_bytes = ?, touched_at = ? WHERE id = ?')
      .run(spec.vcpu, spec.memoryMib, spec.diskSizeBytes, new Date().toISOString(), id);
  }

  setWorkspace(id: string, workspace: Vm['workspace']): void {
    this.db
      .prepare('UPDATE vms SET workspace_json = ?, touched_at = ? WHERE id = ?')
      .run(workspace ? JSON.stringify(workspace) : null, new Date().toISOString(), id);
  }

  setNat(id: string, nat: boolean): void {
    this.db
      .prepare('UPDATE vms SET nat = ?, touched_at = ? WHERE id = ?')
      .run(nat ? 1 : 0, new Date().toISOString(), id);
  }

  /** Records a use of the VM (ssh, exec, workspace, start, a connection into the guest): its touched_at is now. */
  touch(id: string, at: Date = new Date()): void {
    this.db.prepare('UPDATE vms SET touched_at = ? WHERE id = ?').run(at.toISOString(), id);
  }

  idExists(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM vms WHERE id = ?').get(id) !== undefined;
  }

  usesImage(imageId: string): string[] {
    return (this.db.prepare('SELECT name FROM vms WHERE image_id = ?').all(imageId) as Array<{ name: string }>).map(
      (r) => r.name,
    );
  }

  setState(id: string, state: VmState, lastError: string | null = null): void {
    this.runningIndex = null;
    this.db
      .prepare('UPDATE vms SET state = ?, last_error = ?, touched_at = ? WHERE id = ?')
      .run(state, lastError, new Date().toISOString(), id);
  }

  remove(id: string): void {
    this.runningIndex = null;
    this.db.prepare('DELETE FROM vms WHERE id = ?').run(id);
  }
}
