import type { Vm } from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import type { VmEnv } from './env.js';

/** `vm workspace prepare`: copies the repository again (from `path`, or where it came from). */
export function prepareWorkspace(
  env: VmEnv,
  ref: string,
  o: { path?: string | undefined; includeUntracked: boolean },
  ctx: OpCtx,
): Promise<{ vm: Vm; bytes: number; ms: number; files: number }> {
  return env.withVm(ref, async (vm) => {
    const { workspaces } = env.d;
    const path = o.path ?? workspaces.requireWorkspace(vm).hostPath;
    env.requireRunning(vm);
    const prepared = await workspaces.preflight(
      { path, includeUntracked: o.includeUntracked, noBootstrap: true },
      vm.nat,
    );
    const sent = await workspaces.copyIn(vm, env.sshTarget(vm), prepared, ctx);
    env.touch(vm.id);
    return { vm: env.show(vm.id), ...sent };
  });
}

/** `vm workspace export`: the guest's changes as a patch against `baseCommit` (or the copied commit). */
export async function exportWorkspace(
  env: VmEnv,
  ref: string,
  baseCommit: string | undefined,
): Promise<{ patch: string; base: string }> {
  const vm = env.show(ref);
  env.d.workspaces.requireWorkspace(vm);
  env.requireRunning(vm);
  env.touch(vm.id);
  return env.d.workspaces.export(vm, env.sshTarget(vm), baseCommit);
}
