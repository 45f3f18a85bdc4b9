import type { SshTarget } from '../guest/index.js';
import type { AgentHealth } from '../agent/index.js';
import type { RootOverlay, TemplateSummary, Vm, VmSpec } from '../model/index.js';
import type { RandomIndex } from '../namegen/index.js';
import type { OpCtx } from '../opctx/index.js';
import type { VmFiles } from '../paths/index.js';
import type { AllowedSignal } from '../privops/index.js';
import type { selectVmm, VmmDriver, VmmSetting } from '../vmm/index.js';
import { chooseBackend, createVm, resolveCreate } from './vm/create.js';
import { VmEnv } from './vm/env.js';
import { execInVm, type ExecIo, type VmExecRequest, type VmExecResult } from './vm/exec.js';
import { agentView, logsOf, portsOf, runtimeOf, type VmRuntime } from './vm/inspect.js';
import { killVm, stopVm } from './vm/power.js';
import { healthOf, pingOf, type VmHealth, type VmPing } from './vm/probe.js';
import { reconcileVms, type Reconciled } from './vm/reconcile.js';
import { deleteVm, pruneVms } from './vm/remove.js';
import { setVm, type VmSettings } from './vm/settings.js';
import { forkVm } from './vm/fork.js';
import { startVm } from './vm/start.js';
import { pauseVm, resumeVm, saveStopVm } from './vm/suspend.js';
import { warmImage } from './vm/templates.js';
import type { CreateParams, VmHandles, VmPort, VmServiceDeps } from './vm/types.js';
import { exportWorkspace, prepareWorkspace, type PrepareResult } from './vm/workspace.js';

export type { CreateParams, HostVmmFacts, VmForwardHooks, VmHandles, VmPort, VmServiceDeps } from './vm/types.js';

/**
 * The VM operations the handlers call: a facade over the modules in vm/ (create and start
 * as lists of steps, power, inspection, settings, removal, reconcile), which share one
 * VmEnv (dependencies, per-VM locks, lookups).
 */
export class VmService {
  private readonly env: VmEnv;

  constructor(d: VmServiceDeps) {
    this.env = new VmEnv(d);
  }

  list(): Vm[] {
    return this.env.list();
  }
  /** A generated adjective-noun name that no VM in the store has. */
  freshName(random?: RandomIndex): string {
    return this.env.freshName(random);
  }
  show(ref: string): Vm {
    return this.env.show(ref);
  }
  /** The back-end the VM's record names. */
  driverOf(vm: Pick<Vm, 'vmm'>): VmmDriver {
    return this.env.driverOf(vm);
  }
  files(vm: Pick<Vm, 'id'>): VmFiles {
    return this.env.files(vm);
  }
  handles(vm: Vm): VmHandles | null {
    return this.env.handles(vm);
  }
  /** Throws `not_running` unless the VM is recorded running and its VMM is alive and its own. */
  requireRunning(vm: Vm): void {
    this.env.requireRunning(vm);
  }
  /** The VM's handles if its VMM is alive and really its own, else null. */
  liveHandles(vm: Vm): VmHandles | null {
    return this.env.liveHandles(vm);
  }
  /** Records a use of the VM (touched_at = now): ssh, exec, workspace, start, connections into the guest. */
  touch(ref: string): void {
    this.env.touch(ref);
  }
  isAlive(vm: Vm): boolean {
    return this.env.isAlive(vm);
  }
  sshTarget(vm: Vm): SshTarget {
    return this.env.sshTarget(vm);
  }
  /** Rewrites banger's ssh config (atomically) so `ssh NAME.vm` reaches every VM. */
  refreshSshConfig(): void {
    this.env.refreshSshConfig();
  }

