import { rmSync } from 'node:fs';
import { BangerError, type Vm } from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import { CleanupStack } from '../cleanupStack.js';
import type { VmEnv } from './env.js';
import { filesSync } from './steps/filesSync.js';
import { guestAwaitReady } from './steps/guestAwaitReady.js';
import { guestIdentity } from './steps/guestIdentity.js';
import { natUp } from './steps/natUp.js';
import { networkUp } from './steps/networkUp.js';
import { rootDiskAttach } from './steps/rootDiskAttach.js';
import type { StartState, StartStep } from './steps/state.js';
import { sshdEnsure } from './steps/sshdEnsure.js';
import { runSteps } from './steps/step.js';
import { vmmBoot } from './steps/vmmBoot.js';
import { vmmRestore } from './steps/vmmRestore.js';
import { fallBackCold, warmSource } from './warmStart.js';

/** A start, in order; each step pushes its own undo, and a failure unwinds them newest first. */
export const START_STEPS: readonly StartStep[] = [
  networkUp,
  natUp,
  filesSync,
  rootDiskAttach,
  vmmBoot,
  guestAwaitReady,
  sshdEnsure,
];

/**
 * A warm start (docs/howto/snapshots.md): the saved state restored instead of a boot, and
 * the agent, not debugfs, writing the host's files (the disks are mounted in the saved memory).
 */
export const WARM_START_STEPS: readonly StartStep[] = [
  networkUp,
  natUp,
  rootDiskAttach,
  vmmRestore,
  guestIdentity,
  guestAwaitReady,
  sshdEnsure,
];

/**
 * Boots a stopped VM, or restores it (a template's clone not started yet, a saved VM), and
 * waits until its guest is ready. A restore that fails is never the start's failure: the
 * template or saved state is discarded with a warning and the VM boots cold. On failure
 * everything the steps made is undone and the VM is recorded in error with the reason.
 */
export function startVm(env: VmEnv, ref: string, ctx: OpCtx, opts: { ssh?: boolean } = {}): Promise<Vm> {
  return env.withVm(ref, async (vm) => {
    if (vm.state === 'running' && env.isAlive(vm))
      throw new BangerError('conflict', `VM ${vm.name} is already running`);
    env.d.preflight?.(vm.vmm === 'qemu' ? ['vm', 'qemu'] : ['vm'], `starting VM ${vm.name}`);
    const warm = await warmSource(env, vm, ctx);
    if (warm) {
      const state: StartState = { ...startState(env, vm, opts), restore: warm.restore };
      try {
        const ready = await runStart(env, vm, state, WARM_START_STEPS, ctx);
        // A saved state is used once: the guest has moved on from it.
        if (warm.kind === 'saved') rmSync(env.files(vm).savedState, { recursive: true, force: true });
        return ready;
      } catch (e) {
        // A host step failed before anything was restored: the VM stays as it was (a saved
        // state, a clone not started) for the next start, with the reason.
        if (!state.restoreTried) env.store.vms.setRuntime(vm.id, vm.state, null, (e as Error).message, vm.suspended);
        if (!state.restoreTried || (e instanceof BangerError && e.code === 'interrupted')) throw e;
        await fallBackCold(env, env.show(vm.id), warm, e as Error, ctx);
      }
    }
    return runStart(env, env.show(vm.id), startState(env, env.show(vm.id), opts), START_STEPS, ctx);
  });
}

function startState(env: VmEnv, vm: Vm, opts: { ssh?: boolean }): StartState {
  const image = env.d.images.show(vm.imageName ?? '');
  return {
    env,
    vm,
    image,
    kernel: env.d.images.kernelOf(image),
    files: env.files(vm),
    driver: env.driverOf(vm),
    waitForSsh: (opts.ssh ?? true) && (!image.oci || image.oci.sshd),
    wantSsh: opts.ssh ?? true,
  };
}

/** Runs `steps` for `state`; a failure unwinds them and records the VM in error. */
async function runStart(env: VmEnv, vm: Vm, state: StartState, steps: readonly StartStep[], ctx: OpCtx): Promise<Vm> {
  const undo = new CleanupStack();
  const started = performance.now();
  let stepMs: Record<string, number>;
  try {
    stepMs = await runSteps(steps, state, ctx, undo);
    undo.commit();
  } catch (e) {
    const errors = await undo.unwind();
    env.store.vms.setRuntime(vm.id, 'error', null, (e as Error).message);
    rmSync(state.files.handles, { force: true });
    if (errors.length) env.d.log.warn('cleanup after a failed start was incomplete', { op_id: ctx.opId, errors });
    throw e;
  }
  env.touch(vm.id); // a start is a use: the idle clock of auto_stop_stale_after starts at ready
  if (!state.tap?.pooled) void env.d.taps.refill(ctx); // an empty pool (the first start) is filled now
  await env.d.forwards?.vmUp(env.show(vm.id));
  env.d.log.info('vm ready', {
    op_id: ctx.opId,
    vm: vm.name,
    ms: Math.round(performance.now() - started),
    vmm: state.vmm?.detail,
    warm: state.restore ? state.restore.identity : undefined,
    steps: stepMs,
  });
  return env.show(vm.id);
}
