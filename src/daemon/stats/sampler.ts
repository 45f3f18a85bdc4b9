/**
 * One `vm stats` sample of one VM, read from the host: the VMM's CPU time and RSS from
 * /proc/PID, the disks' allocated and apparent sizes, the tap's byte counters from
 * /sys/class/net, and the guest's memory and connections from the agent's `stats`.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { withAgent, type AgentStats } from '../../agent/index.js';
import {
  guestStatsSchema,
  type DiskUsage,
  type GuestStats,
  type RootOverlay,
  type Vm,
  type VmStats,
} from '../../model/index.js';
import type { VmFiles } from '../../paths/index.js';
import type { VmService } from '../vmService.js';
import { cpuPercent, parseCounter, parseProcStat, parseVmRssBytes, type CpuSample } from './procStats.js';
import { autoStopOf } from './staleness.js';

/** Where the host's process and network figures are read (tests point them at fixtures). */
export interface HostRoots {
  proc: string;
  sysClassNet: string;
}
export const HOST_ROOTS: HostRoots = { proc: '/proc', sysClassNet: '/sys/class/net' };

/** The guest's agent gets this long to answer `stats` (a starved TCG guest is slow). */
const AGENT_CONNECT_MS = 1_000;
const AGENT_STATS_MS = 3_000;

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function diskUsage(path: string): DiskUsage | null {
  try {
    const st = statSync(path);
    return { path, allocatedBytes: st.blocks * 512, apparentBytes: st.size };
  } catch {
    return null;
  }
}

const ROOT_FILE: Record<RootOverlay, keyof VmFiles> = {
  qcow2: 'rootfsOverlay',
  copy: 'rootfsCopy',
  'dm-snapshot': 'rootfsCow',
};

/** The tap's counters, as the guest sees them: what the tap transmits, the guest receives. */
function netOf(roots: HostRoots, tap: string): VmStats['net'] {
  const counter = (name: string) => parseCounter(readText(join(roots.sysClassNet, tap, 'statistics', name)) ?? '');
  const tapTx = counter('tx_bytes');
  const tapRx = counter('rx_bytes');
  return tapTx === null || tapRx === null ? null : { tap, rxBytes: tapTx, txBytes: tapRx };
}

/** The agent's answer checked (a guest is untrusted: anything but numbers is refused) and renamed. */
function guestOf(s: AgentStats): GuestStats {
  const parsed = guestStatsSchema.safeParse({
    memTotalBytes: s.mem_total_bytes,
    memAvailableBytes: s.mem_available_bytes,
    memUsedBytes: s.mem_used_bytes,
    uptimeS: s.uptime_s,
    load: s.load,
    tcpEstablishedIn: s.tcp_established_in,
    tcpEstablishedInPorts: s.tcp_established_in_ports,
  });
  if (!parsed.success) throw new Error(`malformed stats: ${parsed.error.issues[0]?.message ?? 'bad shape'}`);
  return parsed.data;
}

export interface Sampled {
  stats: VmStats;
  /** The VMM's CPU reading, kept for the next sample's CPU share. */
  cpu: CpuSample | null;
}

/**
 * Samples one VM. A VM that is not running (or whose VMM is gone) gets its disks only; a
 * running one whose agent does not answer gets `guestError` instead of guest figures.
 */
export async function sampleVm(
  vms: VmService,
  vm: Vm,
  o: { prevCpu?: CpuSample | undefined; autoStopAfterMs: number; roots?: HostRoots },
): Promise<Sampled> {
  const roots = o.roots ?? HOST_ROOTS;
  const files = vms.files(vm);
  const h = vm.state === 'running' ? vms.liveHandles(vm) : null;
  const base: VmStats = {
    name: vm.name,
    id: vm.id,
    state: vm.state,
    sampledAt: new Date().toISOString(),
    vcpu: vm.spec.vcpu,
    cpuPercent: null,
    vmmPid: null,
    vmmRssBytes: null,
    uptimeS: null,
    disks: { root: diskUsage(files[ROOT_FILE[vm.rootOverlay]]), work: diskUsage(files.workDisk) },
    net: null,
    guest: null,
    guestError: null,
    touchedAt: vm.touchedAt,
    autoStop: autoStopOf(vm, o.autoStopAfterMs),
  };
  if (!h) return { stats: base, cpu: null };
  const procCpu = parseProcStat(readText(join(roots.proc, String(h.pid), 'stat')) ?? '');
  const cpu = procCpu ? { ...procCpu, pid: h.pid, atMs: performance.now() } : null;
  const guest = await withAgent(
    vms.driverOf(vm).agentEndpoint(files),
    async (c) => guestOf(await c.stats(AGENT_STATS_MS)),
    AGENT_CONNECT_MS,
  ).catch((e: Error) => e);
  const started = Date.parse(h.startedAt);
  const stats: VmStats = {
    ...base,
    cpuPercent: cpu ? cpuPercent(o.prevCpu, cpu) : null,
    vmmPid: h.pid,
    vmmRssBytes: parseVmRssBytes(readText(join(roots.proc, String(h.pid), 'status')) ?? ''),
    uptimeS: Number.isFinite(started) ? Math.max(0, Math.round((Date.now() - started) / 1000)) : null,
    net: h.tap ? netOf(roots, h.tap) : null,
    guest: guest instanceof Error ? null : guest,
    guestError: guest instanceof Error ? `the agent did not answer: ${guest.message}` : null,
  };
  return { stats, cpu };
}
