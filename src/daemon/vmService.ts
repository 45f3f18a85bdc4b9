import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { Config } from '../config/index.js';
import { ensureClientKey, generateHostKey, hostAlias, pinHostKey, renderBangerSshConfig, sshShellArgv, unpinHostKey, waitForTcp, type SshTarget } from '../guest/index.js';
import { allocateGuestIp, macForVm, tapNameForVm } from '../hostnat/index.js';
import type { Logger } from '../log/index.js';
import {
  BangerError, dnsNameOf, formatSize, resolveVmDefaults, specOf, vmNameProblem, vmSpecProblem, type Vm, type VmSpec,
} from '../model/index.js';
import { generateVmName, type RandomIndex } from '../namegen/index.js';
import { vmFiles, type Layout, type VmFiles } from '../paths/index.js';
import type { AllowedSignal, PrivilegedOps } from '../roothelper/index.js';
import type { Store } from '../store/index.js';
import { isProcessAlive, readLogTail, writeFileAtomic, writePidFile, type HostRunner } from '../system/index.js';
import { createRootOverlay, createWorkDisk, growWorkDisk, writeWorkDiskFiles } from '../vmdisk/index.js';
import type { VmmDriver } from '../vmm/index.js';
import { CleanupStack } from './cleanupStack.js';
import type { ImageService } from './imageService.js';
import { KeyedMutex } from './keyedMutex.js';

/** What a running VM's VMM left behind; mirrored into the store so cleanup survives a lost file. */
export interface VmHandles {
  pid: number;
  tap: string;
  vmm: string;
  startedAt: string;
}

export interface OpCtx {
  opId: string;
  signal?: AbortSignal;
  progress?: (stage: string, detail?: string) => void;
}

export interface CreateParams {
  name?: string | undefined;
  image?: string | undefined;
  vcpu?: number | undefined;
  memoryMib?: number | undefined;
  diskSizeBytes?: number | undefined;
  start: boolean;
}

export interface VmServiceDeps {
  store: Store;
  layout: Layout;
  config: Config;
  runner: HostRunner;
  privileged: PrivilegedOps;
  driver: VmmDriver;
  images: ImageService;
  log: Logger;
  /** Called once the bridge exists (the DNS server then listens on the bridge address). */
  onBridgeReady?: () => Promise<void>;
}

