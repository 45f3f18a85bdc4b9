/**
 * `auto_stop_stale_after` as pure decisions: when a running VM would be stopped, and whether
 * a poll stops it now. A VM is used while anything touches it (ssh, exec, workspace, start)
 * or while the agent reports an ESTABLISHED TCP connection into the guest.
 */
import type { AutoStop, Vm } from '../../model/index.js';

/** What `vm show` and `vm stats` say about the idle stop (`afterMs` 0: off). */
export function autoStopOf(vm: Pick<Vm, 'state' | 'touchedAt'>, afterMs: number): AutoStop {
  const enabled = afterMs > 0;
  const touched = Date.parse(vm.touchedAt);
  const stopAt =
    enabled && vm.state === 'running' && Number.isFinite(touched) ? new Date(touched + afterMs).toISOString() : null;
  return { enabled, afterMs, idleSince: vm.touchedAt, stopAt };
}

export type StaleVerdict =
  | { stop: false; reason: 'off' | 'not_running' | 'recently_used' | 'connected' }
  | { stop: true; idleMs: number };

/**
 * Whether a poll stops the VM: auto-stop is on, the VM runs, it has not been touched for
 * longer than `afterMs`, and the agent reports no connection into it (`connectionsIn` null:
 * the agent did not answer, so none were reported).
 */
export function staleVerdict(o: {
  state: Vm['state'];
  touchedAt: string;
  afterMs: number;
  nowMs: number;
  connectionsIn: number | null;
}): StaleVerdict {
  if (o.afterMs <= 0) return { stop: false, reason: 'off' };
  if (o.state !== 'running') return { stop: false, reason: 'not_running' };
  if ((o.connectionsIn ?? 0) > 0) return { stop: false, reason: 'connected' };
  const touched = Date.parse(o.touchedAt);
  const idleMs = Number.isFinite(touched) ? o.nowMs - touched : Number.POSITIVE_INFINITY;
  if (idleMs <= o.afterMs) return { stop: false, reason: 'recently_used' };
  return { stop: true, idleMs };
}
