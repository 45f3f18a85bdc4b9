import type { Vm, WorkspaceMode } from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import type { VmEnv } from './env.js';

/** What `vm workspace prepare` did, or with dryRun would do. */
export interface PrepareResult {
  vm: Vm;
  bytes: number;
  ms: number;
  files: number;
  mode: WorkspaceMode;
  readonly: boolean;
  dryRun: boolean;
  root: string;
  guestPath: string;
  /** The files a dry run would copy (empty after a real copy). */
  paths: string[];
}

/**
 * `vm workspace prepare`: copies the repository again (from `path`, or where it came from),
 * in the git mode or as a full copy, read-only when asked. A dry run only plans: it reports
 * the files, their size, the mode and the destination, changes nothing, and works on a
 * stopped VM.
 */
export function prepareWorkspace(
  env: VmEnv,
  ref: string,
  o: { path?: string | undefined; includeUntracked: boolean; mode: WorkspaceMode; readonly: boolean; dryRun: boolean },
  ctx: OpCtx,
): Promise<PrepareResult> {
  return env.withVm(ref, async (vm) => {
    const { workspaces } = env.d;
    const path = o.path ?? workspaces.requireWorkspace(vm).hostPath;
    if (!o.dryRun) env.requireRunning(vm);
    const prepared = await workspaces.preflight(
      { path, includeUntracked: o.includeUntracked, noBootstrap: true, mode: o.mode, readonly: o.readonly },
      vm.nat,
    );
    const about = { mode: o.mode, readonly: o.readonly, root: prepared.repo.root, guestPath: prepared.plan.guestPath };
    if (o.dryRun) {
      const s = workspaces.summary(prepared);
      return { vm, ...about, dryRun: true, files: s.files.length, bytes: s.bytes, ms: 0, paths: s.files };
    }
    const sent = await workspaces.copyIn(vm, env.sshTarget(vm), prepared, ctx);
    env.touch(vm.id);
    return { vm: env.show(vm.id), ...about, dryRun: false, paths: [], ...sent };
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
