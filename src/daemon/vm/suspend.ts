import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { BangerError, type Vm } from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import { shapeFileIn } from '../../snapshots/index.js';
import type { VmFiles } from '../../paths/index.js';
import type { VmEnv } from './env.js';
import { notRunning } from './env.js';
import { releaseVm } from './release.js';
import type { VmHandles } from './types.js';

/** The live VMM of a VM that is recorded running (paused or not), else `not_running`. */
function live(env: VmEnv, vm: Vm): VmHandles {
  const h = vm.state === 'running' ? env.liveHandles(vm) : null;
  if (!h) throw notRunning(vm);
  return h;
}

/** `vm pause` (docs/howto/snapshots.md): the vCPUs stop, memory stays; the VM shows `paused` until resumed or stopped. */
export function pauseVm(env: VmEnv, ref: string, ctx: OpCtx): Promise<Vm> {
  return env.withVm(ref, async (vm) => {
    const h = live(env, vm);
    if (vm.suspended === 'paused') throw new BangerError('conflict', `VM ${vm.name} is already paused`);
    await env.driverOf(vm).pause(h.pid, env.files(vm), ctx);
    env.store.vms.setSuspended(vm.id, 'paused');
    return env.show(vm.id);
  });
}

/** `vm resume`: the vCPUs run again and the guest's clock is stepped to the host's (it stood still while paused). */
export function resumeVm(env: VmEnv, ref: string, ctx: OpCtx): Promise<Vm> {
  return env.withVm(ref, async (vm) => {
    const h = live(env, vm);
    if (vm.suspended !== 'paused') throw new BangerError('conflict', `VM ${vm.name} is not paused`);
    await resumeGuest(env, vm, h, ctx);
    env.store.vms.setSuspended(vm.id, null);
    env.touch(vm.id);
    return env.show(vm.id);
  });
}

/** Resumes the VMM, then renews the guest's clock and random pool (best effort: an old agent cannot). */
export async function resumeGuest(env: VmEnv, vm: Vm, h: VmHandles, ctx: OpCtx): Promise<void> {
  const driver = env.driverOf(vm);
  const files = env.files(vm);
  await driver.resume(h.pid, files, ctx);
  await env.agents
    .use(
      driver.agentEndpoint(files),
      (c) => c.identity({ clock_unix_ms: Date.now(), entropy_b64: randomBytes(64).toString('base64') }, 10_000),
      2_000,
    )
    .catch((e: Error) =>
      env.d.log.warn('could not step the resumed guest clock', { op_id: ctx.opId, vm: vm.name, error: e.message }),
    );
}

/**
 * Writes a running guest's memory and device state into `stateDir` with the shape its VMM
 * runs (so a restore can start the same machine). The guest is paused for it and left
 * paused; `stateDir` is made fresh. A VM started before banger recorded shapes is refused.
 */
export async function saveGuest(env: VmEnv, vm: Vm, h: VmHandles, stateDir: string, ctx: OpCtx): Promise<void> {
  const files: VmFiles = env.files(vm);
  if (!existsSync(files.shape))
    throw new BangerError('conflict', `VM ${vm.name} was started by an older banger: its state cannot be saved`, {
      hint: `restart it once (\`banger vm restart ${vm.name}\`), then try again`,
    });
  const driver = env.driverOf(vm);
  if (vm.suspended !== 'paused') await driver.pause(h.pid, files, ctx);
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  ctx.progress?.('saving', `memory and device state of ${vm.name}`);
  await driver.saveState(h.pid, files, stateDir, ctx);
  copyFileSync(files.shape, shapeFileIn(stateDir));
}

/**
 * `vm stop --save`: the guest's memory state saved into the VM's directory, its VMM stopped
 * and released; the VM shows `saved`, and the next `vm start` resumes it where it was
 * (surviving a host reboot). A save that fails leaves the VM running as it was.
 */
export function saveStopVm(env: VmEnv, ref: string, ctx: OpCtx): Promise<Vm> {
  return env.withVm(ref, async (vm) => {
    const h = live(env, vm);
    const files = env.files(vm);
    try {
      await saveGuest(env, vm, h, files.savedState, ctx);
    } catch (e) {
      rmSync(files.savedState, { recursive: true, force: true });
      if (vm.suspended !== 'paused')
        await env
          .driverOf(vm)
          .resume(h.pid, files, ctx)
          .catch(() => undefined);
      throw e;
    }
    await env.driverOf(vm).hardStop(h.pid, files, ctx);
    await releaseVm(env, vm, ctx);
    env.store.vms.setRuntime(vm.id, 'stopped', null, null, 'saved');
    return env.show(vm.id);
  });
}
