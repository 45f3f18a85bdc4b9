import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { AgentEndpoint } from '../agent/index.js';
import type { Logger } from '../log/index.js';
import { BangerError } from '../model/index.js';
import type { VmFiles } from '../paths/index.js';
import { isProcessAlive, processCmdline, type HostRunner, type ProcessSupervisor } from '../system/index.js';
import type { BootSpec, StartedVmm, VmmDriver } from '../vmm/index.js';
import { FirecrackerApi } from './apiClient.js';
import { buildFirecrackerConfig, firecrackerAgentEndpoint } from './config.js';
import { judgeFirecrackerVersion } from './version.js';
import { cachedVmlinux } from './vmlinux.js';

export interface FirecrackerDriverOptions {
  firecrackerBin: string;
  runner: HostRunner;
  supervisor: ProcessSupervisor;
  log: Logger;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The Firecracker back-end (issue 7) without the jailer: Firecracker runs as the daemon's
 * user in its own session, configured through its API socket from buildFirecrackerConfig,
 * with the agent on vsock. The jailed variant (planJailer, through the root helper) and
 * dm-snapshot roots are planned but not wired in yet; this driver boots a raw root disk
 * (rootfs_overlay = "copy").
 */
export class FirecrackerDriver implements VmmDriver {
  readonly kind = 'firecracker' as const;
  private version: string | null = null;

  constructor(private readonly o: FirecrackerDriverOptions) {}

  private async checkVersion(): Promise<string> {
    if (this.version) return this.version;
    const r = await this.o.runner.run([this.o.firecrackerBin, '--version'], { allowFailure: true });
    const verdict = judgeFirecrackerVersion(`${r.stdout}\n${r.stderr}`);
    if (!verdict.ok) throw new BangerError('operation_failed', verdict.reason, { hint: verdict.hint });
    if (verdict.warning) this.o.log.warn(verdict.warning);
    return (this.version = verdict.version);
  }

  async start(spec: BootSpec, signal?: AbortSignal): Promise<StartedVmm> {
    const version = await this.checkVersion();
    if (spec.rootDisk.format !== 'raw') throw new BangerError('bad_request', 'Firecracker boots raw disks only', { hint: 'set rootfs_overlay = "copy" (or "dm-snapshot" where device-mapper works)' });
    const f = spec.files;
    mkdirSync(f.runtimeDir, { recursive: true, mode: 0o700 });
    // Firecracker refuses to start on an existing socket path; an earlier boot's are stale.
    for (const sock of [f.firecrackerApiSocket, f.vsockSocket]) rmSync(sock, { force: true });
    const vmlinux = await cachedVmlinux(this.o.runner, spec.kernelPath);
    const proc = this.o.supervisor.start({ argv: [this.o.firecrackerBin, '--api-sock', f.firecrackerApiSocket, '--id', spec.vmId], logFile: f.vmmLog, pidFile: f.pidFile });
    try {
      await this.o.supervisor.waitReady(proc, f.vmmLog, async () => existsSync(f.firecrackerApiSocket), { timeoutMs: 10_000, what: `firecracker for VM ${spec.hostname}`, ...(signal && { signal }) });
      const api = new FirecrackerApi(f.firecrackerApiSocket);
      await api.configure(buildFirecrackerConfig(spec, { vmlinux, rootDrive: spec.rootDisk.path, logFile: `${f.dir}/firecracker.log`, metricsFile: `${f.dir}/firecracker.metrics`, vsockUds: f.vsockSocket }));
      await api.start();
    } catch (e) {
      // A refused configuration leaves nothing behind: the VMM goes, with its sockets.
      await this.hardStop(proc.pid, f);
      throw e;
    }
    return { pid: proc.pid, detail: `firecracker ${version}` };
  }

  owns(pid: number, files: VmFiles): boolean {
    if (!isProcessAlive(pid)) return false;
    const cmd = processCmdline(pid);
    return cmd !== null && cmd.some((a) => a.includes('firecracker')) && cmd.includes(files.firecrackerApiSocket);
  }

  async status(pid: number, files: VmFiles): Promise<string> {
    if (!this.owns(pid, files)) return 'not running';
    try { return (await new FirecrackerApi(files.firecrackerApiSocket, 2_000).state()).toLowerCase(); } catch (e) { return `unknown (${(e as Error).message})`; }
  }

  agentEndpoint(files: VmFiles): AgentEndpoint {
    return firecrackerAgentEndpoint(files.vsockSocket);
  }

  async hardStop(pid: number, files: VmFiles): Promise<void> {
    if (this.owns(pid, files)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (let i = 0; i < 100 && isProcessAlive(pid); i++) await sleep(50);
  }
}
