import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentEndpoint } from '../../src/agent/index.js';
import type { VmFiles } from '../../src/paths/index.js';
import type { BootSpec, StartedVmm, VmmDriver } from '../../src/vmm/index.js';

/**
 * A VmmDriver that boots nothing: it records specs and pretends pids are its own. Saved
 * states are real files (the spec's vcpu and memory as JSON); a restore of a missing or
 * corrupt one, or onto a different machine shape, fails as QEMU's would.
 */
export class FakeVmmDriver implements VmmDriver {
  readonly kind = 'qemu' as const;
  readonly started: BootSpec[] = [];
  readonly restored: Array<{ spec: BootSpec; stateDir: string }> = [];
  readonly alive = new Set<number>();
  readonly paused = new Set<number>();
  private readonly shapes = new Map<number, { vcpu: number; memoryMib: number }>();
  private nextPid = 900_000;

  async start(spec: BootSpec): Promise<StartedVmm> {
    this.started.push(spec);
    return this.spawn(spec);
  }

  private spawn(spec: BootSpec): StartedVmm {
    const pid = this.nextPid++;
    this.alive.add(pid);
    this.shapes.set(pid, { vcpu: spec.vcpu, memoryMib: spec.memoryMib });
    return { pid, detail: 'fake' };
  }

  async pause(pid: number): Promise<void> {
    if (!this.alive.has(pid)) throw new Error('the VM is not running');
    this.paused.add(pid);
  }

  async resume(pid: number): Promise<void> {
    if (!this.alive.has(pid)) throw new Error('the VM is not running');
    this.paused.delete(pid);
  }

  async saveState(pid: number, _files: VmFiles, stateDir: string): Promise<void> {
    if (!this.paused.has(pid)) throw new Error('the guest must be paused to save its state');
    writeFileSync(join(stateDir, 'fake.vmstate'), JSON.stringify(this.shapes.get(pid)));
  }

  async restore(spec: BootSpec, stateDir: string): Promise<StartedVmm> {
    const saved = JSON.parse(readFileSync(join(stateDir, 'fake.vmstate'), 'utf8')) as {
      vcpu: number;
      memoryMib: number;
    };
    if (saved.vcpu !== spec.vcpu || saved.memoryMib !== spec.memoryMib)
      throw new Error('the saved state is for another machine shape');
    this.restored.push({ spec, stateDir });
    const started = this.spawn(spec);
    this.paused.add(started.pid);
    return { ...started, detail: 'fake, restored' };
  }

  readonly links = new Map<number, boolean>();
  async setLink(pid: number, _files: VmFiles, up: boolean): Promise<boolean> {
    this.links.set(pid, up);
    return true;
  }

  async release(): Promise<void> {}

  async requestPowerOff(): Promise<boolean> {
    return false;
  }

  owns(pid: number, _files: VmFiles): boolean {
    return this.alive.has(pid);
  }

  async status(pid: number): Promise<string> {
    if (!this.alive.has(pid)) return 'not running';
    return this.paused.has(pid) ? 'paused' : 'running';
  }

  agentEndpoint(files: VmFiles): AgentEndpoint {
    return { kind: 'unix', path: files.agentSocket };
  }

  async hardStop(pid: number): Promise<void> {
    this.alive.delete(pid);
    this.paused.delete(pid);
  }
}
