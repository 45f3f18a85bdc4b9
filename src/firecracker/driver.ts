import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AgentEndpoint } from '../agent/index.js';
import type { Logger } from '../log/index.js';
import { BangerError } from '../model/index.js';
import type { VmFiles } from '../paths/index.js';
import type { OpCtx } from '../opctx/index.js';
import type { PrivilegedOps } from '../privops/index.js';
import {
  acceptsConnections,
  isProcessAlive,
  processIdentity,
  waitForExit,
  type HostRunner,
  type ProcessSupervisor,
} from '../system/index.js';
import type { BootSpec, StartedVmm, VmmDriver } from '../vmm/index.js';
import { FirecrackerApi } from './apiClient.js';
import { firecrackerAgentEndpoint } from './config.js';
import { IN_JAIL, isJailedFirecracker } from './jailer.js';
import {
  API_READY_MS,
  jailContents,
  jailedConfig,
  plainConfig,
  preparePlainDir,
  touch,
  waitForJailedApi,
} from './launch.js';
import { requireRestorable, saveSnapshot, SNAPSHOT_TIMEOUT_MS } from './savedState.js';
import { PLAIN, stateFiles } from './snapshot.js';
import { judgeFirecrackerVersion } from './version.js';
import { cachedVmlinux } from './vmlinux.js';

export interface FirecrackerDriverOptions {
  /** null: no firecracker on this host; starts are refused with that reason. */
  firecrackerBin: string | null;
  runner: HostRunner;
  supervisor: ProcessSupervisor;
  privileged: PrivilegedOps;
  log: Logger;
  /** Run under the jailer (default on); root keeps the chroots in its own directory and drops Firecracker to the owner. */
  jailer: { enabled: boolean };
}

/**
 * The Firecracker back-end (docs/howto/firecracker.md). Jailed (the default): the root helper prepares a
 * per-VM chroot and runs the jailer, which leaves Firecracker running as the daemon's uid
 * in its own pid namespace, parented by no banger process; the daemon reaches its API and
 * vsock sockets through symlinks in the VM's runtime directory. Unjailed (debugging):
 * Firecracker runs as the daemon's user in its own session. Either way the VM is configured
 * through the API from buildFirecrackerConfig, its serial console goes to the console log,
 * and the agent is on vsock.
 */
/** The disk links a plain run leaves in the runtime directory (preparePlainDir). */
const plainLinks = (files: VmFiles) => [PLAIN.rootDrive, PLAIN.workDisk].map((n) => join(files.runtimeDir, n));

export class FirecrackerDriver implements VmmDriver {
  readonly kind = 'firecracker' as const;
  private version: string | null = null;

  constructor(private readonly o: FirecrackerDriverOptions) {}

  private async checkVersion(): Promise<{ bin: string; version: string }> {
    const bin = this.o.firecrackerBin;
    if (!bin)
      throw new BangerError('not_found', 'no firecracker binary was found', {
        hint: 'install Firecracker >= 1.5.0 (tested 1.14.1) and its jailer, or set firecracker_bin',
      });
    if (this.version) return { bin, version: this.version };
    const r = await this.o.runner.run([bin, '--version'], { allowFailure: true });
    const verdict = judgeFirecrackerVersion(`${r.stdout}\n${r.stderr}`);
    if (!verdict.ok) throw new BangerError('operation_failed', verdict.reason, { hint: verdict.hint });
    if (verdict.warning) this.o.log.warn(verdict.warning);
    this.version = verdict.version;
    return { bin, version: verdict.version };
  }

  /** Refuses what Firecracker cannot boot, and clears an earlier run's sockets from the runtime directory. */
  private async prepareRun(spec: BootSpec): Promise<{ bin: string; version: string }> {
    const found = await this.checkVersion();
    if (spec.rootDisk.format !== 'raw')
      throw new BangerError('bad_request', 'Firecracker boots raw disks only', {
        hint: "this VM's root disk is a qcow2 overlay: create it again with --vmm firecracker",
      });
    const f = spec.files;
    mkdirSync(f.runtimeDir, { recursive: true, mode: 0o700 });
    // Firecracker refuses to start on an existing socket path; an earlier boot's are stale.
    for (const sock of [f.firecrackerApiSocket, f.vsockSocket]) rmSync(sock, { force: true });
    return found;
  }

