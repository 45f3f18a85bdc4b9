import { existsSync } from 'node:fs';
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
    if (env.isAlive(vm)) {
      adopted.push(vm.name);
      const h = env.handles(vm);
      if (h) tapsInUse.add(h.tap);
      if (vm.nat) d.nat.adopt([vm.id]);
    } else {
      await releaseVm(env, vm, ctx);
      stopped.push(vm.name);
    }
  }
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
