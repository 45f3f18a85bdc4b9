import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import type { AgentEndpoint } from '../agent/index.js';
import { BangerError } from '../model/index.js';
import type { Logger } from '../log/index.js';
import type { VmFiles } from '../paths/index.js';
import type { OpCtx } from '../opctx/index.js';
import {
  isProcessAlive,
  processCmdline,
  processState,
  ProcessSupervisor,
  sleep,
  waitForExit,
  which,
} from '../system/index.js';
import type { BootSpec, StartedVmm, VmmDriver } from '../vmm/index.js';
import { decideAccel, readAccelFacts, rememberAccel } from './accel.js';
import { buildQemuArgv, qemuStateFile, type Accel } from './argv.js';
import { hostTscKhz } from './hostTsc.js';
import { QmpClient } from './qmpClient.js';
import { qmpPause, qmpResume, qmpSaveState, qmpSetLink, qmpStatus, waitForIncoming } from './qemuSnapshot.js';

export interface QemuDriverOptions {
  qemuBin: string | null;
  accelSetting: 'auto' | 'kvm' | 'tcg';
  /** Where the per-host KVM verdict is remembered. */
  accelProbeFile: string;
  supervisor: ProcessSupervisor;
  log: Logger;
}

export class QemuDriver implements VmmDriver {
  readonly kind = 'qemu' as const;
  private accel: Accel | undefined;

  constructor(private readonly o: QemuDriverOptions) {}

  private binary(): string {
    const bin = this.o.qemuBin ?? which('qemu-system-x86_64');
    if (!bin || !existsSync(bin)) {
      throw new BangerError('operation_failed', 'qemu-system-x86_64 is not installed', {
        hint: 'apt-get install qemu-system-x86 qemu-utils (see `banger doctor`)',
      });
    }
    return bin;
  }

  /** The accelerator for this host, probing KVM at most once per host (and remembering it). */
  async resolveAccel(spec: BootSpec): Promise<Accel> {
    if (this.accel) return this.accel;
    const decision = decideAccel(this.o.accelSetting, readAccelFacts(this.o.accelProbeFile));
    if (!decision.needsProbe) {
      this.o.log.info('accelerator chosen', { accel: decision.accel, reason: decision.reason });
      return (this.accel = decision.accel);
    }
    const usable = await this.probeKvm(spec);
    rememberAccel(
      this.o.accelProbeFile,
      usable ? 'usable' : 'unusable',
      usable ? 'probe guest booted' : 'probe guest did not boot within 15 s',
    );
    this.o.log.info('accelerator probed', { kvm: usable });
    return (this.accel = usable ? 'kvm' : 'tcg');
  }