  async start(spec: BootSpec, ctx: OpCtx): Promise<StartedVmm> {
    const { bin, version } = await this.prepareRun(spec);
    const vmlinux = await cachedVmlinux(this.o.runner, spec.kernelPath);
    const calls = this.o.jailer.enabled ? jailedConfig(spec) : plainConfig(spec, vmlinux);
    const boot = async (api: FirecrackerApi) => {
      await api.configure(calls);
      await api.start();
    };
    return this.o.jailer.enabled
      ? this.launchJailed(spec, { vmlinux }, version, boot, ctx)
      : this.launchPlain(spec, bin, version, boot, ctx);
  }

  /**
   * A fresh Firecracker (jailed or plain, as `start`) that loads `stateDir`'s snapshot,
   * paused, onto the VM's own tap, instead of being configured and booted; only the logger
   * and metrics are configured first. Its disks and vsock socket are this VM's own because
   * the snapshot recorded paths that every VM resolves to its own files (snapshot.ts).
   */
  async restore(spec: BootSpec, stateDir: string, ctx: OpCtx): Promise<StartedVmm> {
    const jailed = this.o.jailer.enabled;
    const wanted = jailed ? jailedConfig(spec) : plainConfig(spec, spec.kernelPath);
    requireRestorable(spec, stateDir, jailed, wanted);
    const { bin, version } = await this.prepareRun(spec);
    const state = stateFiles(stateDir);
    const from = jailed
      ? { snapshotPath: IN_JAIL.loadState, memPath: IN_JAIL.loadMem }
      : { snapshotPath: state.vmstate, memPath: state.mem };
    const load = async (api: FirecrackerApi) => {
      await api.configure(wanted.filter((c) => c.path === '/logger' || c.path === '/metrics'));
      await new FirecrackerApi(spec.files.firecrackerApiSocket, SNAPSHOT_TIMEOUT_MS).loadSnapshot({
        ...from,
        tap: spec.network.tap,
      });
    };
    return jailed
      ? this.launchJailed(spec, { stateDir }, version, load, ctx)
      : this.launchPlain(spec, bin, version, load, ctx);
  }

  /**
   * Starts a plain Firecracker in the VM's runtime directory (preparePlainDir) and hands its
   * API to `then`; a failure there stops the VMM and leaves nothing behind.
   */
  private async launchPlain(
    spec: BootSpec,
    bin: string,
    version: string,
    then: (api: FirecrackerApi) => Promise<void>,
    ctx: OpCtx,
  ): Promise<StartedVmm> {
    const f = spec.files;
    preparePlainDir(spec);
    // Firecracker's stdout is the guest's serial console.
    const proc = this.o.supervisor.start({
      argv: [bin, '--api-sock', f.firecrackerApiSocket, '--id', spec.vmId],
      logFile: f.consoleLog,
      pidFile: f.pidFile,
      cwd: f.runtimeDir,
    });
    try {
      await this.o.supervisor.waitReady(proc, f.consoleLog, () => acceptsConnections(f.firecrackerApiSocket), {
        timeoutMs: API_READY_MS,
        what: `firecracker for VM ${spec.hostname}`,
        ...(ctx.signal && { signal: ctx.signal }),
      });
      await then(new FirecrackerApi(f.firecrackerApiSocket));
    } catch (e) {
      // A refused configuration leaves nothing behind: the VMM goes, with its sockets.
      await this.hardStop(proc.pid, f, ctx);
      await this.release(f, ctx);
      throw e;
    }
    return { pid: proc.pid, detail: `firecracker ${version}` };
  }

