import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { waitForAgent, withAgent, type AgentHealth, type AgentListener } from '../agent/index.js';
import type { Config } from '../config/index.js';
import { ensureClientKey, generateHostKey, hostAlias, pinHostKey, probeTcp, renderBangerSshConfig, sshShellArgv, unpinHostKey, waitForTcp, type SshTarget } from '../guest/index.js';
import { allocateGuestIp, macForVm, tapNameForVm } from '../hostnat/index.js';
import type { Logger } from '../log/index.js';
import {
  BangerError, dnsNameOf, formatSize, resolveVmDefaults, specOf, vmNameProblem, vmSpecProblem, type RootOverlay, type Vm, type VmmKind, type VmSpec,
} from '../model/index.js';
import { generateVmName, type RandomIndex } from '../namegen/index.js';
import { vmFiles, type Layout, type VmFiles } from '../paths/index.js';
import type { AllowedSignal, PrivilegedOps } from '../privops/index.js';
import type { Store } from '../store/index.js';
import { isProcessAlive, readLogTail, writeFileAtomic, writePidFile, type HostRunner } from '../system/index.js';
import { createRootOverlay, createWorkDisk, growWorkDisk, writeWorkDiskFiles } from '../vmdisk/index.js';
import { planFileSync, readFileSyncItems, renderGitConfig } from '../workspace/index.js';
import { chooseRootOverlay, selectVmm, type VmmDriver, type VmmSetting } from '../vmm/index.js';
import { dmSnapshotCowArgv } from '../vmdisk/index.js';
import { findKernelEntry } from '../kernelcat/index.js';
import { CleanupStack } from './cleanupStack.js';
import { PinnedNetworkCheck } from './pinnedNetwork.js';
import type { ImageService } from './imageService.js';
import { KeyedMutex } from './keyedMutex.js';
import type { NatController } from './natController.js';
import type { TapPool } from './tapPool.js';
import type { WorkspaceRequest, WorkspaceService } from './workspaceService.js';

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
  nat?: boolean | undefined;
  /** Back-end: auto (the config's `vmm` when omitted), firecracker or qemu. */
  vmm?: VmmSetting | undefined;
  /** `vm run PATH`: a repository to copy in once the VM is ready. */
  workspace?: WorkspaceRequest | undefined;
  start: boolean;
}

export interface HostVmmFacts {
  firecrackerBin: string | null;
  kvm: { usable: boolean; reason: string };
  deviceMapper: boolean;
}

export interface VmServiceDeps {
  store: Store;
  layout: Layout;
  config: Config;
  runner: HostRunner;
  privileged: PrivilegedOps;
  /** Every back-end; each VM uses the one its record names. */
  drivers: Record<VmmKind, VmmDriver>;
  /** What the host offers, read when a VM is created (selection of back-end and root disk). */
  hostFacts: () => HostVmmFacts;
  images: ImageService;
  nat: NatController;
  taps: TapPool;
  workspaces: WorkspaceService;
  log: Logger;
  /** Called once the bridge exists (the DNS server then listens on the bridge address). */
  onBridgeReady?: () => Promise<void>;
}

/** How long a booting guest may take to become ready (TCG guests need ~10 s alone). */
const READY_TIMEOUT_MS = 180_000;
/** How long a graceful stop may take before the hard stop. */
const GRACEFUL_STOP_MS = 20_000;
/** An image without the agent is used anyway once sshd has answered for this long. */
const NO_AGENT_GRACE_MS = 15_000;

/** One listener of `vm ports`, with the address a user would open. */
export interface VmPort extends AgentListener {
  vm: string;
  /** name.vm:port, or null for a listener on guest loopback only. */
  endpoint: string | null;
  url: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const notRunning = (vm: Vm) => new BangerError('not_running', `VM ${vm.name} is not running`, { hint: `start it with \`banger vm start ${vm.name}\`` });

export class VmService {
  private readonly locks = new KeyedMutex();

  private readonly pinnedNetwork: PinnedNetworkCheck;

  constructor(private readonly d: VmServiceDeps) {
    this.pinnedNetwork = new PinnedNetworkCheck(d.privileged, d.config);
  }

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

