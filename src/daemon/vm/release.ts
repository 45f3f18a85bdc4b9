import { rmSync } from 'node:fs';
import { tapNameForVm } from '../../hostnat/index.js';
import type { Vm } from '../../model/index.js';
import type { OpCtx } from '../../opctx/index.js';
import { notRunning, type VmEnv } from './env.js';
import type { VmHandles } from './types.js';

/** Releases what a stopped VMM held: tap and handle files; the VM becomes stopped. The disks stay. */
export async function releaseVm(env: VmEnv, vm: Vm, ctx: OpCtx): Promise<void> {
  const { d } = env;
  const h = env.handles(vm);
  const warn =
    (what: string, extra: Record<string, unknown> = { vm: vm.name }) =>
    (e: Error) =>
      d.log.warn(what, { op_id: ctx.opId, ...extra, error: e.message });
  await d.forwards?.vmDown(vm);
  if (vm.nat || d.nat.isUp(vm.id)) await d.nat.vmDown(vm.id, ctx).catch(warn('could not remove NAT rules'));
  await d.privileged.deleteTap({ name: h?.tap ?? tapNameForVm(vm.id) }, ctx).catch(warn('could not delete tap', {}));
  await env.driverOf(vm).release(env.files(vm), ctx).catch(warn('could not release what the VMM left'));
  if (vm.rootOverlay === 'dm-snapshot')
    await d.privileged.detachRootSnapshot({ vmId: vm.id }, ctx).catch(warn('could not detach the root snapshot'));
  rmSync(env.files(vm).handles, { force: true });
  rmSync(env.files(vm).runtimeDir, { recursive: true, force: true });
  env.store.vms.setRuntime(vm.id, 'stopped', null);
}

/**
 * For stop and kill: the live handles, or, when the VMM is already gone, the record
 * released (if it still said running) and null; a VM that was not running is an error.
 */
export async function liveOrReleased(env: VmEnv, vm: Vm, ctx: OpCtx): Promise<VmHandles | null> {
  const h = env.liveHandles(vm);
  if (h) return h;
  if (vm.state !== 'running') throw notRunning(vm);
  await releaseVm(env, vm, ctx);
  return null;
}
