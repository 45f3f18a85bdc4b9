import { existsSync } from 'node:fs';
import type { Vm } from '../../model/index.js';
import { readPidFile } from '../../system/index.js';
import type { OpCtx } from '../../opctx/index.js';
import type { VmEnv } from './env.js';
import { releaseVm } from './release.js';

export type Reconciled = {
  adopted: string[];
  stopped: string[];
  taps: { adopted: string[]; deleted: string[] };
};

/**
 * Reconcile on daemon start (docs/reference/rpc.md): each VM recorded as running is adopted when its
 * VMM is alive (pid and command line check), else marked stopped with its tap released.
 */
export async function reconcileVms(env: VmEnv, ctx: OpCtx): Promise<Reconciled> {
  const { d } = env;
  const adopted: string[] = [];
  const stopped: string[] = [];
  const tapsInUse = new Set<string>();
  for (const vm of env.list().filter((v) => v.state === 'running')) {
    const h = env.liveHandles(vm);
    // A clone whose restore an earlier daemon did not finish still has the template's
    // identity (its host key waits in pending-identity): stopped, and made cold at its next start.
    if (h && existsSync(env.files(vm).pendingIdentity)) await env.driverOf(vm).hardStop(h.pid, env.files(vm), ctx);
    else if (h) {
      adopted.push(vm.name);
      tapsInUse.add(h.tap);
      if (vm.suspended !== 'paused') await markIfFrozen(env, vm, h.pid);
      if (vm.nat) d.nat.adopt([vm.id]);
      continue;
    }
    await releaseVm(env, vm, ctx);
    stopped.push(vm.name);
  }
  for (const vm of env.list().filter((v) => v.state !== 'running')) await stopUnrecorded(env, vm, ctx);
  env.refreshSshConfig();
  // Pool taps and VM taps left on our bridge by an earlier daemon (only when it can look).
  let taps = { adopted: [] as string[], deleted: [] as string[] };
  if (existsSync(`/sys/class/net/${d.config.bridge_name}`)) {
    taps = await d.taps.reclaim(tapsInUse, ctx).catch((e: Error) => {
      d.log.warn('could not reclaim taps', { op_id: ctx.opId, error: e.message });
      return taps;
    });
    void d.taps.refill(ctx);
  }
  return { adopted, stopped, taps };
}

/**
 * A VMM that an earlier daemon started but died before recording (killed mid-start or
 * mid-restore): the pid file the VMM wrote names it, and the driver's command-line check
 * keeps a recycled pid safe. It is stopped and its leftovers released.
 */
async function stopUnrecorded(env: VmEnv, vm: Vm, ctx: OpCtx): Promise<void> {
  const files = env.files(vm);
  const pid = readPidFile(files.pidFile);
  const driver = env.driverOf(vm);
  if (pid === null || !driver.owns(pid, files)) return;
  env.d.log.warn('stopping a VMM an earlier daemon started but never recorded', { op_id: ctx.opId, vm: vm.name, pid });
  await driver.hardStop(pid, files, ctx);
  await releaseVm(env, vm, ctx);
  // releaseVm recorded it stopped and not suspended: its own state comes back (a saved VM
  // whose restore never ran its guest keeps its saved state).
  env.store.vms.setRuntime(vm.id, vm.state, null, vm.lastError, vm.suspended);
}

/**
 * A guest an earlier daemon paused for a save (a fork, `vm stop --save`) and died before
 * resuming: its vCPUs stand still (QEMU `paused` or `postmigrate`, Firecracker `paused`), so
 * it is recorded paused, which `vm list` shows and `vm resume` undoes.
 */
async function markIfFrozen(env: VmEnv, vm: Vm, pid: number): Promise<void> {
  const status = await env.driverOf(vm).status(pid, env.files(vm));
  if (status === 'paused' || status === 'postmigrate') env.store.vms.setSuspended(vm.id, 'paused');
}