  /**
   * Starts Firecracker under the jailer: the root helper makes the jail (jailContents) and
   * starts the jailer; the API and vsock sockets are reached through symlinks at the VM's
   * usual paths; then `then` gets the API. A failure kills the VMM (if it ran) and removes the jail.
   */
  private async launchJailed(
    spec: BootSpec,
    from: Parameters<typeof jailContents>[1],
    version: string,
    then: (api: FirecrackerApi) => Promise<void>,
    ctx: OpCtx,
  ): Promise<StartedVmm> {
    const f = spec.files;
    const { chrootRoot } = await this.o.privileged.prepareJail(jailContents(spec, from), ctx);
    let pid: number | null = null;
    try {
      const inHost = (p: string) => join(chrootRoot, p);
      touch(inHost(IN_JAIL.logFile));
      touch(inHost(IN_JAIL.metricsFile));
      // Short, fixed paths for the daemon: the chroot may be too deep for a unix socket path.
      symlinkSync(inHost(IN_JAIL.apiSocket), f.firecrackerApiSocket);
      symlinkSync(inHost(IN_JAIL.vsockUds), f.vsockSocket);
      const started = (await this.o.privileged.startJailer({ vmId: spec.vmId }, ctx)).pid;
      pid = started;
      await waitForJailedApi(started, spec, ctx);
      await then(new FirecrackerApi(f.firecrackerApiSocket));
    } catch (e) {
      if (pid !== null) await this.hardStop(pid, f, ctx);
      await this.release(f, ctx).catch((err: Error) =>
        this.o.log.warn('could not remove the jail after a failed start', { op_id: ctx.opId, error: err.message }),
      );
      throw e;
    }
    return { pid: pid!, detail: `firecracker ${version}, jailed` };
  }

  private requireOwned(pid: number, files: VmFiles, what: string): FirecrackerApi {
    if (!this.owns(pid, files))
      throw new BangerError('conflict', `cannot ${what}: pid ${pid} is not this VM's running Firecracker`, {
        hint: 'start the VM first',
      });
    return new FirecrackerApi(files.firecrackerApiSocket);
  }

  async pause(pid: number, files: VmFiles, _ctx: OpCtx): Promise<void> {
    await this.requireOwned(pid, files, 'pause the VM').setVmState('Paused');
  }

  async resume(pid: number, files: VmFiles, _ctx: OpCtx): Promise<void> {
    await this.requireOwned(pid, files, 'resume the VM').setVmState('Resumed');
  }

  /** See saveSnapshot: the guest must be paused (Firecracker refuses otherwise) and stays paused. */
  async saveState(pid: number, files: VmFiles, stateDir: string, _ctx: OpCtx): Promise<void> {
    this.requireOwned(pid, files, 'save the VM');
    await saveSnapshot(files, stateDir);
  }

  /** Removes the sockets (or, jailed, their symlinks), a plain run's disk links and the jail. */
  async release(files: VmFiles, ctx: OpCtx): Promise<void> {
    const links = [files.firecrackerApiSocket, files.vsockSocket, ...plainLinks(files)];
    for (const link of links) rmSync(link, { force: true });
    if (this.o.jailer.enabled) await this.o.privileged.removeJail({ vmId: basename(files.dir) }, ctx);
  }

  owns(pid: number, files: VmFiles): boolean {
    if (!isProcessAlive(pid)) return false;
    const who = processIdentity(pid);
    if (!who) return false;
    if (isJailedFirecracker(who, basename(files.dir))) return true;
    return who.cmdline.some((a) => a.includes('firecracker')) && who.cmdline.includes(files.firecrackerApiSocket);
  }

  async status(pid: number, files: VmFiles): Promise<string> {
    if (!this.owns(pid, files)) return 'not running';
    try {
      return (await new FirecrackerApi(files.firecrackerApiSocket, 2_000).state()).toLowerCase();
    } catch (e) {
      return `unknown (${(e as Error).message})`;
    }
  }

  agentEndpoint(files: VmFiles): AgentEndpoint {
    return firecrackerAgentEndpoint(files.vsockSocket);
  }

  /**
   * Firecracker's graceful stop: SendCtrlAltDel. The guest reboots (ctrl-alt-del.target),
   * and a guest reboot ends Firecracker (reboot=k on the command line).
   */
  async requestPowerOff(pid: number, files: VmFiles): Promise<boolean> {
    if (!this.owns(pid, files)) return false;
    await new FirecrackerApi(files.firecrackerApiSocket, 2_000).ctrlAltDel();
    return true;
  }

  /** Firecracker has no switch for a NIC's link: a fork's NIC is live from its resume (docs/howto/firecracker.md). */
  async setLink(): Promise<boolean> {
    return false;
  }

  async hardStop(pid: number, files: VmFiles, ctx: OpCtx): Promise<void> {
    if (this.owns(pid, files)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (e) {
        // A jailed Firecracker under another uid (a root daemon's owner) goes through the helper.
        if ((e as NodeJS.ErrnoException).code === 'EPERM')
          await this.o.privileged.signalProcess({ pid, signal: 'KILL' }, ctx).catch(() => undefined);
      }
    }
    await waitForExit(pid, 5_000);
  }
}
