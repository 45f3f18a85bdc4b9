/**
 * The daemon's stats poller: every `stats_poll_interval` it samples each running VM (see
 * sampler.ts), keeps the latest sample for `vm.stats`, records a use of every VM the agent
 * reports a connection into, and stops VMs idle for longer than `auto_stop_stale_after`
 * through `vm stop`'s path (docs/howto/vms.md).
 */
import { formatDuration, type AutoStop, type Vm, type VmStats } from '../../model/index.js';
import type { Logger } from '../../log/index.js';
import { newOpId } from '../../opstate/index.js';
import type { VmService } from '../vmService.js';
import type { CpuSample } from './procStats.js';
import { sampleVm, type HostRoots } from './sampler.js';
import { autoStopOf, staleVerdict } from './staleness.js';

export interface StatsPollerDeps {
  vms: VmService;
  log: Logger;
  /** stats_poll_interval, in ms. */
  intervalMs: number;
  /** auto_stop_stale_after, in ms (0: off). */
  autoStopAfterMs: number;
  roots?: HostRoots;
}

export class StatsPoller {
  private readonly latest = new Map<string, VmStats>();
  private readonly cpu = new Map<string, CpuSample>();
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly d: StatsPollerDeps) {}

  get intervalMs(): number {
    return this.d.intervalMs;
  }

  /** Polls every interval (the first poll one interval from now) until stop(). */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** No further polls; waits for one under way (an idle stop included). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.poll().finally(() => {
        this.inFlight = null;
        this.schedule();
      });
    }, this.d.intervalMs);
    this.timer.unref();
  }

  /** One poll: samples every running VM, touches the connected ones, stops the idle ones. */
  async poll(): Promise<void> {
    const running = this.d.vms.list().filter((v) => v.state === 'running' && v.suspended !== 'paused'); // a paused guest's agent cannot answer
    const live = new Set(running.map((v) => v.id));
    for (const id of this.latest.keys()) if (!live.has(id)) this.forget(id);
    await Promise.all(
      running.map((vm) =>
        this.pollOne(vm).catch((e: Error) =>
          this.d.log.warn('stats poll of a VM failed', { vm: vm.name, error: e.message }),
        ),
      ),
    );
  }

  private async pollOne(vm: Vm): Promise<void> {
    const s = await this.sample(vm);
    const connectionsIn = s.guest?.tcpEstablishedIn ?? null;
    if (connectionsIn) this.d.vms.touch(vm.id);
    const current = this.d.vms.show(vm.id);
    const verdict = staleVerdict({
      state: current.state,
      touchedAt: current.touchedAt,
      afterMs: this.d.autoStopAfterMs,
      nowMs: Date.now(),
      connectionsIn,
    });
    if (!verdict.stop) return;
    const opId = newOpId();
    this.d.log.info('auto-stop: stopping an idle VM', {
      op_id: opId,
      vm: vm.name,
      idle: formatDuration(Math.round(verdict.idleMs / 1000) * 1000),
      idle_since: current.touchedAt,
      auto_stop_stale_after: formatDuration(this.d.autoStopAfterMs),
      agent: s.guestError ?? 'no connections into the guest',
    });
    const after = await this.d.vms.stopIdle(vm.id, this.d.autoStopAfterMs, { opId });
    if (after.state === 'running')
      this.d.log.info('auto-stop: the VM was used meanwhile; left running', { vm: vm.name });
    this.forget(vm.id);
  }

  private forget(id: string): void {
    this.latest.delete(id);
    this.cpu.delete(id);
  }

  private async sample(vm: Vm): Promise<VmStats> {
    const { stats, cpu } = await sampleVm(this.d.vms, vm, {
      prevCpu: this.cpu.get(vm.id),
      autoStopAfterMs: this.d.autoStopAfterMs,
      roots: this.d.roots,
    });
    if (cpu) this.cpu.set(vm.id, cpu);
    if (stats.state === 'running') this.latest.set(vm.id, stats);
    return stats;
  }

  /** When auto_stop_stale_after would stop this VM (`vm show`). */
  autoStop(vm: Vm): AutoStop {
    return autoStopOf(vm, this.d.autoStopAfterMs);
  }

  /**
   * `vm.stats`: the named VMs (every running VM when none are named), each from its latest
   * sample, sampled now when it has none (a first `vm stats`, or a VM that is not running,
   * which gets its disks only). touched_at and the auto-stop time are the record's own.
   */
  async stats(refs: readonly string[]): Promise<VmStats[]> {
    const vms = refs.length
      ? [...new Set(refs)].map((r) => this.d.vms.show(r))
      : this.d.vms.list().filter((v) => v.state === 'running');
    return Promise.all(
      vms.map(async (vm) => {
        const cached = vm.state === 'running' ? this.latest.get(vm.id) : undefined;
        const s = cached ?? (await this.sample(vm));
        return { ...s, touchedAt: vm.touchedAt, autoStop: autoStopOf(vm, this.d.autoStopAfterMs) };
      }),
    );
  }
}