  /** Validates everything a create needs before anything is made, so bad input leaves no trace. */
  resolveCreate(p: CreateParams): { name: string; spec: VmSpec; imageName: string } {
    return resolveCreate(this.env, p);
  }
  /** The back-end and root-disk strategy for a new VM (docs/howto/vms.md). */
  chooseBackend(
    setting: VmmSetting,
    kernelName: string,
  ): { choice: ReturnType<typeof selectVmm>; rootOverlay: RootOverlay } {
    return chooseBackend(this.env, setting, kernelName);
  }
  create(p: CreateParams, ctx: OpCtx): Promise<Vm> {
    return createVm(this.env, p, ctx);
  }
  start(ref: string, ctx: OpCtx): Promise<Vm> {
    return startVm(this.env, ref, ctx);
  }
  /** `vm stop`; with `save`, `vm stop --save` (the memory state kept for the next start). */
  stop(ref: string, ctx: OpCtx, opts: { save?: boolean } = {}): Promise<Vm> {
    return opts.save ? saveStopVm(this.env, ref, ctx) : stopVm(this.env, ref, ctx);
  }
  pause(ref: string, ctx: OpCtx): Promise<Vm> {
    return pauseVm(this.env, ref, ctx);
  }
  resume(ref: string, ctx: OpCtx): Promise<Vm> {
    return resumeVm(this.env, ref, ctx);
  }
  fork(ref: string, p: { name?: string }, ctx: OpCtx): Promise<Vm> {
    return forkVm(this.env, ref, p, ctx);
  }
  /** The warm templates of an image (`image show`). */
  templatesOf(imageId: string): TemplateSummary[] {
    return this.env.templates.forImage(imageId);
  }
  /** `image warm`: builds an image's template now. */
  warmImage(p: { name: string; vcpu?: number; memoryMib?: number; diskSizeBytes?: number }, ctx: OpCtx) {
    return warmImage(this.env, p, ctx);
  }
  /** Removes templates: one image's (`image delete`), or all (`image cache prune`); they are rebuilt on demand. */
  pruneTemplates(o: { imageId?: string; dryRun?: boolean } = {}): { removed: string[]; freedBytes: number } {
    return this.env.templates.prune(o.imageId, o.dryRun);
  }
  /** Daemon start: what an interrupted template build left is stopped and removed. */
  tidyTemplates(ctx: OpCtx): Promise<string[]> {
    return this.env.templates.tidy(ctx);
  }
  /** Daemon stop: template builds are cancelled and waited for. */
  stopTemplateBuilds(): Promise<void> {
    return this.env.templates.stop();
  }
  /**
   * The idle stop of `auto_stop_stale_after`: `vm stop`'s path under the same lock, unless
   * the VM no longer runs or was touched within `afterMs` by the time the lock is held.
   */
  stopIdle(ref: string, afterMs: number, ctx: OpCtx): Promise<Vm> {
    return stopVm(
      this.env,
      ref,
      ctx,
      (vm) => vm.state !== 'running' || Date.now() - Date.parse(vm.touchedAt) <= afterMs,
    );
  }
  kill(ref: string, signal: AllowedSignal, ctx: OpCtx): Promise<Vm> {
    return killVm(this.env, ref, signal, ctx);
  }
  async restart(ref: string, ctx: OpCtx): Promise<Vm> {
    const vm = this.show(ref);
    if (vm.state === 'running') await this.stop(vm.id, ctx);
    return this.start(vm.id, ctx);
  }
  set(ref: string, p: VmSettings, ctx: OpCtx): Promise<Vm> {
    return setVm(this.env, ref, p, ctx);
  }
  delete(ref: string, ctx: OpCtx): Promise<void> {
    return deleteVm(this.env, ref, ctx);
  }
  /** Deletes every VM that is not running; returns their names. */
  prune(ctx: OpCtx): Promise<string[]> {
    return pruneVms(this.env, ctx);
  }

  /** `vm workspace prepare`: copies the repository again (from `path`, or where it came from). */
  prepareWorkspace(ref: string, o: Parameters<typeof prepareWorkspace>[2], ctx: OpCtx): Promise<PrepareResult> {
    return prepareWorkspace(this.env, ref, o, ctx);
  }
  exportWorkspace(ref: string, baseCommit: string | undefined): Promise<{ patch: string; base: string }> {
    return exportWorkspace(this.env, ref, baseCommit);
  }

  /** The live side of a VM for `vm show`. */
  runtime(vm: Vm): Promise<VmRuntime | null> {
    return runtimeOf(this.env, vm);
  }
  /** The agent's view of a running VM (`vm show`), or why there is none. */
  agentView(vm: Vm): Promise<{ health: AgentHealth } | { error: string }> {
    return agentView(this.env, vm);
  }
  /** `vm.exec`: a command through the guest agent, its output and input relayed through `io`. */
  exec(p: VmExecRequest, io: ExecIo, ctx: OpCtx): Promise<VmExecResult> {
    return execInVm(this.env, p, io, ctx);
  }
  /** Each named VM's agent health and whether its sshd answers. */
  health(names: readonly string[]): Promise<VmHealth[]> {
    return healthOf(this.env, names);
  }
  /** Each named VM's agent round trip. */
  ping(names: readonly string[]): Promise<VmPing[]> {
    return pingOf(this.env, names);
  }
  /** Listeners in the named running VMs (all running VMs when none are named). */
  ports(refs: readonly string[]): Promise<VmPort[]> {
    return portsOf(this.env, refs);
  }
  /** Bytes of the console log from `offset` (for `vm logs` and `vm logs -f`). */
  logs(ref: string, offset: number, maxBytes = 1 << 20): { text: string; offset: number; vmmLog: string } {
    return logsOf(this.env, ref, offset, maxBytes);
  }
  /** Reconcile on daemon start (docs/reference/rpc.md): running VMs adopted or released, leftover taps reclaimed. */
  reconcile(ctx: OpCtx): Promise<Reconciled> {
    return reconcileVms(this.env, ctx);
  }
}