  /** The back-end the VM's record names. */
  driverOf(vm: Pick<Vm, 'vmm'>): VmmDriver {
    return this.d.drivers[vm.vmm];
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

  /**
   * The back-end and root-disk strategy for a new VM (SPEC 6): from the setting, the host's
   * facts and whether the kernel suits Firecracker; refused with the reason when an explicit
   * choice cannot work here.
   */
  chooseBackend(setting: VmmSetting, kernelName: string): { choice: ReturnType<typeof selectVmm>; rootOverlay: RootOverlay } {
    const host = this.d.hostFacts();
    const choice = selectVmm(setting, { firecrackerBin: host.firecrackerBin, kvm: host.kvm, kernel: { name: kernelName, firecracker: findKernelEntry(kernelName)?.firecracker ?? null } });
    return { choice, rootOverlay: chooseRootOverlay(this.d.config.rootfs_overlay, choice.kind, host.deviceMapper) };
  }

  /** The root disk the VMM opens, by the VM's strategy; a dm-snapshot is attached here (and detached by `released`). */
  private async rootDisk(vm: Vm, image: { rootfsPath: string }, ctx: OpCtx): Promise<{ path: string; format: 'qcow2' | 'raw' }> {
    const files = this.files(vm);
    if (vm.rootOverlay === 'qcow2') return { path: files.rootfsOverlay, format: 'qcow2' };
    if (vm.rootOverlay === 'copy') return { path: files.rootfsCopy, format: 'raw' };
    ctx.progress?.('root disk', 'device-mapper snapshot');
    const { device } = await this.d.privileged.attachRootSnapshot({ vmId: vm.id, image: image.rootfsPath }, ctx);
    return { path: device, format: 'raw' };
  }

  async create(p: CreateParams, ctx: OpCtx): Promise<Vm> {
    const { name, spec, imageName } = this.resolveCreate(p);
    // Everything that can refuse is checked before anything is made.
    if (p.nat) await this.d.nat.uplink();
    if (p.workspace && !p.start) throw new BangerError('bad_request', 'a workspace is copied into a running VM: it cannot be combined with --no-start');
    const workspace = p.workspace ? await this.d.workspaces.preflight(p.workspace, p.nat ?? false) : null;
    ctx.progress?.('spec', `${spec.vcpu} vcpu | ${spec.memoryMib} MiB | ${formatSize(spec.diskSizeBytes)} disk`);
    const image = await this.d.images.ensure(imageName, ctx.progress, ctx.signal);
    const { choice, rootOverlay } = this.chooseBackend(p.vmm ?? this.d.config.vmm, this.d.images.kernelOf(image).name);
    ctx.progress?.('vmm', `${choice.kind} (${choice.reason}), root disk ${rootOverlay}`);
    if (choice.warning) {
      ctx.progress?.('vmm', choice.warning);
      this.d.log.warn(choice.warning, { op_id: ctx.opId });
    }
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
        dnsName: dnsNameOf(name), vmm: choice.kind, rootOverlay, nat: p.nat ?? false, workspace: null, createdAt: now, touchedAt: now, lastError: null,
      };
      const undo = new CleanupStack();
      try {
        mkdirSync(files.dir, { recursive: true, mode: 0o700 });
        undo.push('remove VM directory', () => rmSync(files.dir, { recursive: true, force: true }));
        // The address is reserved by inserting the row first; disks follow.
        this.store.vms.insert(record);
        undo.push('remove VM record', () => this.store.vms.remove(id));
        if (rootOverlay === 'dm-snapshot') await this.d.runner.run(dmSnapshotCowArgv(files.rootfsCow, spec.systemOverlaySizeBytes));
        else await createRootOverlay(this.d.runner, image.rootfsPath, rootOverlay === 'copy' ? files.rootfsCopy : files.rootfsOverlay, spec.systemOverlaySizeBytes, rootOverlay);
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
    if (workspace) {
      const running = this.show(vm.id);
      await this.locks.run(vm.id, () => this.d.workspaces.copyIn(running, this.sshTarget(running), workspace, ctx));
    }
    return this.show(vm.id);
  }

  /** `vm workspace prepare`: copies the repository again (from `path`, or where it came from). */
  async prepareWorkspace(ref: string, o: { path?: string | undefined; includeUntracked: boolean }, ctx: OpCtx): Promise<{ vm: Vm; bytes: number; ms: number; files: number }> {
    const vm0 = this.show(ref);
    return this.locks.run(vm0.id, async () => {
      const vm = this.show(vm0.id);
      const path = o.path ?? this.d.workspaces.requireWorkspace(vm).hostPath;
      this.requireRunning(vm);
      const prepared = await this.d.workspaces.preflight({ path, includeUntracked: o.includeUntracked, noBootstrap: true }, vm.nat);
      const sent = await this.d.workspaces.copyIn(vm, this.sshTarget(vm), prepared, ctx);
      return { vm: this.show(vm.id), ...sent };
    });
  }

  async exportWorkspace(ref: string, baseCommit: string | undefined): Promise<{ patch: string; base: string }> {
    const vm = this.show(ref);
    this.d.workspaces.requireWorkspace(vm);
    this.requireRunning(vm);
    return this.d.workspaces.export(vm, this.sshTarget(vm), baseCommit);
  }

  /**
   * `[[file_sync]]` and the host's global git identity (/root/.gitconfig), written into the
   * stopped VM's work disk at every start. Missing host paths are warnings.
   */
  private async syncFiles(vm: Vm, ctx: OpCtx): Promise<void> {
    const plan = planFileSync(this.d.config.file_sync);
    for (const w of plan.warnings) {
      ctx.progress?.('file_sync', w);
      this.d.log.warn(w, { op_id: ctx.opId, vm: vm.name });
    }
    const files: Array<{ path: string; content: string | Buffer; mode: number }> = readFileSyncItems(plan);
    // One git call for both keys ("user.name Ada\nuser.email ada@…"; exit 1 when neither is set).
    const r = await this.d.runner.run(['git', 'config', '--global', '--get-regexp', '^user\\.(name|email)$'], { allowFailure: true }).catch(() => null);
    const identity = new Map((r?.stdout ?? '').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1).trim()]));
    const gitconfig = renderGitConfig({ name: identity.get('user.name') || null, email: identity.get('user.email') || null });
    if (gitconfig) files.push({ path: '/.gitconfig', content: gitconfig, mode: 0o644 });
    if (files.length === 0) return;
    ctx.progress?.('file_sync', `${files.length} file(s) into /root`);
    await writeWorkDiskFiles(this.d.runner, this.files(vm).workDisk, files);
  }

  async start(ref: string, ctx: OpCtx): Promise<Vm> {
    const vm0 = this.show(ref);
    return this.locks.run(vm0.id, async () => {
      const vm = this.show(vm0.id);
      if (vm.state === 'running' && this.isAlive(vm)) throw new BangerError('conflict', `VM ${vm.name} is already running`);
      const image = this.d.images.show(vm.imageName ?? '');
      const kernel = this.d.images.kernelOf(image);
      const files = this.files(vm);
      const undo = new CleanupStack();
      const started = performance.now();
      try {
        await this.pinnedNetwork.ensure(ctx);
        await this.d.privileged.ensureBridge({}, ctx);
        await this.d.onBridgeReady?.();
        const pooled = this.d.taps.take();
        if (pooled) void this.d.taps.refill(ctx); // the replacement is made while this VM boots
        const tap = pooled ?? tapNameForVm(vm.id);
        ctx.progress?.('network', `${this.d.config.bridge_name} and ${tap}${pooled ? ' (warm)' : ''}${vm.nat ? ', NAT' : ''}`);
        if (!pooled) await this.d.privileged.createTap({ name: tap }, ctx);
        undo.push('delete tap', () => this.d.privileged.deleteTap({ name: tap }, ctx));
        if (vm.nat) {
          await this.d.nat.vmUp({ id: vm.id, guestIp: vm.guestIp! }, ctx);
          undo.push('remove NAT', () => this.d.nat.vmDown(vm.id, ctx));
        }
        await this.syncFiles(vm, ctx);
        const driver = this.driverOf(vm);
        const rootDisk = await this.rootDisk(vm, image, ctx);
        if (vm.rootOverlay === 'dm-snapshot') undo.push('detach root snapshot', () => this.d.privileged.detachRootSnapshot({ vmId: vm.id }, ctx));
        ctx.progress?.('booting', `${vm.vmm}, ${vm.spec.vcpu} vcpu, ${vm.spec.memoryMib} MiB`);
        const vmm = await driver.start({
          vmId: vm.id, hostname: vm.name, vcpu: vm.spec.vcpu, memoryMib: vm.spec.memoryMib, kernelPath: kernel.kernelPath, initrdPath: kernel.initrdPath,
          rootDisk, workDisk: files.workDisk,
          network: { tap, mac: vm.mac!, addressCidr: `${vm.guestIp}/${this.d.config.cidr}`, gateway: this.d.config.bridge_ip, dns: this.d.config.default_dns ?? this.d.config.bridge_ip },
          files,
        }, ctx);
        undo.push('release what the VMM left', () => driver.release(files, ctx));
        undo.push('stop VMM', () => driver.hardStop(vmm.pid, files, ctx));
        const handles: VmHandles = { pid: vmm.pid, tap, vmm: vmm.detail, startedAt: new Date().toISOString() };
        writePidFile(files.pidFile, vmm.pid);
        writeFileAtomic(files.handles, `${JSON.stringify(handles)}\n`);
        this.store.vms.setRuntime(vm.id, 'running', handles);
        const isDead = () => !driver.owns(vmm.pid, files);
        try {
          ctx.progress?.('waiting for agent', 'health');
          const health = await waitForAgent(driver.agentEndpoint(files), {
            timeoutMs: READY_TIMEOUT_MS, signal: ctx.signal, isDead, reachableWithoutAgent: () => probeTcp(vm.guestIp!, 22, 500), graceMs: NO_AGENT_GRACE_MS,
          });
          if (!health) this.d.log.warn('the guest answers ssh but its agent does not: this image has no banger-agent', { op_id: ctx.opId, vm: vm.name });
          ctx.progress?.('waiting for ssh', `${vm.guestIp}:22`);
          await waitForTcp(vm.guestIp!, 22, READY_TIMEOUT_MS, ctx.signal, isDead);
        } catch (e) {
          if (!(e instanceof BangerError) || e.code === 'interrupted') throw e;
          const tail = readLogTail(files.consoleLog, 8);
          throw new BangerError(e.code, `VM ${vm.name}: ${e.message}`, { hint: tail ? `last console lines (all of them: \`banger vm logs ${vm.name}\`):\n${tail}` : `its console is empty; see ${files.vmmLog}` });
        }
        undo.commit();
        if (!pooled) void this.d.taps.refill(ctx); // an empty pool (the first start) is filled now
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
    return h && this.driverOf(vm).owns(h.pid, this.files(vm)) ? h : null;
  }

  /** The live side of a VM for `vm show`: VMM pid, how it runs, what the VMM says, and the agent's view. */
  async runtime(vm: Vm): Promise<{ pid: number; vmm: string; status: string; startedAt: string; tap: string; agent: { health: AgentHealth } | { error: string } } | null> {
    const h = this.liveHandles(vm);
    if (!h) return null;
    const [status, agent] = await Promise.all([this.driverOf(vm).status(h.pid, this.files(vm)), this.agentView(vm)]);
    return { pid: h.pid, vmm: h.vmm, status, startedAt: h.startedAt, tap: h.tap, agent };
  }

  /** Throws `not_running` unless the VM is recorded running and its VMM is alive and its own. */
  requireRunning(vm: Vm): void {
    if (vm.state !== 'running' || !this.isAlive(vm)) throw notRunning(vm);
  }

  isAlive(vm: Vm): boolean {
    return this.liveHandles(vm) !== null;
  }

  /** Releases what a stopped VMM held: tap and handle files; the VM becomes stopped. The disks stay. */
  private async released(vm: Vm, ctx: OpCtx): Promise<void> {
    const h = this.handles(vm);
    if (vm.nat || this.d.nat.isUp(vm.id)) {
      await this.d.nat.vmDown(vm.id, ctx).catch((e: Error) => this.d.log.warn('could not remove NAT rules', { op_id: ctx.opId, vm: vm.name, error: e.message }));
    }
    await this.d.privileged.deleteTap({ name: h?.tap ?? tapNameForVm(vm.id) }, ctx).catch((e: Error) => this.d.log.warn('could not delete tap', { op_id: ctx.opId, error: e.message }));
    await this.driverOf(vm).release(this.files(vm), ctx).catch((e: Error) => this.d.log.warn('could not release what the VMM left', { op_id: ctx.opId, vm: vm.name, error: e.message }));
    if (vm.rootOverlay === 'dm-snapshot') {
      await this.d.privileged.detachRootSnapshot({ vmId: vm.id }, ctx).catch((e: Error) => this.d.log.warn('could not detach the root snapshot', { op_id: ctx.opId, vm: vm.name, error: e.message }));
    }
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
    if (vm.state !== 'running') throw notRunning(vm);
    await this.released(vm, ctx);
    return null;
  }

  async stop(ref: string, ctx: OpCtx): Promise<Vm> {
    const vm0 = this.show(ref);
    return this.locks.run(vm0.id, async () => {
      const vm = this.show(vm0.id);
      const h = await this.liveOrReleased(vm, ctx);
      if (!h) return this.show(vm.id);
      await this.powerOff(vm, h, ctx);
      await this.released(vm, ctx);
      return this.show(vm.id);
    });
  }

  /**
   * Graceful stop (SPEC 8): the agent's `shutdown`; if the agent cannot be reached, ssh
   * `poweroff`; if that fails too, the VMM's own request (Firecracker's Ctrl-Alt-Del);
   * whatever still runs after GRACEFUL_STOP_MS gets the hard stop.
   */
  private async powerOff(vm: Vm, h: VmHandles, ctx: OpCtx): Promise<void> {
    const files = this.files(vm);
    const driver = this.driverOf(vm);
    ctx.progress?.('stopping', 'asking the agent to power off');
    let asked = await withAgent(driver.agentEndpoint(files), (c) => c.shutdown(3_000), 1_000).then(() => true, (e: Error) => {
      this.d.log.warn('agent shutdown failed; trying ssh', { op_id: ctx.opId, vm: vm.name, error: e.message });
      return false;
    });
    if (!asked) {
      ctx.progress?.('stopping', 'the agent did not answer: poweroff over ssh');
      const r = await this.d.runner.run(sshShellArgv(this.sshTarget(vm), 'sync; systemctl poweroff --no-block || poweroff'), { timeoutMs: 10_000, allowFailure: true }).catch(() => null);
      asked = r?.exitCode === 0;
    }
    if (!asked && await driver.requestPowerOff(h.pid, files).catch(() => false)) {
      ctx.progress?.('stopping', 'ssh did not answer either: asked through the VMM');
    }
    const deadline = Date.now() + GRACEFUL_STOP_MS;
    while (Date.now() < deadline && isProcessAlive(h.pid)) await sleep(100);
    if (isProcessAlive(h.pid)) {
      ctx.progress?.('stopping', 'the guest did not power off in time: hard stop');
      await driver.hardStop(h.pid, files, ctx);
    }
  }

  /** The agent's view of a running VM (`vm show`), or why there is none. */
  async agentView(vm: Vm): Promise<{ health: AgentHealth } | { error: string }> {
    return withAgent(this.driverOf(vm).agentEndpoint(this.files(vm)), async (c) => ({ health: await c.health(2_000) }), 1_000)
      .catch((e: Error) => ({ error: e.message }));
  }

  /**
   * Listeners in the named running VMs (all running VMs when none are named), from the
   * agent's `ports`, with `name.vm:port` endpoints and an http link for TCP (sshd aside).
   */
  async ports(refs: readonly string[]): Promise<VmPort[]> {
    const vms = refs.length ? refs.map((r) => this.show(r)) : this.list().filter((v) => v.state === 'running');
    const out: VmPort[] = [];
    for (const vm of vms) {
      if (!this.isAlive(vm)) {
        if (refs.length) throw notRunning(vm);
        continue;
      }
      let listeners: AgentListener[];
      try {
        listeners = await withAgent(this.driverOf(vm).agentEndpoint(this.files(vm)), (c) => c.ports(5_000), 2_000);
      } catch (e) {
        throw new BangerError('operation_failed', `VM ${vm.name}: cannot list ports: ${(e as Error).message}`, { hint: 'the guest agent is not answering; `banger vm logs ' + vm.name + '` shows the console' });
      }
      for (const l of listeners) {
        const loopbackOnly = l.address.startsWith('127.') || l.address === '::1';
        const endpoint = loopbackOnly ? null : `${vm.dnsName}:${l.port}`;
        out.push({ vm: vm.name, ...l, endpoint, url: endpoint && l.proto.startsWith('tcp') && l.port !== 22 ? `http://${endpoint}/` : null });
      }
    }
    return out.sort((a, b) => a.vm.localeCompare(b.vm) || a.port - b.port || a.proto.localeCompare(b.proto));
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
   * `vm set` (SPEC 3). Resources change only while the VM is stopped: vcpu and memory
   * freely within limits, the work disk only upwards (grown in place with resize2fs).
   * NAT changes at any time; on a running VM the rules follow at once.
   */
  async set(ref: string, p: { vcpu?: number | undefined; memoryMib?: number | undefined; diskSizeBytes?: number | undefined; nat?: boolean | undefined }, ctx: OpCtx): Promise<Vm> {
    const vm0 = this.show(ref);
    return this.locks.run(vm0.id, async () => {
      const vm = this.show(vm0.id);
      const resources = p.vcpu !== undefined || p.memoryMib !== undefined || p.diskSizeBytes !== undefined;
      if (!resources && p.nat === undefined) {
        throw new BangerError('bad_request', 'nothing to change', { hint: 'give --vcpu, --memory, --disk-size, --nat or --no-nat' });
      }
      const alive = this.isAlive(vm);
      if (resources) {
        if (alive) throw new BangerError('conflict', `VM ${vm.name} is running; resources change only while it is stopped`, { hint: `stop it first: \`banger vm stop ${vm.name}\`` });
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
      }
      if (p.nat !== undefined && p.nat !== vm.nat) {
        if (alive && p.nat) {
          ctx.progress?.('network', 'NAT on');
          await this.d.nat.vmUp({ id: vm.id, guestIp: vm.guestIp! }, ctx);
        } else if (alive) {
          ctx.progress?.('network', 'NAT off');
          await this.d.nat.vmDown(vm.id, ctx);
        } else if (p.nat) {
          await this.d.nat.uplink(); // refuse now rather than at the next start
        }
        this.store.vms.setNat(vm.id, p.nat);
      }
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
        await this.driverOf(vm).hardStop(h.pid, this.files(vm), ctx);
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
  async reconcile(ctx: OpCtx): Promise<{ adopted: string[]; stopped: string[]; taps: { adopted: string[]; deleted: string[] } }> {
    const adopted: string[] = [];
    const stopped: string[] = [];
    const tapsInUse = new Set<string>();
    for (const vm of this.list().filter((v) => v.state === 'running')) {
      if (this.isAlive(vm)) {
        adopted.push(vm.name);
        const h = this.handles(vm);
        if (h) tapsInUse.add(h.tap);
        if (vm.nat) this.d.nat.adopt([vm.id]);
      } else {
        await this.released(vm, ctx);
        stopped.push(vm.name);
      }
    }
    this.refreshSshConfig();
    // Pool taps and VM taps left on our bridge by an earlier daemon (only when it can look).
    let taps = { adopted: [] as string[], deleted: [] as string[] };
    if (existsSync(`/sys/class/net/${this.d.config.bridge_name}`)) {
      taps = await this.d.taps.reclaim(tapsInUse, ctx).catch((e: Error) => {
        this.d.log.warn('could not reclaim taps', { op_id: ctx.opId, error: e.message });
        return taps;
      });
      void this.d.taps.refill(ctx);
    }
    return { adopted, stopped, taps };
  }
}
