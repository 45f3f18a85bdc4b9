import type { AgentEndpoint } from '../../src/agent/index.js';
import type { VmFiles } from '../../src/paths/index.js';
import type { BootSpec, StartedVmm, VmmDriver } from '../../src/vmm/index.js';

/** A VmmDriver that boots nothing: it records specs and pretends pids are its own. */
export class FakeVmmDriver implements VmmDriver {
  readonly kind = 'qemu' as const;
  readonly started: BootSpec[] = [];
  readonly alive = new Set<number>();
  private nextPid = 900_000;

  async start(spec: BootSpec): Promise<StartedVmm> {
    this.started.push(spec);
    const pid = this.nextPid++;
    this.alive.add(pid);
    return { pid, detail: 'fake' };
  }

  async release(): Promise<void> {}

  async requestPowerOff(): Promise<boolean> {
    return false;
  }

  owns(pid: number, _files: VmFiles): boolean {
    return this.alive.has(pid);
  }

  async status(pid: number): Promise<string> {
    return this.alive.has(pid) ? 'running' : 'not running';
  }

  agentEndpoint(files: VmFiles): AgentEndpoint {
    return { kind: 'unix', path: files.agentSocket };
  }

  async hardStop(pid: number): Promise<void> {
    this.alive.delete(pid);
  }
}
