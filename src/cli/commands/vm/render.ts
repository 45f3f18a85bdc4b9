/** How `vm list`, `vm ports` and `vm show` print VMs as text. */
import {
  formatDuration,
  formatSize,
  MIB,
  type AutoStop,
  type RootOverlay,
  type Vm,
  type VmForward,
  shownState,
} from '../../../model/index.js';
import { formatAge, paint, renderTable, type Output } from '../../output.js';
import { escapeForTerminalLine } from '../../terminalText.js';
import { forwardLine, forwardState } from './forward.js';

/** How `vm show` names the root disk strategy (docs/howto/vms.md). */
const ROOT_DISK_DETAIL: Record<RootOverlay, string> = {
  qcow2: 'qcow2 overlay on the image',
  'dm-snapshot': 'device-mapper snapshot (fc-rootfs-<id>) on the image',
  copy: 'sparse copy of the image',
};

const STATE_STYLE = {
  running: 'green',
  stopped: 'dim',
  created: 'dim',
  error: 'red',
  paused: 'yellow',
  saved: 'dim',
} as const;

export function renderVmList(o: Output, vms: readonly Vm[], now = Date.now()): string {
  if (vms.length === 0) return 'no VMs yet: create one with `banger vm run`\n';
  return renderTable(
    ['ID', 'NAME', 'STATE', 'IMAGE', 'VMM', 'IP', 'VCPU', 'MEM', 'DISK', 'WORKSPACE', 'CREATED'],
    vms.map((v) => [
      v.id,
      v.name,
      paint(o, STATE_STYLE[shownState(v)], shownState(v)),
      v.imageName ?? '-',
      v.vmm,
      v.guestIp ?? '-',
      String(v.spec.vcpu),
      formatSize(v.spec.memoryMib * MIB),
      formatSize(v.spec.diskSizeBytes),
      v.workspace ? v.workspace.hostPath : '-',
      formatAge(v.createdAt, now),
    ]),
  );
}

export interface VmRuntime {
  pid: number;
  vmm: string;
  status: string;
  startedAt: string;
  tap?: string;
  agent?: { health: AgentHealth } | { error: string };
}

export interface AgentHealth {
  boot_id: string;
  uptime_s: number;
  agent_version: string;
  transport: string;
}

export interface VmPortRow {
  vm: string;
  proto: string;
  address: string;
  port: number;
  pid: number | null;
  process: string | null;
  endpoint: string | null;
  url: string | null;
}

/** The agent's listeners. Addresses and process names come from the guest: every cell is escaped to one safe line. */
export function renderVmPorts(rows: readonly VmPortRow[]): string {
  if (rows.length === 0) return 'no listening sockets (or no running VMs)\n';
  return renderTable(
    ['VM', 'PROTO', 'ADDRESS', 'PORT', 'PROCESS', 'ENDPOINT'],
    rows.map((r) =>
      [
        r.vm,
        r.proto,
        r.address,
        String(r.port),
        r.process ? `${r.process}${r.pid ? ` (${r.pid})` : ''}` : '-',
        r.url ?? r.endpoint ?? '(guest loopback only)',
      ].map(escapeForTerminalLine),
    ),
  );
}

function formatUptime(s: number): string {
  const t = Math.floor(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(t % 60).padStart(2, '0')}s` : `${t}s`;
}

/**
 * `key  value` lines. The agent's health (version, transport, boot_id), its error and the
 * VM's last error can carry guest text, so every value is escaped to one safe line.
 */
export interface VmShowExtras {
  autoStop?: AutoStop;
  forwards?: readonly VmForward[];
}

export function renderVmShow(v: Vm, runtime: VmRuntime | null = null, extras: VmShowExtras = {}): string {
  const { autoStop, forwards = [] } = extras;
  const rows: Array<[string, string]> = [
    ['name', v.name],
    ['id', v.id],
    ['state', v.state],
    ['image', v.imageName ?? '-'],
    ['vmm', v.vmm],
    ['root disk', ROOT_DISK_DETAIL[v.rootOverlay]],
    ['spec', `${v.spec.vcpu} vcpu | ${v.spec.memoryMib} MiB | ${formatSize(v.spec.diskSizeBytes)} disk`],
    ['ip', v.guestIp ?? '-'],
    ['mac', v.mac ?? '-'],
    ['dns', v.dnsName],
    ['nat', v.nat ? 'on' : 'off'],
    ['workspace', v.workspace ? `${v.workspace.hostPath} -> ${v.workspace.guestPath}` : '-'],
    ['dir', v.vmDir],
    ['created', v.createdAt],
    ['touched', v.touchedAt],
  ];
  if (autoStop) rows.push(['auto-stop', describeAutoStop(autoStop)]);
  if (runtime) rows.push(...runtimeRows(runtime));
  for (const f of forwards) rows.push(['forward', `${forwardLine(f)} (${forwardState(f)})`]);
  if (v.lastError) rows.push(['last error', v.lastError]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, val]) => `${k.padEnd(w)}  ${escapeForTerminalLine(val)}`).join('\n') + '\n';
}

function runtimeRows(runtime: VmRuntime): Array<[string, string]> {
  const tap = runtime.tap ? `, tap ${runtime.tap}` : '';
  const rows: Array<[string, string]> = [
    ['vmm', `${runtime.vmm}, pid ${runtime.pid}, ${runtime.status} since ${runtime.startedAt}${tap}`],
  ];
  if (runtime.agent && 'health' in runtime.agent) {
    const a = runtime.agent.health;
    const up = formatUptime(a.uptime_s);
    rows.push(['agent', `v${a.agent_version} over ${a.transport}, up ${up}, boot_id ${a.boot_id}`]);
  } else if (runtime.agent) rows.push(['agent', `not answering (${runtime.agent.error})`]);
  return rows;
}

/** `auto-stop: in 18m (idle since …)`, `off`, or why there is no time (docs/howto/vms.md). */
export function describeAutoStop(a: AutoStop, now = Date.now()): string {
  if (!a.enabled) return 'off';
  if (!a.stopAt) return `when running and idle for ${formatDuration(a.afterMs)}`;
  const left = Date.parse(a.stopAt) - now;
  const when = left > 0 ? `in ${formatDuration(Math.ceil(left / 1000) * 1000)}` : 'at the next check';
  return `${when} (idle since ${a.idleSince})`;
}
