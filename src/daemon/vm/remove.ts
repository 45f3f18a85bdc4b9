import { rmSync } from 'node:fs';
import { hostAlias, unpinHostKey } from '../../guest/index.js';
import type { OpCtx } from '../../opctx/index.js';
import type { VmEnv } from './env.js';
import { hardStopVm } from './power.js';
import { releaseVm } from './release.js';

/** `vm delete`: a running VMM stopped hard, its leftovers released, then the VM's files, host-key pin and record removed. */
export function deleteVm(env: VmEnv, ref: string, ctx: OpCtx): Promise<void> {
  return env.withVm(ref, async (vm) => {
    await hardStopVm(env, vm, ctx);
    await releaseVm(env, vm, ctx);
    rmSync(env.files(vm).dir, { recursive: true, force: true });
    unpinHostKey(env.d.layout.knownHosts, hostAlias(vm.name));
    env.store.vms.remove(vm.id);
    env.refreshSshConfig();
  });
}

/** Deletes every VM that is not running; returns their names. */
export async function pruneVms(env: VmEnv, ctx: OpCtx): Promise<string[]> {
  const victims = env.list().filter((v) => !(v.state === 'running' && env.isAlive(v)));
  for (const v of victims) await deleteVm(env, v.id, ctx);
  return victims.map((v) => v.name);
}
