import { closeSync, existsSync, mkdirSync, openSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AgentEndpoint } from '../agent/index.js';
import type { Logger } from '../log/index.js';
import { BangerError } from '../model/index.js';
import type { VmFiles } from '../paths/index.js';
import type { OpCtx } from '../opctx/index.js';
import type { PrivilegedOps } from '../privops/index.js';
import {
  isProcessAlive,
  processIdentity,
  sleep,
  waitForExit,
  type HostRunner,
  type ProcessSupervisor,
} from '../system/index.js';
import type { BootSpec, StartedVmm, VmmDriver } from '../vmm/index.js';
import { FirecrackerApi } from './apiClient.js';
import { buildFirecrackerConfig, firecrackerAgentEndpoint } from './config.js';
import { IN_JAIL, isJailedFirecracker } from './jailer.js';
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

const API_READY_MS = 10_000;

/** A file Firecracker's logger or metrics may open (it wants an existing file or pipe). */
function touch(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
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
/** A VM's root disk given as a block device (a /dev path) rather than an image file. */
const rootIsDevice = (spec: BootSpec) => spec.rootDisk.path.startsWith('/dev/');

/**
 * What the jail of `spec` is given: the kernel, the initrd (if any), the work disk and the
 * root disk (hard-linked as a file, or as a device node when it is a block device), and
 * /dev/vhost-vsock where the host has one.
 */
function jailContents(spec: BootSpec, vmlinux: string): Parameters<PrivilegedOps['prepareJail']>[0] {
  const rootDevice = rootIsDevice(spec);
  return {
    vmId: spec.vmId,
    files: [
      { source: vmlinux, name: 'vmlinux' },
      ...(spec.initrdPath ? [{ source: spec.initrdPath, name: 'initrd.img' as const }] : []),
      { source: spec.workDisk, name: 'work.ext4' },
      ...(rootDevice ? [] : [{ source: spec.rootDisk.path, name: 'rootfs' as const }]),
    ],
    devices: [
      ...(rootDevice ? [{ source: spec.rootDisk.path, name: 'rootfs' as const }] : []),
      // Firecracker's vsock is its own (a unix socket on the host); the node is only given where the host has one.
      ...(existsSync('/dev/vhost-vsock') ? [{ source: '/dev/vhost-vsock', name: 'dev/vhost-vsock' as const }] : []),
    ],
  };
}

/**
 * Polls (every 50 ms) until the jailed Firecracker `pid` has made its API socket; throws
 * `operation_failed` if it exits first or takes over API_READY_MS, `interrupted` on abort.
 */
async function waitForJailedApi(pid: number, spec: BootSpec, ctx: OpCtx): Promise<void> {
  const f = spec.files;
  const deadline = Date.now() + API_READY_MS;
  while (!existsSync(f.firecrackerApiSocket)) {
    if (!isProcessAlive(pid))
      throw new BangerError(
        'operation_failed',
        `the jailed firecracker for VM ${spec.hostname} exited before its API was up`,
        { hint: `see ${f.consoleLog}` },
      );
    if (Date.now() > deadline)
      throw new BangerError(
        'operation_failed',
        `the jailed firecracker for VM ${spec.hostname} made no API socket within ${API_READY_MS / 1000} s`,
        { hint: `see ${f.consoleLog}` },
      );
    if (ctx.signal?.aborted) throw new BangerError('interrupted', `cancelled while starting VM ${spec.hostname}`);
    await sleep(50);
  }
}

/** The Firecracker configuration of `spec` in the jail: every path is the fixed one inside the chroot (IN_JAIL). */
function jailedConfig(spec: BootSpec): ReturnType<typeof buildFirecrackerConfig> {
  return buildFirecrackerConfig(spec, {
    vmlinux: IN_JAIL.kernel,
    initrd: spec.initrdPath ? IN_JAIL.initrd : null,
    rootDrive: rootIsDevice(spec) ? IN_JAIL.rootDevice : IN_JAIL.rootDrive,
    workDisk: IN_JAIL.workDisk,
    logFile: IN_JAIL.logFile,
    metricsFile: IN_JAIL.metricsFile,
    vsockUds: IN_JAIL.vsockUds,
  });
}

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

  async start(spec: BootSpec, ctx: OpCtx): Promise<StartedVmm> {
    const { bin, version } = await this.checkVersion();
    if (spec.rootDisk.format !== 'raw')
      throw new BangerError('bad_request', 'Firecracker boots raw disks only', {
        hint: "this VM's root disk is a qcow2 overlay: create it again with --vmm firecracker",
      });
    const f = spec.files;
    mkdirSync(f.runtimeDir, { recursive: true, mode: 0o700 });
    // Firecracker refuses to start on an existing socket path; an earlier boot's are stale.
    for (const sock of [f.firecrackerApiSocket, f.vsockSocket]) rmSync(sock, { force: true });
    const vmlinux = await cachedVmlinux(this.o.runner, spec.kernelPath);
    return this.o.jailer.enabled
      ? this.startJailed(spec, vmlinux, version, ctx)
      : this.startPlain(spec, bin, vmlinux, version, ctx);
  }

  private async startPlain(
    spec: BootSpec,
    bin: string,
    vmlinux: string,
    version: string,
    ctx: OpCtx,
  ): Promise<StartedVmm> {
    const f = spec.files;
    const logFile = join(f.dir, 'firecracker.log');
    const metricsFile = join(f.dir, 'firecracker.metrics');
    touch(logFile);
    touch(metricsFile);
    // Firecracker's stdout is the guest's serial console.
    const proc = this.o.supervisor.start({
      argv: [bin, '--api-sock', f.firecrackerApiSocket, '--id', spec.vmId],
      logFile: f.consoleLog,
      pidFile: f.pidFile,
    });
    try {
      await this.o.supervisor.waitReady(proc, f.consoleLog, async () => existsSync(f.firecrackerApiSocket), {
        timeoutMs: API_READY_MS,
        what: `firecracker for VM ${spec.hostname}`,
        ...(ctx.signal && { signal: ctx.signal }),
      });
      await this.configureAndBoot(
        f.firecrackerApiSocket,
        buildFirecrackerConfig(spec, {
          vmlinux,
          initrd: spec.initrdPath,
          rootDrive: spec.rootDisk.path,
          workDisk: spec.workDisk,
          logFile,
          metricsFile,
          vsockUds: f.vsockSocket,
        }),
      );
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
   * usual paths. A failed start kills the VMM (if it ran) and removes the jail.
   */
  private async startJailed(spec: BootSpec, vmlinux: string, version: string, ctx: OpCtx): Promise<StartedVmm> {
    const f = spec.files;
    const { chrootRoot } = await this.o.privileged.prepareJail(jailContents(spec, vmlinux), ctx);
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
      await this.configureAndBoot(f.firecrackerApiSocket, jailedConfig(spec));
    } catch (e) {
      if (pid !== null) await this.hardStop(pid, f, ctx);
      await this.release(f, ctx).catch((err: Error) =>
        this.o.log.warn('could not remove the jail after a failed start', { op_id: ctx.opId, error: err.message }),
      );
      throw e;
    }
    return { pid: pid!, detail: `firecracker ${version}, jailed` };
  }

  private async configureAndBoot(socket: string, calls: ReturnType<typeof buildFirecrackerConfig>): Promise<void> {
    const api = new FirecrackerApi(socket);
    await api.configure(calls);
    await api.start();
  }

  /** Removes the sockets (or, jailed, their symlinks) and the jail. */
  async release(files: VmFiles, ctx: OpCtx): Promise<void> {
    for (const link of [files.firecrackerApiSocket, files.vsockSocket]) rmSync(link, { force: true });
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

  // PLACEHOLDER until the fc-snapshot branch lands (it implements these against the API).
  async pause(): Promise<void> {
    throw new BangerError('operation_failed', 'not yet');
  }
  async resume(): Promise<void> {
    throw new BangerError('operation_failed', 'not yet');
  }
  async saveState(): Promise<void> {
    throw new BangerError('operation_failed', 'not yet');
  }
  async setLink(): Promise<boolean> {
    return false;
  }
  async restore(): Promise<StartedVmm> {
    throw new BangerError('operation_failed', 'not yet');
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
