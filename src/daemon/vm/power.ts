import { sshShellArgv } from '../../guest/index.js';
import { BangerError, type Vm } from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import type { AllowedSignal } from '../../privops/index.js';
import { waitForExit } from '../../system/index.js';
import type { VmEnv } from './env.js';
import { liveOrReleased, releaseVm } from './release.js';
import type { VmHandles } from './types.js';

/** How long a graceful stop may take before the hard stop. */
export const GRACEFUL_STOP_MS = 20_000;
/** How long a VMM may take to exit after `vm kill`'s signal. */
export const KILL_EXIT_MS = 5_000;

/**
 * `vm stop`: a graceful power-off (hard after GRACEFUL_STOP_MS), then the VMM's leftovers
 * released. `unless`, checked once the VM's lock is held, keeps the VM running when it
 * returns true (the idle stop: the VM was used while the stop waited for the lock).
 */
export function stopVm(env: VmEnv, ref: string, ctx: OpCtx, unless?: (vm: Vm) => boolean): Promise<Vm> {
  return env.withVm(ref, async (vm) => {
    if (unless?.(vm)) return vm;
    const h = await liveOrReleased(env, vm, ctx);
    if (!h) return env.show(vm.id);
    // A paused guest cannot power itself off: it runs again for its graceful stop.
    if (vm.suspended === 'paused')
      await env
        .driverOf(vm)
        .resume(h.pid, env.files(vm), ctx)
        .catch(() => undefined);
    await powerOff(env, vm, h, ctx);
    await releaseVm(env, vm, ctx);
    return env.show(vm.id);
  });
}

/**
 * Graceful stop (docs/reference/agent.md): the agent's `shutdown`; if the agent cannot be reached, ssh
 * `poweroff`; if that fails too, the VMM's own request (Firecracker's Ctrl-Alt-Del);
 * whatever still runs after GRACEFUL_STOP_MS gets the hard stop.
 */
export async function powerOff(env: VmEnv, vm: Vm, h: VmHandles, ctx: OpCtx): Promise<void> {
  const files = env.files(vm);
  const driver = env.driverOf(vm);
  ctx.progress?.('stopping', 'asking the agent to power off');
  let asked = await env.agents
    .use(driver.agentEndpoint(files), (c) => c.shutdown(3_000), 1_000)
    .then(
      () => true,
      (e: Error) => {
        env.d.log.warn('agent shutdown failed; trying ssh', { op_id: ctx.opId, vm: vm.name, error: e.message });
        return false;
      },
    );
  if (!asked) {
    ctx.progress?.('stopping', 'the agent did not answer: poweroff over ssh');
    const r = await env.d.runner
      .run(sshShellArgv(env.sshTarget(vm), 'sync; systemctl poweroff --no-block || poweroff'), {
        timeoutMs: 10_000,
        allowFailure: true,
      })
      .catch(() => null);
    asked = r?.exitCode === 0;
  }
  if (!asked && (await driver.requestPowerOff(h.pid, files).catch(() => false))) {
    ctx.progress?.('stopping', 'ssh did not answer either: asked through the VMM');
  }
  if (!(await waitForExit(h.pid, GRACEFUL_STOP_MS))) {
    ctx.progress?.('stopping', 'the guest did not power off in time: hard stop');
    await driver.hardStop(h.pid, files, ctx);
  }
}

/** `vm kill`: the signal to the VMM (through the root helper for a VMM under another uid), then its leftovers released. */
export function killVm(env: VmEnv, ref: string, signal: AllowedSignal, ctx: OpCtx): Promise<Vm> {
  return env.withVm(ref, async (vm) => {
    const h = await liveOrReleased(env, vm, ctx);
    if (!h) return env.show(vm.id);
    try {
      process.kill(h.pid, `SIG${signal}`);
    } catch (e) {
      // A VMM running as another user (the jailer's) is signalled through the root helper.
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      await env.d.privileged.signalProcess({ pid: h.pid, signal }, ctx);
    }
    if (!(await waitForExit(h.pid, KILL_EXIT_MS)))
      throw new BangerError('operation_failed', `VM ${vm.name} is still running after SIG${signal}`, {
        hint: `use \`banger vm kill --signal KILL ${vm.name}\``,
      });
    await releaseVm(env, vm, ctx);
    return env.show(vm.id);
  });
}

/** Stops the VM's VMM at once if it runs (no guest shutdown); for delete. */
export async function hardStopVm(env: VmEnv, vm: Vm, ctx: OpCtx): Promise<void> {
  const h = env.liveHandles(vm);
  if (!h) return;
  ctx.progress?.('stopping', vm.name);
  await env.driverOf(vm).hardStop(h.pid, env.files(vm), ctx);
}