/** How long a booting guest may take to answer on port 22 (TCG guests need ~10 s alone). */
const READY_TIMEOUT_MS = 180_000;
/** How long a graceful stop may take before the hard stop. */
const GRACEFUL_STOP_MS = 20_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class VmService {
  private readonly locks = new KeyedMutex();

  constructor(private readonly d: VmServiceDeps) {}

  private get store(): Store { return this.d.store; }

  list(): Vm[] {
    return this.store.vms.list();
  }

  /** A generated adjective-noun name that no VM in the store has. */
  freshName(random?: RandomIndex): string {
    return generateVmName((n) => this.store.vms.nameExists(n), random);
  }

  show(ref: string): Vm {
    const vm = this.store.vms.find(ref);
    if (!vm) throw new BangerError('not_found', `no VM named "${ref}"`, { hint: 'see `banger vm list` for the VMs that exist' });
    return vm;
  }

  files(vm: Pick<Vm, 'id'>): VmFiles {
    return vmFiles(this.d.layout, vm.id);
  }

  handles(vm: Vm): VmHandles | null {
    try {
      return JSON.parse(readFileSync(this.files(vm).handles, 'utf8')) as VmHandles;
    } catch {
      return this.store.vms.handles(vm.id) as VmHandles | null;
    }
  }

  /** Validates everything a create needs before anything is made, so bad input leaves no trace. */
  resolveCreate(p: CreateParams): { name: string; spec: VmSpec; imageName: string } {
    if (p.name !== undefined) {
      const problem = vmNameProblem(p.name);
      if (problem) throw new BangerError('bad_request', problem, { hint: 'names are DNS labels: 1-63 of a-z, 0-9 and -, not starting or ending with -' });
      if (this.store.vms.nameExists(p.name)) throw new BangerError('already_exists', `a VM named "${p.name}" already exists`, { hint: `pick another --name, or delete it with \`banger vm delete ${p.name}\`` });
    }
    const defaults = specOf(resolveVmDefaults(this.d.config.vm_defaults, { cpus: availableParallelism(), memoryBytes: totalmem() }));
    const spec: VmSpec = {
      vcpu: p.vcpu ?? defaults.vcpu,
      memoryMib: p.memoryMib ?? defaults.memoryMib,
      diskSizeBytes: p.diskSizeBytes ?? defaults.diskSizeBytes,
      systemOverlaySizeBytes: defaults.systemOverlaySizeBytes,
    };
    const problem = vmSpecProblem(spec);
    if (problem) throw new BangerError('bad_request', problem, { hint: 'see `banger vm create --help`' });
    return { name: p.name ?? this.freshName(), spec, imageName: p.image ?? this.d.config.default_image_name };
  }

  async create(p: CreateParams, ctx: OpCtx): Promise<Vm> {
    const { name, spec, imageName } = this.resolveCreate(p);
    ctx.progress?.('spec', `${spec.vcpu} vcpu | ${spec.memoryMib} MiB | ${formatSize(spec.diskSizeBytes)} disk`);
    const image = await this.d.images.ensure(imageName, ctx.progress, ctx.signal);
    const vm = await this.locks.run(`name:${name}`, async () => {
      if (this.store.vms.nameExists(name)) throw new BangerError('already_exists', `a VM named "${name}" already exists`);
      ctx.progress?.('preparing', 'disks and keys');
      let id: string;
      do { id = randomBytes(4).toString('hex'); } while (this.store.vms.idExists(id));
      const files = vmFiles(this.d.layout, id);
      const now = new Date().toISOString();
      const guestIp = allocateGuestIp(this.d.config.bridge_ip, this.d.config.cidr, this.store.vms.usedIps());
      const record: Vm = {
        id, name, state: 'created', imageId: image.id, imageName: image.name, spec, guestIp, mac: macForVm(id), vmDir: files.dir,
        dnsName: dnsNameOf(name), vmm: this.d.driver.kind, nat: false, workspace: null, createdAt: now, touchedAt: now, lastError: null,
      };
      const undo = new CleanupStack();
      try {
        mkdirSync(files.dir, { recursive: true, mode: 0o700 });
        undo.push('remove VM directory', () => rmSync(files.dir, { recursive: true, force: true }));
        // The address is reserved by inserting the row first; disks follow.
        this.store.vms.insert(record);
        undo.push('remove VM record', () => this.store.vms.remove(id));
        const overlayMode = this.d.config.rootfs_overlay === 'copy' ? 'copy' : 'qcow2';
        await createRootOverlay(this.d.runner, image.rootfsPath, files.rootfsOverlay, spec.systemOverlaySizeBytes, overlayMode);
        await createWorkDisk(this.d.runner, image.workSeedPath, files.workDisk, spec.diskSizeBytes);
        const clientKey = await ensureClientKey(this.d.runner, this.d.config.ssh_key_path);
        const hostKeyPath = `${files.dir}/ssh_host_ed25519_key`;
        const hostPub = await generateHostKey(this.d.runner, hostKeyPath, `banger-${name}`);
        await writeWorkDiskFiles(this.d.runner, files.workDisk, [
          { path: '/.ssh/authorized_keys', content: `${clientKey}\n`, mode: 0o600 },
          { path: '/.banger-hostkey/ssh_host_ed25519_key', content: readFileSync(hostKeyPath, 'utf8'), mode: 0o600 },
          { path: '/.banger-hostkey/ssh_host_ed25519_key.pub', content: `${hostPub}\n`, mode: 0o644 },
        ]);
        rmSync(hostKeyPath, { force: true }); // the private half lives only in the guest now
        pinHostKey(this.d.layout.knownHosts, hostAlias(name), hostPub);
        undo.push('unpin host key', () => unpinHostKey(this.d.layout.knownHosts, hostAlias(name)));
        undo.commit();
        this.refreshSshConfig();
        return record;
      } catch (e) {
        const errors = await undo.unwind();
        if (errors.length) this.d.log.warn('cleanup after a failed create was incomplete', { op_id: ctx.opId, errors });
        throw e;
      }
    });
    if (p.start) await this.start(vm.id, ctx);
    return this.show(vm.id);
  }

  async start(ref: string, ctx: OpCtx): Promise<Vm> {
    const vm0 = this.show(ref);
    return this.locks.run(vm0.id, async () => {
      const vm = this.show(vm0.id);
      if (vm.state === 'running' && this.isAlive(vm)) throw new BangerError('conflict', `VM ${vm.name} is already running`);
      const image = this.d.images.show(vm.imageName ?? '');
      const kernel = this.d.images.kernelOf(image);
      const files = this.files(vm);
      const tap = tapNameForVm(vm.id);
      const undo = new CleanupStack();
      const started = performance.now();
      try {
        ctx.progress?.('network', `${this.d.config.bridge_name} and ${tap}`);
        await this.d.privileged.ensureBridge({ name: this.d.config.bridge_name, address: this.d.config.bridge_ip, prefix: this.d.config.cidr }, ctx);
        await this.d.onBridgeReady?.();
        await this.d.privileged.createTap({ name: tap, bridge: this.d.config.bridge_name, ownerUid: process.getuid!(), ownerGid: process.getgid!() }, ctx);
        undo.push('delete tap', () => this.d.privileged.deleteTap({ name: tap }, ctx));
        ctx.progress?.('booting', `${vm.spec.vcpu} vcpu, ${vm.spec.memoryMib} MiB`);
        const vmm = await this.d.driver.start({
          vmId: vm.id, hostname: vm.name, vcpu: vm.spec.vcpu, memoryMib: vm.spec.memoryMib, kernelPath: kernel.kernelPath, initrdPath: kernel.initrdPath,
          rootDisk: { path: files.rootfsOverlay, format: this.d.config.rootfs_overlay === 'copy' ? 'raw' : 'qcow2' }, workDisk: files.workDisk,
          network: { tap, mac: vm.mac!, addressCidr: `${vm.guestIp}/${this.d.config.cidr}`, gateway: this.d.config.bridge_ip, dns: this.d.config.default_dns ?? this.d.config.bridge_ip },
          files,
        }, ctx.signal);
        undo.push('stop VMM', () => this.d.driver.hardStop(vmm.pid, files));
        const handles: VmHandles = { pid: vmm.pid, tap, vmm: vmm.detail, startedAt: new Date().toISOString() };
        writePidFile(files.pidFile, vmm.pid);
        writeFileAtomic(files.handles, `${JSON.stringify(handles)}\n`);
        this.store.vms.setRuntime(vm.id, 'running', handles);
        ctx.progress?.('waiting for ssh', `${vm.guestIp}:22`);
        try {
          await waitForTcp(vm.guestIp!, 22, READY_TIMEOUT_MS, ctx.signal, () => !this.d.driver.owns(vmm.pid, files));
        } catch (e) {
          if (!(e instanceof BangerError) || e.code === 'interrupted') throw e;
          const tail = readLogTail(files.consoleLog, 8);
          throw new BangerError(e.code, `VM ${vm.name}: ${e.message}`, { hint: tail ? `last console lines (all of them: \`banger vm logs ${vm.name}\`):\n${tail}` : `its console is empty; see ${files.vmmLog}` });
        }
        undo.commit();
        this.d.log.info('vm ready', { op_id: ctx.opId, vm: vm.name, ms: Math.round(performance.now() - started), vmm: vmm.detail });
        return this.show(vm.id);
      } catch (e) {
        const errors = await undo.unwind();
        this.store.vms.setRuntime(vm.id, 'error', null, (e as Error).message);
        rmSync(files.handles, { force: true });
        if (errors.length) this.d.log.warn('cleanup after a failed start was incomplete', { op_id: ctx.opId, errors });
        throw e;
      }
    });
  }


  /** The VM's handles if its VMM is alive and really its own (pid and command line), else null. */
  private liveHandles(vm: Vm): VmHandles | null {
    const h = this.handles(vm);
    return h && this.d.driver.owns(h.pid, this.files(vm)) ? h : null;
  }

  /** The live side of a VM for `vm show`: VMM pid, how it runs, and what the VMM says. */
  async runtime(vm: Vm): Promise<{ pid: number; vmm: string; status: string; startedAt: string } | null> {
    const h = this.liveHandles(vm);
    return h ? { pid: h.pid, vmm: h.vmm, status: await this.d.driver.status(h.pid, this.files(vm)), startedAt: h.startedAt } : null;
  }

  isAlive(vm: Vm): boolean {
    return this.liveHandles(vm) !== null;
  }

  /** Releases what a stopped VMM held: tap and handle files; the VM becomes stopped. The disks stay. */
  private async released(vm: Vm, ctx: OpCtx): Promise<void> {
    const h = this.handles(vm);
    await this.d.privileged.deleteTap({ name: h?.tap ?? tapNameForVm(vm.id) }, ctx).catch((e: Error) => this.d.log.warn('could not delete tap', { op_id: ctx.opId, error: e.message }));
    rmSync(this.files(vm).handles, { force: true });
    rmSync(this.files(vm).runtimeDir, { recursive: true, force: true });
    this.store.vms.setRuntime(vm.id, 'stopped', null);
  }

  /**
   * For stop and kill: the live handles, or, when the VMM is already gone, the record
   * released (if it still said running) and null; a VM that was not running is an error.
   */
  private async liveOrReleased(vm: Vm, ctx: OpCtx): Promise<VmHandles | null> {
    const h = this.liveHandles(vm);
    if (h) return h;
    if (vm.state !== 'running') throw new BangerError('not_running', `VM ${vm.name} is not running`, { hint: `start it with \`banger vm start ${vm.name}\`` });
    await this.released(vm, ctx);
    return null;
  }

  async stop(ref: string, ctx: OpCtx): Promise<Vm> {
    const vm0 = this.show(ref);
    return this.locks.run(vm0.id, async () => {
      const vm = this.show(vm0.id);
      const h = await this.liveOrReleased(vm, ctx);
      if (!h) return this.show(vm.id);
      ctx.progress?.('stopping', 'asking the guest to power off');
      await this.d.runner.run(sshShellArgv(this.sshTarget(vm), 'sync; systemctl poweroff --no-block || poweroff'), { timeoutMs: 10_000, allowFailure: true }).catch(() => undefined);
      const deadline = Date.now() + GRACEFUL_STOP_MS;
      while (Date.now() < deadline && isProcessAlive(h.pid)) await sleep(100);
      if (isProcessAlive(h.pid)) {
        ctx.progress?.('stopping', 'the guest did not power off in time: hard stop');
        await this.d.driver.hardStop(h.pid, this.files(vm));
      }
      await this.released(vm, ctx);
      return this.show(vm.id);
    });
  }

  async kill(ref: string, signal: AllowedSignal, ctx: OpCtx): Promise<Vm> {
    const vm0 = this.show(ref);
    return this.locks.run(vm0.id, async () => {
      const vm = this.show(vm0.id);
      const h = await this.liveOrReleased(vm, ctx);
      if (!h) return this.show(vm.id);
      try {
        process.kill(h.pid, `SIG${signal}`);
      } catch (e) {
        // A VMM running as another user (the jailer's) is signalled through the root helper.
        if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
        await this.d.privileged.signalProcess({ pid: h.pid, signal }, ctx);
      }
      for (let i = 0; i < 100 && isProcessAlive(h.pid); i++) await sleep(50);
      if (isProcessAlive(h.pid)) throw new BangerError('operation_failed', `VM ${vm.name} is still running after SIG${signal}`, { hint: `use \`banger vm kill --signal KILL ${vm.name}\`` });
      await this.released(vm, ctx);
      return this.show(vm.id);
    });
  }

  /**
   * Changes the resources of a stopped VM (SPEC 3 `vm set`): vcpu and memory freely
   * within limits, the work disk only upwards (grown in place with resize2fs).
   */
  async set(ref: string, p: { vcpu?: number | undefined; memoryMib?: number | undefined; diskSizeBytes?: number | undefined }, ctx: OpCtx): Promise<Vm> {
    const vm0 = this.show(ref);
    return this.locks.run(vm0.id, async () => {
      const vm = this.show(vm0.id);
      if (p.vcpu === undefined && p.memoryMib === undefined && p.diskSizeBytes === undefined) {
        throw new BangerError('bad_request', 'nothing to change', { hint: 'give --vcpu, --memory or --disk-size' });
      }
      if (this.isAlive(vm)) throw new BangerError('conflict', `VM ${vm.name} is running; resources change only while it is stopped`, { hint: `stop it first: \`banger vm stop ${vm.name}\`` });
      const spec: VmSpec = { ...vm.spec, ...(p.vcpu !== undefined && { vcpu: p.vcpu }), ...(p.memoryMib !== undefined && { memoryMib: p.memoryMib }), ...(p.diskSizeBytes !== undefined && { diskSizeBytes: p.diskSizeBytes }) };
      const problem = vmSpecProblem(spec);
      if (problem) throw new BangerError('bad_request', problem);
      if (spec.diskSizeBytes < vm.spec.diskSizeBytes) {
        throw new BangerError('bad_request', `the work disk can only grow (it is ${formatSize(vm.spec.diskSizeBytes)}, asked for ${formatSize(spec.diskSizeBytes)})`, { hint: 'shrinking would lose data in /root; create a new VM instead' });
      }
      if (spec.diskSizeBytes > vm.spec.diskSizeBytes) {
        ctx.progress?.('resizing', `work disk to ${formatSize(spec.diskSizeBytes)}`);
        await growWorkDisk(this.d.runner, this.files(vm).workDisk, spec.diskSizeBytes);
      }
      this.store.vms.setSpec(vm.id, spec);
      return this.show(vm.id);
    });
  }

  async restart(ref: string, ctx: OpCtx): Promise<Vm> {
    const vm = this.show(ref);
    if (vm.state === 'running') await this.stop(vm.id, ctx);
    return this.start(vm.id, ctx);
  }

  async delete(ref: string, ctx: OpCtx): Promise<void> {
    const vm0 = this.show(ref);
    await this.locks.run(vm0.id, async () => {
      const vm = this.show(vm0.id);
      const h = this.liveHandles(vm);
      if (h) {
        ctx.progress?.('stopping', vm.name);
        await this.d.driver.hardStop(h.pid, this.files(vm));
      }
      await this.released(vm, ctx);
      rmSync(this.files(vm).dir, { recursive: true, force: true });
      unpinHostKey(this.d.layout.knownHosts, hostAlias(vm.name));
      this.store.vms.remove(vm.id);
      this.refreshSshConfig();
    });
  }

  /** Deletes every VM that is not running; returns their names. */
  async prune(ctx: OpCtx): Promise<string[]> {
    const victims = this.list().filter((v) => !(v.state === 'running' && this.isAlive(v)));
    for (const v of victims) await this.delete(v.id, ctx);
    return victims.map((v) => v.name);
  }

  /** Rewrites banger's ssh config (atomically) so `ssh NAME.vm` reaches every VM. */
  refreshSshConfig(): void {
    mkdirSync(dirname(this.d.layout.sshConfigFile), { recursive: true, mode: 0o700 }); // it holds the private key too
    const text = renderBangerSshConfig(this.list().map((v) => ({ name: v.name, ip: v.guestIp })), this.d.config.ssh_key_path, this.d.layout.knownHosts);
    writeFileAtomic(this.d.layout.sshConfigFile, text);
  }

  sshTarget(vm: Vm): SshTarget {
    if (!vm.guestIp) throw new BangerError('operation_failed', `VM ${vm.name} has no address`);
    return { ip: vm.guestIp, alias: hostAlias(vm.name), keyPath: this.d.config.ssh_key_path, knownHosts: this.d.layout.knownHosts };
  }

  /** Bytes of the console log from `offset` (for `vm logs` and `vm logs -f`). */
  logs(ref: string, offset: number, maxBytes = 1 << 20): { text: string; offset: number; vmmLog: string } {
    const vm = this.show(ref);
    const files = this.files(vm);
    let text = '';
    let next = offset;
    if (existsSync(files.consoleLog)) {
      const size = statSync(files.consoleLog).size;
      const start = offset > size ? 0 : Math.max(offset, size - maxBytes);
      const len = size - start;
      if (len > 0) {
        const buf = Buffer.alloc(len);
        const fd = openSync(files.consoleLog, 'r');
        try { readSync(fd, buf, 0, len, start); } finally { closeSync(fd); }
        text = buf.toString('utf8');
      }
      next = size;
    }
    return { text, offset: next, vmmLog: files.vmmLog };
  }

  /**
   * Reconcile on daemon start (SPEC 5): each VM recorded as running is adopted when its
   * VMM is alive (pid and command line check), else marked stopped with its tap released.
   */
  async reconcile(ctx: OpCtx): Promise<{ adopted: string[]; stopped: string[] }> {
    const adopted: string[] = [];
    const stopped: string[] = [];
    for (const vm of this.list().filter((v) => v.state === 'running')) {
      if (this.isAlive(vm)) adopted.push(vm.name);
      else {
        await this.released(vm, ctx);
        stopped.push(vm.name);
      }
    }
    this.refreshSshConfig();
    return { adopted, stopped };
  }
}