  /** Boots the kernel and initramfs under KVM with `banger.probe`; success is the marker on the console. */
  private async probeKvm(spec: BootSpec): Promise<boolean> {
    const consoleFile = `${spec.files.runtimeDir}/kvm-probe.console`;
    rmSync(consoleFile, { force: true });
    const proc = this.o.supervisor.start({
      argv: [
        this.binary(),
        '-M',
        'microvm,acpi=on',
        '-accel',
        'kvm',
        '-cpu',
        'host',
        '-m',
        '256',
        '-nodefaults',
        '-no-user-config',
        '-nographic',
        '-serial',
        `file:${consoleFile}`,
        '-kernel',
        spec.kernelPath,
        ...(spec.initrdPath ? ['-initrd', spec.initrdPath] : []),
        '-append',
        'console=ttyS0 banger.probe',
        '-no-reboot',
      ],
      logFile: `${spec.files.runtimeDir}/kvm-probe.log`,
    });
    try {
      for (let i = 0; i < 150; i++) {
        try {
          if (readFileSync(consoleFile, 'utf8').includes('BANGER_PROBE_OK')) return true;
        } catch {
          /* not yet */
        }
        if (proc.hasExited()) break;
        await sleep(100);
      }
      return false;
    } finally {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        /* exited */
      }
      rmSync(consoleFile, { force: true });
    }
  }

  start(spec: BootSpec, ctx: OpCtx): Promise<StartedVmm> {
    return this.launch(spec, ctx, null);
  }

  /** QEMU with `-incoming` from the saved stream; returns once the state is loaded and the guest paused. */
  async restore(spec: BootSpec, stateDir: string, ctx: OpCtx): Promise<StartedVmm> {
    const stateFile = qemuStateFile(stateDir);
    if (!existsSync(stateFile)) throw new BangerError('not_found', `no saved VM state at ${stateFile}`);
    const started = await this.launch(spec, ctx, stateFile);
    try {
      await waitForIncoming(spec.files, () => this.owns(started.pid, spec.files), `VM ${spec.hostname}`);
    } catch (e) {
      await this.hardStop(started.pid, spec.files, ctx);
      throw e;
    }
    return { pid: started.pid, detail: `${started.detail}, restored` };
  }

  /** Snapshot operations act only on this VM's own running QEMU (a recycled pid is not). */
  private requireOwned(pid: number, files: VmFiles): void {
    if (!this.owns(pid, files)) throw new BangerError('conflict', 'the VM is not running');
  }

  async pause(pid: number, files: VmFiles): Promise<void> {
    this.requireOwned(pid, files);
    await qmpPause(files);
  }

  async resume(pid: number, files: VmFiles): Promise<void> {
    this.requireOwned(pid, files);
    await qmpResume(files);
  }

  async setLink(pid: number, files: VmFiles, up: boolean): Promise<boolean> {
    this.requireOwned(pid, files);
    await qmpSetLink(files, up);
    return true;
  }

  async saveState(pid: number, files: VmFiles, stateDir: string): Promise<void> {
    this.requireOwned(pid, files);
    const { bytes } = await qmpSaveState(files, stateDir);
    this.o.log.debug('guest state saved', { stateDir, bytes });
  }

  /** Starts QEMU (booting `spec`, or loading `incoming`) and returns once its QMP socket answers. */
  private async launch(spec: BootSpec, ctx: OpCtx, incoming: string | null): Promise<StartedVmm> {
    const signal = ctx.signal;
    const f = spec.files;
    mkdirSync(f.runtimeDir, { recursive: true, mode: 0o700 });
    for (const p of [f.qmpSocket, f.agentSocket, f.pidFile]) rmSync(p, { force: true });
    const accel = await this.resolveAccel(spec);
    const argv = buildQemuArgv(this.binary(), spec, accel, hostTscKhz(), incoming);
    this.o.log.debug('starting qemu', { argv });
    const proc = this.o.supervisor.start({ argv, logFile: f.vmmLog });
    try {
      await this.o.supervisor.waitReady(
        proc,
        f.vmmLog,
        async () => {
          if (!existsSync(f.qmpSocket)) return false;
          try {
            (await QmpClient.connect(f.qmpSocket, 1000)).close();
            return true;
          } catch {
            return false;
          }
        },
        { timeoutMs: 15_000, what: `qemu for VM ${spec.hostname}`, ...(signal && { signal }) },
      );
    } catch (e) {
      // Whatever went wrong (cancelled, timed out), a VMM we started must not outlive the failure.
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await waitForExit(proc.pid, 3_000);
      throw e;
    }
    return { pid: proc.pid, detail: `qemu ${accel}` };
  }

  owns(pid: number, files: VmFiles): boolean {
    if (!isProcessAlive(pid)) return false;
    const argv = processCmdline(pid);
    return !!argv && argv.some((a) => a.includes(files.qmpSocket));
  }

  async status(pid: number, files: VmFiles): Promise<string> {
    if (!this.owns(pid, files)) return 'not running';
    return qmpStatus(files).catch((e: Error) => `unknown (${e.message})`);
  }

  /** The virtio-serial port `banger.agent`, which QEMU serves as a unix socket (argv.ts). */
  agentEndpoint(files: VmFiles): AgentEndpoint {
    return { kind: 'unix', path: files.agentSocket };
  }

  /** Not offered: banger's microvm guests have no ACPI power button handling to rely on. */
  async requestPowerOff(): Promise<boolean> {
    return false;
  }

  /** QEMU leaves nothing outside the VM's files and runtime directory. */
  async release(): Promise<void> {}

  async hardStop(pid: number, files: VmFiles, _ctx: OpCtx): Promise<void> {
    if (!this.owns(pid, files)) {
      // One already on its way out (its main thread a zombie, no command line) still holds its tap and disks.
      if (processState(pid) === 'Z') await waitForExit(pid, 3_000);
      return;
    }
    try {
      const qmp = await QmpClient.connect(files.qmpSocket, 2000);
      await qmp.execute('quit').catch(() => {
        /* the connection may close before the reply */
      });
      qmp.close();
    } catch {
      /* fall through to SIGKILL */
    }
    if (!(await waitForExit(pid, 3_000))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await waitForExit(pid, 3_000);
    }
  }
}
